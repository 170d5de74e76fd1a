"""The one typed configuration model, loaded from YAML.

Everything the stacks build is derived from a `KarpenterConfig`. Unknown keys are errors, so a
typo never falls back to a default; every limit comes from `limits.py`, which names its source;
cross-field checks catch settings that would synthesize but could not work on a real cluster,
and report every such problem at once.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from karpenter_model import limits
from karpenter_model import posture as posture_checks
from karpenter_model.base import CrossFieldError, Strict, bounded_repr, raise_all
from karpenter_model.helm_overrides import helm_value_problems
from karpenter_model.naming import OWN_TAG_PREFIX, ResourceNames, final_names
from karpenter_model.node_objects import NODE_CLASS, NODE_POOL, Entry, node_class_object, node_pool_object, spec_problems
from karpenter_model.releases import DEFAULT_VERSION, PATCHES_IGNORING_EMPTY_SELECTOR_FIELDS, PROFILES, ReleaseProfile, next_step

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

    endpoints: dict[Literal["cloudwatch", "ec2", "eks", "events", "iam", "kms", "sqs", "sts"], Url] = Field(
        {}, description="Service -> URL overrides for the AWS provider and `make check`'s clients, e.g. a local AWS such as moto."
    )
    skip_credentials_validation: bool = Field(False, description="Passed to the AWS provider; for local endpoints.")
    skip_metadata_api_check: bool = Field(False, description="Passed to the AWS provider; for local endpoints.")
    skip_region_validation: bool = Field(False, description="Passed to the AWS provider; for local endpoints.")


class OidcSettings(Strict):
    """Thumbprints given here replace the `tls_certificate` lookup of the issuer at plan time."""

    thumbprints: Annotated[list[Thumbprint], Field(max_length=limits.IAM_OIDC_THUMBPRINTS_MAX)] = Field(
        [],
        description="SHA-1 thumbprints of the issuer's CA. Empty: the `tls_certificate` data source reads them at plan time; set them for accounts that cannot reach the issuer when planning. Refused with `karpenter.identity: pod_identity`, which has no OIDC provider.",
    )


class Resources(Strict):
    requests: dict[Literal["cpu", "memory"], ResourceQuantity] = Field(
        {}, description="Container requests; Kubernetes quantities (`500m`, `1Gi`), not negative."
    )
    limits: dict[Literal["cpu", "memory"], ResourceQuantity] = Field(
        {}, description="Container limits; no request may exceed its limit."
    )

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
    version: str = Field(
        DEFAULT_VERSION,
        description="The Karpenter release. It picks the API of node classes and pools, the CRDs, the controller and node role policies, the interruption rules and both charts. The infra plan refuses a release that does not support the cluster's Kubernetes version and names the one a new install needs; changing it on a running install is a migration step ([migrating to v1](migrating-to-v1.md)).",
        json_schema_extra={"enum": list(PROFILES)},
    )
    namespace: DnsLabel = Field(
        "karpenter",
        description="Namespace of the controller; part of the IRSA trust condition and of the Pod Identity association.",
    )
    create_namespace: bool = Field(
        True,
        description="Create the namespace (crds stack). Unset: `true`, except for `default`, `kube-system`, `kube-public` and `kube-node-lease`, which every cluster has and which may not be created.",
    )
    service_account: DnsLabel = Field(
        "karpenter",
        description="The controller's service account, set in the chart; part of the IRSA trust condition and of the Pod Identity association.",
    )
    replicas: Annotated[int, Field(ge=1, le=10)] = Field(
        DEFAULT_REPLICAS,
        description="Controller replicas. The chart requires hostname anti-affinity, so at most `system_node_group.min_size`. Unset: 2, or `system_node_group.min_size` if that is smaller.",
    )
    resources: Resources = Field(
        Resources(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1", "memory": "1Gi"}),
        description="The controller's requests and limits (upstream's guide values); given, it replaces the default as a whole.",
    )
    log_level: Literal["debug", "info", "error"] = Field("info", description="The controller's log level.")
    helm_timeout_seconds: Annotated[int, Field(ge=60, le=3600)] = Field(
        600, description="How long each Helm release (the CRD chart, the controller chart) is waited for."
    )
    acknowledge_unsupported_kubernetes: Annotated[str, StringConstraints(pattern=limits.KUBERNETES_VERSION)] | None = Field(
        None,
        description="A Kubernetes version (`\"1.32\"`) outside the release's range that the infra plan's guard lets through, for a migration step on a cluster EKS already upgraded. Exactly that version; refused when the release supports it; every plan warns while it is set ([migrating to v1](migrating-to-v1.md)).",
    )
    previous_version: str | None = Field(
        None,
        description="For the deploy that changes `version` only: the release running until then, one that the new release directly follows in upstream's upgrade guides. The roles keep its policies, node objects whose API changes are re-addressed instead of replaced, and the plans expect it running. Remove it once the step is verified ([migrating to v1](migrating-to-v1.md)).",
        json_schema_extra={"enum": list(PROFILES)},
    )
    identity: ControllerIdentity = Field(
        "irsa",
        description="How the controller gets AWS credentials: `irsa` (an IAM OIDC provider, the role's trust condition, the service account's annotation) or `pod_identity` (an EKS Pod Identity association; the cluster needs the `eks-pod-identity-agent` add-on, which this app does not install). Switching a running install: [identity](identity.md).",
    )
    previous_identity: ControllerIdentity | None = Field(
        None,
        description="For the deploy that changes `identity` only: the identity running until then. The role trusts both, and both stay wired, until it is removed in a later deploy. Must differ from `identity`; not in the same deploy as `previous_version`.",
    )
    helm_values: dict[str, Any] = Field(
        {},
        description="Extra values for the `karpenter` chart, merged last (maps merge key by key; lists and other values "
        "replace). Refused: a value the release's chart does not have, and one this app wires itself (the infra stack's "
        "outputs, and what a config key sets: replicas, log level, resources, tolerations, affinity, service account, "
        "webhook).",
    )

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


IamPolicyArn = Annotated[str, StringConstraints(pattern=limits.IAM_POLICY_ARN, max_length=limits.IAM_POLICY_ARN_MAX)]
IamAction = Annotated[str, StringConstraints(pattern=limits.IAM_ACTION)]
IamResource = Annotated[str, StringConstraints(pattern=limits.IAM_RESOURCE)]
OneOrMore = Annotated[list[str], Field(min_length=1)]


class PolicyStatement(Strict):
    """One statement of an identity-based IAM policy, with IAM's own key names (`Effect`, `Action`, `Resource`...)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, serialize_by_alias=True)

    sid: Annotated[str, StringConstraints(pattern=limits.IAM_STATEMENT_ID)] | None = Field(
        None, alias="Sid", description="Statement ID: letters and digits, unique among the statements."
    )
    effect: Literal["Allow", "Deny"] = Field(alias="Effect", description="`Allow` or `Deny`.")
    action: IamAction | Annotated[list[IamAction], Field(min_length=1)] | None = Field(
        None,
        alias="Action",
        description="Actions (`ssm:GetParameter`, wildcards allowed); exactly one of `Action` and `NotAction`.",
    )
    not_action: IamAction | Annotated[list[IamAction], Field(min_length=1)] | None = Field(
        None, alias="NotAction", description="Every action but these."
    )
    resource: IamResource | Annotated[list[IamResource], Field(min_length=1)] | None = Field(
        None, alias="Resource", description="ARNs or `*`; exactly one of `Resource` and `NotResource`."
    )
    not_resource: IamResource | Annotated[list[IamResource], Field(min_length=1)] | None = Field(
        None, alias="NotResource", description="Every resource but these."
    )
    condition: dict[str, dict[str, str | OneOrMore]] | None = Field(
        None,
        alias="Condition",
        description='Operator -> condition key -> value(s), as IAM writes it: `{StringEquals: {"aws:RequestedRegion": eu-west-1}}`.',
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> PolicyStatement:
        keys = ", ".join(self.document())
        for one, other, what in (("Action", "NotAction", "actions"), ("Resource", "NotResource", 'ARNs, or "*"')):
            if (one in self.document()) == (other in self.document()):
                raise ValueError(
                    f"got a statement with {keys}: an identity-based policy statement needs exactly one of {one} and "
                    f"{other}; allowed: {one} ({what}), or {other}"
                )
        return self

    def document(self) -> dict[str, Any]:
        """The statement as IAM reads it: IAM's key names, unset keys left out."""
        return self.model_dump(by_alias=True, exclude_none=True)


class IamSettings(Strict):
    permissions_boundary: IamPolicyArn | None = Field(
        None,
        description="ARN of a managed policy set as the permissions boundary of every role this app creates (controller, "
        "Karpenter node, system node). Must be in the region's partition. Changing it updates the roles in place.",
    )
    controller_policy_statements: list[PolicyStatement] = Field(
        [],
        description="Extra statements for the controller role, beyond upstream's policies (for example kms:Decrypt on the "
        "key of encrypted EBS snapshots), in a policy of their own, `<prefix>-karpenter-controller-additional`, so that "
        "upstream's documents stay as upstream wrote them. IAM's statement syntax; at most 6,144 characters in all.",
    )

    @model_validator(mode="after")
    def _fits_one_policy(self) -> IamSettings:
        sids = [s.sid for s in self.controller_policy_statements if s.sid]
        duplicates = sorted({sid for sid in sids if sids.count(sid) > 1})
        if duplicates:
            raise CrossFieldError(
                "iam.controller_policy_statements[*].Sid", duplicates, "statement IDs must be unique in a policy"
            )
        return self


# Tag maps of the roles and groups whose tags a team sets apart from `tags` (which go on everything).
ExtraTagMap = dict[TagKey, TagValue]


class ExtraTags(Strict):
    controller_role: ExtraTagMap = Field({}, description="Tags on the controller role only, on top of `tags`.")
    node_role: ExtraTagMap = Field({}, description="Tags on the Karpenter node role only, on top of `tags`.")
    system_node_group: ExtraTagMap = Field(
        {}, description="Tags on the system node group and its role only, on top of `tags` (EKS does not pass them to the nodes)."
    )


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

    access_entry: bool = Field(
        True,
        description="Create an `EC2_LINUX` EKS access entry for the node role; `false` for clusters that map node roles in the `aws-auth` ConfigMap.",
    )


class PostureAcceptance(Strict):
    """A posture finding a team wants anyway, at one place (or everything below it), and why."""

    id: str = Field(description="The finding's id.", json_schema_extra={"enum": list(posture_checks.FINDING_IDS)})
    where: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="A config path (`node_classes[0]`): the finding there, or anywhere below it, is accepted."
    )
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Why the team wants the setting anyway."
    )

    @field_validator("id")
    @classmethod
    def _known_finding(cls, finding_id: str) -> str:
        if finding_id not in posture_checks.FINDING_IDS:
            raise ValueError(f"no such finding; allowed: {', '.join(map(repr, posture_checks.FINDING_IDS))}")
        return finding_id


class PostureSettings(Strict):
    """Posture checks of node classes and pools at synth (karpenter_model.posture): errors stop synth, warnings print."""

    require_kms_key: bool = Field(
        False, description="Every EBS volume of every node class must name a KMS key (`ebs-no-kms-key` becomes an error)."
    )
    accept: list[PostureAcceptance] = Field(
        [],
        description="Findings accepted at one place, each with a reason. An entry that covers no finding prints a warning, so it cannot silently accept whatever lands there next.",
    )


class DiscoverySettings(Strict):
    """What gets the discovery tag. Empty lists mean the cluster's own subnets and cluster security group.

    `manage_tags: false` leaves tagging to the configuration that owns the subnets and security
    groups (e.g. a vpc.tf that already sets the tag): two configurations managing one tag fight.
    """

    manage_tags: bool = Field(
        True,
        description="Tag subnets and security groups with `karpenter.sh/discovery: <cluster_name>`. `false` when the configuration that owns them (e.g. a `vpc.tf`) already sets the tag: two configurations managing one tag undo each other.",
    )
    subnet_ids: list[SubnetId] = Field(
        [],
        description="Subnets to tag. Empty: the cluster's subnets. Only with `manage_tags: true` (otherwise they would be ignored).",
    )
    security_group_ids: list[SecurityGroupId] = Field(
        [],
        description="Security groups to tag. Empty: the cluster security group (the infra plan refuses a cluster that reports none). Only with `manage_tags: true`.",
    )

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
    key: NodeLabelKey = Field(description="Taint key, Kubernetes label key syntax.")
    value: Annotated[str, StringConstraints(pattern=limits.LABEL_VALUE, max_length=limits.EKS_TAINT_VALUE_MAX)] = Field(
        "", description="Taint value; may be empty."
    )
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = Field(description="Taint effect, as EKS spells it.")

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
    instance_types: Annotated[list[InstanceType], Field(min_length=1)] = Field(
        ["t3.medium"],
        description="Instance types of the system nodes (always `ON_DEMAND`), all of one architecture. A change replaces the node group.",
    )
    ami_type: AmiType = Field(
        "AL2023_x86_64_STANDARD",
        description="EKS AMI type, of the instance types' architecture. Unset: the AL2023 AMI of that architecture (`AL2023_ARM_64_STANDARD` for Graviton types). AL2 AMIs stop at Kubernetes 1.32. A change replaces the node group.",
    )
    disk_size: Annotated[int, Field(ge=limits.EKS_DISK_SIZE_MIN, le=limits.EKS_DISK_SIZE_MAX)] = Field(
        20, description="Root volume size in GiB. A change replaces the node group."
    )
    min_size: NodeGroupSize = Field(
        DEFAULT_MIN_SIZE,
        description="Nodes at least. Sizes left unset fit those set (`min_size: 5` alone gives 5/5/5, `max_size: 1` alone 1/1/1), and `min_size <= desired_size <= max_size`.",
    )
    desired_size: NodeGroupSize = Field(DEFAULT_DESIRED_SIZE, description="Nodes wanted; see `min_size`.")
    max_size: NodeGroupSize = Field(
        DEFAULT_MAX_SIZE, description="Nodes at most (EKS allows 450 per node group); see `min_size`."
    )
    subnet_ids: list[SubnetId] = Field(
        [], description="Where the system nodes run. Empty: the cluster's subnets. A change replaces the node group."
    )
    labels: dict[NodeLabelKey, NodeLabelValue] = Field(
        {"role": "system"}, description="Node labels, at least one; the controller's node affinity requires all of them."
    )
    taints: Annotated[list[NodeGroupTaint], Field(max_length=limits.EKS_TAINTS_MAX)] = Field(
        [NodeGroupTaint(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")],
        description="Taints of the system nodes; the controller tolerates each.",
    )

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

    type: Literal["local"] = Field("local", description="State in local files.")
    directory: RelativeDir = Field(
        ".",
        description="Where the state files `terraform.<stack>.tfstate` go, relative to the project (the parent of the output directory). Never inside `cdktf.out/`, which every synth replaces; no absolute path, no `..`.",
    )

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

    type: Literal["s3"] = Field(description="State in S3, one object per stack.")
    bucket: Annotated[str, StringConstraints(pattern=limits.S3_BUCKET_NAME), _check(limits.s3_bucket_problem)] = Field(
        description="The state bucket; S3's naming rules apply (no IP-address form, `..`, `xn--`/`sthree-`/`amzn-s3-demo-` prefix or `-s3alias`/`--ol-s3`/`.mrap`/`--x-s3`/`--table-s3` suffix)."
    )
    key_prefix: KeyPrefix = Field("karpenter", description="State at `s3://<bucket>/<key_prefix>/<stack>.tfstate`.")
    region: AwsRegion = Field(description="The bucket's region.")
    encrypt: Literal[True] = Field(True, description="Always `true`: the state is encrypted at rest.")
    kms_key_id: Annotated[str, StringConstraints(min_length=1, max_length=limits.KMS_KEY_ID_MAX)] | None = Field(
        None, description="KMS key that encrypts the state objects; unset: S3-managed keys."
    )
    use_lockfile: bool = Field(
        True,
        description="Lock with S3-native lock files (Terraform 1.10 and later). An unlocked state is refused: `false` needs `dynamodb_table`.",
    )
    dynamodb_table: Annotated[str, StringConstraints(pattern=limits.DYNAMODB_TABLE_NAME)] | None = Field(
        None, description="A DynamoDB table to lock the state with."
    )

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

    type: Literal["cloud"] = Field(description="State in HCP Terraform or Terraform Enterprise, one named workspace per stack.")
    organization: Annotated[str, StringConstraints(pattern=limits.TFC_NAME)] = Field(
        description="The organization that holds the workspaces."
    )
    hostname: Annotated[str, StringConstraints(pattern=limits.HOSTNAME, max_length=limits.HOSTNAME_MAX)] = Field(
        "app.terraform.io", description="HCP Terraform, or the host of a Terraform Enterprise."
    )
    workspace_prefix: Annotated[str, StringConstraints(pattern=limits.TFC_NAME_PREFIX, max_length=60)] = Field(
        "karpenter-",
        description="Workspaces are named `<workspace_prefix><stack>` (cross-stack references need names, not tags).",
    )
    project: Annotated[str, StringConstraints(min_length=1)] | None = Field(
        None, description="The project of the workspaces; unset: the organization's default project."
    )


class NameOverrides(Strict):
    """Physical names to keep when adopting resources an earlier configuration created (renaming replaces them)."""

    system_node_group: (
        Annotated[str, StringConstraints(pattern=limits.EKS_NODEGROUP_NAME, max_length=limits.EKS_NODEGROUP_NAME_MAX)] | None
    ) = Field(
        None,
        description="The system node group's name. Unset: `<prefix>-system`. Set it to keep an existing group's name when adopting: a rename replaces the group.",
    )
    system_node_role: (
        Annotated[str, StringConstraints(pattern=limits.IAM_ROLE_NAME, max_length=limits.IAM_ROLE_NAME_MAX)] | None
    ) = Field(
        None,
        description="The system node role's name. Unset: `<prefix>-system-node`. Set it to keep an existing role when adopting; IAM role names must differ regardless of case.",
    )
    interruption_rules: dict[InterruptionRuleKind, RuleName] = Field(
        {},
        description="EventBridge rule names by rule. Unset: `<prefix>-karpenter-interruption-<rule>`, with hyphens (`-state-change`). Rules the release does not create are ignored; see [interruption handling](interruption.md).",
    )


class AdoptionSettings(Strict):
    """Taking over an existing state (e.g. one karpenter.tf applied) without replacing what it created.

    `moved`: address in the existing state -> address in the infra stack (a `moved` block each).
    `imports`: address in the infra stack -> ID of an existing resource not yet in any state (an `import` block each).
    """

    moved: dict[Address, Address] = Field(
        {},
        description='`old address: new address` pairs, each a `moved` block in the infra stack (`aws_eks_node_group.main: aws_eks_node_group.system`). One old address per new address; addresses are `type.name`, optionally `[0]` or `["key"]`.',
    )
    imports: dict[Address, Annotated[str, StringConstraints(min_length=1)]] = Field(
        {},
        description="`address: import ID` pairs, each an `import` block in the infra stack (an OIDC provider eksctl created: `aws_iam_openid_connect_provider.eks: <its ARN>`). An address the stack does not declare stops synth.",
    )

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

    name: str = Field(description="The EC2NodeClass's name; unique among node classes.")
    spec: dict[str, Any] = Field(
        description="An EC2NodeClass spec in the API the release stores (`karpenter.k8s.aws/v1beta1` or `/v1`: [releases](migrating-to-v1.md)), camelCase as upstream, checked against the release's CRD schema and CEL rules. `role` defaults to the infra stack's node role and may only be that role; discovery selector tags must equal `cluster_name`; no selector term may hold an empty `tags`, `name` or `ssmParameter`."
    )


class NodePool(Strict):
    """A NodePool: its spec is checked against the release's own CRD (node_objects), not a model of ours."""

    name: str = Field(description="The NodePool's name; unique among node pools.")
    spec: dict[str, Any] = Field(
        description="A NodePool spec in the API the release stores (`karpenter.sh/v1beta1` or `/v1`), checked against the release's CRD schema and CEL rules. `template.spec.nodeClassRef.name` must name a declared node class."
    )


class KarpenterConfig(Strict):
    cluster_name: ClusterName = Field(
        description="The existing EKS cluster, looked up by name; also the `karpenter.sh/discovery` tag value and the chart's `settings.clusterName`."
    )
    region: AwsRegion = Field(description="AWS region of the cluster.")
    environment: DnsLabel | None = Field(
        None,
        description="e.g. `dev`, `prod`: stack names become `<environment>-infra`, `-crds`, `-chart`, so the states, S3 keys and workspaces of two environments never meet. One config file per environment ([backends](backends.md)).",
    )
    name_prefix: NamePrefix | None = Field(
        None,
        description="Prefix of every AWS name created (`<prefix>-karpenter-controller`, `-karpenter-node`, `-karpenter-interruption`, `-system`, ...). Unset: `cluster_name`. The final names must fit AWS's limits; synth names the longest prefix that fits.",
    )
    names: NameOverrides = Field(
        NameOverrides(),
        description="Physical names to keep when adopting resources an earlier configuration created, since renaming replaces them ([adopting karpenter.tf](adopting-karpenter-tf.md)).",
    )
    backend: Annotated[LocalBackendSettings | S3BackendSettings | CloudBackendSettings, Field(discriminator="type")] = Field(
        (LocalBackendSettings()),
        description="Where the Terraform state lives, one state per stack; cdktf reads other stacks' outputs from the same backend ([backends](backends.md)).",
    )
    adoption: AdoptionSettings = Field(
        AdoptionSettings(),
        description="Taking over an existing state (e.g. one karpenter.tf applied) without replacing what it created ([adopting karpenter.tf](adopting-karpenter-tf.md)).",
    )
    tags: dict[TagKey, TagValue] = Field(
        {},
        description="Tags for every resource created (the AWS provider's `default_tags`). AWS's rules: at most 49 (some resources add `Name`), keys 1-128 and values 0-256 characters of letters, digits, spaces and `_ . : / = + - @`; no key starting with `aws:`.",
    )
    extra_tags: ExtraTags = Field(
        ExtraTags(),
        description="Tags for one kind of resource, on top of `tags` (AWS's limit of 50 counts both); `karpenter-cdktf/` keys are this app's own.",
    )
    iam: IamSettings = Field(
        IamSettings(), description="A permissions boundary for the roles created, and extra controller permissions."
    )
    aws: AwsSettings = Field(AwsSettings(), description="Settings of the AWS provider.")
    oidc: OidcSettings = Field(OidcSettings(), description="The IAM OIDC provider that IRSA uses.")
    karpenter: KarpenterSettings = Field(
        KarpenterSettings(), description="The release, the controller, and how it gets AWS credentials."
    )
    interruption: InterruptionSettings = Field(
        InterruptionSettings(),
        description="The SQS queue that EventBridge rules feed with interruption events for the controller, its "
        "encryption, alarms and dead-letter queue ([interruption handling](interruption.md)). `interruption_queue`, "
        "its earlier name, is still read.",
    )
    node_role: NodeRoleSettings = Field(NodeRoleSettings(), description="The IAM role of the nodes Karpenter launches.")
    discovery: DiscoverySettings = Field(
        DiscoverySettings(),
        description="The `karpenter.sh/discovery` tag, by which node classes select subnets and security groups.",
    )
    system_node_group: SystemNodeGroupSettings = Field(
        SystemNodeGroupSettings(),
        description="The EKS managed node group the controller runs on (`ON_DEMAND`, tainted so that only critical add-ons land there).",
    )
    posture: PostureSettings = Field(
        PostureSettings(),
        description="Posture checks of node classes and pools at synth: errors stop synth, warnings are printed ([checks](check.md)).",
    )
    node_classes: Annotated[list[NodeClass], Field(min_length=1)] = Field(description="EC2NodeClasses, at least one.")
    node_pools: Annotated[list[NodePool], Field(min_length=1)] = Field(description="NodePools, at least one.")

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
            + _extension_problems(self)
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


def _extension_problems(config: KarpenterConfig) -> list[CrossFieldError]:
    """Extra Helm values, permissions boundary, extra statements and extra tags, against what this app wires."""
    problems = [
        CrossFieldError(f"karpenter.helm_values.{path}", value, why)
        for path, value, why in helm_value_problems(config.release, config.karpenter.helm_values)
    ]
    boundary = config.iam.permissions_boundary
    partition = limits.partition_of(config.region)
    if boundary and boundary.split(":")[1] != partition:
        problems.append(
            CrossFieldError(
                "iam.permissions_boundary",
                boundary,
                f"a policy in partition {boundary.split(':')[1]}, and region {config.region} is in {partition}; "
                f"allowed: an arn:{partition}:iam:: policy ARN",
            )
        )
    statements = [s.document() for s in config.iam.controller_policy_statements]
    size = len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))
    if size > limits.IAM_MANAGED_POLICY_MAX_CHARACTERS:
        problems.append(
            CrossFieldError(
                "iam.controller_policy_statements",
                f"{len(statements)} statements",
                f"{size} characters as one policy, and IAM allows {limits.IAM_MANAGED_POLICY_MAX_CHARACTERS}; "
                "allowed: fewer or shorter statements (wildcards in Action, several resources per statement)",
            )
        )
    for kind, extra in config.extra_tags:
        key = f"extra_tags.{kind}"
        reserved = sorted(k for k in extra if k.startswith(OWN_TAG_PREFIX))
        if reserved:
            problems.append(
                CrossFieldError(key, reserved, f"{OWN_TAG_PREFIX} tags record what this app deployed; allowed: other keys")
            )
        count = len(config.tags.keys() | extra.keys())
        if count > limits.AWS_TAGS_MAX:
            problems.append(
                CrossFieldError(
                    key,
                    f"{len(extra)} tags",
                    f"with `tags`, {count} tags on one resource, and AWS allows {limits.AWS_TAGS_MAX}; allowed: at most "
                    f"{limits.AWS_TAGS_MAX} keys in `tags` and {key} together",
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


# Selector-term fields that must not be empty. Karpenter patches from October 2026 on (PATCHES_IGNORING_EMPTY_SELECTOR_FIELDS)
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
                            f"{empty} in a selector term: Karpenter patches from October 2026 on ({', '.join(PATCHES_IGNORING_EMPTY_SELECTOR_FIELDS)}) "
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
