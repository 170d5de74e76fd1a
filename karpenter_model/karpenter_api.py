"""Typed Karpenter v1beta1 `EC2NodeClass` and `NodePool` specs, checked like the API server would.

The Karpenter 0.37.2 CRDs store v1beta1; v1 objects need the conversion webhook the chart leaves
off. Every enum, pattern, bound and CEL rule here comes from the upstream CRDs
(`shared/reference/karpenter-0.37.2/cel-rules.md`), so a spec that passes synth is one the
cluster accepts. Field names stay camelCase, as in the CRDs, so users can paste from the docs.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

# -- patterns copied from the CRD openAPIV3Schema ---------------------------------------------
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?"
    r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
# The CRD writes `^(([0-9]+(s|m|h))+)|(Never)$`, whose `|` leaves `30sec` matching; Karpenter's
# duration parser rejects it at run time, so we anchor both alternatives.
DURATION = r"^(([0-9]+(s|m|h))+|Never)$"
BUDGET_NODES = r"^((100|[0-9]{1,2})%|[0-9]+)$"
BUDGET_SCHEDULE = r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\s(.+)\s(.+)\s(.+)\s(.+))$"
BUDGET_DURATION = r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$"
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
VOLUME_SIZE = (
    r"^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|"
    r"[6][0-3][0-9]{3}|64000)G|([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$"
)

# Label keys Karpenter lets NodePools use inside otherwise restricted domains (CEL rules 4-9, 23-28).
WELL_KNOWN_K8S_LABELS = frozenset(
    {
        "beta.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "node.kubernetes.io/windows-build",
    }
)
WELL_KNOWN_AWS_LABELS = frozenset(
    "karpenter.k8s.aws/" + name
    for name in (
        "instance-encryption-in-transit-supported",
        "instance-category",
        "instance-hypervisor",
        "instance-family",
        "instance-generation",
        "instance-local-nvme",
        "instance-size",
        "instance-cpu",
        "instance-cpu-manufacturer",
        "instance-memory",
        "instance-ebs-bandwidth",
        "instance-network-bandwidth",
        "instance-gpu-name",
        "instance-gpu-manufacturer",
        "instance-gpu-count",
        "instance-gpu-memory",
        "instance-accelerator-name",
        "instance-accelerator-manufacturer",
        "instance-accelerator-count",
    )
)
EVICTION_SIGNALS = frozenset(
    {"memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree", "pid.available"}
)
RESERVED_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage", "pid"})
RESTRICTED_TAG_KEYS = ("karpenter.sh/nodepool", "karpenter.sh/managed-by", "karpenter.sh/nodeclaim", "karpenter.k8s.aws/ec2nodeclass")

Quantity = Annotated[str, StringConstraints(pattern=QUANTITY)]
Duration = Annotated[str, StringConstraints(pattern=DURATION)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY, max_length=316)]
LabelValue = Annotated[str, StringConstraints(pattern=LABEL_VALUE, max_length=63)]
TagMap = Annotated[dict[str, str], Field(max_length=20)]


class Strict(BaseModel):
    """Unknown fields are errors: the API server would reject or silently prune them."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _domain(key: str) -> str:
    return key.split("/", 1)[0]


def check_label_domain(key: str) -> str:
    """CEL rules 4-9 (template labels) and 23-28 (requirement keys) of the NodePool CRD."""
    domain = _domain(key)
    if key in ("karpenter.sh/nodepool", "kubernetes.io/hostname"):
        raise ValueError(f'label "{key}" is restricted')
    if domain.endswith("kubernetes.io") and key not in WELL_KNOWN_K8S_LABELS and not (
        domain.endswith("node.kubernetes.io") or domain.endswith("node-restriction.kubernetes.io")
    ):
        raise ValueError('label domain "kubernetes.io" is restricted')
    if domain.endswith("k8s.io") and not domain.endswith("kops.k8s.io"):
        raise ValueError('label domain "k8s.io" is restricted')
    if domain.endswith("karpenter.sh") and key != "karpenter.sh/capacity-type":
        raise ValueError('label domain "karpenter.sh" is restricted')
    if domain.endswith("karpenter.k8s.aws") and key not in WELL_KNOWN_AWS_LABELS:
        raise ValueError('label domain "karpenter.k8s.aws" is restricted')
    return key


def quantities_as_strings(values: object) -> object:
    """Quantities are int-or-string in Kubernetes: `cpu: 100` means "100"; keep strings so both render alike."""
    if isinstance(values, dict):
        return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in values.items()}
    return values


def _check_tags_not_empty(tags: dict[str, str] | None) -> dict[str, str] | None:
    if tags is not None and any(k == "" or v == "" for k, v in tags.items()):
        raise ValueError("empty tag keys or values aren't supported")
    return tags


# -- EC2NodeClass -----------------------------------------------------------------------------


class SubnetSelectorTerm(Strict):
    tags: TagMap | None = None
    id: Annotated[str, StringConstraints(pattern=r"subnet-[0-9a-z]+")] | None = None

    _tags = field_validator("tags")(_check_tags_not_empty)


class SecurityGroupSelectorTerm(Strict):
    tags: TagMap | None = None
    id: Annotated[str, StringConstraints(pattern=r"sg-[0-9a-z]+")] | None = None
    name: str | None = None

    _tags = field_validator("tags")(_check_tags_not_empty)


class AMISelectorTerm(Strict):
    tags: TagMap | None = None
    id: Annotated[str, StringConstraints(pattern=r"ami-[0-9a-z]+")] | None = None
    name: str | None = None
    owner: str | None = None

    _tags = field_validator("tags")(_check_tags_not_empty)

    @model_validator(mode="before")
    @classmethod
    def _no_alias(cls, data: object) -> object:
        if isinstance(data, dict) and "alias" in data:
            raise ValueError(
                f"alias {data['alias']!r}: 'alias' exists only in the karpenter.k8s.aws/v1 API; v1beta1 (what Karpenter "
                "0.37.2 stores) selects AMIs by amiFamily plus optional id, name, owner or tags"
            )
        return data


class BlockDeviceEBS(Strict):
    volumeSize: Annotated[str, StringConstraints(pattern=VOLUME_SIZE)] | None = None
    volumeType: Literal["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"] | None = None
    iops: Annotated[int, Field(ge=0)] | None = None
    throughput: Annotated[int, Field(ge=0)] | None = None
    encrypted: bool | None = None
    deleteOnTermination: bool | None = None
    kmsKeyID: str | None = None
    snapshotID: str | None = None

    @field_validator("volumeSize", mode="before")
    @classmethod
    def _size_is_string(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f'volumeSize is a quantity string with a unit, e.g. "{value}Gi", not a bare number')
        return value

    @model_validator(mode="after")
    def _size_or_snapshot(self) -> BlockDeviceEBS:
        if self.snapshotID is None and self.volumeSize is None:
            raise ValueError("snapshotID or volumeSize must be defined")
        return self


class BlockDeviceMapping(Strict):
    deviceName: str | None = None
    ebs: BlockDeviceEBS | None = None
    rootVolume: bool | None = None


class MetadataOptions(Strict):
    httpEndpoint: Literal["enabled", "disabled"] | None = None
    httpProtocolIPv6: Literal["enabled", "disabled"] | None = None
    httpPutResponseHopLimit: Annotated[int, Field(ge=1, le=64)] | None = None
    httpTokens: Literal["required", "optional"] | None = None


class EC2NodeClassSpec(Strict):
    amiFamily: Literal["AL2", "AL2023", "Bottlerocket", "Ubuntu", "Custom", "Windows2019", "Windows2022"]
    role: Annotated[str, StringConstraints(min_length=1)] | None = None
    subnetSelectorTerms: Annotated[list[SubnetSelectorTerm], Field(min_length=1, max_length=30)]
    securityGroupSelectorTerms: Annotated[list[SecurityGroupSelectorTerm], Field(min_length=1, max_length=30)]
    amiSelectorTerms: Annotated[list[AMISelectorTerm], Field(max_length=30)] | None = None
    blockDeviceMappings: Annotated[list[BlockDeviceMapping], Field(max_length=50)] | None = None
    metadataOptions: MetadataOptions | None = None
    tags: dict[str, str] | None = None
    userData: str | None = None
    detailedMonitoring: bool | None = None
    associatePublicIPAddress: bool | None = None
    instanceStorePolicy: Literal["RAID0"] | None = None
    context: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_instance_profile(cls, data: object) -> object:
        if isinstance(data, dict) and "instanceProfile" in data:
            raise ValueError(
                f"instanceProfile is not supported here (got {data['instanceProfile']!r}): node classes use 'role' (the "
                "infra stack's node role, the only role the controller policy may pass to EC2)"
            )
        return data

    @field_validator("subnetSelectorTerms")
    @classmethod
    def _subnet_terms(cls, terms: list[SubnetSelectorTerm]) -> list[SubnetSelectorTerm]:
        if not all(t.tags is not None or t.id is not None for t in terms):
            raise ValueError("expected at least one, got none, ['tags', 'id']")
        if all(t.id is not None and t.tags is not None for t in terms):
            raise ValueError("'id' is mutually exclusive, cannot be set with a combination of other fields in subnetSelectorTerms")
        return terms

    @field_validator("securityGroupSelectorTerms")
    @classmethod
    def _security_group_terms(cls, terms: list[SecurityGroupSelectorTerm]) -> list[SecurityGroupSelectorTerm]:
        if not all(t.tags is not None or t.id is not None or t.name is not None for t in terms):
            raise ValueError("expected at least one, got none, ['tags', 'id', 'name']")
        if all(t.id is not None and (t.tags is not None or t.name is not None) for t in terms):
            raise ValueError(
                "'id' is mutually exclusive, cannot be set with a combination of other fields in securityGroupSelectorTerms"
            )
        if all(t.name is not None and (t.tags is not None or t.id is not None) for t in terms):
            raise ValueError(
                "'name' is mutually exclusive, cannot be set with a combination of other fields in securityGroupSelectorTerms"
            )
        return terms

    @field_validator("amiSelectorTerms")
    @classmethod
    def _ami_terms(cls, terms: list[AMISelectorTerm] | None) -> list[AMISelectorTerm] | None:
        if terms is None:
            return terms
        if not all(t.tags is not None or t.id is not None or t.name is not None for t in terms):
            raise ValueError("expected at least one, got none, ['tags', 'id', 'name']")
        if terms and all(t.id is not None and (t.tags is not None or t.name is not None or t.owner is not None) for t in terms):
            raise ValueError("'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms")
        return terms

    @field_validator("blockDeviceMappings")
    @classmethod
    def _one_root_volume(cls, mappings: list[BlockDeviceMapping] | None) -> list[BlockDeviceMapping] | None:
        if mappings is not None and sum(1 for m in mappings if m.rootVolume) > 1:
            raise ValueError("must have only one blockDeviceMappings with rootVolume")
        return mappings

    @field_validator("tags")
    @classmethod
    def _restricted_tags(cls, tags: dict[str, str] | None) -> dict[str, str] | None:
        for key in tags or {}:
            if key == "":
                raise ValueError("empty tag keys aren't supported")
            if key.startswith("kubernetes.io/cluster"):
                raise ValueError(f"tag {key!r} contains a restricted tag matching kubernetes.io/cluster/")
            if key in RESTRICTED_TAG_KEYS:
                raise ValueError(f"tag {key!r}: tag contains a restricted tag matching {key}")
        return tags

    @model_validator(mode="after")
    def _custom_needs_ami_terms(self) -> EC2NodeClassSpec:
        if self.amiFamily == "Custom" and not self.amiSelectorTerms:
            raise ValueError("amiSelectorTerms is required when amiFamily == 'Custom'")
        return self


# -- NodePool ---------------------------------------------------------------------------------


class Budget(Strict):
    nodes: Annotated[str, StringConstraints(pattern=BUDGET_NODES)] = "10%"
    schedule: Annotated[str, StringConstraints(pattern=BUDGET_SCHEDULE)] | None = None
    duration: Annotated[str, StringConstraints(pattern=BUDGET_DURATION)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_reasons(cls, data: object) -> object:
        if isinstance(data, dict) and "reasons" in data:
            raise ValueError("budget 'reasons' exists only in the karpenter.sh/v1 API, not in v1beta1")
        return data


class Disruption(Strict):
    consolidationPolicy: Literal["WhenEmpty", "WhenUnderutilized"] | None = None
    consolidateAfter: Duration | None = None
    expireAfter: Duration | None = None
    budgets: Annotated[list[Budget], Field(max_length=50)] | None = None

    @field_validator("consolidationPolicy", mode="before")
    @classmethod
    def _v1_policy(cls, value: object) -> object:
        if value == "WhenEmptyOrUnderutilized":
            raise ValueError("WhenEmptyOrUnderutilized exists only in the karpenter.sh/v1 API; v1beta1 allows WhenEmpty or WhenUnderutilized")
        return value

    @field_validator("budgets")
    @classmethod
    def _schedule_with_duration(cls, budgets: list[Budget] | None) -> list[Budget] | None:
        if budgets is not None and not all((b.schedule is None) == (b.duration is None) for b in budgets):
            raise ValueError("'schedule' must be set with 'duration'")
        return budgets

    @model_validator(mode="after")
    def _consolidation_rules(self) -> Disruption:
        policy = self.consolidationPolicy or "WhenUnderutilized"  # CRD default applies before CEL
        if self.consolidateAfter is not None and policy == "WhenUnderutilized" and self.consolidateAfter != "Never":
            raise ValueError(
                f"consolidateAfter {self.consolidateAfter!r} cannot be combined with consolidationPolicy=WhenUnderutilized "
                "(drop consolidateAfter, set it to 'Never', or use consolidationPolicy=WhenEmpty)"
            )
        if policy == "WhenEmpty" and self.consolidateAfter is None:
            raise ValueError(
                "consolidationPolicy 'WhenEmpty' without consolidateAfter: consolidateAfter must be specified "
                "with consolidationPolicy=WhenEmpty (a duration such as 30s, or Never)"
            )
        return self


class NodeSelectorRequirement(Strict):
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[LabelValue] | None = None
    minValues: Annotated[int, Field(ge=1, le=50)] | None = None

    @field_validator("key")
    @classmethod
    def _key_domain(cls, key: str) -> str:
        return check_label_domain(key)

    @model_validator(mode="after")
    def _operator_values(self) -> NodeSelectorRequirement:
        values = self.values or []
        where = f"requirement {self.key!r} with operator {self.operator!r}"
        if self.operator == "In" and not values:
            raise ValueError(f"{where} has no values: requirements with operator 'In' must have a value defined")
        if self.operator in ("Gt", "Lt") and not (len(values) == 1 and values[0].isdigit()):
            raise ValueError(f"{where} has values {values}: requirements operator 'Gt' or 'Lt' must have a single positive integer value")
        if self.operator == "In" and self.minValues is not None and len(values) < self.minValues:
            raise ValueError(
                f"{where} has {len(values)} values and minValues {self.minValues}: requirements with 'minValues' must have "
                "at least that many values specified in the 'values' field"
            )
        return self


class Taint(Strict):
    key: Annotated[str, StringConstraints(pattern=LABEL_KEY, min_length=1)]
    value: Annotated[str, StringConstraints(pattern=LABEL_KEY)] | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeClassRef(Strict):
    name: Annotated[str, StringConstraints(min_length=1)]
    kind: Literal["EC2NodeClass"] = "EC2NodeClass"
    apiVersion: Literal["karpenter.k8s.aws/v1beta1"] = "karpenter.k8s.aws/v1beta1"


EvictionMap = dict[str, str]
ReservedMap = dict[str, Quantity]


class Kubelet(Strict):
    clusterDNS: list[str] | None = None
    maxPods: Annotated[int, Field(ge=0)] | None = None
    podsPerCore: Annotated[int, Field(ge=0)] | None = None
    systemReserved: ReservedMap | None = None
    kubeReserved: ReservedMap | None = None
    evictionHard: EvictionMap | None = None
    evictionSoft: EvictionMap | None = None
    evictionSoftGracePeriod: dict[str, str] | None = None
    evictionMaxPodGracePeriod: int | None = None
    imageGCHighThresholdPercent: Annotated[int, Field(ge=0, le=100)] | None = None
    imageGCLowThresholdPercent: Annotated[int, Field(ge=0, le=100)] | None = None
    cpuCFSQuota: bool | None = None

    @field_validator("systemReserved", "kubeReserved")
    @classmethod
    def _reserved(cls, reserved: dict[str, str] | None) -> dict[str, str] | None:
        for key, value in (reserved or {}).items():
            if key not in RESERVED_RESOURCES:
                raise ValueError(f"valid keys are {sorted(RESERVED_RESOURCES)}, got {key!r}")
            if value.startswith("-"):
                raise ValueError(f"{key} cannot be a negative resource quantity")
        return reserved

    @field_validator("evictionHard", "evictionSoft", "evictionSoftGracePeriod")
    @classmethod
    def _eviction_keys(cls, signals: dict[str, str] | None) -> dict[str, str] | None:
        for key in signals or {}:
            if key not in EVICTION_SIGNALS:
                raise ValueError(f"valid keys are {sorted(EVICTION_SIGNALS)}, got {key!r}")
        return signals

    @model_validator(mode="after")
    def _pairs(self) -> Kubelet:
        high, low = self.imageGCHighThresholdPercent, self.imageGCLowThresholdPercent
        if high is not None and low is not None and high <= low:
            raise ValueError("imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent")
        soft, grace = set(self.evictionSoft or {}), set(self.evictionSoftGracePeriod or {})
        if self.evictionSoft is not None and not soft <= grace:
            raise ValueError("evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod")
        if self.evictionSoftGracePeriod is not None and not grace <= soft:
            raise ValueError("evictionSoftGracePeriod OwnerKey does not have a matching evictionSoft")
        return self


class NodeClaimTemplateSpec(Strict):
    nodeClassRef: NodeClassRef
    requirements: Annotated[list[NodeSelectorRequirement], Field(max_length=100)]
    taints: list[Taint] | None = None
    startupTaints: list[Taint] | None = None
    kubelet: Kubelet | None = None


class TemplateMetadata(Strict):
    labels: Annotated[dict[LabelKey, LabelValue], Field(max_length=100)] | None = None
    annotations: dict[str, str] | None = None

    @field_validator("labels")
    @classmethod
    def _label_domains(cls, labels: dict[str, str] | None) -> dict[str, str] | None:
        for key in labels or {}:
            check_label_domain(key)
        return labels


class NodeClaimTemplate(Strict):
    metadata: TemplateMetadata | None = None
    spec: NodeClaimTemplateSpec


class NodePoolSpec(Strict):
    template: NodeClaimTemplate
    disruption: Disruption | None = None
    limits: dict[str, Annotated[str, StringConstraints(pattern=QUANTITY)]] | None = None
    weight: Annotated[int, Field(ge=1, le=100)] | None = None

    _limits = field_validator("limits", mode="before")(quantities_as_strings)


def cpu_cores(quantity: str) -> float:
    """Kubernetes CPU quantity in cores (`1000m` -> 1.0); only the suffixes CPU quantities use."""
    match = re.fullmatch(r"([0-9.]+)(m?)", quantity)
    if not match:
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "m" else number
