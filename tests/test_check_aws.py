"""karpenter_check's AWS half against moto: everything the infra stack creates, set up with boto3, passes;
breaking one thing at a time fails exactly that check, with its fix.

The account is built the way the infra stack builds it, from the same documents (karpenter_model's
policies, trust, queue policy and the release's rules) with literal values, while the check reads
the synthesized JSON and resolves its Terraform references against the live account: the two meet
only in AWS. A real `terraform apply` of the stack against moto is what tests/test_roundtrip.py
does; it is not repeated here (minutes, and the terraform binary plus provider mirror).

The account is built once, in the session's moto (tests/conftest.py), for a cluster of its own
(`chk-aws`). Each test breaks one thing; afterwards `repair` puts it back and the account is
compared with the one built (through boto3), so no test sees another's damage.

moto gaps, handled here only:
- EKS access entries are not implemented in moto 5.2.1: tests/moto_harness.py's MotoHarness adds
  them (its `_MotoGaps`), and this module uses that harness.
- moto creates no cluster security group and one OIDC issuer per process: `create_stand_in_cluster`
  sets both on moto's record, as EKS reports them.
- EKS Pod Identity associations and add-ons are not implemented (404): the Pod Identity trust path
  is tested on documents only (tests/test_check_cluster.py has the pure-function tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_check.aws import AwsClients
from karpenter_check.cli import main, run_checks
from karpenter_check.results import Result, render_table
from karpenter_model.config import DISCOVERY_TAG, KarpenterConfig
from karpenter_model.documents.iam import (
    PolicyValues,
    ec2_trust_policy,
    irsa_trust_policy,
    managed_policies,
    measured_values,
    node_role_policy_arns,
)
from karpenter_model.documents.interruption import TARGET_ID, queue_policy
from tests.conftest import example_data
from tests.moto_harness import (
    ACCOUNT_ID,
    CREDENTIALS,
    REGION,
    MotoHarness,
    StandInCluster,
    create_stand_in_cluster,
)

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


CLUSTER = "chk-aws"  # this module's stand-in cluster in the session's moto (a name of its own: tests/roundtrip_support.py)


@pytest.fixture(scope="module", autouse=True)
def aws_environment() -> Iterator[None]:
    """moto's credentials in the environment, for what builds its own clients (the CLI's main, run_checks without clients)."""
    with pytest.MonkeyPatch.context() as patch:
        for key in (
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ):
            patch.delenv(key, raising=False)
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


class SharedSession:
    """`MotoHarness.client`, from one boto3 session: a new session per client costs a quarter second (models reloaded)."""

    def __init__(self, moto: MotoHarness) -> None:
        import boto3

        self.moto = moto
        self.session = boto3.session.Session()
        self.clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.session.client(
                service,
                region_name=REGION,
                endpoint_url=self.moto.endpoint,
                aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
            )
        return self.clients[service]


@pytest.fixture(scope="module")
def shared(moto: MotoHarness) -> SharedSession:
    return SharedSession(moto)


@pytest.fixture(scope="module")
def check_clients(moto: MotoHarness, shared: SharedSession) -> AwsClients:
    """The check's own clients (as run_checks makes them from the config), kept for the module."""
    return AwsClients(check_config(moto), session=shared.session)


def example_for_cluster() -> dict[str, Any]:
    """The example config moved to this module's cluster (its node role and discovery selectors follow)."""
    return json.loads(json.dumps(example_data()).replace("aws-2026-eks", CLUSTER))


@pytest.fixture(scope="module")
def outdir(synth_config) -> Path:
    """The example config for this module's cluster, synthesized: what the check reads."""
    return synth_config.outdir(KarpenterConfig.model_validate(example_for_cluster()))


def check_config(moto: MotoHarness) -> KarpenterConfig:
    """The example config for this module's cluster, pointed at moto: names and policies as synthesized, endpoints local."""
    return KarpenterConfig.model_validate(
        {**example_for_cluster(), "aws": {"endpoints": moto.endpoints(), "skip_metadata_api_check": True}}
    )


@dataclass
class Account:
    moto: MotoHarness
    shared: SharedSession
    check_clients: AwsClients
    config: KarpenterConfig
    stand_in: StandInCluster
    subnets: list[str]
    queue_url: str
    queue_arn: str
    controller_policy_arns: list[str]
    node_role_arn: str

    def client(self, service: str) -> Any:
        return self.shared.client(service)


def build_account(moto: MotoHarness, shared: SharedSession, config: KarpenterConfig) -> dict[str, Any]:
    """What exists after `cdktf deploy infra`: the stand-in cluster, plus everything the infra stack creates."""
    iam, sqs, events, ec2, eks = (shared.client(s) for s in ("iam", "sqs", "events", "ec2", "eks"))
    names = config.resource_names
    stand_in = create_stand_in_cluster(shared, config.cluster_name)  # type: ignore[arg-type]  # it only calls .client()
    # A third subnet in a third zone, so that one untagged subnet leaves two zones (and only the tag row fails).
    third = ec2.create_subnet(VpcId=stand_in.vpc_id, CidrBlock="10.42.2.0/24", AvailabilityZone=f"{REGION}c")["Subnet"][
        "SubnetId"
    ]
    from moto.eks.models import eks_backends

    record = eks_backends[ACCOUNT_ID][REGION].clusters[config.cluster_name]
    record.resources_vpc_config["subnetIds"] = [*stand_in.subnet_ids, third]
    subnets = [*stand_in.subnet_ids, third]

    host = stand_in.issuer.removeprefix("https://")
    provider_arn = iam.create_open_id_connect_provider(
        Url=stand_in.issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMBPRINT]
    )["OpenIDConnectProviderArn"]
    assert provider_arn == f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    trust = irsa_trust_policy(
        oidc_provider_arn=provider_arn,
        issuer_host=host,
        namespace=config.karpenter.namespace,
        service_account=config.karpenter.service_account,
    )
    iam.create_role(RoleName=names.controller_role, AssumeRolePolicyDocument=json.dumps(trust))
    node_role_arn = iam.create_role(RoleName=names.node_role, AssumeRolePolicyDocument=json.dumps(ec2_trust_policy()))["Role"][
        "Arn"
    ]
    for arn in node_role_policy_arns(config.release, partition="aws"):
        iam.attach_role_policy(RoleName=names.node_role, PolicyArn=arn)
    eks.create_access_entry(clusterName=config.cluster_name, principalArn=node_role_arn, type="EC2_LINUX")

    queue_url = sqs.create_queue(
        QueueName=names.interruption_queue,
        Attributes={
            "MessageRetentionPeriod": str(config.interruption.message_retention_seconds),
            "SqsManagedSseEnabled": "true",
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(queue_policy(queue_arn))})

    values = PolicyValues(
        partition="aws",
        region=REGION,
        account_id=ACCOUNT_ID,
        cluster_name=config.cluster_name,
        queue_arn=queue_arn,
        node_role_arn=node_role_arn,
    )
    policy_arns = []
    for name, doc in managed_policies(config.release, values, measured_values(config)).items():
        arn = iam.create_policy(PolicyName=config.prefix + name.suffix, PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=names.controller_role, PolicyArn=arn)
        policy_arns.append(arn)

    for rule in config.release.interruption_rules:
        rule_name = names.interruption_rule(rule.key)
        events.put_rule(Name=rule_name, EventPattern=json.dumps(rule.pattern), State="ENABLED", Description=rule.description)
        events.put_targets(Rule=rule_name, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])

    ec2.create_tags(Resources=[*subnets, stand_in.security_group_id], Tags=[{"Key": DISCOVERY_TAG, "Value": config.cluster_name}])

    system_role = iam.create_role(RoleName=names.system_node_role, AssumeRolePolicyDocument=json.dumps(ec2_trust_policy()))[
        "Role"
    ]["Arn"]
    group = config.system_node_group
    eks.create_nodegroup(
        clusterName=config.cluster_name,
        nodegroupName=names.system_node_group,
        nodeRole=system_role,
        subnets=subnets,
        capacityType="ON_DEMAND",
        instanceTypes=list(group.instance_types),
        scalingConfig={"minSize": group.min_size, "desiredSize": group.desired_size, "maxSize": group.max_size},
        labels=dict(group.labels),
        taints=[{"key": t.key, "value": t.value, "effect": t.effect} for t in group.taints],
    )
    return {
        "config": config,
        "stand_in": stand_in,
        "subnets": subnets,
        "queue_url": queue_url,
        "queue_arn": queue_arn,
        "controller_policy_arns": policy_arns,
        "node_role_arn": node_role_arn,
    }


def observed(account: Account) -> dict[str, Any]:
    """What the checks read of this module's account, through boto3: equal to the built account's once repaired."""
    iam, sqs, events, ec2, eks = (account.client(s) for s in ("iam", "sqs", "events", "ec2", "eks"))
    names, config = account.config.resource_names, account.config
    host = account.stand_in.issuer.removeprefix("https://")

    def attached(role: str) -> list[str]:
        return sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])

    def policy(arn: str) -> Any:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        versions = sorted(v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"])
        return version, versions, iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]

    queues = sqs.list_queues(QueueNamePrefix=names.interruption_queue).get("QueueUrls", [])
    groups = (
        eks.list_nodegroups(clusterName=config.cluster_name)["nodegroups"]
        if config.cluster_name in eks.list_clusters()["clusters"]
        else None
    )
    return {
        "tags": {
            r["ResourceId"]: r["Value"]
            for r in ec2.describe_tags(Filters=[{"Name": "key", "Values": [DISCOVERY_TAG]}])["Tags"]
            if r["ResourceId"] in {*account.subnets, account.stand_in.security_group_id}
        },
        "controller": (
            attached(names.controller_role),
            iam.get_role(RoleName=names.controller_role)["Role"]["AssumeRolePolicyDocument"],
        ),
        "policies": {arn: policy(arn) for arn in account.controller_policy_arns},
        "node_role": attached(names.node_role),
        "queues": queues,
        "queue": queues
        and {
            key: value
            for key, value in sqs.get_queue_attributes(QueueUrl=queues[0], AttributeNames=["All"])["Attributes"].items()
            if not key.endswith("Timestamp")
        },
        "rules": {
            rule["Name"]: (rule["State"], events.list_targets_by_rule(Rule=rule["Name"])["Targets"])
            for rule in events.list_rules(NamePrefix=names.interruption_queue + "-")["Rules"]
        },
        "oidc": [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] if p["Arn"].endswith(host)],
        "cluster_groups": groups,
        "access_entries": groups is not None and eks.list_access_entries(clusterName=config.cluster_name)["accessEntries"],
    }


def repair(account: Account, built: Built) -> None:
    """Put back whatever a test broke: the account as `build_account` left it (moto's own records where boto3 cannot)."""
    from moto.eks.models import eks_backends

    iam, sqs, events, ec2, eks = (account.client(s) for s in ("iam", "sqs", "events", "ec2", "eks"))
    config, names = account.config, account.config.resource_names
    backend = eks_backends[ACCOUNT_ID][REGION]
    # A deleted cluster or node group: moto's record of it, as it was (no API restores a cluster), and moto's counts.
    if config.cluster_name not in backend.clusters:
        backend.clusters[config.cluster_name] = built.cluster
        backend.cluster_count += 1
    for name, group in built.nodegroups.items():
        if name not in built.cluster.nodegroups:
            built.cluster.nodegroups[name] = group
            built.cluster.nodegroup_count += 1
    ec2.create_tags(
        Resources=[*account.subnets, account.stand_in.security_group_id],
        Tags=[{"Key": DISCOVERY_TAG, "Value": config.cluster_name}],
    )
    if not observed(account)["oidc"]:
        iam.create_open_id_connect_provider(
            Url=account.stand_in.issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMBPRINT]
        )
    iam.update_assume_role_policy(RoleName=names.controller_role, PolicyDocument=built.trust)
    for arn in account.controller_policy_arns:
        iam.attach_role_policy(RoleName=names.controller_role, PolicyArn=arn)
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if version["VersionId"] != "v1":
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    for arn in node_role_policy_arns(config.release, partition="aws"):
        iam.attach_role_policy(RoleName=names.node_role, PolicyArn=arn)
    if account.node_role_arn not in eks.list_access_entries(clusterName=config.cluster_name)["accessEntries"]:
        eks.create_access_entry(clusterName=config.cluster_name, principalArn=account.node_role_arn, type="EC2_LINUX")
    queue_url = sqs.create_queue(QueueName=names.interruption_queue, Attributes=built.queue_attributes)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": built.queue_policy})
    for rule in config.release.interruption_rules:
        events.enable_rule(Name=names.interruption_rule(rule.key))
        events.put_targets(Rule=names.interruption_rule(rule.key), Targets=[{"Id": TARGET_ID, "Arn": account.queue_arn}])


@dataclass
class Built:
    """The intact account as built, and what `repair` needs to restore it."""

    cluster: Any  # moto's record of the stand-in cluster
    nodegroups: dict[str, Any]
    trust: str
    queue_attributes: dict[str, str]
    queue_policy: str
    observed: dict[str, Any]


@pytest.fixture(scope="module")
def built(moto: MotoHarness, shared: SharedSession, check_clients: AwsClients) -> tuple[Account, Built]:
    """The account, built once for the module (the stand-in cluster plus everything the infra stack creates)."""
    from moto.eks.models import eks_backends

    account = Account(moto, shared, check_clients, **build_account(moto, shared, check_config(moto)))
    iam, sqs = account.client("iam"), account.client("sqs")
    record = eks_backends[ACCOUNT_ID][REGION].clusters[account.config.cluster_name]
    attributes = sqs.get_queue_attributes(QueueUrl=account.queue_url, AttributeNames=["All"])["Attributes"]
    trust = iam.get_role(RoleName=account.config.resource_names.controller_role)["Role"]["AssumeRolePolicyDocument"]
    return account, Built(
        cluster=record,
        nodegroups=dict(record.nodegroups),
        trust=trust if isinstance(trust, str) else json.dumps(trust),
        queue_attributes={k: attributes[k] for k in ("MessageRetentionPeriod", "SqsManagedSseEnabled")},
        queue_policy=attributes["Policy"],
        observed=observed(account),
    )


@pytest.fixture
def account(built: tuple[Account, Built]) -> Iterator[Account]:
    """The module's account, intact; each test breaks one thing, and afterwards it is repaired and compared with
    the account as built (a difference fails the test's teardown: the repair missed what it broke)."""
    account, intact = built
    yield account
    repair(account, intact)
    assert observed(account) == intact.observed, "the account differs from the one built after the repair"


def run(account: Account, outdir: Path) -> list[Result]:
    return run_checks(account.config, outdir, cluster=False, clients=account.check_clients, log=lambda _m: None)


def by_status(results: list[Result], status: str) -> dict[str, Result]:
    return {r.check: r for r in results if r.status == status}


def only_failure(results: list[Result]) -> Result:
    failures = by_status(results, "FAIL")
    assert len(failures) == 1, render_table(results, width=200)
    return next(iter(failures.values()))


# -- all is well -----------------------------------------------------------------------------------


def test_every_check_passes_on_what_the_infra_stack_creates(account, outdir):
    results = run(account, outdir)
    assert not by_status(results, "FAIL"), render_table(results, width=200)
    names = account.config.resource_names
    assert [r.check for r in results] == [
        "synthesized stacks",
        "aws credentials",
        "eks cluster",
        "eks support calendar",
        "controller role trust (IRSA)",
        f"controller policy {names.controller_policy('-karpenter-controller')}",
        "node role",
        "node role access entry",
        "interruption queue",
        "interruption queue policy",
        *(f"interruption rule {rule.key}" for rule in account.config.release.interruption_rules),
        "discovery tags",
        "node class default: subnets",
        "node class default: security groups",
        "system node group",
        "cluster checks",
    ]
    assert by_status(results, "SKIP") == {"cluster checks": Result("cluster checks", "SKIP", "skipped (--no-cluster)")}
    passed = by_status(results, "PASS")
    assert "3 subnets in us-east-1a, us-east-1b, us-east-1c" in passed["node class default: subnets"].detail
    assert (
        "document equals the synthesized one"
        in passed[f"controller policy {names.controller_policy('-karpenter-controller')}"].detail
    )
    assert "system:serviceaccount:karpenter:karpenter" in passed["controller role trust (IRSA)"].detail


def test_the_cli_prints_one_table_and_exits_by_it(account, outdir, tmp_path, capsys):
    config_file = tmp_path / "config.yaml"
    data = example_for_cluster()
    data["aws"] = {"endpoints": account.moto.endpoints(), "skip_metadata_api_check": True}
    config_file.write_text(yaml.safe_dump(data))
    assert main(["--config", str(config_file), "--outdir", str(outdir), "--no-cluster"]) == 0
    table = capsys.readouterr().out
    assert [cell.strip() for cell in table.splitlines()[0].split(" | ")] == ["check", "status", "detail", "fix"]
    assert "| FAIL |" not in table and table.rstrip().endswith("0 FAIL / 1 SKIP")
    account.client("events").disable_rule(Name=account.config.resource_names.interruption_rule("spot"))
    assert main(["--config", str(config_file), "--outdir", str(outdir), "--no-cluster"]) == 1
    broken = capsys.readouterr().out
    assert "interruption rule spot" in broken and "aws events enable-rule" in broken
    import os

    if os.environ.get("KARPENTER_CHECK_SAMPLE"):  # for the report: the two tables, as an operator sees them
        Path(os.environ["KARPENTER_CHECK_SAMPLE"]).write_text(table + "\n\n" + broken)


def test_a_config_the_output_was_not_synthesized_from(account, outdir):
    data = json.loads(json.dumps(example_data()).replace("aws-2026-eks", "other-cluster"))
    other = KarpenterConfig.model_validate({**data, "aws": {"endpoints": account.moto.endpoints()}})
    results = run_checks(other, outdir, cluster=False, clients=account.check_clients)
    assert [(r.check, r.status) for r in results] == [("synthesized stacks", "FAIL")]
    assert "synthesized from another config" in results[0].detail and "make synth" in results[0].fix


def test_no_output_directory(account, tmp_path):
    results = run_checks(account.config, tmp_path / "nothing", cluster=False, clients=account.check_clients)
    assert [(r.check, r.status) for r in results] == [("synthesized stacks", "FAIL")]
    assert "manifest.json not found" in results[0].detail


# -- one thing broken at a time --------------------------------------------------------------------


def test_subnet_without_its_discovery_tag(account, outdir):
    subnet = account.subnets[0]
    account.client("ec2").delete_tags(Resources=[subnet], Tags=[{"Key": DISCOVERY_TAG}])
    failure = only_failure(run(account, outdir))
    assert failure.check == "discovery tags"
    assert subnet in failure.detail
    assert f"aws ec2 create-tags --resources {subnet} --tags Key={DISCOVERY_TAG},Value={CLUSTER}" in failure.fix
    assert "npx cdktf deploy infra" in failure.fix


def test_node_class_left_with_one_zone(account, outdir):
    account.client("ec2").delete_tags(Resources=account.subnets[1:], Tags=[{"Key": DISCOVERY_TAG}])
    failures = by_status(run(account, outdir), "FAIL")
    assert set(failures) == {"discovery tags", "node class default: subnets"}
    assert "all in us-east-1a" in failures["node class default: subnets"].detail
    assert "second availability zone" in failures["node class default: subnets"].fix


def test_security_group_without_its_discovery_tag(account, outdir):
    group = account.stand_in.security_group_id
    account.client("ec2").delete_tags(Resources=[group], Tags=[{"Key": DISCOVERY_TAG}])
    failures = by_status(run(account, outdir), "FAIL")
    assert set(failures) == {"discovery tags", "node class default: security groups"}
    assert "match no security group" in failures["node class default: security groups"].detail


def test_detached_controller_policy(account, outdir):
    names = account.config.resource_names
    arn = account.controller_policy_arns[0]
    account.client("iam").detach_role_policy(RoleName=names.controller_role, PolicyArn=arn)
    failure = only_failure(run(account, outdir))
    assert failure.check == f"controller policy {names.controller_policy('-karpenter-controller')}"
    assert failure.detail == f"exists but is not attached to {names.controller_role}"
    assert f"aws iam attach-role-policy --role-name {names.controller_role} --policy-arn {arn}" in failure.fix


def test_controller_policy_edited_by_hand(account, outdir):
    iam, arn = account.client("iam"), account.controller_policy_arns[0]
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    removed = doc["Statement"].pop(0)["Sid"]
    doc["Statement"][0]["Action"] = "ec2:*"
    changed = doc["Statement"][0]["Sid"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)
    failure = only_failure(run(account, outdir))
    assert failure.check == f"controller policy {account.config.resource_names.controller_policy('-karpenter-controller')}"
    assert f"missing statements {removed}" in failure.detail and f"changed statements {changed}" in failure.detail
    assert "restores the document" in failure.fix


def test_deleted_queue_policy(account, outdir):
    account.client("sqs").set_queue_attributes(QueueUrl=account.queue_url, Attributes={"Policy": ""})
    failure = only_failure(run(account, outdir))
    assert failure.check == "interruption queue policy"
    assert "EventBridge cannot deliver" in failure.detail
    assert "npx cdktf deploy infra" in failure.fix and "aws_sqs_queue_policy.karpenter_interruption" in failure.fix


def test_queue_policy_that_no_longer_admits_eventbridge(account, outdir):
    doc = queue_policy(account.queue_arn)
    doc["Statement"][0]["Principal"] = {"Service": ["sqs.amazonaws.com"]}
    account.client("sqs").set_queue_attributes(QueueUrl=account.queue_url, Attributes={"Policy": json.dumps(doc)})
    failure = only_failure(run(account, outdir))
    assert failure.check == "interruption queue policy"
    assert "events.amazonaws.com" in failure.detail


def test_disabled_rule(account, outdir):
    name = account.config.resource_names.interruption_rule("spot")
    account.client("events").disable_rule(Name=name)
    failure = only_failure(run(account, outdir))
    assert failure.check == "interruption rule spot"
    assert failure.detail == f"{name}: state DISABLED"
    assert failure.fix.startswith(f"aws events enable-rule --name {name}")


def test_rule_without_its_target(account, outdir):
    name = account.config.resource_names.interruption_rule("rebalance")
    account.client("events").remove_targets(Rule=name, Ids=[TARGET_ID])
    failure = only_failure(run(account, outdir))
    assert failure.check == "interruption rule rebalance" and "no target is the queue" in failure.detail


def test_deleted_queue(account, outdir):
    account.client("sqs").delete_queue(QueueUrl=account.queue_url)
    failures = by_status(run(account, outdir), "FAIL")
    # Without the queue its policy cannot be read, no rule reaches it, and the policy's queue ARN has nothing to match.
    assert failures["interruption queue"].detail.startswith(
        f"queue {account.config.resource_names.interruption_queue} does not exist"
    )
    assert {f"interruption rule {r.key}" for r in account.config.release.interruption_rules} <= set(failures)


def test_missing_access_entry(account, outdir):
    account.client("eks").delete_access_entry(clusterName=account.config.cluster_name, principalArn=account.node_role_arn)
    failure = only_failure(run(account, outdir))
    assert failure.check == "node role access entry"
    assert (
        f"aws eks create-access-entry --cluster-name {CLUSTER} --principal-arn {account.node_role_arn} --type EC2_LINUX"
        in failure.fix
    )


def test_trust_for_another_service_account(account, outdir):
    iam, names = account.client("iam"), account.config.resource_names
    host = account.stand_in.issuer.removeprefix("https://")
    trust = irsa_trust_policy(
        oidc_provider_arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}",
        issuer_host=host,
        namespace="kube-system",
        service_account="karpenter",
    )
    iam.update_assume_role_policy(RoleName=names.controller_role, PolicyDocument=json.dumps(trust))
    failure = only_failure(run(account, outdir))
    assert failure.check == "controller role trust (IRSA)"
    assert "system:serviceaccount:kube-system:karpenter, not system:serviceaccount:karpenter:karpenter" in failure.detail


def test_trust_that_also_lets_someone_else_in(account, outdir):
    iam, names = account.client("iam"), account.config.resource_names
    doc = iam.get_role(RoleName=names.controller_role)["Role"]["AssumeRolePolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    doc["Statement"].append(
        {"Sid": "Extra", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}
    )
    iam.update_assume_role_policy(RoleName=names.controller_role, PolicyDocument=json.dumps(doc))
    failure = only_failure(run(account, outdir))
    assert failure.check == "controller role trust (document)" and "unexpected statements Extra" in failure.detail


def test_missing_oidc_provider(account, outdir):
    iam = account.client("iam")
    host = account.stand_in.issuer.removeprefix("https://")
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}")
    failure = only_failure(run(account, outdir))
    assert failure.check == "controller role trust (IRSA)" and "no IAM OIDC provider" in failure.detail


def test_node_role_missing_a_managed_policy(account, outdir):
    iam, names = account.client("iam"), account.config.resource_names
    iam.detach_role_policy(RoleName=names.node_role, PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
    failure = only_failure(run(account, outdir))
    assert failure.check == "node role" and "AmazonEKSWorkerNodePolicy" in failure.detail


def test_missing_system_node_group(account, outdir):
    account.client("eks").delete_nodegroup(
        clusterName=account.config.cluster_name, nodegroupName=account.config.resource_names.system_node_group
    )
    failure = only_failure(run(account, outdir))
    assert failure.check == "system node group"
    assert "does not exist" in failure.detail or "DELETING" in failure.detail


def test_wrong_cluster_name(account, outdir, tmp_path):
    # The cluster is looked up by name: a config for another cluster reads nothing else.
    eks = account.client("eks")
    for group in eks.list_nodegroups(clusterName=account.config.cluster_name)["nodegroups"]:
        eks.delete_nodegroup(clusterName=account.config.cluster_name, nodegroupName=group)
    eks.delete_cluster(name=account.config.cluster_name)
    results = run(account, outdir)
    assert [(r.check, r.status) for r in results] == [
        ("synthesized stacks", "PASS"),
        ("aws credentials", "PASS"),
        ("eks cluster", "FAIL"),
        ("aws checks", "SKIP"),
        ("cluster checks", "SKIP"),
    ]
    assert "check cluster_name and region" in results[2].fix


def test_no_credentials(moto, outdir, monkeypatch):
    for key in CREDENTIALS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    results = run_checks(check_config(moto), outdir, cluster=False)
    assert [(r.check, r.status) for r in results] == [
        ("synthesized stacks", "PASS"),
        ("aws credentials", "FAIL"),
        ("aws checks", "SKIP"),
        ("cluster checks", "SKIP"),
    ]
    assert "NoCredentialsError" in results[1].detail and "AWS_PROFILE" in results[1].fix
