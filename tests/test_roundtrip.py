"""The infra stack applied, re-planned and destroyed by the real terraform and hashicorp/aws 5.100.0, against moto.

Three deployments run side by side, each on its own stand-in cluster in one moto server (see
`tests/moto_harness.py`):

- `terraform`: the stack synthesized in this process, then `terraform init`, `apply`, a second
  `plan -detailed-exitcode`, `destroy`, run directly.
- `terraform-1.14.1`: the same for the 1.14.1 example (six controller policies, five rules).
- `cdktf`: `npx cdktf deploy infra` / `npx cdktf destroy infra` from a temporary copy of the
  project (so state never lands in the working tree), followed by the same second plan.

Each records what boto3 reads back before apply, after apply and after destroy; the tests below
check those readings (never Terraform's view of itself), once per deployment. A last test injects
broken documents into the synthesized JSON and shows terraform, through the provider and moto,
refuses them. Figures (resources, wall time per phase) are printed at the end of the run.

On a machine without terraform, the provider mirror, moto, or the cdktf CLI, the tests skip and
say which; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.config import DISCOVERY_TAG, KarpenterConfig
from karpenter_model.documents.iam import (
    SYSTEM_NODE_MANAGED_POLICIES,
    PolicyValues,
    controller_policies,
    irsa_trust_policy,
    managed_policies,
    managed_policy_arn,
    node_role_policy_arns,
)
from karpenter_model.documents.interruption import TARGET_ID, queue_policy
from tests.conftest import ROOT, require, synth
from tests.moto_harness import (
    ACCOUNT_ID,
    REGION,
    MotoHarness,
    StandInCluster,
    create_stand_in_cluster,
    tags_of,
)
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

# label: (stand-in cluster, bundled example). `terraform-1.14.1` is the current release: six policies, five rules.
CLUSTERS = {
    "terraform": ("rt-terraform", "aws-2026-eks"),
    "cdktf": ("rt-cdktf-cli", "aws-2026-eks"),
    "terraform-1.14.1": ("rt-v1-14", "aws-2026-eks-1.14.1"),
}
BROKEN_CLUSTER = "rt-broken"
PHASE_TIMEOUT = 300  # seconds; no phase takes more than ~70 s here
CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"


# --------------------------------------------------------------------------------------------
# Configuration and environment


# --------------------------------------------------------------------------------------------
# What boto3 sees


def inventory(moto: MotoHarness, config: KarpenterConfig, stand_in: StandInCluster) -> dict[str, Any]:
    """Everything in moto that carries this deployment's names, plus the pre-existing pieces' tags.

    Equal before apply and after destroy means destroy removed all it created and nothing else.
    """
    iam, sqs, events, eks, ec2 = (moto.client(s) for s in ("iam", "sqs", "events", "eks", "ec2"))
    prefix = config.prefix + "-"
    issuer_host = stand_in.issuer.removeprefix("https://")
    roles = sorted(r["RoleName"] for r in listed(iam, "list_roles", "Roles") if r["RoleName"].startswith(prefix))
    rules = sorted(r["Name"] for r in events.list_rules(NamePrefix=prefix)["Rules"])
    return {
        "roles": {
            role: sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])
            for role in roles
        },
        "policies": sorted(
            p["PolicyName"] for p in listed(iam, "list_policies", "Policies", Scope="Local") if p["PolicyName"].startswith(prefix)
        ),
        "oidc_providers": sorted(
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] if p["Arn"].endswith(issuer_host)
        ),
        "queues": sorted(sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])),
        "rules": {rule: sorted(t["Id"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]) for rule in rules},
        "node_groups": sorted(eks.list_nodegroups(clusterName=stand_in.name)["nodegroups"]),
        "access_entries": sorted(eks.list_access_entries(clusterName=stand_in.name)["accessEntries"]),
        "subnet_tags": {s["SubnetId"]: tags_of(s) for s in ec2.describe_subnets(SubnetIds=stand_in.subnet_ids)["Subnets"]},
        "security_group_tags": {
            g["GroupId"]: tags_of(g)
            for g in ec2.describe_security_groups(GroupIds=[stand_in.security_group_id])["SecurityGroups"]
        },
        "cluster": eks.describe_cluster(name=stand_in.name)["cluster"]["status"],
    }


def read_live(moto: MotoHarness, config: KarpenterConfig, stand_in: StandInCluster) -> dict[str, Any]:
    """The details the tests check, read through the AWS APIs right after apply."""
    iam, sqs, events, eks, sts = (moto.client(s) for s in ("iam", "sqs", "events", "eks", "sts"))
    names = config.resource_names

    def attached(role: str) -> list[str]:
        return sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])

    def document(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    controller = iam.get_role(RoleName=names.controller_role)["Role"]
    policies = []
    for arn in attached(names.controller_role):
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        policies.append({"name": policy["PolicyName"], "arn": arn, "document": document(version["Document"])})
    queue_url = sqs.get_queue_url(QueueName=names.interruption_queue)["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    rules = {}
    for rule in events.list_rules(NamePrefix=names.interruption_queue + "-")["Rules"]:
        rules[rule["Name"]] = {
            "pattern": json.loads(rule["EventPattern"]),
            "state": rule["State"],
            "targets": [{"id": t["Id"], "arn": t["Arn"]} for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]],
        }
    oidc = [
        {"arn": p["Arn"], **iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])}
        for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        if p["Arn"].endswith(stand_in.issuer.removeprefix("https://"))
    ]
    node_group = eks.describe_nodegroup(clusterName=stand_in.name, nodegroupName=names.system_node_group)["nodegroup"]
    node_role = iam.get_role(RoleName=names.node_role)["Role"]
    return {
        "identity": sts.get_caller_identity(),
        "controller_role": {"arn": controller["Arn"], "trust": document(controller["AssumeRolePolicyDocument"])},
        "controller_policies": policies,
        "node_role": {
            "arn": node_role["Arn"],
            "trust": document(node_role["AssumeRolePolicyDocument"]),
            "policies": attached(names.node_role),
        },
        "system_node_role": {
            "arn": iam.get_role(RoleName=names.system_node_role)["Role"]["Arn"],
            "policies": attached(names.system_node_role),
        },
        "access_entries": [
            eks.describe_access_entry(clusterName=stand_in.name, principalArn=arn)["accessEntry"]
            for arn in eks.list_access_entries(clusterName=stand_in.name)["accessEntries"]
        ],
        "queue": {
            "url": queue_url,
            "attributes": {k: v for k, v in queue.items() if k != "Policy"},
            "policy": json.loads(queue["Policy"]),
        },
        "rules": rules,
        "oidc_providers": oidc,
        "node_group": {
            key: node_group.get(key)
            for key in (
                "capacityType",
                "instanceTypes",
                "amiType",
                "diskSize",
                "scalingConfig",
                "labels",
                "taints",
                "nodeRole",
                "subnets",
                "remoteAccess",
                "updateConfig",
            )
        },
    }


# --------------------------------------------------------------------------------------------
# One deployment, start to finish


@dataclass
class Deployment:
    """What one round trip did and what boto3 saw along the way."""

    label: str
    config: KarpenterConfig
    stand_in: StandInCluster
    declared: set[str] = field(default_factory=set)  # resource addresses in the synthesized JSON (type.name)
    phases: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    created: int | None = None  # resources the apply reported creating
    state_after_apply: list[str] = field(default_factory=list)  # resource instance addresses
    destroyed: int | None = None
    state_after_destroy: list[str] = field(default_factory=list)
    second_plan: subprocess.CompletedProcess[str] | None = None
    before: dict[str, Any] = field(default_factory=dict)
    live_inventory: dict[str, Any] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    checks: dict[str, list[Any]] = field(default_factory=dict)  # `make check`'s AWS rows: intact, then one thing broken at a time

    def ok(self) -> Deployment:
        if self.failure:
            pytest.fail(f"the {self.label} round trip failed:\n{self.failure}", pytrace=False)
        return self

    def timed(self, phase: str, action: Callable[[], Any]) -> Any:
        start = time.monotonic()
        try:
            return action()
        finally:
            self.phases[phase] = round(time.monotonic() - start, 1)


def json_messages(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def applied(output: str, action: str) -> int:
    """Resources terraform's `-json` stream reports as done with `action` ("create", "delete")."""
    return sum(1 for m in json_messages(output) if m.get("type") == "apply_complete" and m["hook"]["action"] == action)


def change_summary(output: str) -> dict[str, Any]:
    summaries = [m["changes"] for m in json_messages(output) if m.get("type") == "change_summary"]
    assert summaries, output
    return summaries[-1]


def plain(output: str) -> str:
    """The cdktf CLI's output without terminal escapes and progress-spinner lines."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output)
    return "\n".join(line for line in text.splitlines() if line.strip() and not re.match(r"^[\u2800-\u28ff] ", line))


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=PHASE_TIMEOUT)
    result.stdout, result.stderr = plain(result.stdout), plain(result.stderr)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-8000:]}\n{result.stderr[-8000:]}")
    return result


def declared_resources(stack: dict[str, Any]) -> set[str]:
    return {f"{kind}.{name}" for kind, resources in stack.get("resource", {}).items() for name in resources}


def with_cleanup(deployment: Deployment, steps: Callable[[], None], destroy: Callable[[], None]) -> Deployment:
    """Run `steps`; whatever fails, record it and still try to destroy so nothing lingers for the next test."""
    try:
        steps()
    except Exception:  # noqa: BLE001 - recorded; the tests that read the deployment fail with this traceback
        deployment.failure = traceback.format_exc()
        try:
            destroy()
        except Exception:  # noqa: BLE001 - recorded with the first failure
            deployment.failure += "\nand the clean-up destroy failed too:\n" + traceback.format_exc()
    return deployment


def read_back_and_replan(
    deployment: Deployment, moto: MotoHarness, stack_dir: Path, terraform_bin: str, env: dict[str, str]
) -> None:
    """After apply: what boto3 sees, then a second `plan -detailed-exitcode` of the same stack (0 = converged)."""
    deployment.live_inventory = inventory(moto, deployment.config, deployment.stand_in)
    deployment.live = read_live(moto, deployment.config, deployment.stand_in)
    deployment.second_plan = deployment.timed(
        "second plan",
        lambda: terraform(
            terraform_bin, "plan", "-detailed-exitcode", "-input=false", "-no-color", cwd=stack_dir, env=env, check=False
        ),
    )


def terraform_round_trip(
    deployment: Deployment, moto: MotoHarness, stack_dir: Path, terraform_bin: str, env: dict[str, str]
) -> Deployment:
    """init, apply, second plan, destroy with the terraform binary, reading moto through boto3 in between."""

    def tf(*args: str) -> subprocess.CompletedProcess[str]:
        return terraform(terraform_bin, *args, "-input=false", "-no-color", cwd=stack_dir, env=env)

    def state() -> list[str]:
        pulled = terraform(terraform_bin, "state", "pull", cwd=stack_dir, env=env).stdout
        return state_instances(json.loads(pulled or "{}"))

    def steps() -> None:
        deployment.before = inventory(moto, deployment.config, deployment.stand_in)
        deployment.timed("init", lambda: tf("init"))
        output = deployment.timed("apply", lambda: tf("apply", "-auto-approve", "-json")).stdout
        deployment.created = applied(output, "create")
        assert change_summary(output)["add"] == deployment.created, output
        deployment.state_after_apply = state()
        read_back_and_replan(deployment, moto, stack_dir, terraform_bin, env)
        deployment.timed("check", lambda: run_live_checks(deployment, moto, stack_dir.parent.parent))
        destroy()

    def destroy() -> None:
        output = deployment.timed("destroy", lambda: tf("destroy", "-auto-approve", "-json")).stdout
        deployment.destroyed = applied(output, "delete")
        assert change_summary(output)["remove"] == deployment.destroyed, output
        deployment.state_after_destroy = state()
        deployment.after = inventory(moto, deployment.config, deployment.stand_in)

    return with_cleanup(deployment, steps, destroy)


def run_live_checks(deployment: Deployment, moto: MotoHarness, outdir: Path) -> None:
    """`make check`'s AWS half on what terraform applied: intact, then with one thing broken (and restored) at a time."""
    from karpenter_check.aws import AwsClients
    from karpenter_check.cli import run_checks

    class MotoSession:  # the harness's clients carry moto's credentials; one session per client (thread safety)
        def client(self, service: str, **_: Any) -> Any:
            return moto.client(service)

    config, stand_in = deployment.config, deployment.stand_in
    names = config.resource_names

    def check() -> list[Any]:
        return run_checks(config, outdir, cluster=False, clients=AwsClients(config, MotoSession()), log=lambda _: None)

    iam, ec2, sqs, events = (moto.client(s) for s in ("iam", "ec2", "sqs", "events"))
    queue_url = sqs.get_queue_url(QueueName=names.interruption_queue)["QueueUrl"]
    policy_arn = next(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=names.controller_role)["AttachedPolicies"])
    queue_policy_text = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    subnet, rule = stand_in.subnet_ids[0], names.interruption_rule("spot")
    breaks: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "intact": (lambda: None, lambda: None),
        "subnet tag removed": (
            lambda: ec2.delete_tags(Resources=[subnet], Tags=[{"Key": DISCOVERY_TAG}]),
            lambda: ec2.create_tags(Resources=[subnet], Tags=[{"Key": DISCOVERY_TAG, "Value": config.cluster_name}]),
        ),
        "policy detached": (
            lambda: iam.detach_role_policy(RoleName=names.controller_role, PolicyArn=policy_arn),
            lambda: iam.attach_role_policy(RoleName=names.controller_role, PolicyArn=policy_arn),
        ),
        "queue policy deleted": (
            lambda: sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": ""}),
            lambda: sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": queue_policy_text}),
        ),
        "rule disabled": (lambda: events.disable_rule(Name=rule), lambda: events.enable_rule(Name=rule)),
    }
    for name, (break_it, restore) in breaks.items():
        break_it()
        try:
            deployment.checks[name] = check()
        finally:
            restore()


def project_copy(target: Path) -> Path:
    """The project as the cdktf CLI sees it, without state, outputs, tests or hidden directories (.git, venvs);
    node_modules and .venv are linked, not copied."""
    target.mkdir(parents=True)
    for entry in ROOT.iterdir():
        name = entry.name
        if name in ("node_modules", "tests", "__pycache__") or name.startswith((".", "cdktf.out", "terraform.")):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.tfstate*"))
        else:
            shutil.copy2(entry, target / name)
    for linked in (".venv", "node_modules"):
        (target / linked).symlink_to(ROOT / linked)
    return target


def cdktf_round_trip(
    deployment: Deployment, moto: MotoHarness, project: Path, terraform_bin: str, env: dict[str, str]
) -> Deployment:
    """`npx cdktf deploy infra`, a second plan of what it synthesized, `npx cdktf destroy infra`."""
    state_file = project / "terraform.infra.tfstate"  # the stack's local backend: ../../../ from cdktf.out/stacks/infra
    stack_dir = project / "cdktf.out" / "stacks" / "infra"
    # No `terraform providers lock` (it asks the registry and ignores mirrors) and no shared plugin cache in $HOME:
    # `terraform init` links the provider from the mirror, as it does for the terraform deployment.
    flags = ["--auto-approve", "--skip-provider-lock", "--disable-plugin-cache-env", "--no-color"]

    def state() -> list[str]:
        return state_instances(json.loads(state_file.read_text())) if state_file.exists() else []

    def steps() -> None:
        deployment.before = inventory(moto, deployment.config, deployment.stand_in)
        output = deployment.timed("deploy", lambda: run(["npx", "cdktf", "deploy", "infra", *flags], project, env)).stdout
        deployment.declared = declared_resources(json.loads((stack_dir / "cdk.tf.json").read_text()))
        deployment.state_after_apply = state()
        reported = re.findall(r"Apply complete! Resources: (\d+) added", output)
        assert reported, output
        deployment.created = int(reported[-1])
        read_back_and_replan(deployment, moto, stack_dir, terraform_bin, env)
        destroy()

    def destroy() -> None:
        # The crds and chart stacks depend on infra; they were never deployed (no Kubernetes here).
        # --skip-synth: the deploy's synthesis is still in cdktf.out; synthesizing again would only cost time.
        destroy_infra = ["npx", "cdktf", "destroy", "infra", *flags, "--ignore-missing-stack-dependencies", "--skip-synth"]
        output = deployment.timed("destroy", lambda: run(destroy_infra, project, env)).stdout
        reported = re.findall(r"Destroy complete! Resources: (\d+) destroyed", output)
        assert reported, output
        deployment.destroyed = int(reported[-1])
        deployment.state_after_destroy = state()
        deployment.after = inventory(moto, deployment.config, deployment.stand_in)

    return with_cleanup(deployment, steps, destroy)


# --------------------------------------------------------------------------------------------
# Figures, printed at the end of the run


def describe(deployment: Deployment) -> str:
    phases = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in deployment.phases.items())
    total = sum(deployment.phases.values())
    plan = deployment.second_plan.returncode if deployment.second_plan else "n/a"
    status = "FAILED" if deployment.failure else "ok"
    return (
        f"{deployment.label:9} {status}: created {deployment.created}, destroyed {deployment.destroyed} "
        f"(state {len(deployment.state_after_apply)} -> {len(deployment.state_after_destroy)}), "
        f"second plan exit {plan}; {phases}; total {total:.1f}s"
    )


# --------------------------------------------------------------------------------------------
# Fixtures


@dataclass
class Scenario:
    """What this module's starter started: the deployments and the refusal, each a Future of the session's pool."""

    deployments: dict[str, Future[Deployment]]
    refusal: Future[Refusal] | None


@starts_early
def start(start: Start) -> Scenario:
    """The deployments and the refusal, started together in the session's pool (their time is mostly the provider's
    SQS waits); synthesized here, in the test thread (jsii is not for threads)."""
    figures = Figures("terraform round trip against moto")
    start.config.pluginmanager.register(figures, "roundtrip-figures")
    started_at = time.monotonic()
    wanted = start.wants("deployment")
    if "cdktf" in wanted:
        require(CDKTF.exists() and shutil.which("npx") is not None, f"the cdktf CLI ({CDKTF}; run `npm ci`) and npx")
    futures: dict[str, Future[Deployment]] = {}
    for label in sorted(wanted):
        workdir = start.tmp_path_factory.mktemp(label)
        cluster, example = CLUSTERS[label]
        data = roundtrip_config(start.moto, cluster, example)
        config = KarpenterConfig.model_validate(data)
        deployment = Deployment(label, config, create_stand_in_cluster(start.moto, cluster))
        env = aws_env(terraform_env(start.mirror, workdir))
        if label.startswith("terraform"):
            stack = deployment.timed("synth", functools.partial(synth, config, workdir / "cdktf.out"))["infra"]
            deployment.declared = declared_resources(stack)
            futures[label] = start.scenarios.submit(
                terraform_round_trip, deployment, start.moto, workdir / "cdktf.out" / "stacks" / "infra", start.terraform_bin, env
            )
        else:
            config_file = workdir / "karpenter.yaml"
            config_file.write_text(yaml.safe_dump(data, sort_keys=False))
            env.update(
                KARPENTER_CONFIG=str(config_file), CHECKPOINT_DISABLE="1", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20"
            )
            futures[label] = start.scenarios.submit(
                cdktf_round_trip, deployment, start.moto, project_copy(workdir / "project"), start.terraform_bin, env
            )

        def done(future: Future[Deployment]) -> None:
            figures.add(describe(future.result()))
            if all(f.done() for f in futures.values()):
                figures.add(f"wall time of the deployments, from their start: {time.monotonic() - started_at:.1f}s")

        futures[label].add_done_callback(done)
    refusal = start_refusal(start, figures) if start.uses("refusal") else None
    return Scenario(futures, refusal)


@pytest.fixture(scope="module")
def scenario(started: Started) -> Scenario:
    return started(__name__)


@pytest.fixture(scope="module", params=sorted(CLUSTERS))
def deployment(request: pytest.FixtureRequest, scenario: Scenario) -> Deployment:
    return scenario.deployments[request.param].result(timeout=4 * PHASE_TIMEOUT)


@pytest.fixture
def live(deployment: Deployment) -> dict[str, Any]:
    return deployment.ok().live


# --------------------------------------------------------------------------------------------
# Apply and converge


def test_apply_creates_every_declared_resource(deployment: Deployment) -> None:
    deployment.ok()
    assert deployment.created == len(deployment.state_after_apply) > 0
    in_state = {re.sub(r"\[.*\]$", "", address) for address in deployment.state_after_apply}
    assert in_state == deployment.declared


def test_second_plan_shows_no_changes(deployment: Deployment) -> None:
    plan = deployment.ok().second_plan
    assert plan is not None
    assert plan.returncode == 0, f"exit {plan.returncode} (2 = changes pending):\n{plan.stdout}\n{plan.stderr}"


# --------------------------------------------------------------------------------------------
# The live result, read back through boto3


def test_controller_role_trusts_only_the_service_account(deployment: Deployment, live: dict[str, Any]) -> None:
    (provider,) = live["oidc_providers"]
    issuer_host = deployment.stand_in.issuer.removeprefix("https://")
    karpenter = deployment.config.karpenter
    assert live["controller_role"]["trust"] == irsa_trust_policy(
        oidc_provider_arn=provider["arn"],
        issuer_host=issuer_host,
        namespace=karpenter.namespace,
        service_account=karpenter.service_account,
    )


def test_oidc_provider_is_the_clusters_issuer(deployment: Deployment, live: dict[str, Any]) -> None:
    (provider,) = live["oidc_providers"]
    assert provider["Url"] == deployment.stand_in.issuer.removeprefix("https://")
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == [THUMBPRINT]


def test_controller_policies_are_the_releases_filled_in(deployment: Deployment, live: dict[str, Any]) -> None:
    identity = live["identity"]
    account, partition = identity["Account"], identity["Arn"].split(":")[1]
    assert (account, partition) == (ACCOUNT_ID, "aws")
    config = deployment.config
    values = PolicyValues(
        partition=partition,
        region=REGION,
        account_id=account,
        cluster_name=deployment.stand_in.name,
        queue_arn=live["queue"]["attributes"]["QueueArn"],
        node_role_arn=live["node_role"]["arn"],
    )
    expected = managed_policies(config.release, values, values)
    assert {p["name"]: p["document"] for p in live["controller_policies"]} == {
        config.prefix + name.suffix: document for name, document in expected.items()
    }


def test_node_roles_have_their_policies_and_nodes_may_join(deployment: Deployment, live: dict[str, Any]) -> None:
    assert live["node_role"]["trust"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert live["node_role"]["policies"] == sorted(node_role_policy_arns(deployment.config.release, partition="aws"))
    assert live["system_node_role"]["policies"] == sorted(managed_policy_arn("aws", p) for p in SYSTEM_NODE_MANAGED_POLICIES)
    (entry,) = live["access_entries"]
    assert (entry["principalArn"], entry["type"]) == (live["node_role"]["arn"], "EC2_LINUX")


def test_interruption_queue_keeps_messages_five_minutes_encrypted(deployment: Deployment, live: dict[str, Any]) -> None:
    attributes = live["queue"]["attributes"]
    assert attributes["QueueArn"].endswith(f":{deployment.config.resource_names.interruption_queue}")
    assert attributes["MessageRetentionPeriod"] == "300"
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_interruption_queue_policy_admits_eventbridge_and_denies_plain_http(live: dict[str, Any]) -> None:
    assert live["queue"]["policy"] == queue_policy(live["queue"]["attributes"]["QueueArn"])


def test_every_rule_has_upstreams_pattern_and_targets_the_queue(deployment: Deployment, live: dict[str, Any]) -> None:
    names = deployment.config.resource_names
    queue_arn = live["queue"]["attributes"]["QueueArn"]
    expected = {names.interruption_rule(rule.key): rule.pattern for rule in deployment.config.release.interruption_rules}
    assert sorted(live["rules"]) == sorted(expected)
    for name, rule in live["rules"].items():
        assert rule["pattern"] == expected[name], name
        assert rule["state"] == "ENABLED", name
        assert rule["targets"] == [{"id": TARGET_ID, "arn": queue_arn}], name


def test_discovery_tag_added_to_existing_subnets_and_security_group(deployment: Deployment) -> None:
    stand_in, cluster = deployment.stand_in, deployment.ok().config.cluster_name
    tagged = {DISCOVERY_TAG: cluster}
    assert deployment.live_inventory["subnet_tags"] == {
        subnet: {**tags, **tagged} for subnet, tags in stand_in.subnet_tags.items()
    }
    assert deployment.live_inventory["security_group_tags"] == {
        stand_in.security_group_id: {**stand_in.security_group_tags, **tagged}
    }


def test_system_node_group_is_tainted_and_labelled(deployment: Deployment, live: dict[str, Any]) -> None:
    group = live["node_group"]
    settings = deployment.config.system_node_group
    assert group["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {"role": "system"}
    assert group["capacityType"] == "ON_DEMAND"
    assert group["instanceTypes"] == list(settings.instance_types)
    assert group["amiType"] == settings.ami_type
    assert group["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 2}
    assert group["nodeRole"] == live["system_node_role"]["arn"]
    assert sorted(group["subnets"]) == sorted(deployment.stand_in.subnet_ids)
    assert group["remoteAccess"] is None


# --------------------------------------------------------------------------------------------
# Destroy


BROKEN_CHECKS = {  # what was broken -> the `make check` rows that must fail (the first with words of its fix)
    # The stand-in cluster has two subnets in two zones: with one untagged, the node class also has one zone left.
    "subnet tag removed": (("discovery tags", "node class default: subnets"), "deploy infra"),
    "policy detached": (("controller policy",), "attach-role-policy"),
    "queue policy deleted": (("interruption queue policy",), "deploy infra"),
    "rule disabled": (("interruption rule spot",), "enable-rule"),
}


TERRAFORM_DEPLOYMENTS = sorted(label for label in CLUSTERS if label.startswith("terraform"))


@pytest.mark.parametrize("deployment", TERRAFORM_DEPLOYMENTS, indirect=True)
def test_make_check_passes_every_aws_row_on_what_terraform_applied(deployment: Deployment) -> None:
    rows = deployment.ok().checks["intact"]
    assert [r for r in rows if r.status == "FAIL"] == []
    assert len([r for r in rows if r.status == "PASS"]) >= 10


@pytest.mark.parametrize("deployment", TERRAFORM_DEPLOYMENTS, indirect=True)
@pytest.mark.parametrize("broken", sorted(BROKEN_CHECKS))
def test_make_check_fails_exactly_the_row_of_what_was_broken(deployment: Deployment, broken: str) -> None:
    failed = [r for r in deployment.ok().checks[broken] if r.status == "FAIL"]
    checks, fix = BROKEN_CHECKS[broken]
    assert len(failed) == len(checks), [(r.check, r.detail) for r in failed]
    assert all(row.check.startswith(check) for row, check in zip(failed, checks, strict=True)), [r.check for r in failed]
    assert fix in failed[0].fix, failed[0].fix


def test_destroy_removes_everything_it_created(deployment: Deployment) -> None:
    deployment.ok()
    names = deployment.config.resource_names
    assert deployment.destroyed == deployment.created
    assert deployment.state_after_destroy == []
    before, live, after = deployment.before, deployment.live_inventory, deployment.after
    # What the apply added under the deployment's names...
    assert set(live["roles"]) - set(before["roles"]) == {names.controller_role, names.node_role, names.system_node_role}
    assert set(live["policies"]) - set(before["policies"]) == {p["name"] for p in deployment.live["controller_policies"]}
    assert len(live["oidc_providers"]) == len(before["oidc_providers"]) + 1
    assert len(live["queues"]) == len(before["queues"]) + 1
    assert set(live["rules"]) - set(before["rules"]) == {
        names.interruption_rule(rule.key) for rule in deployment.config.release.interruption_rules
    }
    assert set(live["node_groups"]) - set(before["node_groups"]) == {names.system_node_group}
    assert set(live["access_entries"]) - set(before["access_entries"]) == {deployment.live["node_role"]["arn"]}
    # ...is gone, and everything else is as it was before.
    assert after == before


def test_destroy_leaves_existing_subnets_and_security_group_with_their_tags(deployment: Deployment) -> None:
    stand_in = deployment.ok().stand_in
    assert deployment.after["subnet_tags"] == stand_in.subnet_tags
    assert deployment.after["security_group_tags"] == {stand_in.security_group_id: stand_in.security_group_tags}
    assert deployment.after["cluster"] == "ACTIVE"


# --------------------------------------------------------------------------------------------
# The layer can fail: broken documents injected into the synthesized JSON are refused


def _unknown_condition_operator(stack: dict[str, Any], stand_in: StandInCluster, config: KarpenterConfig) -> str:
    # The controller policy with `StringEquals` misspelt `StringEqual` in its first conditional statement.
    # Written with literal ARNs so `-target` creates this policy alone (not the queue it names, whose
    # creation the provider waits 25 s on).
    (document, *_) = controller_policies(
        config.release,
        PolicyValues(
            partition="aws",
            region=REGION,
            account_id=ACCOUNT_ID,
            cluster_name=stand_in.name,
            queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{config.resource_names.interruption_queue}",
            node_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{config.resource_names.node_role}",
        ),
    ).values()
    condition = document["Statement"][1]["Condition"]
    condition["StringEqual"] = condition.pop("StringEquals")
    stack["resource"]["aws_iam_policy"]["karpenter_controller"]["policy"] = json.dumps(document)
    return "aws_iam_policy.karpenter_controller"


def _invalid_event_pattern(stack: dict[str, Any], stand_in: StandInCluster, config: KarpenterConfig) -> str:
    # `source` must be an array of values; a bare string is a pattern EventBridge rejects.
    stack["resource"]["aws_cloudwatch_event_rule"]["karpenter_interruption_spot"]["event_pattern"] = json.dumps(
        {"source": "aws.ec2", "detail-type": ["EC2 Spot Instance Interruption Warning"]}
    )
    return "aws_cloudwatch_event_rule.karpenter_interruption_spot"


BROKEN = {
    "unknown-condition-operator": (_unknown_condition_operator, "MalformedPolicyDocument"),
    "invalid-event-pattern": (_invalid_event_pattern, "InvalidEventPatternException"),
}


@dataclass
class Refusal:
    config: KarpenterConfig
    targets: dict[str, str]  # case -> the resource address it broke
    apply: subprocess.CompletedProcess[str]


def start_refusal(start: Start, figures: Figures) -> Future[Refusal]:
    """Both broken documents in one copy of the stack, for another stand-in cluster, applied once.

    One `apply -target=A -target=B` rather than one per case: each terraform command starts the provider
    (~2.5 s a time here), and terraform reports every failed resource of an apply.
    """
    workdir = start.tmp_path_factory.mktemp("broken")
    config = KarpenterConfig.model_validate(roundtrip_config(start.moto, BROKEN_CLUSTER))
    stand_in = create_stand_in_cluster(start.moto, BROKEN_CLUSTER)
    stack = synth(config, workdir / "cdktf.out")["infra"]
    stack_dir = workdir / "cdktf.out" / "stacks" / "infra"
    targets = {case: inject(stack, stand_in, config) for case, (inject, _) in BROKEN.items()}
    (stack_dir / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
    env = aws_env(terraform_env(start.mirror, workdir))
    terraform_bin = start.terraform_bin

    def apply() -> Refusal:
        terraform(terraform_bin, "init", "-input=false", "-no-color", cwd=stack_dir, env=env)
        # Still valid Terraform, so `validate` passes: only the API behind the provider can tell.
        terraform(terraform_bin, "validate", "-no-color", cwd=stack_dir, env=env)
        begun = time.monotonic()
        result = terraform(
            terraform_bin,
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            *(f"-target={address}" for address in targets.values()),
            cwd=stack_dir,
            env=env,
            check=False,
        )
        figures.add(
            f"broken    apply of {', '.join(sorted(targets.values()))}: exit {result.returncode} in {time.monotonic() - begun:.1f}s"
        )
        return Refusal(config, targets, result)

    return start.scenarios.submit(apply)


@pytest.fixture(scope="module")
def refusal(scenario: Scenario) -> Refusal:
    assert scenario.refusal is not None
    return scenario.refusal.result(timeout=4 * PHASE_TIMEOUT)


def error_blocks(stderr: str) -> dict[str, str]:
    """terraform's diagnostics by the resource address each names (`with <address>,`)."""
    blocks = {}
    for block in re.split(r"^Error: ", stderr, flags=re.MULTILINE)[1:]:
        where = re.search(r"^\s*with ([^,\s]+),", block, flags=re.MULTILINE)
        if where:
            blocks[where.group(1)] = block
    return blocks


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_document_is_refused(case: str, refusal: Refusal, moto: MotoHarness) -> None:
    result = refusal.apply
    assert result.returncode == 1, result.stdout
    assert "Apply complete" not in result.stdout
    address, error = refusal.targets[case], BROKEN[case][1]
    blocks = error_blocks(result.stderr)
    assert address in blocks, result.stderr
    assert error in blocks[address], blocks[address]
    names = refusal.config.resource_names
    if case == "unknown-condition-operator":
        policies = listed(moto.client("iam"), "list_policies", "Policies", Scope="Local")
        assert names.controller_policy not in [p["PolicyName"] for p in policies]
    else:
        assert moto.client("events").list_rules(NamePrefix=names.interruption_queue)["Rules"] == []
