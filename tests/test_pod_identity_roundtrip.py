"""EKS Pod Identity with the real terraform and hashicorp/aws 5.100.0 against moto (tests/moto_harness.py, gaps 4 and 5).

Three stand-in clusters in the session's moto server, run side by side (and beside other modules' round trips):

- `fresh`: a new install with `karpenter.identity: pod_identity` (the add-on installed through boto3, as a
  cluster's own configuration would): apply, a second plan with no changes, the association and the role's
  trust read back through boto3, destroy.
- `switch`: an applied IRSA stack moved to Pod Identity. First the one-key switch (`identity: pod_identity`
  alone) is refused at plan time, since the running role trusts only IRSA. Then the declared switch
  (`previous_identity: irsa`): its plan (`terraform show -json`) updates the controller role in place and
  replaces nothing; applied, the role trusts both. Then the clean-up (`previous_identity` unset): the OIDC
  provider goes, the role still is not replaced. Then destroy.
- `no-agent`: a cluster without the eks-pod-identity-agent add-on: the plan fails, naming the add-on, and
  nothing is created.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from karpenter_constructs.pod_identity import POD_IDENTITY_AGENT_ADDON
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import irsa_trust_policy, pod_identity_trust_policy
from tests.conftest import synth
from tests.moto_harness import ACCOUNT_ID, MotoHarness, StandInCluster, create_stand_in_cluster
from tests.roundtrip_support import (
    Start,
    Started,
    aws_env,
    guarded,
    listed,
    roundtrip_config,
    starts_early,
    state_instances,
)
from tests.terraform import terraform, terraform_env

ROLE = "aws_iam_role.karpenter_controller"
ASSOCIATION = "aws_eks_pod_identity_association.karpenter_controller"
OIDC = "aws_iam_openid_connect_provider.eks"


def config_data(moto: MotoHarness, cluster: str, identity: str, previous: str | None = None) -> dict[str, Any]:
    data = roundtrip_config(moto, cluster)
    data["karpenter"] = {**data["karpenter"], "identity": identity}
    if previous:
        data["karpenter"]["previous_identity"] = previous
    if "irsa" not in (identity, previous):
        del data["oidc"]  # no OIDC provider, so no thumbprints (they would be refused as ignored)
    return data


@dataclass
class Run:
    """One stand-in cluster's steps: the stack directory terraform runs in, and what was seen along the way."""

    label: str
    stand_in: StandInCluster
    workdir: Path
    env: dict[str, str]
    terraform_bin: str
    steps: dict[str, KarpenterConfig] = field(default_factory=dict)  # step -> config, synthesized into workdir/<step>
    seen: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None

    @property
    def stack_dir(self) -> Path:
        return self.workdir / "cdktf.out" / "stacks" / "infra"  # state: workdir/terraform.infra.tfstate

    def use(self, step: str) -> None:
        """Put the step's synthesized stack where terraform runs (its .terraform and state stay)."""
        self.stack_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.workdir / step / "cdktf.out" / "stacks" / "infra" / "cdk.tf.json", self.stack_dir / "cdk.tf.json")

    def tf(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return terraform(self.terraform_bin, *args, "-input=false", "-no-color", cwd=self.stack_dir, env=self.env, check=check)

    def plan(self, name: str) -> dict[str, Any]:
        """`terraform plan -out`, then `terraform show -json` of it: the planned change of every resource."""
        self.tf("plan", f"-out={name}.tfplan")
        shown = terraform(self.terraform_bin, "show", "-json", f"{name}.tfplan", cwd=self.stack_dir, env=self.env).stdout
        return json.loads(shown)

    def apply_plan(self, name: str) -> None:
        """Apply exactly the plan `plan(name)` saved (and showed)."""
        terraform(self.terraform_bin, "apply", "-input=false", "-no-color", f"{name}.tfplan", cwd=self.stack_dir, env=self.env)

    def state(self) -> list[str]:
        pulled = terraform(self.terraform_bin, "state", "pull", cwd=self.stack_dir, env=self.env).stdout
        return state_instances(json.loads(pulled or "{}"))

    def ok(self) -> Run:
        if self.failure:
            pytest.fail(f"the {self.label} run failed:\n{self.failure}", pytrace=False)
        return self


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {change["address"]: change["change"]["actions"] for change in plan.get("resource_changes", [])}


def changed_attributes(plan: dict[str, Any], address: str) -> set[str]:
    (change,) = [c["change"] for c in plan["resource_changes"] if c["address"] == address]
    before, after = change["before"] or {}, change["after"] or {}
    return {key for key in set(before) | set(after) if before.get(key) != after.get(key) and key in after}


def live(moto: MotoHarness, config: KarpenterConfig, stand_in: StandInCluster) -> dict[str, Any]:
    """The controller role, the cluster's associations and OIDC providers, as boto3 reads them."""
    iam, eks = moto.client("iam"), moto.client("eks")
    role = iam.get_role(RoleName=config.resource_names.controller_role)["Role"]
    listed = eks.list_pod_identity_associations(clusterName=stand_in.name)["associations"]
    associations = [
        eks.describe_pod_identity_association(clusterName=stand_in.name, associationId=a["associationId"])["association"]
        for a in listed
    ]
    trust = role["AssumeRolePolicyDocument"]
    return {
        "role": {"arn": role["Arn"], "id": role["RoleId"], "trust": json.loads(trust) if isinstance(trust, str) else trust},
        "associations": associations,
        "oidc_providers": [
            p["Arn"]
            for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            if p["Arn"].endswith(stand_in.issuer.removeprefix("https://"))
        ],
    }


def fresh(run: Run, moto: MotoHarness) -> Run:
    config = run.steps["pod_identity"]

    def steps() -> None:
        run.use("pod_identity")
        run.tf("init")
        run.tf("apply", "-auto-approve")
        run.seen["state"] = run.state()
        run.seen["live"] = live(moto, config, run.stand_in)
        run.seen["second_plan"] = run.tf("plan", "-detailed-exitcode", check=False)
        run.tf("destroy", "-auto-approve")
        run.seen["after_destroy"] = live_after_destroy(moto, run.stand_in)

    return guarded(run, steps)


def live_after_destroy(moto: MotoHarness, stand_in: StandInCluster) -> dict[str, Any]:
    eks = moto.client("eks")
    return {
        "associations": eks.list_pod_identity_associations(clusterName=stand_in.name)["associations"],
        "addons": eks.list_addons(clusterName=stand_in.name)["addons"],  # the add-on is the cluster's: it stays
    }


def switch(run: Run, moto: MotoHarness) -> Run:
    def steps() -> None:
        run.use("irsa")
        run.tf("init")
        run.tf("apply", "-auto-approve")
        run.seen["irsa"] = live(moto, run.steps["irsa"], run.stand_in)
        run.use("undeclared")
        run.seen["undeclared"] = run.tf("plan", check=False)
        run.use("switch")
        run.seen["switch_plan"] = run.plan("switch")
        run.apply_plan("switch")
        run.seen["switched"] = live(moto, run.steps["switch"], run.stand_in)
        run.seen["switch_second_plan"] = run.tf("plan", "-detailed-exitcode", check=False)
        run.use("cleanup")
        run.seen["cleanup_plan"] = run.plan("cleanup")
        run.apply_plan("cleanup")
        run.seen["cleaned_up"] = live(moto, run.steps["cleanup"], run.stand_in)
        run.seen["cleanup_second_plan"] = run.tf("plan", "-detailed-exitcode", check=False)
        run.tf("destroy", "-auto-approve")
        run.seen["after_destroy"] = live_after_destroy(moto, run.stand_in)

    return guarded(run, steps)


def no_agent(run: Run, moto: MotoHarness) -> Run:
    def steps() -> None:
        run.use("pod_identity")
        run.tf("init")
        run.seen["plan"] = run.tf("plan", check=False)
        run.seen["state"] = run.state()
        iam = moto.client("iam")
        run.seen["role_exists"] = any(
            r["RoleName"] == run.steps["pod_identity"].resource_names.controller_role for r in listed(iam, "list_roles", "Roles")
        )

    return guarded(run, steps)


# label: (stand-in cluster, add-on installed, {step: (identity, previous_identity)}, what runs)
RUNS: dict[str, tuple[str, bool, dict[str, tuple[str, str | None]], Callable[[Run, MotoHarness], Run]]] = {
    "fresh": ("rt-pod-identity", True, {"pod_identity": ("pod_identity", None)}, fresh),
    "switch": (
        "rt-pi-switch",
        True,
        {
            "irsa": ("irsa", None),
            "undeclared": ("pod_identity", None),
            "switch": ("pod_identity", "irsa"),
            "cleanup": ("pod_identity", None),
        },
        switch,
    ),
    "no-agent": ("rt-pi-no-agent", False, {"pod_identity": ("pod_identity", None)}, no_agent),
}


@starts_early
def start(start: Start) -> dict[str, Future[Run]]:
    """Each run's stand-in cluster and steps, synthesized here (jsii is not for threads); terraform runs in the session's pool."""
    futures = {}
    for label, (cluster, agent, steps, action) in RUNS.items():
        workdir = start.tmp_path_factory.mktemp(label)
        stand_in = create_stand_in_cluster(start.moto, cluster)
        if agent:
            start.moto.client("eks").create_addon(clusterName=cluster, addonName=POD_IDENTITY_AGENT_ADDON)
        run = Run(label, stand_in, workdir, aws_env(terraform_env(start.mirror, workdir)), start.terraform_bin)
        for step, (identity, previous) in steps.items():
            run.steps[step] = KarpenterConfig.model_validate(config_data(start.moto, cluster, identity, previous))
            (workdir / step).mkdir()
            synth(run.steps[step], workdir / step / "cdktf.out")
        futures[label] = start.scenarios.submit(action, run, start.moto)
    return futures


@pytest.fixture(scope="module")
def runs(started: Started) -> dict[str, Future[Run]]:
    return started(__name__)


def result(runs: dict[str, Future[Run]], label: str) -> Run:
    return runs[label].result(timeout=1800).ok()


# -- a fresh install ----------------------------------------------------------------------------------


def test_fresh_install_applies_and_converges(runs):
    run = result(runs, "fresh")
    assert ASSOCIATION in run.seen["state"] and ROLE in run.seen["state"]
    assert not [address for address in run.seen["state"] if address.startswith(OIDC)]
    plan = run.seen["second_plan"]
    assert plan.returncode == 0, f"exit {plan.returncode} (2 = changes pending):\n{plan.stdout}\n{plan.stderr}"


def test_association_read_back_through_boto3(runs):
    run = result(runs, "fresh")
    seen = run.seen["live"]
    (association,) = seen["associations"]
    assert {k: association[k] for k in ("clusterName", "namespace", "serviceAccount", "roleArn")} == {
        "clusterName": run.stand_in.name,
        "namespace": "karpenter",
        "serviceAccount": "karpenter",
        "roleArn": seen["role"]["arn"],
    }
    assert association["tags"] == {"Environment": "learning"}  # the config's tags, through the provider's default_tags
    assert seen["role"]["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/rt-pod-identity-karpenter-controller"


def test_fresh_role_trusts_pod_identity_only_and_no_oidc_provider_exists(runs):
    seen = result(runs, "fresh").seen["live"]
    assert seen["role"]["trust"] == pod_identity_trust_policy()
    assert seen["oidc_providers"] == []


def test_destroy_removes_the_association_and_leaves_the_add_on(runs):
    after = result(runs, "fresh").seen["after_destroy"]
    assert after == {"associations": [], "addons": [POD_IDENTITY_AGENT_ADDON]}


# -- the add-on requirement ----------------------------------------------------------------------------


def test_plan_fails_without_the_pod_identity_agent_add_on(runs):
    run = result(runs, "no-agent")
    plan = run.seen["plan"]
    assert plan.returncode != 0
    message = " ".join(plan.stderr.split())
    assert f"reading EKS Add-On ({run.stand_in.name}:{POD_IDENTITY_AGENT_ADDON})" in message, plan.stderr
    assert "couldn't find resource" in message and "data.aws_eks_addon.eks_pod_identity_agent" in message, plan.stderr
    assert run.seen["state"] == [] and run.seen["role_exists"] is False


# -- switching an applied IRSA stack -----------------------------------------------------------------------


def test_switching_in_one_step_without_previous_identity_is_refused(runs):
    run = result(runs, "switch")
    plan = run.seen["undeclared"]
    assert plan.returncode != 0
    message = " ".join(plan.stderr.split())
    # The role's identity tag stops the plan first (the association, which would check the trust, waits on the role).
    assert "serves irsa today (its karpenter-cdktf/identity tag)" in message, plan.stderr
    assert "switching to pod_identity needs karpenter.previous_identity: irsa for this deploy" in message, plan.stderr


def test_the_switch_updates_the_role_in_place_and_replaces_nothing(runs):
    run = result(runs, "switch")
    plan = run.seen["switch_plan"]
    planned = actions(plan)
    assert planned[ROLE] == ["update"]
    # The trust, the description, and the identity tag the next deploy's guard reads.
    assert changed_attributes(plan, ROLE) == {"assume_role_policy", "description", "tags", "tags_all"}
    assert planned[ASSOCIATION] == ["create"]
    assert planned[OIDC] == ["no-op"]  # IRSA's provider stays while the running pods may still use it
    assert not {address: a for address, a in planned.items() if "delete" in a}, planned
    assert run.seen["switched"]["role"]["arn"] == run.seen["irsa"]["role"]["arn"]
    assert run.seen["switched"]["role"]["id"] == run.seen["irsa"]["role"]["id"]  # the same role, not a new one named alike


def test_during_the_switch_the_role_trusts_both_identities(runs):
    run = result(runs, "switch")
    (provider,) = run.seen["switched"]["oidc_providers"]
    karpenter = run.steps["switch"].karpenter
    irsa = irsa_trust_policy(
        oidc_provider_arn=provider,
        issuer_host=run.stand_in.issuer.removeprefix("https://"),
        namespace=karpenter.namespace,
        service_account=karpenter.service_account,
    )
    assert run.seen["irsa"]["role"]["trust"] == irsa
    assert run.seen["switched"]["role"]["trust"]["Statement"] == irsa["Statement"] + pod_identity_trust_policy()["Statement"]
    (association,) = run.seen["switched"]["associations"]
    assert association["roleArn"] == run.seen["irsa"]["role"]["arn"]
    plan = run.seen["switch_second_plan"]
    assert plan.returncode == 0, f"exit {plan.returncode}:\n{plan.stdout}\n{plan.stderr}"


def test_the_cleanup_drops_irsa_and_still_replaces_nothing(runs):
    run = result(runs, "switch")
    plan = run.seen["cleanup_plan"]
    planned = actions(plan)
    assert planned[ROLE] == ["update"]
    # The trust and the description; the identity tag already says pod_identity since the switch.
    assert changed_attributes(plan, ROLE) == {"assume_role_policy", "description"}
    assert planned[OIDC] == ["delete"]
    assert planned[ASSOCIATION] == ["no-op"]
    assert [address for address, a in planned.items() if "delete" in a] == [OIDC]
    cleaned = run.seen["cleaned_up"]
    assert cleaned["role"]["trust"] == pod_identity_trust_policy()
    assert cleaned["oidc_providers"] == []
    assert cleaned["role"]["id"] == run.seen["irsa"]["role"]["id"]
    second = run.seen["cleanup_second_plan"]
    assert second.returncode == 0, f"exit {second.returncode}:\n{second.stdout}\n{second.stderr}"
    assert run.seen["after_destroy"]["associations"] == []
