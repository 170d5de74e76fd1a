"""The one typed configuration model, loaded from YAML.

Everything the stacks build is derived from a `KarpenterConfig`. Unknown keys are errors, so a
typo never falls back to a default; cross-field checks catch settings that would synthesize
but could not work on a real cluster.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from karpenter_model.base import CrossFieldError, Strict
from karpenter_model.naming import NAME_LIMITS, ResourceNames
from karpenter_model.releases import DEFAULT_VERSION, PROFILES, ReleaseProfile
from karpenter_model.karpenter_api import (
    LABEL_KEY,
    LABEL_VALUE,
    QUANTITY,
    EC2NodeClassSpec,
    NodePoolSpec,
    cpu_cores,
    quantities_as_strings,
)

DISCOVERY_TAG = "karpenter.sh/discovery"

# EKS cluster names: 1-100 characters, alphanumerics, hyphens and underscores, starting alphanumeric.
ClusterName = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][A-Za-z0-9\-_]*$", max_length=100)]
# Prefix for every name we create; the strictest consumer is an EventBridge rule name ([.\-_A-Za-z0-9]+).
NamePrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]*$", max_length=64)]
# RFC 1123 label: Kubernetes namespace and service account names.
DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
AwsRegion = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
SubnetId = Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$")]
SecurityGroupId = Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]+$")]
Thumbprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{40}$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$")]



class AwsSettings(Strict):
    """Provider settings. `endpoints` points services at another URL (a local AWS such as moto)."""

    endpoints: dict[Literal["ec2", "eks", "events", "iam", "sqs", "sts"], Url] = {}
    skip_credentials_validation: bool = False
    skip_metadata_api_check: bool = False
    skip_region_validation: bool = False


class OidcSettings(Strict):
    """Thumbprints given here replace the `tls_certificate` lookup of the issuer at plan time."""

    thumbprints: Annotated[list[Thumbprint], Field(max_length=5)] = []


class Resources(Strict):
    requests: dict[Literal["cpu", "memory"], Annotated[str, StringConstraints(pattern=QUANTITY)]] = {}
    limits: dict[Literal["cpu", "memory"], Annotated[str, StringConstraints(pattern=QUANTITY)]] = {}

    _quantities = field_validator("requests", "limits", mode="before")(quantities_as_strings)


class KarpenterSettings(Strict):
    version: str = DEFAULT_VERSION  # one of the release profiles (karpenter_model.releases)
    namespace: DnsLabel = "karpenter"
    create_namespace: bool = True
    service_account: DnsLabel = "karpenter"
    replicas: Annotated[int, Field(ge=1, le=10)] = 2
    resources: Resources = Resources(
        requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1", "memory": "1Gi"}
    )
    log_level: Literal["debug", "info", "error"] = "info"
    helm_timeout_seconds: Annotated[int, Field(ge=60, le=3600)] = 600

    @field_validator("version")
    @classmethod
    def _known_release(cls, version: str) -> str:
        if version not in PROFILES:
            raise ValueError(f"no profile for that Karpenter release; allowed: {', '.join(map(repr, PROFILES))}")
        return version

    @model_validator(mode="after")
    def _kube_system_exists(self) -> KarpenterSettings:
        if self.create_namespace and self.namespace in ("kube-system", "default"):
            raise CrossFieldError(
                "karpenter.create_namespace",
                self.create_namespace,
                f"namespace {self.namespace!r} always exists and must not be created or deleted; allowed: false",
            )
        return self


class InterruptionQueueSettings(Strict):
    message_retention_seconds: Annotated[int, Field(ge=60, le=1_209_600)] = 300


class NodeRoleSettings(Strict):
    """`access_entry: false` for clusters that still map node roles in the aws-auth ConfigMap."""

    access_entry: bool = True


class DiscoverySettings(Strict):
    """What gets the discovery tag. Empty lists mean the cluster's own subnets and cluster security group.

    `manage_tags: false` leaves tagging to the configuration that owns the subnets and security
    groups (e.g. a vpc.tf that already sets the tag): two configurations managing one tag fight.
    """

    manage_tags: bool = True
    subnet_ids: list[SubnetId] = []
    security_group_ids: list[SecurityGroupId] = []


class NodeGroupTaint(Strict):
    key: Annotated[str, StringConstraints(pattern=LABEL_KEY, max_length=63)]
    value: Annotated[str, StringConstraints(pattern=LABEL_VALUE, max_length=63)] = ""
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]

    @property
    def kubernetes_effect(self) -> str:
        return {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}[self.effect]


class SystemNodeGroupSettings(Strict):
    instance_types: Annotated[list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+\.[a-z0-9]+$")]], Field(min_length=1)] = [
        "t3.medium"
    ]
    ami_type: Literal[
        "AL2_x86_64", "AL2_ARM_64", "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"
    ] = "AL2023_x86_64_STANDARD"
    disk_size: Annotated[int, Field(ge=20, le=16384)] = 20
    min_size: Annotated[int, Field(ge=1)] = 1
    desired_size: Annotated[int, Field(ge=1)] = 1
    max_size: Annotated[int, Field(ge=1)] = 2
    subnet_ids: list[SubnetId] = []
    labels: dict[Annotated[str, StringConstraints(pattern=LABEL_KEY)], Annotated[str, StringConstraints(pattern=LABEL_VALUE)]] = {
        "role": "system"
    }
    taints: list[NodeGroupTaint] = [NodeGroupTaint(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")]

    @model_validator(mode="after")
    def _sizes(self) -> SystemNodeGroupSettings:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"sizes must satisfy min_size <= desired_size <= max_size, got {self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        if not self.labels:
            raise ValueError("labels: at least one label is needed to pin the Karpenter controller to this node group")
        return self


# Terraform state backends, one state per stack. Stack names carry the environment.
RelativeDir = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/?$", max_length=200)]
KeyPrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", max_length=200)]
Address = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[\"[^\"]+\"\])?$")]
RuleName = Annotated[str, StringConstraints(pattern=r"^[\.\-_A-Za-z0-9]{1,64}$")]


class LocalBackendSettings(Strict):
    """State files `terraform.<stack>.tfstate` in `directory`, relative to the project (never inside cdktf.out/)."""

    type: Literal["local"] = "local"
    directory: RelativeDir = "."

    @field_validator("directory")
    @classmethod
    def _inside_project(cls, directory: str) -> str:
        if ".." in directory.split("/"):
            raise ValueError("must stay inside the project: a relative path without '..'")
        return directory


class S3BackendSettings(Strict):
    """One object per stack: `s3://<bucket>/<key_prefix>/<stack>.tfstate`, encrypted and locked."""

    type: Literal["s3"]
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    key_prefix: KeyPrefix = "karpenter"
    region: AwsRegion
    encrypt: Literal[True] = True
    kms_key_id: Annotated[str, StringConstraints(min_length=1)] | None = None
    use_lockfile: bool = True
    dynamodb_table: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,255}$")] | None = None

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
    organization: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]
    hostname: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+$")] = "app.terraform.io"
    workspace_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]*$", max_length=60)] = "karpenter-"
    project: Annotated[str, StringConstraints(min_length=1)] | None = None


class NameOverrides(Strict):
    """Physical names to keep when adopting resources an earlier configuration created (renaming replaces them)."""

    system_node_group: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,62}$")] | None = None
    system_node_role: Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{1,64}$")] | None = None
    interruption_rules: dict[Literal["spot", "rebalance", "state_change", "health_event"], RuleName] = {}


class AdoptionSettings(Strict):
    """Taking over an existing state (e.g. one karpenter.tf applied) without replacing what it created.

    `moved`: address in the existing state -> address in the infra stack (a `moved` block each).
    `imports`: address in the infra stack -> ID of an existing resource not yet in any state (an `import` block each).
    """

    moved: dict[Address, Address] = {}
    imports: dict[Address, Annotated[str, StringConstraints(min_length=1)]] = {}


class NodeClass(Strict):
    name: DnsLabel
    spec: EC2NodeClassSpec


class NodePool(Strict):
    name: DnsLabel
    spec: NodePoolSpec


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
    tags: dict[Annotated[str, StringConstraints(min_length=1, max_length=128)], Annotated[str, StringConstraints(max_length=256)]] = {}
    aws: AwsSettings = AwsSettings()
    oidc: OidcSettings = OidcSettings()
    karpenter: KarpenterSettings = KarpenterSettings()
    interruption_queue: InterruptionQueueSettings = InterruptionQueueSettings()
    node_role: NodeRoleSettings = NodeRoleSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    system_node_group: SystemNodeGroupSettings = SystemNodeGroupSettings()
    node_classes: Annotated[list[NodeClass], Field(min_length=1)]
    node_pools: Annotated[list[NodePool], Field(min_length=1)]

    @property
    def release(self) -> ReleaseProfile:
        return PROFILES[self.karpenter.version]

    @property
    def prefix(self) -> str:
        return self.name_prefix or self.cluster_name

    @property
    def resource_names(self) -> ResourceNames:
        return ResourceNames(self.prefix, self.names)

    def stack_name(self, base: str) -> str:
        """`infra`, or `<environment>-infra`: two environments never share a stack, a state or a workspace."""
        return f"{self.environment}-{base}" if self.environment else base

    @model_validator(mode="after")
    def _name_lengths(self) -> KarpenterConfig:
        field = "name_prefix" if self.name_prefix else "cluster_name"
        for what, (suffix, limit) in NAME_LIMITS.items():
            if len(self.prefix) + len(suffix) > limit:
                raise CrossFieldError(
                    field,
                    self.prefix,
                    f"too long: the {what} name {self.prefix + suffix!r} has {len(self.prefix) + len(suffix)} "
                    f"characters and AWS allows {limit}; allowed: a name_prefix of at most {limit - len(suffix)} characters",
                )
        return self

    @model_validator(mode="after")
    def _controller_fits_system_nodes(self) -> KarpenterConfig:
        # The chart requires hostname anti-affinity between controller pods (trap 3).
        if self.karpenter.replicas > self.system_node_group.min_size:
            raise CrossFieldError(
                "karpenter.replicas",
                self.karpenter.replicas,
                f"system_node_group.min_size is {self.system_node_group.min_size} and the chart's required hostname "
                "anti-affinity leaves each extra replica Pending, so the Helm release times out; "
                "allowed: replicas <= system_node_group.min_size",
            )
        return self

    @model_validator(mode="after")
    def _node_classes_fit_infra(self) -> KarpenterConfig:
        _require_unique_names("node_classes", self.node_classes)
        for index, node_class in enumerate(self.node_classes):
            where = f"node_classes[{index}].spec"
            role = node_class.spec.role
            if role is not None and role != self.resource_names.node_role:
                raise CrossFieldError(
                    f"{where}.role",
                    role,
                    "the controller policy may only pass the infra stack's node role to EC2; "
                    f"allowed: {self.resource_names.node_role!r}, or omit role to get it",
                )
            for kind, terms in (
                ("subnetSelectorTerms", node_class.spec.subnetSelectorTerms),
                ("securityGroupSelectorTerms", node_class.spec.securityGroupSelectorTerms),
            ):
                for term_index, term in enumerate(terms):
                    value = (term.tags or {}).get(DISCOVERY_TAG)
                    if value is not None and value != self.cluster_name:
                        raise CrossFieldError(
                            f"{where}.{kind}[{term_index}].tags['karpenter.sh/discovery']",
                            value,
                            f"the infra stack tags subnets and security groups with the cluster name; allowed: {self.cluster_name!r}",
                        )
        return self

    @model_validator(mode="after")
    def _node_pools_reference_classes(self) -> KarpenterConfig:
        _require_unique_names("node_pools", self.node_pools)
        classes = {c.name for c in self.node_classes}
        for index, pool in enumerate(self.node_pools):
            ref = pool.spec.template.spec.nodeClassRef.name
            if ref not in classes:
                raise CrossFieldError(
                    f"node_pools[{index}].spec.template.spec.nodeClassRef.name",
                    ref,
                    f"no node class has that name; allowed: {sorted(classes)}",
                )
        return self

    def warnings(self) -> list[str]:
        """Legal settings that rarely mean what they say; printed, not fatal."""
        found = []
        for index, pool in enumerate(self.node_pools):
            cpu = (pool.spec.limits or {}).get("cpu")
            if cpu is not None and cpu.endswith("m") and cpu_cores(cpu) < 4:
                found.append(
                    f"node_pools[{index}].spec.limits.cpu is {cpu!r}: that is {cpu_cores(cpu):g} vCPU for the whole pool"
                )
        return found


def _require_unique_names(key: str, items: list[NodeClass] | list[NodePool]) -> None:
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CrossFieldError(f"{key}[*].name", duplicates, "names must be unique")


