"""The AWS half of `check`: what the infra stack created, read back through the AWS APIs.

Every call is a read (Get/List/Describe). Clients honour the config's `aws.endpoints` (a local AWS
such as moto) and take credentials the way the AWS CLI does (environment, profile, SSO, instance
role). Each check is one row; an AWS error in one check fails that row and the others still run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from karpenter_check.policies import (
    STS_AUDIENCE,
    differences,
    document,
    eventbridge_key_problems,
    irsa_trust_problems,
    pod_identity_trust_problems,
    queue_policy_problems,
    trust_modes,
)
from karpenter_check.results import Result, failed, passed, skipped, warned
from karpenter_check.synthesized import SynthError, Synthesized, UnresolvedReference, reference_values, resolve, unescape
from karpenter_model.documents.interruption import eventbridge_key_statement, rule_arn
from karpenter_model.releases.eks_calendar import CALENDAR, SOURCE, warning_on

DISCOVERY_TAG = "karpenter.sh/discovery"
POD_IDENTITY_AGENT = "eks-pod-identity-agent"
# What the identity running the check needs: read-only calls, listed for the fix of an AccessDenied.
READ_PERMISSIONS = (
    "sts:GetCallerIdentity, eks:DescribeCluster, eks:DescribeNodegroup, eks:DescribeAccessEntry, "
    "eks:ListPodIdentityAssociations, eks:DescribePodIdentityAssociation, eks:DescribeAddon, iam:GetRole, "
    "iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion, iam:GetOpenIDConnectProvider, "
    "sqs:GetQueueUrl, sqs:GetQueueAttributes, events:DescribeRule, events:ListTargetsByRule, "
    "ec2:DescribeSubnets, ec2:DescribeSecurityGroups; with interruption.encryption kms: kms:DescribeKey, "
    "kms:GetKeyPolicy; with interruption.alarms: cloudwatch:DescribeAlarms"
)


class AwsClients:
    """boto3 clients for the config's region, each pointed at `aws.endpoints[service]` when set."""

    def __init__(self, config: Any, session: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.region = config.region
        self._session = session or boto3.session.Session()
        self._endpoints = dict(config.aws.endpoints)
        self._config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30)
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, region_name=self.region, endpoint_url=self._endpoints.get(service), config=self._config
            )
        return self._clients[service]


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def describe_error(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        message = str(error.get("Message", "")).strip().splitlines()
        return f"{error.get('Code', type(exc).__name__)}: {message[0][:200] if message else ''}".rstrip(": ")
    return f"{type(exc).__name__}: {str(exc)[:200]}"


@dataclass
class AwsFacts:
    """What the AWS checks learnt that others need (the cluster checks, the documents' references)."""

    account: str = ""
    partition: str = "aws"
    cluster: dict[str, Any] = field(default_factory=dict)
    controller_role_arn: str = ""
    trust_modes: list[str] = field(default_factory=list)
    node_role_arn: str = ""
    queue_url: str = ""
    queue_arn: str = ""
    key_arn: str = ""  # the interruption queue's key (interruption.encryption: kms)
    dead_letter_queue_url: str = ""
    dead_letter_queue_arn: str = ""

    @property
    def issuer_host(self) -> str:
        issuer = str(self.cluster.get("identity", {}).get("oidc", {}).get("issuer", ""))
        return issuer.removeprefix("https://")

    @property
    def endpoint(self) -> str:
        return str(self.cluster.get("endpoint", ""))


class AwsChecks:
    def __init__(self, config: Any, synthesized: Synthesized, clients: AwsClients, today: date | None = None) -> None:
        """`today`: the date the EKS calendar is read for (the machine's, in UTC, unless given)."""
        self.today = today or datetime.now(UTC).date()
        self.config = config
        self.synth = synthesized
        self.aws = clients
        self.names = config.resource_names
        self.facts = AwsFacts()
        self.infra = synthesized.names["infra"]
        self.deploy = f"npx cdktf deploy {self.infra}"

    # -- plumbing ---------------------------------------------------------------------------------

    def _guarded(self, check: str, run: Callable[[], Iterable[Result]]) -> list[Result]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return list(run())
        except ClientError as exc:
            if error_code(exc) in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
                fix = f"the identity running the check needs read access: {READ_PERMISSIONS}"
            else:
                fix = f"see the error; {self.deploy} recreates what the infra stack owns"
            return [failed(check, f"AWS error: {describe_error(exc)}", fix)]
        except NoCredentialsError as exc:
            return [
                failed(
                    check,
                    f"AWS error: {describe_error(exc)}",
                    "give the check credentials for the cluster's account as the AWS CLI takes them (AWS_PROFILE, aws sso login, aws configure)",
                )
            ]
        except BotoCoreError as exc:
            return [
                failed(
                    check,
                    f"AWS error: {describe_error(exc)}",
                    "check network access to the AWS endpoints (or aws.endpoints in the config)",
                )
            ]
        except (SynthError, UnresolvedReference) as exc:
            return [
                failed(
                    check,
                    f"cannot read the synthesized stack: {exc}",
                    "re-run make synth with this config; if it persists, karpenter_check needs to learn this reference",
                )
            ]

    def _pages(self, client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
        items: list[Any] = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            items += page.get(key, [])
        return items

    def _values(self) -> dict[str, str]:
        facts = self.facts
        queue_arn = (
            facts.queue_arn or f"arn:{facts.partition}:sqs:{self.config.region}:{facts.account}:{self.names.interruption_queue}"
        )
        node_role_arn = facts.node_role_arn or f"arn:{facts.partition}:iam::{facts.account}:role/{self.names.node_role}"
        return reference_values(
            partition=facts.partition,
            region=self.config.region,
            account=facts.account,
            queue_arn=queue_arn,
            node_role_arn=node_role_arn,
            issuer_host=facts.issuer_host,
            key_arn=facts.key_arn,
        )

    # -- the checks -------------------------------------------------------------------------------

    def run(self) -> list[Result]:
        identity = self._guarded("aws credentials", self.identity)
        if any(r.status == "FAIL" for r in identity):
            return identity + [skipped("aws checks", "skipped: no working AWS credentials")]
        cluster = self._guarded("eks cluster", self.cluster)
        results = identity + cluster
        if any(r.status == "FAIL" for r in cluster):
            return results + [skipped("aws checks", "skipped: the cluster cannot be read")]
        self._learn()
        for check, run in (
            ("controller role trust", self.controller_trust),
            ("controller policies", self.controller_policies),
            ("node role", self.node_role),
            ("node role access entry", self.access_entry),
            ("interruption queue", self.queue),
            ("interruption queue policy", self.queue_policy),
            ("interruption rules", self.rules),
            ("interruption key", self.interruption_key),
            ("interruption alarms", self.interruption_alarms),
            ("interruption dead-letter queue", self.dead_letter_queue),
            ("discovery tags", self.discovery_tags),
            ("node classes", self.node_classes),
            ("system node group", self.system_node_group),
        ):
            results += self._guarded(check, run)
        return results

    def identity(self) -> Iterable[Result]:
        identity = self.aws("sts").get_caller_identity()
        self.facts.account = identity["Account"]
        self.facts.partition = identity["Arn"].split(":")[1]
        yield passed("aws credentials", f"account {identity['Account']} as {identity['Arn']} in {self.config.region}")

    def cluster(self) -> Iterable[Result]:
        try:
            cluster = self.aws("eks").describe_cluster(name=self.config.cluster_name)["cluster"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            yield failed(
                "eks cluster",
                f"no EKS cluster {self.config.cluster_name!r} in account {self.facts.account}, {self.config.region}",
                "check cluster_name and region in the config, and that the credentials are for the cluster's account",
            )
            return
        self.facts.cluster = cluster
        detail = f"{cluster['name']}: {cluster.get('status')}, Kubernetes {cluster.get('version')}"
        if cluster.get("status") != "ACTIVE":
            yield failed("eks cluster", detail, "wait for the cluster to be ACTIVE (aws eks wait cluster-active --name ...)")
        else:
            yield passed("eks cluster", detail)
        yield self._eks_calendar(str(cluster.get("version", "")))

    def _eks_calendar(self, version: str) -> Result:
        check = "eks support calendar"
        minor = int(version.split(".")[1]) if version.count(".") == 1 and version.split(".")[1].isdigit() else None
        support = CALENDAR.get(minor) if minor is not None else None
        if minor is None or support is None:
            return skipped(check, f"Kubernetes {version} is not in this app's EKS calendar ({SOURCE})")
        warning = warning_on(self.config.release, minor, self.today)
        if warning:
            return warned(check, warning, "docs/migrating-to-v1.md, EKS already upgraded your cluster")
        return passed(check, f"Kubernetes {version}: standard support until {support.end_of_standard.isoformat()} ({SOURCE})")

    def _learn(self) -> None:
        """ARNs the documents refer to, read where they exist: a missing or unreadable one is its own check's failure."""
        from botocore.exceptions import BotoCoreError, ClientError

        iam, sqs = self.aws("iam"), self.aws("sqs")
        for attribute, read in (
            ("controller_role_arn", lambda: iam.get_role(RoleName=self.names.controller_role)["Role"]["Arn"]),
            ("node_role_arn", lambda: iam.get_role(RoleName=self.names.node_role)["Role"]["Arn"]),
            ("queue_url", lambda: sqs.get_queue_url(QueueName=self.names.interruption_queue)["QueueUrl"]),
            (
                "queue_arn",
                lambda: (
                    sqs.get_queue_attributes(QueueUrl=self.facts.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                    if self.facts.queue_url
                    else ""
                ),
            ),
            ("key_arn", self._key_arn),
            ("dead_letter_queue_url", self._dead_letter_queue_url),
            (
                "dead_letter_queue_arn",
                lambda: (
                    sqs.get_queue_attributes(QueueUrl=self.facts.dead_letter_queue_url, AttributeNames=["QueueArn"])[
                        "Attributes"
                    ]["QueueArn"]
                    if self.facts.dead_letter_queue_url
                    else ""
                ),
            ),
        ):
            try:
                setattr(self.facts, attribute, read())
            except (BotoCoreError, ClientError):
                continue
        self.facts.trust_modes = trust_modes(json.loads(self.synth.controller_trust()))

    def _key_arn(self) -> str:
        """The brought key's ARN as configured, or the created key's, found by its alias; "" without kms."""
        settings = self.config.interruption
        if settings.encryption != "kms":
            return ""
        return settings.kms_key_arn or str(
            self.aws("kms").describe_key(KeyId=self.names.interruption_key_alias)["KeyMetadata"]["Arn"]
        )

    def _dead_letter_queue_url(self) -> str:
        if not self.config.interruption.dead_letter_queue.enabled:
            return ""
        return str(self.aws("sqs").get_queue_url(QueueName=self.names.interruption_dead_letter_queue)["QueueUrl"])

    def controller_trust(self) -> Iterable[Result]:
        role_name = self.names.controller_role
        modes = self.facts.trust_modes
        if not modes:
            yield failed(
                "controller role trust", "the synthesized trust policy allows neither IRSA nor Pod Identity", "re-run make synth"
            )
            return
        try:
            role = self.aws("iam").get_role(RoleName=role_name)["Role"]
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            yield failed("controller role trust", f"role {role_name} does not exist", self.deploy)
            return
        live = document(role["AssumeRolePolicyDocument"])
        results = ([self._irsa(live)] if "irsa" in modes else []) + (
            [self._pod_identity(live, role["Arn"])] if "pod_identity" in modes else []
        )
        yield from results
        if all(r.status == "PASS" for r in results):
            # It lets the controller in; it should let nothing else in either.
            drift = differences(json.loads(resolve(self.synth.controller_trust(), self._values())), live)
            if drift:
                yield failed(
                    "controller role trust (document)",
                    f"{role_name}'s trust policy differs from the synthesized one: {'; '.join(drift)}",
                    f"{self.deploy} restores it; find out who added the difference (it may trust other principals)",
                )

    def _irsa(self, live: dict[str, Any]) -> Result:
        check = "controller role trust (IRSA)"
        host = self.facts.issuer_host
        if not host:
            return failed(check, "the cluster reports no OIDC issuer", "enable the cluster's OIDC issuer (EKS clusters have one)")
        provider_arn = f"arn:{self.facts.partition}:iam::{self.facts.account}:oidc-provider/{host}"
        try:
            provider = self.aws("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return failed(
                check,
                f"no IAM OIDC provider for the cluster's issuer ({provider_arn})",
                f"{self.deploy} (creates aws_iam_openid_connect_provider.eks)",
            )
        if STS_AUDIENCE not in provider.get("ClientIDList", []):
            return failed(check, f"OIDC provider {provider_arn} lacks the client id {STS_AUDIENCE}", self.deploy)
        karpenter = self.config.karpenter
        problems = irsa_trust_problems(
            live,
            provider_arn=provider_arn,
            issuer_host=host,
            namespace=karpenter.namespace,
            service_account=karpenter.service_account,
        )
        if problems:
            return failed(
                check, f"{self.names.controller_role}: {'; '.join(problems)}", f"{self.deploy} restores the trust policy"
            )
        return passed(check, f"system:serviceaccount:{karpenter.namespace}:{karpenter.service_account} via {provider_arn}")

    def _pod_identity(self, live: dict[str, Any], role_arn: str) -> Result:
        check = "controller role trust (Pod Identity)"
        problems = pod_identity_trust_problems(live)
        if problems:
            return failed(
                check, f"{self.names.controller_role}: {'; '.join(problems)}", f"{self.deploy} restores the trust policy"
            )
        eks, karpenter = self.aws("eks"), self.config.karpenter
        try:
            addon = eks.describe_addon(clusterName=self.config.cluster_name, addonName=POD_IDENTITY_AGENT)["addon"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            addon = {}
        if addon.get("status") != "ACTIVE":
            return failed(
                check,
                f"the {POD_IDENTITY_AGENT} add-on is {addon.get('status', 'not installed')}",
                f"aws eks create-addon --cluster-name {self.config.cluster_name} --addon-name {POD_IDENTITY_AGENT}",
            )
        associations = self._pages(
            eks,
            "list_pod_identity_associations",
            "associations",
            clusterName=self.config.cluster_name,
            namespace=karpenter.namespace,
            serviceAccount=karpenter.service_account,
        )
        roles = [
            eks.describe_pod_identity_association(clusterName=self.config.cluster_name, associationId=a["associationId"])[
                "association"
            ]["roleArn"]
            for a in associations
        ]
        if role_arn not in roles:
            return failed(
                check,
                f"no pod identity association gives {karpenter.namespace}/{karpenter.service_account} the role {role_arn} (found: {', '.join(roles) or 'none'})",
                f"{self.deploy} (creates the association)",
            )
        return passed(check, f"{karpenter.namespace}/{karpenter.service_account} -> {role_arn}")

    def controller_policies(self) -> Iterable[Result]:
        iam, role = self.aws("iam"), self.names.controller_role
        try:
            attached = {
                p["PolicyArn"] for p in self._pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role)
            }
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            yield failed("controller policies", f"role {role} does not exist", self.deploy)
            return
        values = self._values()
        for policy in self.synth.controller_policies():
            check = f"controller policy {policy.name}"
            arn = f"arn:{self.facts.partition}:iam::{self.facts.account}:policy/{policy.name}"
            try:
                version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                live = document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])
            except Exception as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
                yield failed(check, f"policy {arn} does not exist", f"{self.deploy} (creates aws_iam_policy.{policy.address})")
                continue
            if arn not in attached:
                yield failed(
                    check,
                    f"exists but is not attached to {role}",
                    f"{self.deploy}, or aws iam attach-role-policy --role-name {role} --policy-arn {arn}",
                )
                continue
            drift = differences(json.loads(resolve(policy.template, values)), live)
            if drift:
                yield failed(
                    check,
                    f"attached; its document differs from the synthesized one: {'; '.join(drift)}",
                    f"{self.deploy} restores the document",
                )
            else:
                yield passed(check, f"attached to {role}; document equals the synthesized one ({version})")

    def node_role(self) -> Iterable[Result]:
        from karpenter_model.documents.iam import node_role_policy_arns

        iam, role = self.aws("iam"), self.names.node_role
        try:
            trust = document(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            yield failed("node role", f"role {role} does not exist", self.deploy)
            return
        problems = []
        if not any(
            s.get("Effect") == "Allow"
            and "ec2.amazonaws.com" in json.dumps(s.get("Principal"))
            and "sts:AssumeRole" in json.dumps(s.get("Action"))
            for s in trust.get("Statement", [])
        ):
            problems.append("EC2 may not assume it")
        attached = {p["PolicyArn"] for p in self._pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role)}
        missing = sorted(set(node_role_policy_arns(self.config.release, partition=self.facts.partition)) - attached)
        if missing:
            problems.append(f"missing managed policies {', '.join(p.rsplit('/', 1)[-1] for p in missing)}")
        if problems:
            yield failed("node role", f"{role}: {'; '.join(problems)}", self.deploy)
        else:
            yield passed("node role", f"{role}: EC2 trusted, {len(attached)} managed policies")

    def access_entry(self) -> Iterable[Result]:
        check = "node role access entry"
        if not self.config.node_role.access_entry:
            yield skipped(check, "node_role.access_entry is false: nodes join through the aws-auth ConfigMap (not checked)")
            return
        arn = self.facts.node_role_arn or self._values()["aws_iam_role.karpenter_node.arn"]
        try:
            entry = self.aws("eks").describe_access_entry(clusterName=self.config.cluster_name, principalArn=arn)["accessEntry"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            yield failed(
                check,
                f"no access entry for {arn}: nodes Karpenter launches cannot join",
                f"{self.deploy}, or aws eks create-access-entry --cluster-name {self.config.cluster_name} --principal-arn {arn} --type EC2_LINUX",
            )
            return
        if entry.get("type") != "EC2_LINUX":
            yield failed(
                check, f"access entry for {arn} has type {entry.get('type')}, not EC2_LINUX", f"delete it and {self.deploy}"
            )
        else:
            yield passed(check, f"{arn}: EC2_LINUX")

    def queue(self) -> Iterable[Result]:
        name = self.names.interruption_queue
        if not self.facts.queue_url:
            yield failed(
                "interruption queue",
                f"queue {name} does not exist: the controller cannot start with settings.interruptionQueue",
                self.deploy,
            )
            return
        attributes = self.aws("sqs").get_queue_attributes(QueueUrl=self.facts.queue_url, AttributeNames=["All"])["Attributes"]
        problems = []
        retention = int(attributes.get("MessageRetentionPeriod", 0))
        wanted = self.config.interruption.message_retention_seconds
        if retention != wanted:
            problems.append(f"retention {retention} s, expected {wanted} s")
        if attributes.get("SqsManagedSseEnabled") != "true" and not attributes.get("KmsMasterKeyId"):
            problems.append("not encrypted at rest")
        elif self.config.interruption.encryption == "kms" and attributes.get("KmsMasterKeyId") != self.facts.key_arn:
            problems.append(
                f"encrypted with {attributes.get('KmsMasterKeyId') or 'SQS-managed keys'}, expected the key "
                f"{self.facts.key_arn or self.names.interruption_key_alias}"
            )
        if problems:
            yield failed("interruption queue", f"{name}: {'; '.join(problems)}", f"{self.deploy} restores the queue's settings")
        else:
            yield passed("interruption queue", f"{name}: {retention} s retention, encrypted")

    def queue_policy(self) -> Iterable[Result]:
        check = "interruption queue policy"
        if not self.facts.queue_url:
            yield skipped(check, "no queue")
            return
        attributes = (
            self.aws("sqs").get_queue_attributes(QueueUrl=self.facts.queue_url, AttributeNames=["Policy"]).get("Attributes", {})
        )
        if not attributes.get("Policy"):
            yield failed(
                check,
                "the queue has no policy: EventBridge cannot deliver interruption events",
                f"{self.deploy} (restores aws_sqs_queue_policy.karpenter_interruption)",
            )
            return
        live = document(attributes["Policy"])
        problems = queue_policy_problems(live, self.facts.queue_arn)
        if problems:
            yield failed(check, "; ".join(problems), f"{self.deploy} restores the queue policy")
            return
        template = self.synth.resource("infra", "aws_sqs_queue_policy", "karpenter_interruption")["policy"]
        drift = differences(json.loads(resolve(str(template), self._values())), live)
        if drift:
            yield failed(
                check,
                f"events.amazonaws.com may send, but the policy differs from the synthesized one: {'; '.join(drift)}",
                f"{self.deploy}",
            )
        else:
            yield passed(check, "events.amazonaws.com may sqs:SendMessage; HTTP denied")

    def rules(self) -> Iterable[Result]:
        events = self.aws("events")
        synthesized = {rule.address: rule for rule in self.synth.interruption_rules()}
        for rule in self.config.release.interruption_rules:
            name = self.names.interruption_rule(rule.key)
            check = f"interruption rule {rule.key}"
            expected = synthesized.get(f"karpenter_interruption_{rule.key}")
            pattern = expected.pattern if expected else rule.pattern
            try:
                live = events.describe_rule(Name=name)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                yield failed(check, f"rule {name} does not exist", self.deploy)
                continue
            problems = []
            if live.get("State") != "ENABLED":
                problems.append(f"state {live.get('State')}")
            if json.loads(live.get("EventPattern") or "null") != pattern:
                problems.append("its event pattern differs from the release's")
            targets = self._pages(events, "list_targets_by_rule", "Targets", Rule=name)
            if not any(t.get("Arn") == self.facts.queue_arn for t in targets):
                problems.append(f"no target is the queue (targets: {', '.join(t.get('Arn', '?') for t in targets) or 'none'})")
            elif self.facts.dead_letter_queue_arn and not all(
                t.get("DeadLetterConfig", {}).get("Arn") == self.facts.dead_letter_queue_arn
                for t in targets
                if t.get("Arn") == self.facts.queue_arn
            ):
                problems.append("its target has no dead-letter queue, or another one")
            if problems:
                fix = f"aws events enable-rule --name {name}, or {self.deploy}" if problems == ["state DISABLED"] else self.deploy
                yield failed(check, f"{name}: {'; '.join(problems)}", fix)
            else:
                yield passed(check, f"{name}: ENABLED, targets the queue")

    def interruption_key(self) -> Iterable[Result]:
        """With interruption.encryption kms: the key is enabled and its policy lets EventBridge use it."""
        settings, check = self.config.interruption, "interruption key"
        if settings.encryption != "kms":
            return
        if not self.facts.key_arn:
            yield failed(
                check,
                f"no key {self.names.interruption_key_alias}: the queue's key is gone",
                f"{self.deploy} (creates aws_kms_key.karpenter_interruption)",
            )
            return
        kms = self.aws("kms")
        metadata = kms.describe_key(KeyId=self.facts.key_arn)["KeyMetadata"]
        live = document(kms.get_key_policy(KeyId=self.facts.key_arn, PolicyName="default")["Policy"])
        problems = eventbridge_key_problems(live)
        if metadata.get("KeyState") != "Enabled":
            problems.append(f"key state {metadata.get('KeyState')}: nothing can be encrypted with it")
        if not problems:
            yield passed(check, f"{self.facts.key_arn}: Enabled; events.amazonaws.com may use it")
            return
        if settings.kms_key_arn:
            statement = self._synthesized_key_statement()
            fix = f"add this statement to the key policy of {self.facts.key_arn}: {json.dumps(statement)}"
        else:
            fix = f"{self.deploy} restores the key policy (aws_kms_key.karpenter_interruption)"
        yield failed(check, f"{self.facts.key_arn}: {'; '.join(problems)}: no interruption event reaches the queue", fix)

    def _synthesized_key_statement(self) -> Any:
        """The statement the plan's refusal of a brought key shows, with the live account's values."""
        facts = self.facts
        arns = [
            rule_arn(
                partition=facts.partition,
                region=self.config.region,
                account_id=facts.account,
                rule_name=self.names.interruption_rule(rule.key),
            )
            for rule in self.config.release.interruption_rules
        ]
        return eventbridge_key_statement(account_id=facts.account, rule_arns=arns)

    def interruption_alarms(self) -> Iterable[Result]:
        """With interruption.alarms: every alarm the stack declares exists, and none is in ALARM."""
        check = "interruption alarms"
        if not self.config.interruption.alarms.enabled:
            return
        declared = [
            str(unescape(alarm["alarm_name"])) for alarm in self.synth.resources("infra", "aws_cloudwatch_metric_alarm").values()
        ]
        found = {
            alarm["AlarmName"]: alarm
            for alarm in self._pages(self.aws("cloudwatch"), "describe_alarms", "MetricAlarms", AlarmNames=declared)
        }
        missing = [name for name in declared if name not in found]
        firing = [found[name] for name in declared if found.get(name, {}).get("StateValue") == "ALARM"]
        if missing:
            yield failed(check, f"missing: {', '.join(missing)}", f"{self.deploy} (creates aws_cloudwatch_metric_alarm.*)")
        elif firing:
            yield failed(
                check,
                "; ".join(f"{alarm['AlarmName']} is in ALARM: {alarm.get('AlarmDescription', '')}" for alarm in firing),
                "docs/interruption.md, Alarms; what each one means and what to do",
            )
        else:
            states = sorted({str(found[name].get("StateValue")) for name in declared})
            yield passed(check, f"{len(declared)} alarms, none in ALARM ({', '.join(states)})")

    def dead_letter_queue(self) -> Iterable[Result]:
        """With interruption.dead_letter_queue: it exists and is empty (every event reached the queue)."""
        check, name = "interruption dead-letter queue", self.names.interruption_dead_letter_queue
        if not self.config.interruption.dead_letter_queue.enabled:
            return
        if not self.facts.dead_letter_queue_url:
            yield failed(
                check, f"queue {name} does not exist", f"{self.deploy} (creates aws_sqs_queue.karpenter_interruption_dlq)"
            )
            return
        attributes = self.aws("sqs").get_queue_attributes(
            QueueUrl=self.facts.dead_letter_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        waiting = sum(
            int(attributes.get(key, 0)) for key in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        )
        if waiting:
            yield failed(
                check,
                f"{name}: {waiting} interruption events EventBridge could not deliver to the queue",
                "find out why (the interruption key, queue policy and rule rows; the FailedInvocations alarms), fix it, "
                f"then read and delete them: aws sqs receive-message --queue-url {self.facts.dead_letter_queue_url}",
            )
        else:
            yield passed(check, f"{name}: empty")

    def discovery_tags(self) -> Iterable[Result]:
        check = "discovery tags"
        discovery = self.config.discovery
        if not discovery.manage_tags:
            yield skipped(
                check,
                "discovery.manage_tags is false: another configuration owns the tags (the node class rows check what the selectors find)",
            )
            return
        vpc = self.facts.cluster.get("resourcesVpcConfig", {})
        subnets = list(discovery.subnet_ids) or list(vpc.get("subnetIds", []))
        groups = list(discovery.security_group_ids) or [g for g in [vpc.get("clusterSecurityGroupId")] if g]
        ec2, cluster = self.aws("ec2"), self.config.cluster_name
        found = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]} if subnets else {}
        found.update({g["GroupId"]: g for g in ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]} if groups else {})
        untagged = [
            resource_id
            for resource_id in subnets + groups
            if {t["Key"]: t["Value"] for t in found.get(resource_id, {}).get("Tags", [])}.get(DISCOVERY_TAG) != cluster
        ]
        if untagged:
            yield failed(
                check,
                f"{', '.join(untagged)} not tagged {DISCOVERY_TAG}={cluster}",
                f"{self.deploy} (re-adds the aws_ec2_tag), or aws ec2 create-tags --resources {' '.join(untagged)} --tags Key={DISCOVERY_TAG},Value={cluster}",
            )
        else:
            yield passed(check, f"{len(subnets)} subnets and {len(groups)} security groups tagged {DISCOVERY_TAG}={cluster}")

    def node_classes(self) -> Iterable[Result]:
        ec2 = self.aws("ec2")
        for node_class in self.synth.manifests("EC2NodeClass"):
            name, spec = node_class["metadata"]["name"], node_class.get("spec", {})
            subnets, ignored = _select(ec2, "subnet", spec.get("subnetSelectorTerms", []))
            zones = sorted({s["AvailabilityZone"] for s in subnets.values()})
            check = f"node class {name}: subnets"
            note = f" (not evaluated: {', '.join(ignored)})" if ignored else ""
            if not subnets:
                yield failed(
                    check,
                    f'subnetSelectorTerms match no subnet{note}: Karpenter cannot launch nodes ("no subnets found")',
                    f"tag the cluster's subnets {DISCOVERY_TAG}={self.config.cluster_name} ({self.deploy} with discovery.manage_tags) or fix the terms",
                )
            elif len(zones) < 2:
                yield failed(
                    check,
                    f"{len(subnets)} subnets, all in {zones[0]}{note}: one zone's outage or capacity shortage stops every launch",
                    f"tag subnets in a second availability zone {DISCOVERY_TAG}={self.config.cluster_name} (discovery.subnet_ids)",
                )
            else:
                yield passed(check, f"{len(subnets)} subnets in {', '.join(zones)}{note}")
            groups, ignored = _select(ec2, "security-group", spec.get("securityGroupSelectorTerms", []))
            check = f"node class {name}: security groups"
            note = f" (not evaluated: {', '.join(ignored)})" if ignored else ""
            vpcs = {s["VpcId"] for s in subnets.values()}
            foreign = sorted(g for g, group in groups.items() if vpcs and group.get("VpcId") not in vpcs)
            if not groups:
                yield failed(
                    check,
                    f"securityGroupSelectorTerms match no security group{note}",
                    f"tag the cluster security group {DISCOVERY_TAG}={self.config.cluster_name} ({self.deploy}) or fix the terms",
                )
            elif foreign:
                yield failed(
                    check,
                    f"{', '.join(foreign)} are in another VPC than the subnets; EC2 refuses the launch",
                    "narrow the terms to the cluster's VPC",
                )
            else:
                yield passed(check, f"{', '.join(sorted(groups))}{note}")

    def system_node_group(self) -> Iterable[Result]:
        name, check = self.names.system_node_group, "system node group"
        try:
            group = self.aws("eks").describe_nodegroup(clusterName=self.config.cluster_name, nodegroupName=name)["nodegroup"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            yield failed(check, f"node group {name} does not exist: the controller has nowhere to run", self.deploy)
            return
        settings = self.config.system_node_group
        problems = []
        if group.get("status") != "ACTIVE":
            issues = [f"{i.get('code')}: {i.get('message')}" for i in group.get("health", {}).get("issues", [])]
            problems.append(f"status {group.get('status')}" + (f" ({'; '.join(issues)})" if issues else ""))
        live_taints = {(t.get("key"), t.get("value", ""), t.get("effect")) for t in group.get("taints", [])}
        missing = [f"{t.key}={t.value}:{t.effect}" for t in settings.taints if (t.key, t.value, t.effect) not in live_taints]
        if missing:
            problems.append(f"missing taints {', '.join(missing)}")
        labels = group.get("labels", {})
        wrong = [f"{k}={v}" for k, v in settings.labels.items() if labels.get(k) != v]
        if wrong:
            problems.append(f"missing labels {', '.join(wrong)} (the controller's node affinity needs them)")
        if problems:
            yield failed(
                check,
                f"{name}: {'; '.join(problems)}",
                f"{self.deploy}; for health issues see aws eks describe-nodegroup --cluster-name {self.config.cluster_name} --nodegroup-name {name}",
            )
        else:
            taints = ", ".join(f"{t.key}={t.value}:{t.effect}" for t in settings.taints) or "no taints"
            yield passed(check, f"{name}: ACTIVE, {taints}")


def _select(ec2: Any, kind: str, terms: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What Karpenter's selector terms find: terms are ORed, the conditions within one ANDed; a tag value `*` means any value."""
    call, key, id_filter = (
        (ec2.describe_subnets, "Subnets", "subnet-id")
        if kind == "subnet"
        else (ec2.describe_security_groups, "SecurityGroups", "group-id")
    )
    found: dict[str, dict[str, Any]] = {}
    ignored: list[str] = []
    for term in terms:
        filters = []
        for tag, value in (term.get("tags") or {}).items():
            filters.append({"Name": "tag-key", "Values": [tag]} if value == "*" else {"Name": f"tag:{tag}", "Values": [value]})
        if term.get("id"):
            filters.append({"Name": id_filter, "Values": [term["id"]]})
        if term.get("name") and kind == "security-group":
            filters.append({"Name": "group-name", "Values": [term["name"]]})
        ignored += [f"{key}.{field}" for field in term if field not in ("tags", "id", "name")]
        if not filters:
            continue
        for item in call(Filters=filters)[key]:
            found[item["SubnetId"] if kind == "subnet" else item["GroupId"]] = item
    return found, ignored
