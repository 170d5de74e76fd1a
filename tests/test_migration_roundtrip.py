"""The infra stack taken through every migration step on moto, with the real terraform, in one state.

1. A stand-in cluster on Kubernetes 1.31 (newer than 0.37 supports, as the users' clusters are).
2. `examples/migration/0-*` applied: the 0.37.2 infra stack, let through by the acknowledgement.
3. Each later step synthesized into the same output directory (so the same local state), then
   `plan -out` and `show -json`: no role, queue or rule replaced or deleted; no policy attachment
   deleted while the release it serves may still run (every step but the last); then the saved plan
   applied with `-json`, where the previous release's policy must be attached before a policy it
   shares an address with is updated; then a second plan with 0 changes, and the controller and
   node roles' attached policies read back through boto3.
4. Destroy leaves 0 resources in the state.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from karpenter_check.policies import document
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import managed_policies, measured_values, node_role_policy_arns
from karpenter_model.migration import kept_controller_policies
from tests.conftest import MIGRATION_STEPS, synth
from tests.moto_harness import MotoHarness, create_stand_in_cluster
from tests.roundtrip_support import Figures, aws_env, roundtrip_config, state_instances
from tests.terraform import terraform, terraform_env

pytestmark = pytest.mark.roundtrip

CLUSTER = "migration-eks"
KUBERNETES = "1.31"  # what the steps' acknowledgement names
KEPT = ("aws_iam_role.", "aws_sqs_queue.", "aws_cloudwatch_event_rule.", "aws_iam_openid_connect_provider.")


@dataclass
class Step:
    name: str
    config: KarpenterConfig
    plan: dict[str, Any] = field(default_factory=dict)
    apply_messages: list[dict[str, Any]] = field(default_factory=list)
    replan_exit: int = -1
    controller_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # attached: name -> document
    node_policies: set[str] = field(default_factory=set)

    def changes(self, *actions: str) -> set[str]:
        """Addresses whose planned actions include any of `actions`."""
        return {c["address"] for c in self.plan["resource_changes"] if set(actions) & set(c["change"]["actions"])}


@pytest.fixture(scope="module")
def migration(
    request: pytest.FixtureRequest, tools: tuple[str, Path], moto: MotoHarness, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Step], list[str]]:
    terraform_bin, mirror = tools
    figures = Figures("infra stack migrated step by step on moto")
    request.config.pluginmanager.register(figures, "migration-figures")
    project = tmp_path_factory.mktemp("migration")
    create_stand_in_cluster(moto, CLUSTER, kubernetes_version=KUBERNETES)
    env = aws_env(terraform_env(mirror, project))
    stack_dir = project / "cdktf.out" / "stacks" / "infra"

    def tf(command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return terraform(terraform_bin, command, "-no-color", *args, cwd=stack_dir, env=env, check=check)

    steps: list[Step] = []
    try:
        for path in MIGRATION_STEPS:
            started = time.monotonic()
            step = Step(path.stem, KarpenterConfig.model_validate(roundtrip_config(moto, CLUSTER, path)))
            synth(step.config, project / "cdktf.out")
            if not steps:
                tf("init", "-input=false")
            tf("plan", "-input=false", "-out=step.plan")
            step.plan = json.loads(tf("show", "-json", "step.plan").stdout)
            applied = tf("apply", "-input=false", "-json", "step.plan").stdout
            step.apply_messages = [json.loads(line) for line in applied.splitlines() if line.startswith("{")]
            step.replan_exit = tf("plan", "-input=false", "-detailed-exitcode", check=False).returncode
            step.controller_policies, step.node_policies = attached(moto, step.config)
            steps.append(step)
            changes = {a: len(step.changes(a)) for a in ("create", "update", "delete")}
            figures.add(f"{step.name}: {changes}, replan exit {step.replan_exit}, {time.monotonic() - started:.1f}s")
    finally:
        tf("destroy", "-input=false", "-auto-approve", check=False)
    remaining = state_instances(json.loads(terraform(terraform_bin, "state", "pull", cwd=stack_dir, env=env).stdout or "{}"))
    return steps, remaining


def attached(moto: MotoHarness, config: KarpenterConfig) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The controller role's attached policies with their documents, and the node role's policy names."""
    iam = moto.client("iam")
    names = config.resource_names

    def policies(role: str) -> list[dict[str, str]]:
        return list(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])

    def attached_document(arn: str) -> dict[str, Any]:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        return document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])

    controller = {p["PolicyName"]: attached_document(p["PolicyArn"]) for p in policies(names.controller_role)}
    return controller, {p["PolicyName"] for p in policies(names.node_role)}


def test_every_step_is_planned_applied_and_converges(migration):
    steps, _ = migration
    assert [s.name for s in steps] == [p.stem for p in MIGRATION_STEPS]
    assert [s.config.karpenter.version for s in steps] == ["0.37.2", "0.37.8", "1.0.14", "1.14.1", "1.14.1"]
    assert {s.name: s.replan_exit for s in steps} == dict.fromkeys((s.name for s in steps), 0)


def test_no_step_replaces_or_deletes_a_role_the_queue_a_rule_or_the_oidc_provider(migration):
    steps, _ = migration
    for step in steps[1:]:
        touched = {a for a in step.changes("delete") if a.startswith(KEPT)}
        assert not touched, f"{step.name} deletes or replaces {sorted(touched)}"


def test_after_every_step_the_role_holds_every_policy_of_both_releases_word_for_word(migration):
    """Whichever of the two releases runs (the chart stack moves it later in the same deploy), its policies are attached.

    The documents are upstream's, filled with the values moto gives (account 123456789012, as measured).
    """
    steps, _ = migration
    for step in steps:
        config, values = step.config, measured_values(step.config)
        attached_documents = list(step.controller_policies.values())
        for release in filter(None, (config.previous_release, config.release)):
            for name, expected in managed_policies(release, values, values).items():
                assert expected in attached_documents, (
                    f"{step.name}: Karpenter {release.version}'s {name.address} is not attached"
                )
        wanted = {config.prefix + name.suffix for name in managed_policies(config.release, values, values)}
        wanted |= {config.prefix + name.suffix for name in kept_controller_policies(config, values)}
        assert set(step.controller_policies) == wanted, step.name


def test_only_the_last_step_detaches_and_only_what_the_previous_release_needed(migration):
    steps, _ = migration
    assert {s.name: sorted(s.changes("delete")) for s in steps[1:3]} == {s.name: [] for s in steps[1:3]}
    # Step 3 deletes 0.37.8's kept document: 1.0.14 runs while it applies, and 1.14.1 after.
    assert steps[3].changes("delete") == {
        "aws_iam_policy.karpenter_controller_previous",
        "aws_iam_role_policy_attachment.karpenter_controller_previous",
    }
    last = steps[-1]
    assert last.changes("delete") == {
        "aws_iam_policy.karpenter_controller",
        "aws_iam_role_policy_attachment.karpenter_controller",
        'aws_iam_role_policy_attachment.karpenter_node_policies["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]',
    }


def test_the_previous_release_policy_is_attached_before_the_shared_one_changes(migration):
    """Step 2 (0.37.8 -> 1.0.14): 0.37.8's document is attached as `_previous` before `karpenter_controller` becomes v1."""
    steps, _ = migration
    step = next(s for s in steps if s.config.karpenter.version == "1.0.14")
    assert "aws_iam_policy.karpenter_controller" in step.changes("update")
    assert {"aws_iam_policy.karpenter_controller_previous", "aws_iam_role_policy_attachment.karpenter_controller_previous"} <= (
        step.changes("create")
    )
    order = [
        (m["type"], m["hook"]["resource"]["addr"]) for m in step.apply_messages if m["type"] in ("apply_start", "apply_complete")
    ]
    attached_at = order.index(("apply_complete", "aws_iam_role_policy_attachment.karpenter_controller_previous"))
    updated_at = order.index(("apply_start", "aws_iam_policy.karpenter_controller"))
    assert attached_at < updated_at, order


def test_the_node_role_keeps_the_previous_releases_policies_until_the_step_is_done(migration):
    steps, _ = migration
    for step in steps:
        releases = filter(None, (step.config.release, step.config.previous_release))
        wanted = {arn.rsplit("/", 1)[1] for r in releases for arn in node_role_policy_arns(r, partition="aws")}
        assert step.node_policies == wanted, step.name
    assert {"AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly"} <= steps[3].node_policies
    assert "AmazonEC2ContainerRegistryReadOnly" not in steps[4].node_policies


def test_the_acknowledged_kubernetes_version_is_a_warning_in_the_plan_of_the_037_steps(migration):
    steps, _ = migration
    for step in steps:
        checks = {c["address"]["to_display"]: c["status"] for c in step.plan.get("checks", []) if c["address"]["kind"] == "check"}
        if step.config.karpenter.acknowledge_unsupported_kubernetes:
            assert checks == {"check.kubernetes_support_acknowledged": "fail"}, step.name
        else:
            assert checks == {}, step.name


def test_destroy_leaves_nothing(migration):
    _, remaining = migration
    assert remaining == []
