"""The one typed configuration model, loaded from YAML.

Everything the stacks build is derived from a `KarpenterConfig`. Unknown keys are errors, so a
typo never falls back to a default; every limit comes from `limits.py`, which names its source;
cross-field checks catch settings that would synthesize but could not work on a real cluster,
and report every such problem at once.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from karpenter_model import limits
from karpenter_model import posture as posture_checks
from karpenter_model.base import CrossFieldError, Strict, bounded_repr, raise_all
from karpenter_model.naming import ResourceNames, final_names
from karpenter_model.node_objects import NODE_CLASS, NODE_POOL, Entry, node_class_object, node_pool_object, spec_problems
from karpenter_model.releases import DEFAULT_VERSION, PROFILES, ReleaseProfile, next_step

DISCOVERY_TAG = "karpenter.sh/discovery"
# Where synthesis writes unless CDKTF_OUTDIR says otherwise (main.py, stacks/output.py).
DEFAULT_OUTDIR = "cdktf.out"
# Namespaces every cluster has: never created or deleted by this app.
BUILT_IN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Controller replicas unless set: two for availability, fewer only if the system node group has fewer nodes.
DEFAULT_REPLICAS = 2
# System node group sizes unless set: two nodes (one per controller replica), room for one more.
DEFAULT_MIN_SIZE, DEFAULT_DESIRED_SIZE, DEFAULT_MAX_SIZE = 2, 2, 3


def _quantities_as_strings(values: object) -> object:
    """Quantities are int-or-string in Kubernetes: `cpu: 1` means "1"; kept as strings so both render alike."""
    if isinstance(values, dict):
        return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in values.items()}
    return values


def _check(problem: Any) -> Any:
    """An AfterValidator from a `limits.*_problem` function: its message, if any, is the error."""

    def check(value: Any) -> Any:
        found = problem(value)
        if found:
            raise ValueError(found)
        return value

    return AfterValidator(check)


def _non_negative_quantity(value: str) -> str:
    amount = limits.parse_quantity(value)
    if amount is not None and amount < 0:
        raise ValueError(
            "resource quantities must not be negative (Kubernetes rejects them); allowed: 0 or more, e.g. 500m or 1Gi"
        )
    return value


# -- constrained types, each from limits.py -------------------------------------------------------

ClusterName = Annotated[str, StringConstraints(pattern=limits.EKS_CLUSTER_NAME, max_length=limits.EKS_CLUSTER_NAME_MAX)]
# Prefix for every name we create; the names it makes are checked in full (`_name_problems`).
NamePrefix = Annotated[str, StringConstraints(pattern=limits.NAME_PREFIX, max_length=limits.IAM_ROLE_NAME_MAX)]
DnsLabel = Annotated[str, StringConstraints(pattern=limits.DNS_LABEL, max_length=limits.DNS_LABEL_MAX)]
AwsRegion = Annotated[str, StringConstraints(pattern=limits.AWS_REGION)]
SubnetId = Annotated[str, StringConstraints(pattern=limits.SUBNET_ID)]
SecurityGroupId = Annotated[str, StringConstraints(pattern=limits.SECURITY_GROUP_ID)]
Thumbprint = Annotated[str, StringConstraints(pattern=limits.IAM_OIDC_THUMBPRINT)]
Url = Annotated[str, StringConstraints(pattern=limits.URL)]
InstanceType = Annotated[str, StringConstraints(pattern=limits.EC2_INSTANCE_TYPE)]
ResourceQuantity = Annotated[str, StringConstraints(pattern=limits.QUANTITY), AfterValidator(_non_negative_quantity)]
# Kubernetes label syntax, within EKS's node group limits (keys and values 1-63 characters).
NodeLabelKey = Annotated[
    str, StringConstraints(pattern=limits.LABEL_KEY, max_length=limits.EKS_LABEL_KEY_MAX), _check(limits.label_key_problem)
]
NodeLabelValue = Annotated[
    str,
    StringConstraints(pattern=limits.LABEL_VALUE, min_length=limits.EKS_LABEL_VALUE_MIN, max_length=limits.EKS_LABEL_VALUE_MAX),
]
TagKey = Annotated[str, _check(lambda key: limits.aws_tag_problem(key, key=True))]
TagValue = Annotated[str, _check(lambda value: limits.aws_tag_problem(value, key=False))]
NodeGroupSize = Annotated[int, Field(ge=1, le=limits.EKS_NODEGROUP_MAX_NODES)]
RelativeDir = Annotated[str, StringConstraints(pattern=limits.RELATIVE_DIR, max_length=limits.RELATIVE_DIR_MAX)]
# Room for `/<environment>-<stack>.tfstate` (at most 78 characters) within S3's 1,024-byte keys.
KeyPrefix = Annotated[str, StringConstraints(pattern=limits.S3_KEY_PREFIX, max_length=limits.S3_KEY_MAX_BYTES - 80)]
Address = Annotated[str, StringConstraints(pattern=limits.TERRAFORM_ADDRESS)]
# The keys of INTERRUPTION_RULE_NAMES (karpenter_model.releases); tests/test_releases.py keeps the two equal.
InterruptionRuleKind = Literal["spot", "rebalance", "state_change", "health_event", "capacity_reservation"]
# How the controller gets AWS credentials (KarpenterSettings.identity).
ControllerIdentity = Literal["irsa", "pod_identity"]
CONTROLLER_IDENTITIES: tuple[ControllerIdentity, ...] = ("irsa", "pod_identity")
RuleName = Annotated[str, StringConstraints(pattern=limits.EVENTBRIDGE_RULE_NAME, max_length=limits.EVENTBRIDGE_RULE_NAME_MAX)]


class AwsSettings(Strict):
    """Provider settings. `endpoints` points services at another URL (a local AWS such as moto)."""

    endpoints: dict[Literal["cloudwatch", "ec2", "eks", "events", "iam", "kms", "sqs", "sts"], Url] = {}
    skip_credentials_validation: bool = False
    skip_metadata_api_check: bool = False
    skip_region_validation: bool = False


class OidcSettings(Strict):
    """Thumbprints given here replace the `tls_certificate` lookup of the issuer at plan time."""

    thumbprints: Annotated[list[Thumbprint], Field(max_length=limits.IAM_OIDC_THUMBPRINTS_MAX)] = []


class Resources(Strict):
    requests: dict[Literal["cpu", "memory"], ResourceQuantity] = {}
    limits: dict[Literal["cpu", "memory"], ResourceQuantity] = {}

    _quantities = field_validator("requests", "limits", mode="before")(_quantities_as_strings)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        # Kubernetes rejects a container whose request exceeds its limit.
        problems = []
        for resource, request in self.requests.items():
            limit = self.limits.get(resource)
            wanted, allowed = limits.parse_quantity(request), limits.parse_quantity(limit) if limit is not None else None
            if wanted is not None and allowed is not None and wanted > allowed:
                problems.append(
                    CrossFieldError(
                        f"karpenter.resources.requests[{resource!r}]",
                        request,
                        f"more than the limit karpenter.resources.limits[{resource!r}] = {limit!r}, which Kubernetes rejects; "
                        "allowed: a request no larger than the limit",
                    )
                )
        raise_all(problems)
        return self


class KarpenterSettings(Strict):
    version: str = DEFAULT_VERSION  # one of the release profiles (karpenter_model.releases)
    namespace: DnsLabel = "karpenter"
    # Unless set: true, except for the namespaces every cluster has (BUILT_IN_NAMESPACES).
    create_namespace: bool = True
    service_account: DnsLabel = "karpenter"
    # Unless set: DEFAULT_REPLICAS, or system_node_group.min_size if that is smaller (see KarpenterConfig).
    replicas: Annotated[int, Field(ge=1, le=10)] = DEFAULT_REPLICAS
    resources: Resources = Resources(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1", "memory": "1Gi"})
    log_level: Literal["debug", "info", "error"] = "info"
    helm_timeout_seconds: Annotated[int, Field(ge=60, le=3600)] = 600
    # A cluster already on this Kubernetes version, which the release does not support, is let through
    # the infra plan's guard (a migration step run on a cluster EKS already upgraded); the plan says so.
    acknowledge_unsupported_kubernetes: Annotated[str, StringConstraints(pattern=limits.KUBERNETES_VERSION)] | None = None
    # Set, for the deploy that changes `version`, to the release running until then: the controller role keeps that
    # release's policies too, node objects whose API changes are re-addressed without being replaced, and the
    # plan-time guard expects that release in the cluster. Unset it once the step is done (README, "Migrating to v1").
    previous_version: str | None = None
    # How the controller gets its AWS credentials: IRSA (the service account's role annotation, through the cluster's
    # IAM OIDC provider) or EKS Pod Identity (an association; needs the eks-pod-identity-agent add-on). README,
    # "Controller identity: IRSA or EKS Pod Identity".
    identity: ControllerIdentity = "irsa"
    # Set, for the deploy that changes `identity`, to the identity running until then: the role trusts both and both
    # stay wired until it is unset again, so the running controller keeps its credentials while its pods are replaced.
    previous_identity: ControllerIdentity | None = None

    @model_validator(mode="before")
    @classmethod
    def _built_in_namespace_is_not_created(cls, data: Any) -> Any:
        if isinstance(data, dict) and "create_namespace" not in data and data.get("namespace") in BUILT_IN_NAMESPACES:
            return {**data, "create_namespace": False}
        return data

    @field_validator("version")
    @classmethod
    def _known_release(cls, version: str) -> str:
        if version not in PROFILES:
            raise ValueError(f"no profile for that Karpenter release; allowed: {', '.join(map(repr, PROFILES))}")
        return version

    @model_validator(mode="after")
    def _acknowledged_version_is_unsupported(self) -> KarpenterSettings:
        acknowledged = self.acknowledge_unsupported_kubernetes
        release = PROFILES[self.version]
        if acknowledged is not None and release.supports(int(acknowledged.split(".")[1])):
            first, last = release.kubernetes_minors
            raise CrossFieldError(
                "karpenter.acknowledge_unsupported_kubernetes",
                acknowledged,
                f"Karpenter {self.version} supports Kubernetes 1.{first} to 1.{last}, this one included; "
                "allowed: a version outside that range, or leave it unset",
            )
        return self

    @model_validator(mode="after")
    def _previous_version_is_a_documented_step(self) -> KarpenterSettings:
        previous, release = self.previous_version, PROFILES[self.version]
        if previous is None or previous in release.follows:
            return self
        if previous == self.version:
            reason = "that is this deploy's release, so there is no step; allowed: leave it unset once the step is done"
        elif previous not in PROFILES:
            reason = f"no profile for that Karpenter release; allowed: {', '.join(map(repr, release.follows))}, or leave it unset"
        else:
            following = next_step(previous)
            reason = f"Karpenter {self.version} does not directly follow {previous} (upstream's upgrade guides); " + (
                f"the next step from {previous} is karpenter.version: {following!r}"
                if following
                else f"no documented step leaves {previous}"
            )
            reason += f"; allowed: {', '.join(map(repr, release.follows))}, or leave it unset"
        raise CrossFieldError("karpenter.previous_version", previous, reason)

    @model_validator(mode="after")
    def _previous_identity_is_another(self) -> KarpenterSettings:
        if self.previous_identity is not None and self.previous_identity == self.identity:
            raise CrossFieldError(
                "karpenter.previous_identity",
                self.previous_identity,
                f"that is karpenter.identity itself, so there is no switch; allowed: "
                f"{next(i for i in CONTROLLER_IDENTITIES if i != self.identity)!r} for the deploy that switches "
                "from it, or leave it unset",
            )
        return self

    @model_validator(mode="after")
    def _one_change_per_deploy(self) -> KarpenterSettings:
        """A version step and an identity switch each keep the running controller working on their own; not together.

        Each step keeps what the previous release needs until the chart stack replaces the controller's pods,
        and each assumes the other half (the identity, the release) stays as it was.
        """
        if self.previous_version is not None and self.previous_identity is not None:
            raise CrossFieldError(
                "karpenter.previous_identity",
                self.previous_identity,
                f"this deploy is also a version step (karpenter.previous_version {self.previous_version!r}): one change "
                f"per deploy. Deploy the step with karpenter.identity: {self.previous_identity!r} first, then switch the "
                "identity in a deploy of its own; allowed: leave it unset in this deploy",
            )
        return self

    @property
    def identities(self) -> tuple[ControllerIdentity, ...]:
        """The identities wired up in this deploy: `identity`, and during a switch `previous_identity` too."""
        return tuple(i for i in CONTROLLER_IDENTITIES if i in (self.identity, self.previous_identity))

    @model_validator(mode="after")
    def _kube_system_exists(self) -> KarpenterSettings:
        if self.create_namespace and self.namespace in BUILT_IN_NAMESPACES:
            raise CrossFieldError(
                "karpenter.create_namespace",
                self.create_namespace,
                f"namespace {self.namespace!r} always exists and must not be created or deleted; allowed: false (or leave it unset)",
            )
        return self


InterruptionEncryption = Literal["sqs_managed", "kms"]
KmsKeyArn = Annotated[str, StringConstraints(max_length=limits.KMS_KEY_ID_MAX), _check(limits.kms_key_arn_problem)]
SnsTopicArn = Annotated[str, StringConstraints(pattern=limits.SNS_TOPIC_ARN)]


class InterruptionAlarmSettings(Strict):
    """CloudWatch alarms on the interruption path, which otherwise fails silently (docs/interruption.md, "Alarms")."""

    enabled: bool = Field(
        default=False,
        description="Create the alarms: the queue's oldest message too old, an EventBridge rule failing to deliver, "
        "messages in the dead-letter queue. Default false.",
    )
    sns_topic_arn: SnsTopicArn | None = Field(
        default=None,
        description="SNS topic the alarms notify when they go to ALARM and back to OK. Default none: the alarms "
        "only change state (a dashboard or another tool watches them).",
    )
    oldest_message_age_seconds: int = Field(
        default=120,
        ge=1,
        description="Alarm when the oldest message in the queue is older than this (ApproximateAgeOfOldestMessage): "
        "the controller is not consuming. Must be below interruption.message_retention_seconds, past which SQS "
        "deletes the message. Default 120.",
    )
    evaluation_periods: int = Field(
        default=3,
        ge=1,
        le=limits.CLOUDWATCH_EVALUATION_PERIODS_MAX,
        description="Consecutive 60-second periods the oldest message must stay too old before the alarm fires, so "
        f"a controller restart does not page anyone. 1 to {limits.CLOUDWATCH_EVALUATION_PERIODS_MAX} "
        "(CloudWatch's one-day limit). Default 3.",
    )


class DeadLetterQueueSettings(Strict):
    """Where EventBridge puts events it could not deliver to the queue (docs/interruption.md, "Dead-letter queue")."""

    enabled: bool = Field(
        default=False,
        description="Give every rule's target a retry policy and a dead-letter queue, encrypted like the "
        "interruption queue, that only these rules may send to. Default false.",
    )
    maximum_retry_attempts: int = Field(
        default=limits.EVENTBRIDGE_RETRY_ATTEMPTS_MAX,
        ge=0,
        le=limits.EVENTBRIDGE_RETRY_ATTEMPTS_MAX,
        description="Times EventBridge retries a failed delivery before the event goes to the dead-letter queue. "
        f"0 to {limits.EVENTBRIDGE_RETRY_ATTEMPTS_MAX}. Default {limits.EVENTBRIDGE_RETRY_ATTEMPTS_MAX} "
        "(EventBridge's own).",
    )
    maximum_event_age_seconds: int = Field(
        default=limits.EVENTBRIDGE_EVENT_AGE_MAX,
        ge=limits.EVENTBRIDGE_EVENT_AGE_MIN,
        le=limits.EVENTBRIDGE_EVENT_AGE_MAX,
        description="How long EventBridge keeps retrying an event before it goes to the dead-letter queue. "
        f"{limits.EVENTBRIDGE_EVENT_AGE_MIN} to {limits.EVENTBRIDGE_EVENT_AGE_MAX}. "
        f"Default {limits.EVENTBRIDGE_EVENT_AGE_MAX} (EventBridge's own, 24 hours).",
    )
    message_retention_seconds: int = Field(
        default=limits.SQS_RETENTION_MAX,
        ge=limits.SQS_RETENTION_MIN,
        le=limits.SQS_RETENTION_MAX,
        description="How long the dead-letter queue keeps an undelivered event for someone to look at. "
        f"{limits.SQS_RETENTION_MIN} to {limits.SQS_RETENTION_MAX}. Default {limits.SQS_RETENTION_MAX} (14 days).",
    )


class InterruptionSettings(Strict):
    """The queue EventBridge fills with interruption events, its encryption, alarms and dead-letter queue.

    `interruption_queue`, the section's earlier name, is still read (for `message_retention_seconds`).
    """

    message_retention_seconds: int = Field(
        default=300,
        ge=limits.SQS_RETENTION_MIN,
        le=limits.SQS_RETENTION_MAX,
        description="How long the queue keeps an event the controller has not read. "
        f"{limits.SQS_RETENTION_MIN} to {limits.SQS_RETENTION_MAX}. Default 300 (upstream's).",
    )
    encryption: InterruptionEncryption = Field(
        default="sqs_managed",
        description="sqs_managed: SQS-managed server-side encryption (upstream's). kms: a customer managed KMS key, "
        "kms_key_arn or one the infra stack creates; the controller role then gets kms:Decrypt on that key. "
        "Default sqs_managed.",
    )
    kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="With encryption: kms, a key of your own, in `region`, whose key policy lets events.amazonaws.com "
        "use kms:GenerateDataKey and kms:Decrypt (the plan refuses it otherwise). Default none: the infra stack "
        "creates a key with rotation on, an alias and that key policy.",
    )
    alarms: InterruptionAlarmSettings = Field(
        default=InterruptionAlarmSettings(), description="CloudWatch alarms on the interruption path. Default off."
    )
    dead_letter_queue: DeadLetterQueueSettings = Field(
        default=DeadLetterQueueSettings(),
        description="A retry policy and a dead-letter queue for the rules' targets. Default off.",
    )

    @model_validator(mode="after")
    def _fits_together(self) -> InterruptionSettings:
        problems = []
        if self.kms_key_arn is not None and self.encryption != "kms":
            problems.append(
                CrossFieldError(
                    "interruption.kms_key_arn",
                    self.kms_key_arn,
                    f"only a kms-encrypted queue uses a key, and interruption.encryption is {self.encryption!r}; "
                    "allowed: encryption: kms, or remove kms_key_arn",
                )
            )
        if self.alarms.enabled and self.alarms.oldest_message_age_seconds >= self.message_retention_seconds:
            problems.append(
                CrossFieldError(
                    "interruption.alarms.oldest_message_age_seconds",
                    self.alarms.oldest_message_age_seconds,
                    f"SQS deletes a message after interruption.message_retention_seconds ({self.message_retention_seconds}), "
                    "so no message gets that old and the alarm could never fire; allowed: 1 to "
                    f"{self.message_retention_seconds - 1}",
                )
            )
        raise_all(problems)
        return self

    @property
    def key_region(self) -> str | None:
        """The region of `kms_key_arn`, if one is given."""
        return self.kms_key_arn.split(":")[3] if self.kms_key_arn else None


class NodeRoleSettings(Strict):
    """`access_entry: false` for clusters that still map node roles in the aws-auth ConfigMap."""

    access_entry: bool = True


class PostureAcceptance(Strict):
    """A posture finding a team wants anyway, at one place (or everything below it), and why."""

    id: str
    where: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]

    @field_validator("id")
    @classmethod
    def _known_finding(cls, finding_id: str) -> str:
        if finding_id not in posture_checks.FINDING_IDS:
            raise ValueError(f"no such finding; allowed: {', '.join(map(repr, posture_checks.FINDING_IDS))}")
        return finding_id


class PostureSettings(Strict):
    """Posture checks of node classes and pools at synth (karpenter_model.posture): errors stop synth, warnings print."""

    require_kms_key: bool = False  # every EBS volume must name the team's KMS key
    accept: list[PostureAcceptance] = []


class DiscoverySettings(Strict):
    """What gets the discovery tag. Empty lists mean the cluster's own subnets and cluster security group.

    `manage_tags: false` leaves tagging to the configuration that owns the subnets and security
    groups (e.g. a vpc.tf that already sets the tag): two configurations managing one tag fight.
    """

    manage_tags: bool = True
    subnet_ids: list[SubnetId] = []
    security_group_ids: list[SecurityGroupId] = []

    @model_validator(mode="after")
    def _ids_need_tagging(self) -> DiscoverySettings:
        if not self.manage_tags:
            raise_all(
                [
                    CrossFieldError(
                        f"discovery.{key}",
                        ids,
                        "these are only used to tag resources, and discovery.manage_tags is false, so they would be "
                        "ignored; allowed: [] (remove the key), or manage_tags: true",
                    )
                    for key, ids in (("subnet_ids", self.subnet_ids), ("security_group_ids", self.security_group_ids))
                    if ids
                ]
            )
        return self


class NodeGroupTaint(Strict):
    key: NodeLabelKey
    value: Annotated[str, StringConstraints(pattern=limits.LABEL_VALUE, max_length=limits.EKS_TAINT_VALUE_MAX)] = ""
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]

    @property
    def kubernetes_effect(self) -> str:
        return {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}[self.effect]


AmiType = Literal[
    "AL2_x86_64", "AL2_ARM_64", "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"
]
# Graviton (arm64) instance families: a1, and families whose attributes after the generation hold
# a 'g' (t4g, m7g, c6gn, r8gd, x2gd, im4gn, is4gen, g5g, hpc7g).
_ARM64_FAMILY = re.compile(r"a1|[a-z]+[0-9]+[a-z]*g[a-z]*")


def _architecture(instance_type: str) -> str:
    return "arm64" if _ARM64_FAMILY.fullmatch(instance_type.split(".", 1)[0]) else "x86_64"


def _ami_architecture(ami_type: str) -> str:
    return "arm64" if "ARM" in ami_type else "x86_64"


def _derive_node_group_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """Defaults that fit the sizes set: `{min_size: 5}` alone means 5/5/5, `{max_size: 1}` alone 1/1/1,
    `{min_size: 1}` alone 1/2/3; Graviton instance types get an arm64 AMI. Only valid sizes are used."""
    data = dict(data)

    def given(key: str) -> int | None:
        value = data.get(key)
        valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limits.EKS_NODEGROUP_MAX_NODES
        return value if valid else None

    if "min_size" not in data:
        data["min_size"] = min(v for v in (DEFAULT_MIN_SIZE, given("desired_size"), given("max_size")) if v is not None)
    if "desired_size" not in data and given("min_size") is not None:
        ceiling = given("max_size") or DEFAULT_DESIRED_SIZE
        data["desired_size"] = max(data["min_size"], min(DEFAULT_DESIRED_SIZE, ceiling))
    if "max_size" not in data and given("desired_size") is not None:
        data["max_size"] = max(data["desired_size"], DEFAULT_MAX_SIZE)
    types = data.get("instance_types")
    if (
        "ami_type" not in data
        and isinstance(types, list)
        and types
        and all(isinstance(t, str) and _architecture(t) == "arm64" for t in types)
    ):
        data["ami_type"] = "AL2023_ARM_64_STANDARD"
    return data


class SystemNodeGroupSettings(Strict):
    instance_types: Annotated[list[InstanceType], Field(min_length=1)] = ["t3.medium"]
    # Unless set: the AL2023 AMI of the instance types' architecture.
    ami_type: AmiType = "AL2023_x86_64_STANDARD"
    disk_size: Annotated[int, Field(ge=limits.EKS_DISK_SIZE_MIN, le=limits.EKS_DISK_SIZE_MAX)] = 20
    # Sizes left unset are derived from those set, so that min_size <= desired_size <= max_size (see `_sizes_fit`).
    min_size: NodeGroupSize = DEFAULT_MIN_SIZE
    desired_size: NodeGroupSize = DEFAULT_DESIRED_SIZE
    max_size: NodeGroupSize = DEFAULT_MAX_SIZE
    subnet_ids: list[SubnetId] = []
    labels: dict[NodeLabelKey, NodeLabelValue] = {"role": "system"}
    taints: Annotated[list[NodeGroupTaint], Field(max_length=limits.EKS_TAINTS_MAX)] = [
        NodeGroupTaint(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")
    ]

    @model_validator(mode="before")
    @classmethod
    def _derived_defaults(cls, data: Any) -> Any:
        return _derive_node_group_defaults(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _sizes(self) -> SystemNodeGroupSettings:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"sizes must satisfy min_size <= desired_size <= max_size, got {self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        if not self.labels:
            raise ValueError("labels: at least one label is needed to pin the Karpenter controller to this node group")
        architectures = {_architecture(t) for t in self.instance_types}
        if len(architectures) > 1:
            raise CrossFieldError(
                "system_node_group.instance_types",
                self.instance_types,
                "mixes arm64 (Graviton) and x86_64 types, and one node group runs one AMI; allowed: types of one architecture",
            )
        if architectures != {_ami_architecture(self.ami_type)}:
            raise CrossFieldError(
                "system_node_group.ami_type",
                self.ami_type,
                f"is a {_ami_architecture(self.ami_type)} AMI, and the instance types are {architectures.pop()}; "
                "EKS refuses the node group; allowed: an AMI type of the instance types' architecture (or leave it unset)",
            )
        return self


# Terraform state backends, one state per stack. Stack names carry the environment.


class LocalBackendSettings(Strict):
    """State files `terraform.<stack>.tfstate` in `directory`, relative to the project (never inside cdktf.out/)."""

    type: Literal["local"] = "local"
    directory: RelativeDir = "."

    @field_validator("directory")
    @classmethod
    def _inside_project(cls, directory: str) -> str:
        if ".." in directory.split("/"):
            raise ValueError("must stay inside the project: a relative path without '..'")
        if posixpath.normpath(directory).split("/")[0] == DEFAULT_OUTDIR:
            raise ValueError(
                f"is inside {DEFAULT_OUTDIR}/, which every synth replaces, state included; "
                "allowed: a directory outside it, such as '.' or 'state'"
            )
        return directory


class S3BackendSettings(Strict):
    """One object per stack: `s3://<bucket>/<key_prefix>/<stack>.tfstate`, encrypted and locked."""

    type: Literal["s3"]
    bucket: Annotated[str, StringConstraints(pattern=limits.S3_BUCKET_NAME), _check(limits.s3_bucket_problem)]
    key_prefix: KeyPrefix = "karpenter"
    region: AwsRegion
    encrypt: Literal[True] = True
    kms_key_id: Annotated[str, StringConstraints(min_length=1, max_length=limits.KMS_KEY_ID_MAX)] | None = None
    use_lockfile: bool = True
    dynamodb_table: Annotated[str, StringConstraints(pattern=limits.DYNAMODB_TABLE_NAME)] | None = None

    @model_validator(mode="after")
    def _locked(self) -> S3BackendSettings:
        if not self.use_lockfile and self.dynamodb_table is None:
            raise CrossFieldError(
                "backend.use_lockfile",
                self.use_lockfile,
                "state must be locked; allowed: true (S3-native locking, Terraform >= 1.10), or set backend.dynamodb_table",
            )
        return self


class CloudBackendSettings(Strict):
    """HCP Terraform / Terraform Enterprise: one named workspace per stack, `<workspace_prefix><stack>`.

    Named, because cdktf reads another stack's outputs through `terraform_remote_state`, which
    needs a workspace name (tag-selected workspaces cannot be referenced).
    """

    type: Literal["cloud"]
    organization: Annotated[str, StringConstraints(pattern=limits.TFC_NAME)]
    hostname: Annotated[str, StringConstraints(pattern=limits.HOSTNAME, max_length=limits.HOSTNAME_MAX)] = "app.terraform.io"
    workspace_prefix: Annotated[str, StringConstraints(pattern=limits.TFC_NAME_PREFIX, max_length=60)] = "karpenter-"
    project: Annotated[str, StringConstraints(min_length=1)] | None = None


class NameOverrides(Strict):
    """Physical names to keep when adopting resources an earlier configuration created (renaming replaces them)."""

    system_node_group: (
        Annotated[str, StringConstraints(pattern=limits.EKS_NODEGROUP_NAME, max_length=limits.EKS_NODEGROUP_NAME_MAX)] | None
    ) = None
    system_node_role: (
        Annotated[str, StringConstraints(pattern=limits.IAM_ROLE_NAME, max_length=limits.IAM_ROLE_NAME_MAX)] | None
    ) = None
    interruption_rules: dict[InterruptionRuleKind, RuleName] = {}


class AdoptionSettings(Strict):
    """Taking over an existing state (e.g. one karpenter.tf applied) without replacing what it created.

    `moved`: address in the existing state -> address in the infra stack (a `moved` block each).
    `imports`: address in the infra stack -> ID of an existing resource not yet in any state (an `import` block each).
    """

    moved: dict[Address, Address] = {}
    imports: dict[Address, Annotated[str, StringConstraints(min_length=1)]] = {}

    @model_validator(mode="after")
    def _one_source_per_target(self) -> AdoptionSettings:
        # Terraform allows one `moved` block per destination; two would fail the plan ("Ambiguous move statements").
        sources: dict[str, list[str]] = {}
        for old, new in self.moved.items():
            sources.setdefault(new, []).append(old)
        raise_all(
            [
                CrossFieldError(
                    f"adoption.moved[{olds[1]!r}]",
                    new,
                    f"{' and '.join(repr(o) for o in olds)} {'both' if len(olds) == 2 else 'all'} move to {new!r}; one resource can only come from one "
                    "address; allowed: a different target, or remove one of them",
                )
                for new, olds in sorted(sources.items())
                if len(olds) > 1
            ]
        )
        return self


class NodeClass(Strict):
    """An EC2NodeClass: its spec is checked against the release's own CRD (node_objects), not a model of ours."""

    name: str
    spec: dict[str, Any]


class NodePool(Strict):
    """A NodePool: its spec is checked against the release's own CRD (node_objects), not a model of ours."""

    name: str
    spec: dict[str, Any]


class KarpenterConfig(Strict):
    cluster_name: ClusterName
    region: AwsRegion
    environment: DnsLabel | None = None
    name_prefix: NamePrefix | None = None
    names: NameOverrides = NameOverrides()
    backend: Annotated[LocalBackendSettings | S3BackendSettings | CloudBackendSettings, Field(discriminator="type")] = (
        LocalBackendSettings()
    )
    adoption: AdoptionSettings = AdoptionSettings()
    tags: dict[TagKey, TagValue] = {}
    aws: AwsSettings = AwsSettings()
    oidc: OidcSettings = OidcSettings()
    karpenter: KarpenterSettings = KarpenterSettings()
    interruption: InterruptionSettings = InterruptionSettings()
    node_role: NodeRoleSettings = NodeRoleSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    system_node_group: SystemNodeGroupSettings = SystemNodeGroupSettings()
    posture: PostureSettings = PostureSettings()
    node_classes: Annotated[list[NodeClass], Field(min_length=1)]
    node_pools: Annotated[list[NodePool], Field(min_length=1)]

    @property
    def release(self) -> ReleaseProfile:
        return PROFILES[self.karpenter.version]

    @property
    def previous_release(self) -> ReleaseProfile | None:
        """The release this deploy replaces (`karpenter.previous_version`), for one migration step."""
        previous = self.karpenter.previous_version
        return PROFILES[previous] if previous else None

    def node_class_objects(self) -> list[Entry]:
        """The EC2NodeClass objects the chart stack writes, as the API server receives them."""
        role = self.resource_names.node_role
        return [
            Entry(f"node_classes[{i}]", NODE_CLASS, node_class_object(self.release, c.name, c.spec, role))
            for i, c in enumerate(self.node_classes)
        ]

    def node_pool_objects(self) -> list[Entry]:
        """The NodePool objects the chart stack writes, as the API server receives them."""
        return [
            Entry(f"node_pools[{i}]", NODE_POOL, node_pool_object(self.release, p.name, p.spec))
            for i, p in enumerate(self.node_pools)
        ]

    @property
    def prefix(self) -> str:
        return self.name_prefix or self.cluster_name

    @property
    def resource_names(self) -> ResourceNames:
        names = self.names
        return ResourceNames(
            self.prefix,
            system_node_role=names.system_node_role,
            system_node_group=names.system_node_group,
            interruption_rules={str(kind): name for kind, name in names.interruption_rules.items()},
        )

    def stack_name(self, base: str) -> str:
        """`infra`, or `<environment>-infra`: two environments never share a stack, a state or a workspace."""
        return f"{self.environment}-{base}" if self.environment else base

    @model_validator(mode="before")
    @classmethod
    def _interruption_queue_is_the_old_name(cls, data: Any) -> Any:
        """`interruption_queue`, the section's name before it grew encryption, alarms and a dead-letter queue."""
        if not isinstance(data, dict) or "interruption_queue" not in data:
            return data
        if "interruption" in data:
            raise CrossFieldError(
                "interruption_queue",
                data["interruption_queue"],
                "is the earlier name of the interruption section, and interruption is set too; allowed: one of them "
                "(move its keys under interruption)",
            )
        return {("interruption" if key == "interruption_queue" else key): value for key, value in data.items()}

    @model_validator(mode="before")
    @classmethod
    def _replicas_fit_system_nodes(cls, data: Any) -> Any:
        """Unset `karpenter.replicas` is DEFAULT_REPLICAS, or `system_node_group.min_size` if that is smaller."""
        if not isinstance(data, dict):
            return data
        karpenter, group = data.get("karpenter", {}), data.get("system_node_group", {})
        if not isinstance(karpenter, dict) or "replicas" in karpenter or not isinstance(group, dict):
            return data
        nodes = _derive_node_group_defaults(group).get("min_size", DEFAULT_MIN_SIZE)
        if isinstance(nodes, int) and not isinstance(nodes, bool) and 1 <= nodes < DEFAULT_REPLICAS:
            return {**data, "karpenter": {**karpenter, "replicas": nodes}}
        return data

    @field_validator("tags")
    @classmethod
    def _tag_count(cls, tags: dict[str, str]) -> dict[str, str]:
        # Default tags land on every resource; the interruption queue and OIDC provider add a `Name` tag of their own.
        count = len(tags) + (0 if "Name" in tags else 1)
        if count > limits.AWS_TAGS_MAX:
            raise ValueError(
                f"{len(tags)} tags, and with the Name tag some resources get, {count}; AWS allows {limits.AWS_TAGS_MAX} "
                f"per resource; allowed: at most {limits.AWS_TAGS_MAX - 1} tags (or {limits.AWS_TAGS_MAX} including Name)"
            )
        return tags

    @model_validator(mode="after")
    def _fits_together(self) -> KarpenterConfig:
        """Every problem spanning several keys, reported together so that one round of edits fixes them all."""
        raise_all(
            _name_problems(self)
            + _replica_problems(self)
            + _identity_problems(self)
            + _interruption_key_problems(self)
            + spec_problems(self.release, self.node_class_objects() + self.node_pool_objects())
            + _node_class_problems(self)
            + _node_pool_problems(self)
            + [PostureError(f) for f in self.posture_findings()[0] if f.severity == "error"]
        )
        return self

    def posture_findings(self) -> tuple[list[posture_checks.Finding], list[posture_checks.Acceptance]]:
        """(the posture findings no `posture.accept` entry covers, the entries that cover nothing)."""
        found = posture_checks.findings(
            self.release,
            [(f"node_classes[{i}]", c.name, c.spec) for i, c in enumerate(self.node_classes)],
            [(f"node_pools[{i}]", p.name, p.spec) for i, p in enumerate(self.node_pools)],
            self.posture.require_kms_key,
        )
        return posture_checks.apply_acceptances(found, self.posture.accept)

    def warnings(self) -> list[str]:
        """Legal settings that rarely mean what they say, posture warnings, stale acceptances; printed, not fatal."""
        remaining, unused = self.posture_findings()
        found = [
            f"{f.where}: {f.message} [{f.id}]; fix: {f.fix}; or accept it in posture.accept"
            for f in remaining
            if f.severity == "warning"
        ]
        found += [
            f"posture.accept: {a.id} at {a.where} covers no finding: remove it, or it accepts whatever lands there next"
            for a in unused
        ]
        for index, pool in enumerate(self.node_pools):
            pool_limits = pool.spec.get("limits")
            given = pool_limits.get("cpu") if isinstance(pool_limits, dict) else None
            cpu = str(given) if isinstance(given, (int, str)) and not isinstance(given, bool) else None
            cores = limits.parse_quantity(cpu) if cpu is not None else None
            if cpu is None or cores is None:
                continue
            where = f"node_pools[{index}].spec.limits.cpu is {bounded_repr(cpu)}"
            if cores <= 0:
                found.append(f"{where}: no node can launch in this pool (the limit is {float(cores):g} vCPU)")
            elif cores < 4 and not re.fullmatch(r"[0-9]+", cpu):
                found.append(f"{where}: that is {float(cores):g} vCPU for the whole pool")
        return found


class PostureError(CrossFieldError):
    """A posture finding of severity error that no `posture.accept` entry covers."""

    def __init__(self, finding: posture_checks.Finding) -> None:
        super().__init__(finding.where, None, finding.message)
        self.args = (
            f"{finding.where}: {finding.message} [{finding.id}]; fix: {finding.fix}; or accept it in posture.accept with a reason",
        )


def _name_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    """The names AWS gets, checked as they will be (overrides applied): lengths, and clashes between them."""
    problems: list[CrossFieldError] = []
    field = "name_prefix" if config.name_prefix else "cluster_name"
    names = final_names(config.resource_names, config.release)
    derived_too_long = [n for n in names if n.override is None and len(n.name) > n.limit]
    if derived_too_long:
        first = derived_too_long[0]
        longest_prefix = min(n.limit - (len(n.name) - len(config.prefix)) for n in names if n.override is None)
        others = [n.what for n in derived_too_long[1:]]
        problems.append(
            CrossFieldError(
                field,
                config.prefix,
                f"too long: the {first.what} name {first.name!r} has {len(first.name)} characters and AWS allows {first.limit}"
                + (f" (too long as well: {', '.join(others)})" if others else "")
                + f"; allowed: a name_prefix of at most {longest_prefix} characters",
            )
        )
    for name in names:
        if name.override is not None and len(name.name) > name.limit:
            problems.append(
                CrossFieldError(name.override, name.name, f"has {len(name.name)} characters; AWS allows {name.limit}")
            )
    # IAM role names are unique per account regardless of case; rule names per event bus.
    for kind, fold in (("role", str.lower), ("rule", str)):
        group = [n for n in names if n.what.endswith(f" {kind}")]
        for index, name in enumerate(group):
            clashing = [other for other in group if other is not name and fold(other.name) == fold(name.name)]
            clashes = [other.what for other in clashing]
            # Reported once, at the override that makes the clash: the later of two overrides, or one that takes a derived name.
            blamed = any(other.override is None or group.index(other) < index for other in clashing)
            if name.override is not None and blamed:
                problems.append(
                    CrossFieldError(
                        name.override,
                        name.name,
                        f"is also the {' and '.join(clashes)} name; AWS needs a different name for each {kind}"
                        + (" (IAM ignores case)" if kind == "role" else "")
                        + "; allowed: another name",
                    )
                )
    return problems


def _identity_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    # Without IRSA there is no OIDC provider, and thumbprints are only for it: they would be ignored.
    if "irsa" in config.karpenter.identities or not config.oidc.thumbprints:
        return []
    return [
        CrossFieldError(
            "oidc.thumbprints",
            list(config.oidc.thumbprints),
            "only the IAM OIDC provider of IRSA uses them, and with karpenter.identity: pod_identity there is none, so they "
            "would be ignored; allowed: [] (remove the key), or karpenter.identity: irsa",
        )
    ]


def _interruption_key_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    # SQS uses only keys of the queue's own region.
    key_region = config.interruption.key_region
    if key_region is None or key_region == config.region:
        return []
    return [
        CrossFieldError(
            "interruption.kms_key_arn",
            config.interruption.kms_key_arn,
            f"the key is in {key_region} and the queue in region {config.region}; SQS encrypts only with keys of the "
            f"queue's region; allowed: a key in {config.region}, or leave kms_key_arn unset and the infra stack creates one",
        )
    ]


def _replica_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    # The chart requires hostname anti-affinity between controller pods (trap 3).
    if config.karpenter.replicas <= config.system_node_group.min_size:
        return []
    return [
        CrossFieldError(
            "karpenter.replicas",
            config.karpenter.replicas,
            f"system_node_group.min_size is {config.system_node_group.min_size} and the chart's required hostname "
            "anti-affinity leaves each extra replica Pending, so the Helm release times out; "
            "allowed: replicas <= system_node_group.min_size",
        )
    ]


def _duplicate_names(key: str, items: list[NodeClass] | list[NodePool]) -> list[CrossFieldError]:
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    return [CrossFieldError(f"{key}[*].name", duplicates, "names must be unique")] if duplicates else []


# -- the only cross-field checks that read node class and node pool specs ---------------------------


def _node_class_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    """Each node class's role is the infra stack's node role; its discovery selectors name this cluster."""
    problems = _duplicate_names("node_classes", config.node_classes)
    node_role = config.resource_names.node_role
    role_is_valid = len(node_role) <= limits.IAM_ROLE_NAME_MAX  # else the name problem says what to change
    for index, node_class in enumerate(config.node_classes):
        where = f"node_classes[{index}].spec"
        if "instanceProfile" in node_class.spec:
            problems.append(
                CrossFieldError(
                    f"{where}.instanceProfile",
                    node_class.spec["instanceProfile"],
                    "node classes use the infra stack's node role, the only role the controller policy may pass to EC2; "
                    f"allowed: role {node_role!r}, or omit both to get it",
                )
            )
        role = node_class.spec.get("role")
        if role is not None and role != node_role and role_is_valid:
            problems.append(
                CrossFieldError(
                    f"{where}.role",
                    role,
                    "the controller policy may only pass the infra stack's node role to EC2; "
                    f"allowed: {node_role!r}, or omit role to get it",
                )
            )
        problems += _empty_selector_terms(where, node_class.spec)
        for kind in ("subnetSelectorTerms", "securityGroupSelectorTerms"):
            terms = node_class.spec.get(kind)
            for term_index, term in enumerate(terms if isinstance(terms, list) else []):
                tags = term.get("tags") if isinstance(term, dict) else None
                value = tags.get(DISCOVERY_TAG) if isinstance(tags, dict) else None
                if value is not None and value != config.cluster_name:
                    problems.append(
                        CrossFieldError(
                            f"{where}.{kind}[{term_index}].tags['karpenter.sh/discovery']",
                            value,
                            f"the infra stack tags subnets and security groups with the cluster name; allowed: {config.cluster_name!r}",
                        )
                    )
    return problems


# Selector-term fields that must not be empty. Karpenter patches from October 2026 on (1.9.4, 1.14.4, 1.15.3)
# ignore a term holding one of them empty: the node class goes NotReady, or drifts and replaces its nodes.
EMPTY_SELECTOR_FIELDS = {"tags": "an empty tags map", "name": "an empty name", "ssmParameter": "an empty ssmParameter"}


def _empty_selector_terms(where: str, spec: dict[str, Any]) -> list[CrossFieldError]:
    """Every `*SelectorTerms` entry with an empty tags map, name or ssmParameter, for every release."""
    problems = []
    for kind, terms in spec.items():
        if not kind.endswith("SelectorTerms") or not isinstance(terms, list):
            continue
        for index, term in enumerate(terms):
            for field, empty in EMPTY_SELECTOR_FIELDS.items():
                value = term.get(field) if isinstance(term, dict) else None
                if value is not None and not value:
                    problems.append(
                        CrossFieldError(
                            f"{where}.{kind}[{index}].{field}",
                            value,
                            f"{empty} in a selector term: Karpenter patches from October 2026 on (1.9.4, 1.14.4, 1.15.3) "
                            "ignore such a term, and the node class goes NotReady, or drifts and replaces its nodes; "
                            f"allowed: a non-empty {field}, or a term without it",
                        )
                    )
    return problems


def _get(document: Any, *path: str) -> Any:
    """`document[a][b]...`, or None where the spec lacks it (the CRD check reports what is missing)."""
    for key in path:
        document = document.get(key) if isinstance(document, dict) else None
    return document


def _node_pool_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    """Each node pool names a declared node class."""
    problems = _duplicate_names("node_pools", config.node_pools)
    classes = {c.name for c in config.node_classes}
    for index, pool in enumerate(config.node_pools):
        ref = _get(pool.spec, "template", "spec", "nodeClassRef", "name")
        if ref is not None and ref not in classes:
            problems.append(
                CrossFieldError(
                    f"node_pools[{index}].spec.template.spec.nodeClassRef.name",
                    ref,
                    f"no node class has that name; allowed: {sorted(classes)}",
                )
            )
    return problems
