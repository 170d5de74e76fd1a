"""The migration taken step by step on moto with the real terraform, on the clusters EKS left behind.

1. The whole chain on a stand-in cluster on Kubernetes 1.32 (EKS upgraded the 1.31 clusters by itself
   when extended support ended), in one state: `examples/migration/0-*` applied (a fresh install of
   0.37.2, let through by the acknowledgement), then each later step synthesized into the same stack
   directory: `plan -out`, `show -json` (no role, queue, rule or OIDC provider replaced or deleted),
   the saved plan applied with `-json` while a sampler reads the controller role's attached policies
   through boto3 every 0.25 s (every sample must hold every statement of the release that runs while
   the infra stack applies: the previous one during a step), a second plan with 0 changes, and the
   roles' attached policies and tags read back.
2. An operator's mistakes, each tried on the real state between two steps, refused by the **infra**
   plan (before any IAM change) with the message quoted, and then by `apply` (what `cdktf deploy` runs):
   no plan file, the state's serial unchanged, and the controller role's policies and tags unchanged.
3. On stand-in clusters on 1.31 and 1.33, every step planned, not applied, against a controller role
   tagged as its predecessor left it: the steps written for 1.32 are refused where their
   acknowledgement does not match, naming the cluster's own minor, and plan once it does.
4. Destroy leaves 0 resources in the state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_check.policies import document
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import managed_policies, measured_values, node_role_policy_arns
from karpenter_model.naming import IDENTITY_TAG, RELEASE_TAG
from tests.conftest import MIGRATION_STEPS, synth
from tests.moto_harness import MotoHarness, create_stand_in_cluster, tags_of
from tests.roundtrip_support import Figures, Start, aws_env, roundtrip_config, starts_early, state_instances
from tests.terraform import terraform, terraform_env

CLUSTER = "migration-eks"  # on Kubernetes 1.32: what the steps' acknowledgement names
KUBERNETES = "1.32"
OTHER_MINORS = {"1.31": "migration-k131", "1.33": "migration-k133"}
KEPT = ("aws_iam_role.", "aws_sqs_queue.", "aws_cloudwatch_event_rule.", "aws_iam_openid_connect_provider.")
SAMPLE_EVERY = 0.25  # seconds
# What each step's predecessor left the controller role tagged with (step 0 is a fresh install).
PREDECESSOR = {0: None, 1: "0.37.2", 2: "0.37.8", 3: "1.0.14", 4: "1.14.1"}


def step_data(index: int, cluster: str, moto: MotoHarness, **karpenter: Any) -> dict[str, Any]:
    data = roundtrip_config(moto, cluster, MIGRATION_STEPS[index])
    data["karpenter"] = {key: value for key, value in {**data["karpenter"], **karpenter}.items() if value is not None}
    if data["karpenter"].get("identity") == "pod_identity":
        del data["oidc"]  # thumbprints are for IRSA's OIDC provider only
    return data


# Each mistake: (after which step it is tried, the config, the infra plan's refusal).
def mistakes(moto: MotoHarness) -> dict[str, tuple[int, dict[str, Any], str]]:
    role = f"{CLUSTER}-karpenter-controller"
    tag = f"the karpenter-cdktf/release tag of the controller role {role}"
    return {
        # (b) step 3's config applied straight over 0.37.2.
        "b: step 3 over 0.37.2": (
            0,
            step_data(3, CLUSTER, moto),
            f"Refusing Karpenter 1.14.1: Karpenter 0.37.2 runs ({tag}), and upstream's upgrade guides do not go from it to "
            "1.14.1; the next step is karpenter.version 0.37.8 with karpenter.previous_version 0.37.2 (README, Migrating to v1).",
        ),
        # previous_version names a release that is not running: step 2 (previous 0.37.8) while 0.37.2 runs.
        "previous_version not running": (
            0,
            step_data(2, CLUSTER, moto),
            f"Refusing Karpenter 1.0.14: Karpenter 0.37.2 runs ({tag}), and upstream's upgrade guides do not go from it to "
            "1.0.14; the next step is karpenter.version 0.37.8 with karpenter.previous_version 0.37.2 (README, Migrating to v1).",
        ),
        # (a) 0.37.8 runs; version 1.0.14 without previous_version.
        "a: previous_version forgotten": (
            1,
            step_data(2, CLUSTER, moto, previous_version=None),
            f"Refusing Karpenter 1.0.14: Karpenter 0.37.8 runs ({tag}), and moving it to 1.0.14 is a migration step: "
            "set karpenter.previous_version to 0.37.8 for this deploy (README, Migrating to v1).",
        ),
        # (e) the version step and a switch to Pod Identity in one deploy.
        "e: step and identity switch": (
            1,
            step_data(2, CLUSTER, moto, identity="pod_identity"),
            f"Refusing karpenter.identity pod_identity: The controller role {role} serves irsa today (its "
            "karpenter-cdktf/identity tag), and this deploy also changes karpenter.version (previous_version 0.37.8): "
            "one change per deploy. Deploy this step with karpenter.identity: irsa first, then switch in a deploy of its "
            'own with karpenter.previous_identity: irsa (README, "Controller identity: IRSA or EKS Pod Identity").',
        ),
    }


@dataclass
class Step:
    name: str
    config: KarpenterConfig
    plan: dict[str, Any] = field(default_factory=dict)
    plan_output: str = ""  # what `terraform plan` printed: the warnings an operator reads
    apply_messages: list[dict[str, Any]] = field(default_factory=list)
    replan_exit: int = -1
    controller_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # attached: name -> document
    node_policies: set[str] = field(default_factory=set)
    role_tags: dict[str, str] = field(default_factory=dict)
    samples: list[list[dict[str, Any]]] = field(default_factory=list)  # attached documents, every SAMPLE_EVERY s
    seconds: float = 0.0

    def changes(self, *actions: str) -> set[str]:
        """Addresses whose planned actions include any of `actions`."""
        return {c["address"] for c in self.plan["resource_changes"] if set(actions) & set(c["change"]["actions"])}


@dataclass
class Refusal:
    after: str  # the step whose state it was tried on
    plan: subprocess.CompletedProcess[str]
    shown: dict[str, Any]  # `terraform show -json` of the plan file terraform saves even for a failed plan
    apply: subprocess.CompletedProcess[str]  # `terraform apply` of that plan file
    serial: tuple[int, int]  # the state's serial before and after
    role: tuple[Any, Any]  # (attached documents, tags) before and after


@dataclass
class Chain:
    steps: list[Step]
    refusals: dict[str, Refusal]
    remaining: list[str]


def attached(moto: MotoHarness, role: str) -> dict[str, dict[str, Any]]:
    """The role's attached policies, by name, with their default documents."""
    iam = moto.client("iam")
    found = {}
    for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        text = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
        found[policy["PolicyName"]] = document(text)
    return found


def role_tags(moto: MotoHarness, role: str) -> dict[str, str]:
    return tags_of(moto.client("iam").get_role(RoleName=role)["Role"])


class Sampler:
    """Reads the controller role's attached policy documents every SAMPLE_EVERY seconds until stopped."""

    def __init__(self, moto: MotoHarness, role: str) -> None:
        self.moto, self.role = moto, role
        self.samples: list[list[dict[str, Any]]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scenario-iam-sampler", daemon=True)

    def _run(self) -> None:
        from botocore.exceptions import ClientError

        while not self._stop.is_set():
            try:
                self.samples.append(list(attached(self.moto, self.role).values()))
            except ClientError as error:  # a policy detached or deleted between list and get: the next sample reads again
                if error.response["Error"]["Code"] != "NoSuchEntity":
                    self.errors.append(repr(error))
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_chain(
    moto: MotoHarness,
    terraform_bin: str,
    mirror: Path,
    project: Path,
    steps: list[Step],
    tried_after: dict[str, int],
    outdirs: dict[str, Path],
    figures: Figures,
) -> Chain:
    """The steps in one state; after step i, each mistake `tried_after` names for i, refused (see the module docstring)."""
    env = aws_env(terraform_env(mirror, project))
    stack_dir = project / "cdktf.out" / "stacks" / "infra"
    stack_dir.mkdir(parents=True)
    role = steps[0].config.resource_names.controller_role
    state_file = project / "terraform.infra.tfstate"

    def use(name: str) -> None:
        """Put `name`'s synthesized infra stack in the one stack directory (the state stays in the project)."""
        shutil.copy(outdirs[name] / "stacks" / "infra" / "cdk.tf.json", stack_dir / "cdk.tf.json")

    def tf(command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return terraform(terraform_bin, command, "-no-color", *args, cwd=stack_dir, env=env, check=check)

    def serial() -> int:
        return int(json.loads(state_file.read_text())["serial"]) if state_file.exists() else -1

    refusals: dict[str, Refusal] = {}
    done: list[Step] = []
    try:
        for index, step in enumerate(steps):
            started = time.monotonic()
            use(step.name)
            if index == 0:
                tf("init", "-input=false")
            planned = tf("plan", "-input=false", "-out=step.plan")
            step.plan_output = planned.stdout + planned.stderr
            step.plan = json.loads(tf("show", "-json", "step.plan").stdout)
            with Sampler(moto, role) as sampler:
                applied = tf("apply", "-input=false", "-json", "step.plan").stdout
            step.samples = sampler.samples
            assert not sampler.errors, f"{step.name}: the IAM sampler failed: {sampler.errors}"
            step.apply_messages = [json.loads(line) for line in applied.splitlines() if line.startswith("{")]
            step.replan_exit = tf("plan", "-input=false", "-detailed-exitcode", check=False).returncode
            step.controller_policies = attached(moto, role)
            step.node_policies = set(attached(moto, step.config.resource_names.node_role))
            step.role_tags = role_tags(moto, role)
            step.seconds = time.monotonic() - started
            done.append(step)
            changes = {a: len(step.changes(a)) for a in ("create", "update", "delete")}
            figures.add(
                f"{step.name}: {changes}, replan exit {step.replan_exit}, {len(step.samples)} IAM samples, {step.seconds:.0f}s"
            )
            for name in [n for n, after in tried_after.items() if after == index]:
                started = time.monotonic()
                use(name)
                before = (serial(), (attached(moto, role), role_tags(moto, role)))
                (stack_dir / "mistake.plan").unlink(missing_ok=True)
                plan = tf("plan", "-input=false", "-out=mistake.plan", check=False)
                shown = json.loads(tf("show", "-json", "mistake.plan").stdout)
                apply = tf("apply", "-input=false", "mistake.plan", check=False)
                after_ = (serial(), (attached(moto, role), role_tags(moto, role)))
                refusals[name] = Refusal(step.name, plan, shown, apply, (before[0], after_[0]), (before[1], after_[1]))
                figures.add(f"  mistake {name!r} on {step.name}: plan exit {plan.returncode}, {time.monotonic() - started:.0f}s")
    finally:
        use(steps[-1].name)
        tf("destroy", "-input=false", "-auto-approve", check=False)
    pulled = terraform(terraform_bin, "state", "pull", cwd=stack_dir, env=env).stdout or "{}"
    return Chain(done, refusals, state_instances(json.loads(pulled)))


@dataclass
class MinorPlan:
    step: str
    acknowledged: str | None
    exit_code: int
    output: str


def plan_on_other_minor(
    moto: MotoHarness, terraform_bin: str, mirror: Path, project: Path, cluster: str, cases: list[tuple[int, str | None, Path]]
) -> list[MinorPlan]:
    """Each case planned, in one state that stays empty, against the controller role tagged as the step's predecessor."""
    env = aws_env(terraform_env(mirror, project))
    stack_dir = project / "cdktf.out" / "stacks" / "infra"
    stack_dir.mkdir(parents=True)
    iam = moto.client("iam")
    role = f"{cluster}-karpenter-controller"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    results: list[MinorPlan] = []
    try:
        for index, acknowledged, outdir in cases:
            shutil.copy(outdir / "stacks" / "infra" / "cdk.tf.json", stack_dir / "cdk.tf.json")
            predecessor = PREDECESSOR[index]
            iam.tag_role(
                RoleName=role,
                Tags=[{"Key": RELEASE_TAG, "Value": predecessor or "0.37.2"}, {"Key": IDENTITY_TAG, "Value": "irsa"}],
            )
            if index == 0 and not results:
                terraform(terraform_bin, "init", "-input=false", "-no-color", cwd=stack_dir, env=env)
            plan = terraform(terraform_bin, "plan", "-input=false", "-no-color", cwd=stack_dir, env=env, check=False)
            results.append(MinorPlan(MIGRATION_STEPS[index].stem, acknowledged, plan.returncode, plan.stdout + plan.stderr))
    finally:
        iam.delete_role(RoleName=role)
    return results


@starts_early
def start(start: Start) -> tuple[Future[Chain], dict[str, Future[list[MinorPlan]]], list[Step]]:
    moto = start.moto
    figures = Figures("infra stack migrated step by step on moto (Kubernetes 1.32)")
    start.config.pluginmanager.register(figures, "migration-figures")
    create_stand_in_cluster(moto, CLUSTER, kubernetes_version=KUBERNETES)
    moto.client("eks").create_addon(clusterName=CLUSTER, addonName="eks-pod-identity-agent")  # so (e) meets only the guard
    outdirs: dict[str, Path] = {}

    def synthesized(name: str, data: dict[str, Any]) -> KarpenterConfig:
        config = KarpenterConfig.model_validate(data)
        outdirs[name] = start.tmp_path_factory.mktemp("migration-synth") / "cdktf.out"
        synth(config, outdirs[name])
        return config

    steps = [Step(path.stem, synthesized(path.stem, step_data(i, CLUSTER, moto))) for i, path in enumerate(MIGRATION_STEPS)]
    tried_after = {}
    for name, (after, data, _) in mistakes(moto).items():
        tried_after[name] = after
        synthesized(name, data)
    project = start.tmp_path_factory.mktemp("migration")
    chain = start.scenarios.submit(
        run_chain, moto, start.terraform_bin, start.mirror, project, steps, tried_after, outdirs, figures
    )
    others = {}
    for minor, cluster in OTHER_MINORS.items():
        create_stand_in_cluster(moto, cluster, kubernetes_version=minor)
        cases: list[tuple[int, str | None, Path]] = []
        for index in range(len(MIGRATION_STEPS)):
            data = step_data(index, cluster, moto)
            acknowledged = data["karpenter"].get("acknowledge_unsupported_kubernetes")
            name = f"{minor}-{index}"
            config = synthesized(name, data)
            cases.append((index, acknowledged, outdirs[name]))
            if acknowledged and not config.release.supports(int(minor.split(".")[1])):
                synthesized(f"{name}-ack", step_data(index, cluster, moto, acknowledge_unsupported_kubernetes=minor))
                cases.append((index, minor, outdirs[f"{name}-ack"]))
        others[minor] = start.scenarios.submit(
            plan_on_other_minor, moto, start.terraform_bin, start.mirror, start.tmp_path_factory.mktemp("minor"), cluster, cases
        )
    return chain, others, steps


@pytest.fixture(scope="module")
def chain(started) -> Chain:
    return started(__name__)[0].result()


@pytest.fixture(scope="module")
def other_minors(started) -> dict[str, list[MinorPlan]]:
    return {minor: future.result() for minor, future in started(__name__)[1].items()}


def running_release(step: Step) -> Any:
    """The release the controller runs while this step's infra stack applies: the previous one during a step."""
    return step.config.previous_release or step.config.release


def statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [statement for doc in documents for statement in doc["Statement"]]


def test_every_step_is_planned_applied_and_converges(chain):
    assert [s.name for s in chain.steps] == [p.stem for p in MIGRATION_STEPS]
    assert [s.config.karpenter.version for s in chain.steps] == ["0.37.2", "0.37.8", "1.0.14", "1.14.1", "1.14.1"]
    assert {s.name: s.replan_exit for s in chain.steps} == dict.fromkeys((s.name for s in chain.steps), 0)


def test_the_steps_run_on_a_cluster_newer_than_the_first_three_releases_support(chain):
    assert all(not s.config.release.supports(32) for s in chain.steps[:3])
    assert [s.config.karpenter.acknowledge_unsupported_kubernetes for s in chain.steps] == ["1.32"] * 3 + [None] * 2
    for step in chain.steps:
        checks = {c["address"]["to_display"]: c["status"] for c in step.plan.get("checks", []) if c["address"]["kind"] == "check"}
        # The acknowledgement warns while it is needed; the EKS calendar warns on 1.32 (past standard support) every time.
        expected = {"check.eks_support_calendar": "fail", "check.controller_role_records_its_release": "pass"}
        if step.config.karpenter.acknowledge_unsupported_kubernetes:
            expected["check.kubernetes_support_acknowledged"] = "fail"
        assert checks == expected, step.name


def test_the_plan_on_the_1_32_cluster_prints_the_eks_calendar(chain):
    text = " ".join(chain.steps[0].plan_output.replace("│", " ").split())
    assert "Warning: Check block assertion failed" in text
    assert (
        "Kubernetes 1.32 on EKS: standard support ended on 2026-03-23; extended support (billed extra) ends on 2027-03-23, "
        "and from then EKS upgrades the control plane to 1.33 by itself, without notice; nodes stay on their version. "
        "Karpenter 0.37.2 does not support 1.33: move to Karpenter 1.14.1 before then"
    ) in text, text


def test_every_iam_sample_during_every_apply_holds_the_running_releases_statements(chain):
    """Upstream's documents of the release that runs (0.37.2's while step 1 applies, ...), filled with moto's values."""
    for step in chain.steps[1:]:
        values = measured_values(step.config)
        needed = statements(list(managed_policies(running_release(step), values, values).values()))
        assert len(step.samples) >= 4, f"{step.name}: too few samples to mean anything"
        for number, sample in enumerate(step.samples):
            present = statements(sample)
            missing = [s.get("Sid") for s in needed if s not in present]
            assert not missing, (
                f"{step.name}, sample {number}/{len(step.samples)}: {running_release(step).version} lacks {missing}"
            )


def test_the_role_records_each_steps_release(chain):
    assert [(s.role_tags[RELEASE_TAG], s.role_tags[IDENTITY_TAG]) for s in chain.steps] == [
        ("0.37.2", "irsa"),
        ("0.37.8", "irsa"),
        ("1.0.14", "irsa"),
        ("1.14.1", "irsa"),
        ("1.14.1", "irsa"),
    ]


def test_no_step_replaces_or_deletes_a_role_the_queue_a_rule_or_the_oidc_provider(chain):
    for step in chain.steps[1:]:
        touched = {a for a in step.changes("delete") if a.startswith(KEPT)}
        assert not touched, f"{step.name} deletes or replaces {sorted(touched)}"


# The controller role's policies after each step, by name: the release's own, and what stays for the previous one.
V1_14_POLICIES = {
    "-karpenter-node-lifecycle",
    "-karpenter-iam-integration",
    "-karpenter-eks-integration",
    "-karpenter-interruption",
    "-karpenter-resource-discovery",
    "-karpenter-zonal-shift",
}
ATTACHED_AFTER = {
    "0-karpenter-0.37.2": {"-karpenter-controller"},
    "1-karpenter-0.37.8": {"-karpenter-controller"},  # 0.37.2 and 0.37.8 have the same document
    "2-karpenter-1.0.14": {"-karpenter-controller", "-karpenter-controller-previous"},
    "3-karpenter-1.14.1": {"-karpenter-controller", *V1_14_POLICIES},  # 1.0.14's stays until the step is done
    "4-karpenter-1.14.1-done": V1_14_POLICIES,
}


def test_after_every_step_the_role_holds_the_documents_of_both_releases_and_nothing_else(chain):
    """Upstream's documents (the release's CloudFormation), filled with moto's values, against what boto3 reads back."""
    for step in chain.steps:
        config, values = step.config, measured_values(step.config)
        assert set(step.controller_policies) == {CLUSTER + suffix for suffix in ATTACHED_AFTER[step.name]}, step.name
        expected = [
            doc
            for release in filter(None, (config.previous_release, config.release))
            for doc in managed_policies(release, values, values).values()
        ]
        attached_documents = list(step.controller_policies.values())
        assert all(doc in attached_documents for doc in expected), step.name
        assert all(doc in expected for doc in attached_documents), f"{step.name}: a policy no release of the step has"


def test_only_the_last_step_detaches_and_only_what_the_previous_release_needed(chain):
    steps = chain.steps
    assert {s.name: sorted(s.changes("delete")) for s in steps[1:3]} == {s.name: [] for s in steps[1:3]}
    # Step 3 deletes 0.37.8's kept document: 1.0.14 runs while it applies, and 1.14.1 after.
    assert steps[3].changes("delete") == {
        "aws_iam_policy.karpenter_controller_previous",
        "aws_iam_role_policy_attachment.karpenter_controller_previous",
    }
    assert steps[-1].changes("delete") == {
        "aws_iam_policy.karpenter_controller",
        "aws_iam_role_policy_attachment.karpenter_controller",
        'aws_iam_role_policy_attachment.karpenter_node_policies["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]',
    }


def test_the_previous_release_policy_is_attached_before_the_shared_one_changes(chain):
    """Step 2 (0.37.8 -> 1.0.14): 0.37.8's document is attached as `_previous` before `karpenter_controller` becomes v1."""
    step = next(s for s in chain.steps if s.config.karpenter.version == "1.0.14")
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


def test_the_node_role_keeps_the_previous_releases_policies_until_the_step_is_done(chain):
    steps = chain.steps
    for step in steps:
        releases = filter(None, (step.config.release, step.config.previous_release))
        wanted = {arn.rsplit("/", 1)[1] for r in releases for arn in node_role_policy_arns(r, partition="aws")}
        assert step.node_policies == wanted, step.name
    assert {"AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly"} <= steps[3].node_policies
    assert "AmazonEC2ContainerRegistryReadOnly" not in steps[4].node_policies


@pytest.mark.parametrize(
    "mistake",
    ["b: step 3 over 0.37.2", "previous_version not running", "a: previous_version forgotten", "e: step and identity switch"],
)
def test_a_mistake_is_refused_by_the_infra_plan_and_changes_nothing(chain, moto, mistake):
    """The plan fails with the refusal. Terraform still saves the plan, marked errored, with what it planned before the
    failure; `apply` of it refuses to run, and the state and the controller role are as they were."""
    refusal = chain.refusals[mistake]
    _, _, message = mistakes(moto)[mistake]
    assert refusal.plan.returncode == 1, refusal.plan.stdout
    flattened = " ".join((refusal.plan.stdout + refusal.plan.stderr).replace("│", " ").split())
    assert " ".join(message.split()) in flattened, flattened
    assert refusal.shown["errored"] is True
    assert refusal.apply.returncode == 1
    assert "Cannot apply incomplete plan" in refusal.apply.stderr, refusal.apply.stderr
    assert refusal.serial[0] == refusal.serial[1], "the refused apply wrote the state"
    assert refusal.role[0] == refusal.role[1], "the refused apply changed the controller role's policies or tags"


def test_on_1_31_and_1_33_every_step_plans_once_its_acknowledgement_names_the_clusters_minor(other_minors):
    for minor, plans in other_minors.items():
        for plan in plans:
            release_supports = KarpenterConfig.model_validate(
                yaml.safe_load(next(p for p in MIGRATION_STEPS if p.stem == plan.step).read_text())
            ).release.supports(int(minor.split(".")[1]))
            fits = release_supports or plan.acknowledged == minor
            assert (plan.exit_code == 0) == fits, (minor, plan.step, plan.acknowledged, plan.output[-2000:])
            if not fits:
                text = " ".join(plan.output.replace("│", " ").split())
                assert f'karpenter.acknowledge_unsupported_kubernetes: "{minor}"' in text, text[-2000:]
                assert "continue the migration one documented step at a time" in text, text[-2000:]


def test_destroy_leaves_nothing(chain):
    assert chain.remaining == []
