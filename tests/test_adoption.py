"""Adopting a karpenter.tf state: the steps of docs/adopting-karpenter-tf.md, proven against moto with the real terraform.

1. A stand-in cluster `aws-2026-eks` in moto (`tests/moto_harness.py`).
2. `tests/fixtures/karpenter_tf/` (seed 000's karpenter.tf plus what our infra stack adds) copied to a
   temporary project and applied, its local backend writing `state/terraform.infra.tfstate`.
3. The infra stack synthesized for the example config with the guide's block (`names`,
   `adoption.moved`, `system_node_group.labels`, read from the guide itself), the local backend's
   `directory: state`: the very state file the HCL wrote. `terraform init` and `plan -out`, then
   `show -json`: no replacement, no delete; the queue policy and the four rule targets created; the
   node group, its role and its attachments moved (their changes carry `previous_address`).
4. Negative control: the same config without `names` and `adoption`, planned against the same
   state, must replace and delete: the test can fail.
5. `terraform destroy` of the HCL (the plans wrote nothing), then moto holds nothing of it.

The moto server is the session's (tests/conftest.py), shared with the other round trips running at
the same time, so step 5 is what leaves it clean of this module's resources. The synthesis happens
when the session's round trips start (`@starts_early`); the terraform steps run in the session's
pool. Figures are printed at the end.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.config import KarpenterConfig
from tests.conftest import ROOT, synth
from tests.moto_harness import REGION, MotoHarness, StandInCluster, create_stand_in_cluster, tags_of
from tests.roundtrip_support import (
    THUMBPRINT,
    Figures,
    Start,
    Started,
    aws_env,
    listed,
    roundtrip_config,
    starts_early,
    state_instances,
)
from tests.terraform import terraform, terraform_env

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "karpenter_tf"
CLUSTER = "aws-2026-eks"  # the guide's example names the seed's resources after this cluster
GUIDE = ROOT / "docs" / "adopting-karpenter-tf.md"
STATE_DIR = "state"  # backend.directory, relative to the project (the stack reads ../../../state/)
STATE_FILE = "terraform.infra.tfstate"

RULES = ("spot", "rebalance", "state_change", "health_event")
# What the seed lacks and the stack adds (SPEC: "the seed forgets both").
EXPECTED_CREATES = {"aws_sqs_queue_policy.karpenter_interruption"} | {
    f"aws_cloudwatch_event_target.karpenter_interruption_{r}" for r in RULES
}
SYSTEM_NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
EXPECTED_MOVES = {
    "aws_eks_node_group.system": "aws_eks_node_group.main",
    "aws_iam_role.system_node": "aws_iam_role.eks_nodes",
    **{
        f'aws_iam_role_policy_attachment.system_node_policies["arn:aws:iam::aws:policy/{p}"]': (
            f'aws_iam_role_policy_attachment.eks_nodes["arn:aws:iam::aws:policy/{p}"]'
        )
        for p in SYSTEM_NODE_POLICIES
    },
}


# --------------------------------------------------------------------------------------------
# The config


def guide_migration_block() -> dict[str, Any]:
    """The YAML of the guide's step 3 ("Write a config"): the test uses what users are told to write."""
    text = GUIDE.read_text()
    step = re.search(r"^3\. \*\*Write a config\*\*.*?(?=^4\. )", text, flags=re.MULTILINE | re.DOTALL)
    assert step, f"{GUIDE.relative_to(ROOT)} has no step '3. **Write a config**'"
    block = re.search(r"^([ \t]*)```yaml\n(.*?)^\1```", step.group(0), flags=re.MULTILINE | re.DOTALL)
    assert block, "the guide's step 3 has no ```yaml block"
    data = yaml.safe_load(textwrap.dedent(block.group(2)))
    assert set(data) == {"names", "adoption", "system_node_group"}, sorted(data)
    return data


def adoption_config(moto: MotoHarness, *, adopt: bool) -> KarpenterConfig:
    """The example config pointed at moto, its state in `state/`; with the guide's block when `adopt`."""
    data = roundtrip_config(moto, CLUSTER)  # endpoints at moto, the thumbprint the HCL gets too
    data["backend"] = {"type": "local", "directory": STATE_DIR}
    block = guide_migration_block()
    # Labels as the seed's node group has them, in both plans (a label change is in place anyway).
    data["system_node_group"] = {**data["system_node_group"], **block["system_node_group"]}
    if adopt:
        data["names"], data["adoption"] = block["names"], block["adoption"]
    return KarpenterConfig.model_validate(data)


# --------------------------------------------------------------------------------------------
# Reading plans


def plan_actions(plan: dict[str, Any]) -> dict[str, str]:
    """Managed resource address -> create, update, no-op, delete, replace (either order), or the raw actions."""
    kinds = {
        ("create",): "create",
        ("update",): "update",
        ("no-op",): "no-op",
        ("delete",): "delete",
        ("delete", "create"): "replace",
        ("create", "delete"): "replace",
    }
    return {
        change["address"]: kinds.get(tuple(change["change"]["actions"]), "+".join(change["change"]["actions"]))
        for change in plan.get("resource_changes", [])
        if change["mode"] == "managed"
    }


def count(actions: dict[str, str]) -> dict[str, int]:
    totals = dict.fromkeys(("replace", "delete", "create", "update", "no-op"), 0)
    for kind in actions.values():
        totals[kind] = totals.get(kind, 0) + 1
    return totals


def why(plan: dict[str, Any], addresses: set[str]) -> str:
    """The attributes forcing each replacement, and what each update changes: the message when a check fails."""
    lines = []
    for change in plan.get("resource_changes", []):
        if change["address"] not in addresses:
            continue
        before, after = change["change"].get("before") or {}, change["change"].get("after") or {}
        changed = sorted(k for k in set(before) | set(after) if k in after and before.get(k) != after.get(k))
        lines.append(
            f"  {change['address']} {change['change']['actions']}: replace_paths={change['change'].get('replace_paths')} "
            f"changed={changed} reason={change.get('action_reason')}"
        )
    return "\n".join(lines)


def updated_attributes(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Each in-place update's changed top-level attributes (an attribute known only after apply counts as changed)."""
    found = {}
    for change in plan.get("resource_changes", []):
        if change["mode"] != "managed" or change["change"]["actions"] != ["update"]:
            continue
        before, after, unknown = (
            change["change"]["before"] or {},
            change["change"]["after"] or {},
            change["change"].get("after_unknown") or {},
        )
        found[change["address"]] = sorted(
            k for k in set(before) | set(after) if before.get(k) != after.get(k) or unknown.get(k) is True
        )
    return found


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Plan:
    json: dict[str, Any]
    actions: dict[str, str]
    counts: dict[str, int]


@dataclass
class Adoption:
    stand_in: StandInCluster
    config: KarpenterConfig
    applied: list[str] = field(default_factory=list)  # state instances after the HCL apply
    adopted: Plan | None = None
    control: Plan | None = None
    state_unchanged: bool | None = None  # the plans left the state file as the apply wrote it
    destroyed: list[str] | None = None  # state instances after the HCL destroy
    leftovers: dict[str, Any] = field(default_factory=dict)  # what moto still holds after the destroy
    before: dict[str, Any] = field(default_factory=dict)  # subnet/security group tags before the apply
    after: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)

    def timed(self, phase: str, action: Any) -> Any:
        start = time.monotonic()
        try:
            return action()
        finally:
            self.phases[phase] = round(time.monotonic() - start, 1)


def existing_tags(moto: MotoHarness, stand_in: StandInCluster) -> dict[str, Any]:
    ec2 = moto.client("ec2")
    return {
        "subnets": {s["SubnetId"]: tags_of(s) for s in ec2.describe_subnets(SubnetIds=stand_in.subnet_ids)["Subnets"]},
        "security_groups": {
            g["GroupId"]: tags_of(g)
            for g in ec2.describe_security_groups(GroupIds=[stand_in.security_group_id])["SecurityGroups"]
        },
    }


def leftovers(moto: MotoHarness, stand_in: StandInCluster) -> dict[str, Any]:
    """Anything of the HCL's still in moto (names from karpenter.tf/nodes.tf; three rules carry no cluster name)."""
    iam, sqs, events, eks = (moto.client(s) for s in ("iam", "sqs", "events", "eks"))
    prefix = f"{CLUSTER}-"
    found = {
        "roles": [
            r["RoleName"]
            for r in listed(iam, "list_roles", "Roles")
            if r["RoleName"].startswith(prefix) and r["RoleName"] != f"{CLUSTER}-cluster"
        ],
        "policies": [
            p["PolicyName"] for p in listed(iam, "list_policies", "Policies", Scope="Local") if p["PolicyName"].startswith(prefix)
        ],
        "oidc_providers": [
            p["Arn"]
            for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            if p["Arn"].endswith(stand_in.issuer.removeprefix("https://"))
        ],
        "queues": sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []),
        "rules": [r["Name"] for p in (prefix, "karpenter-interruption-") for r in events.list_rules(NamePrefix=p)["Rules"]],
        "node_groups": eks.list_nodegroups(clusterName=stand_in.name)["nodegroups"],
        "access_entries": eks.list_access_entries(clusterName=stand_in.name)["accessEntries"],
    }
    return {kind: items for kind, items in found.items() if items}


def synth_stack(config: KarpenterConfig, project: Path) -> Path:
    """Synthesize into `<project>/cdktf.out`; the infra stack's directory (its state is ../../../state/...)."""
    synth(config, project / "cdktf.out")
    return project / "cdktf.out" / "stacks" / "infra"


@starts_early
def start(start: Start) -> Future[Adoption]:
    """The stand-in cluster and both stacks (adopted, control) synthesized here, in the test thread (jsii is not for
    threads); the HCL's apply, the two plans and the destroy run in the session's pool."""
    figures = Figures("adopting a karpenter.tf state (moto)")
    start.config.pluginmanager.register(figures, "adoption-figures")
    moto, terraform_bin, mirror = start.moto, start.terraform_bin, start.mirror
    workdir = start.tmp_path_factory.mktemp("adoption")  # never /work/main: the state lives here
    env = aws_env(terraform_env(mirror, workdir))
    stand_in = create_stand_in_cluster(moto, CLUSTER)
    result = Adoption(stand_in, adoption_config(moto, adopt=True))
    result.before = existing_tags(moto, stand_in)
    state_file = workdir / STATE_DIR / STATE_FILE

    # The team's karpenter.tf, with a local backend in the same place the stack's backend will read.
    legacy = workdir / "karpenter_tf"
    shutil.copytree(FIXTURE, legacy, ignore=shutil.ignore_patterns("*.md", ".terraform*", "*.tfstate*"))
    (legacy / "backend.tf").write_text(
        f'terraform {{\n  backend "local" {{\n    path = "../{STATE_DIR}/{STATE_FILE}"\n  }}\n}}\n'
    )
    (legacy / "terraform.tfvars.json").write_text(
        json.dumps({"cluster_name": CLUSTER, "region": REGION, "oidc_thumbprint": THUMBPRINT, "aws_endpoint": moto.endpoint})
    )

    def tf(cwd: Path, *args: str) -> str:
        return terraform(terraform_bin, *args, "-input=false", "-no-color", cwd=cwd, env=env).stdout

    def plan(stack_dir: Path, label: str) -> Plan:
        result.timed(f"{label} init", lambda: tf(stack_dir, "init"))
        result.timed(f"{label} plan", lambda: tf(stack_dir, "plan", "-out=plan.tfplan"))
        shown = json.loads(terraform(terraform_bin, "show", "-json", "plan.tfplan", cwd=stack_dir, env=env).stdout)
        actions = plan_actions(shown)
        return Plan(shown, actions, count(actions))

    # Synthesized now; planned against the state the HCL will have written.
    stack_dir = result.timed("synth", lambda: synth_stack(result.config, workdir))
    # The control: its own project directory whose state/ is the same directory (a link, not a copy).
    control = workdir / "control"
    control.mkdir()
    (control / STATE_DIR).symlink_to(workdir / STATE_DIR, target_is_directory=True)
    control_dir = result.timed("control synth", lambda: synth_stack(adoption_config(moto, adopt=False), control))
    return start.scenarios.submit(run, result, legacy, stack_dir, control_dir, state_file, tf, plan, figures, moto)


def run(
    result: Adoption,
    legacy: Path,
    stack_dir: Path,
    control_dir: Path,
    state_file: Path,
    tf: Callable[..., str],
    plan: Callable[[Path, str], Plan],
    figures: Figures,
    moto: MotoHarness,
) -> Adoption:
    """The HCL applied, the adopted and the control stacks planned against its state, the HCL destroyed."""
    stand_in = result.stand_in
    begun = time.monotonic()
    try:
        result.timed("HCL init", lambda: tf(legacy, "init"))
        result.timed("HCL apply", lambda: tf(legacy, "apply", "-auto-approve"))
        result.applied = state_instances(json.loads(state_file.read_text()))
        applied_state = state_file.read_bytes()
        result.adopted = plan(stack_dir, "adopted")
        result.control = plan(control_dir, "control")
        result.state_unchanged = state_file.read_bytes() == applied_state
    finally:
        try:
            result.timed("HCL destroy", lambda: tf(legacy, "destroy", "-auto-approve"))
            result.destroyed = state_instances(json.loads(state_file.read_text())) if state_file.exists() else []
        finally:
            result.leftovers = leftovers(moto, stand_in)
            result.after = existing_tags(moto, stand_in)
            phases = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in result.phases.items())
            figures.add(f"phases: {phases}; terraform's part {time.monotonic() - begun:.1f}s")
            figures.add(f"HCL apply: {len(result.applied)} resource instances in the karpenter.tf state")
            for label, planned in (("adopted", result.adopted), ("control", result.control)):
                if planned is not None:
                    c = planned.counts
                    figures.add(
                        f"{label:8} plan: {c['replace']} to replace, {c['delete']} to destroy, {c['create']} to create, "
                        f"{c['update']} to update in place, {c['no-op']} unchanged"
                    )
            if result.adopted is not None:
                created = sorted(a for a, k in result.adopted.actions.items() if k == "create")
                figures.add(f"  adopted create: {', '.join(created)}")
                for address, attributes in sorted(updated_attributes(result.adopted.json).items()):
                    figures.add(f"  adopted update: {address}: {', '.join(attributes)}")
            if result.control is not None:
                for kind in ("replace", "delete"):
                    addresses = sorted(a for a, k in result.control.actions.items() if k == kind)
                    figures.add(f"  control {kind}: {', '.join(addresses)}")
    return result


@pytest.fixture(scope="module")
def adoption(started: Started) -> Adoption:
    return started(__name__).result(timeout=1800)


# --------------------------------------------------------------------------------------------
# The adopted plan


def test_hcl_applied_every_resource_of_the_fixture(adoption: Adoption) -> None:
    # 1 OIDC provider, 2 roles + policy + attachment, 4 node policy attachments, queue, 4 rules (karpenter.tf),
    # node role + 3 attachments + node group (nodes.tf), access entry + 2 subnet tags + 1 security group tag (additions.tf).
    assert len(adoption.applied) == 23, adoption.applied


def test_adopted_plan_replaces_nothing_and_destroys_nothing(adoption: Adoption) -> None:
    plan = adoption.adopted
    assert plan is not None
    bad = {address for address, kind in plan.actions.items() if kind not in ("create", "update", "no-op")}
    assert not bad, f"replacements or destroys against the karpenter.tf state:\n{why(plan.json, bad)}"
    assert plan.counts["replace"] == plan.counts["delete"] == 0


def test_adopted_plan_creates_what_the_seed_forgot(adoption: Adoption) -> None:
    plan = adoption.adopted
    assert plan is not None
    created = {address for address, kind in plan.actions.items() if kind == "create"}
    assert created == EXPECTED_CREATES, why(plan.json, created ^ EXPECTED_CREATES)


def test_adopted_plan_keeps_every_resource_of_the_state(adoption: Adoption) -> None:
    # Every instance the HCL created is planned at its new address (moved) or its old one: none is forgotten.
    plan = adoption.adopted
    assert plan is not None
    previous = {c.get("previous_address") or c["address"] for c in plan.json["resource_changes"] if c["mode"] == "managed"}
    assert set(adoption.applied) <= previous, sorted(set(adoption.applied) - previous)


def test_moved_blocks_took_effect(adoption: Adoption) -> None:
    plan = adoption.adopted
    assert plan is not None
    moved = {c["address"]: c["previous_address"] for c in plan.json["resource_changes"] if c.get("previous_address")}
    assert moved == EXPECTED_MOVES
    assert all(plan.actions[address] in ("update", "no-op") for address in moved), {a: plan.actions[a] for a in moved}


def test_plans_left_the_state_as_the_hcl_wrote_it(adoption: Adoption) -> None:
    assert adoption.state_unchanged is True


# --------------------------------------------------------------------------------------------
# The negative control: without the guide's names and moved blocks the same plan is destructive


def test_without_names_and_adoption_the_plan_replaces_and_destroys(adoption: Adoption) -> None:
    plan = adoption.control
    assert plan is not None
    replaced = {a for a, k in plan.actions.items() if k == "replace"}
    deleted = {a for a, k in plan.actions.items() if k == "delete"}
    # Three rules the seed named without the cluster get the cluster-prefixed name (name forces a new rule)...
    assert {
        f"aws_cloudwatch_event_rule.karpenter_interruption_{r}" for r in ("rebalance", "state_change", "health_event")
    } <= replaced
    # ...and the node group, its role and attachments are left at their old addresses, so destroyed.
    assert {"aws_eks_node_group.main", "aws_iam_role.eks_nodes"} | {
        a.replace("system_node_policies", "eks_nodes") for a in EXPECTED_MOVES if "policy_attachment" in a
    } <= deleted
    assert plan.counts["replace"] > 0 and plan.counts["delete"] > 0


# --------------------------------------------------------------------------------------------
# Clean-up


def test_hcl_destroy_leaves_moto_clean(adoption: Adoption) -> None:
    assert adoption.destroyed == []
    assert adoption.leftovers == {}
    assert adoption.after == adoption.before  # the discovery tags are gone, the stand-in's own tags stay
