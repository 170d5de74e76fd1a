"""Karpenter releases as data: one profile per release, which every layer reads.

A profile holds what differs between releases and is not already in upstream's own files: the
API version the release stores, the Kubernetes minors it supports, whether its webhooks run, the
NodePool checks of its controller, where its charts are published. Everything else (CRDs, IAM
policies, node role policies, interruption rules, CRD defaults) is read from the upstream files
under `data/<version>/`. Adding a release means adding its data and one profile.

No module outside this package names a release, keys a table by one, or compares versions
(tests/test_releases.py::test_profiles_are_data_only): what differs between releases is asked of
the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml

from karpenter_model.releases.cloudformation import Template, load_template
from karpenter_model.releases.node_pool_rules import NODE_POOL_RULES_V0_37, NODE_POOL_RULES_V1_14, NodePoolRules

DATA = Path(__file__).parent / "data"


def read_yaml(path: Path) -> Any:
    """One of upstream's YAML files, parsed (libyaml's safe loader when present: 10x faster)."""
    text = path.read_text()
    return yaml.load(text, Loader=yaml.CSafeLoader) if yaml.__with_libyaml__ else yaml.safe_load(text)


@dataclass(frozen=True)
class ControllerPolicyName:
    """How this app addresses and names one of upstream's controller policies."""

    address: str  # Terraform name: aws_iam_policy.<address>, aws_iam_role_policy_attachment.<address>
    suffix: str  # physical name: <prefix><suffix>


@dataclass(frozen=True)
class InterruptionRuleName:
    key: str  # Terraform names karpenter_interruption_<key>[_target]; physical name <queue>-<key with hyphens>
    description: str


# Upstream's CloudFormation logical ids -> this app's names. karpenter.tf's names are kept where it had them.
CONTROLLER_POLICY_NAMES = {
    "KarpenterControllerPolicy": ControllerPolicyName("karpenter_controller", "-karpenter-controller"),
    "NodeLifecyclePolicy": ControllerPolicyName("karpenter_controller_node_lifecycle", "-karpenter-node-lifecycle"),
    "IAMIntegrationPolicy": ControllerPolicyName("karpenter_controller_iam_integration", "-karpenter-iam-integration"),
    "EKSIntegrationPolicy": ControllerPolicyName("karpenter_controller_eks_integration", "-karpenter-eks-integration"),
    "InterruptionPolicy": ControllerPolicyName("karpenter_controller_interruption", "-karpenter-interruption"),
    "ResourceDiscoveryPolicy": ControllerPolicyName("karpenter_controller_resource_discovery", "-karpenter-resource-discovery"),
    "ZonalShiftPolicy": ControllerPolicyName("karpenter_controller_zonal_shift", "-karpenter-zonal-shift"),
}
INTERRUPTION_RULE_NAMES = {
    "SpotInterruptionRule": InterruptionRuleName("spot", "Karpenter: EC2 Spot Instance Interruption Warning"),
    "RebalanceRule": InterruptionRuleName("rebalance", "Karpenter: EC2 Instance Rebalance Recommendation"),
    "InstanceStateChangeRule": InterruptionRuleName("state_change", "Karpenter: EC2 Instance State-change Notification"),
    "ScheduledChangeRule": InterruptionRuleName("health_event", "Karpenter: AWS Health Event (scheduled changes)"),
    "CapacityReservationInterruptionRule": InterruptionRuleName(
        "capacity_reservation", "Karpenter: EC2 Capacity Reservation Instance Interruption Warning"
    ),
}

NODE_POOL_GROUP = "karpenter.sh"
NODE_CLASS_GROUP = "karpenter.k8s.aws"
# Where upstream publishes the `karpenter` and `karpenter-crd` charts: its OCI registry since 0.17 (upgrade-guide.md;
# https://charts.karpenter.sh before), a profile field so that a release published elsewhere can say so.
CHART_REPOSITORY = "oci://public.ecr.aws/karpenter"
# What EC2 uses for the IMDS hop limit when a launch template leaves it out.
EC2_DEFAULT_HOP_LIMIT = 1
# Karpenter patches that ignore a selector term with an empty field (released October 2026, after the
# releases shipped here): a config with such a term is refused, so it keeps its meaning after an upgrade.
PATCHES_IGNORING_EMPTY_SELECTOR_FIELDS = ("1.9.4", "1.14.4", "1.15.3")


@dataclass(frozen=True)
class InterruptionRule:
    key: str
    description: str
    pattern: dict[str, Any]


@dataclass(frozen=True)
class ReleaseProfile:
    version: str
    api_version: Literal["v1beta1", "v1"]  # what the release stores, and what our manifests are written in
    kubernetes_minors: tuple[int, int]  # 1.<first> to 1.<last>, inclusive, from upstream's compatibility matrix
    webhooks: bool  # the controller serves its admission and conversion webhooks (the CRD chart points at them)
    node_pool_rules: NodePoolRules  # the controller's NodePool.RuntimeValidate tables
    # The running releases this one may replace in one deploy, as upstream's upgrade guides document them
    # (STEP_SOURCES says where); anything else is refused at plan time, and a fresh install is always allowed.
    follows: tuple[str, ...] = ()
    # NodeClaims carry the EC2NodeClass's name as the karpenter.k8s.aws/ec2nodeclass label (from 1.1), so it
    # must be a valid label value (the NodePool's name always is one: karpenter.sh/nodepool).
    node_class_name_is_label: bool = False
    chart_repository: str = CHART_REPOSITORY
    controller_chart: str = "karpenter"
    crd_chart: str = "karpenter-crd"

    @property
    def data_dir(self) -> Path:
        return DATA / self.version

    @property
    def chart_version(self) -> str:
        """Both charts, `karpenter` and `karpenter-crd`, are published at the release's version."""
        return self.version

    @cached_property
    def chart_values(self) -> dict[str, Any]:
        """The `karpenter` chart's own values.yaml: which values exist, and their defaults."""
        values: dict[str, Any] = read_yaml(self.data_dir / "chart-values.yaml")
        return values

    @property
    def minor(self) -> str:
        """`0.37` for 0.37.2: how upstream's guides name a release line."""
        return ".".join(self.version.split(".")[:2])

    @property
    def node_pool_api(self) -> str:
        return f"{NODE_POOL_GROUP}/{self.api_version}"

    @property
    def node_class_api(self) -> str:
        return f"{NODE_CLASS_GROUP}/{self.api_version}"

    @property
    def crd_names(self) -> tuple[str, ...]:
        """Every CRD the release's `karpenter-crd` chart installs: `<group>_<plural>.yaml` is `<plural>.<group>`."""
        files = sorted((self.data_dir / "crds").glob("*.yaml"))
        return tuple(f"{plural}.{group}" for group, plural in (path.stem.split("_", 1) for path in files))

    @cached_property
    def served_versions(self) -> dict[str, tuple[str, ...]]:
        """For each CRD, the API versions the release's CRDs serve: a stored version outside them blocks the upgrade."""
        served = {}
        for name, path in zip(self.crd_names, sorted((self.data_dir / "crds").glob("*.yaml")), strict=True):
            crd = read_yaml(path)
            served[name] = tuple(version["name"] for version in crd["spec"]["versions"] if version["served"])
        return served

    def crd(self, file_stem: str) -> Any:
        """One of the release's CRD files (`<group>_<plural>`), parsed."""
        return read_yaml(self.data_dir / "crds" / f"{file_stem}.yaml")

    @cached_property
    def recommended_hop_limit(self) -> int:
        """The lowest `metadataOptions.httpPutResponseHopLimit` default of the EC2NodeClass CRD's versions."""
        return lowest_default_hop_limit(self.crd(f"{NODE_CLASS_GROUP}_ec2nodeclasses"))

    @cached_property
    def node_pool_reports_conditions(self) -> bool:
        """The NodePool, in the version the release stores, has status conditions (v1beta1's has none)."""
        crd = self.crd(f"{NODE_POOL_GROUP}_nodepools")
        (stored,) = [v for v in crd["spec"]["versions"] if v["name"] == self.api_version]
        return "conditions" in stored["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]

    def supports(self, kubernetes_minor: int) -> bool:
        first, last = self.kubernetes_minors
        return first <= kubernetes_minor <= last

    @cached_property
    def _template(self) -> Template:
        return load_template(self.data_dir / "cloudformation.yaml")

    @property
    def controller_policies(self) -> dict[ControllerPolicyName, dict[str, Any]]:
        """Upstream's controller policy documents, `${...}` placeholders unfilled, in template order."""
        return {CONTROLLER_POLICY_NAMES[logical_id]: document for logical_id, document in self._template.managed_policies.items()}

    @property
    def node_role_policy_arns(self) -> tuple[str, ...]:
        return self._template.node_role_policy_arns

    @property
    def interruption_rules(self) -> tuple[InterruptionRule, ...]:
        """In one fixed order across releases, so a release that adds a rule adds it at the end."""
        patterns = self._template.interruption_rules
        unknown = set(patterns) - set(INTERRUPTION_RULE_NAMES)
        if unknown:
            raise KeyError(f"Karpenter {self.version}: no name for the interruption rules {sorted(unknown)}")
        return tuple(
            InterruptionRule(name.key, name.description, patterns[logical_id])
            for logical_id, name in INTERRUPTION_RULE_NAMES.items()
            if logical_id in patterns
        )


PROFILES = {
    profile.version: profile
    for profile in (
        ReleaseProfile(
            "0.37.2",
            api_version="v1beta1",
            kubernetes_minors=(23, 30),
            webhooks=False,
            node_pool_rules=NODE_POOL_RULES_V0_37,
            follows=("0.37.8",),
        ),
        ReleaseProfile(
            "0.37.8",
            api_version="v1beta1",
            kubernetes_minors=(23, 30),
            webhooks=True,
            node_pool_rules=NODE_POOL_RULES_V0_37,
            follows=("0.37.2", "1.0.14"),
        ),
        ReleaseProfile(
            "1.0.14",
            api_version="v1",
            kubernetes_minors=(24, 31),
            webhooks=True,
            node_pool_rules=NODE_POOL_RULES_V0_37,
            follows=("0.37.8",),
        ),
        ReleaseProfile(
            "1.14.1",
            api_version="v1",
            kubernetes_minors=(30, 36),
            webhooks=False,
            node_pool_rules=NODE_POOL_RULES_V1_14,
            follows=("1.0.14",),
            node_class_name_is_label=True,
        ),
    )
}
DEFAULT_VERSION = "0.37.2"

# Where each step of `follows` is documented (files under tests/reference/karpenter-<version>/docs, as upstream ships them).
STEP_SOURCES = {
    ("0.37.2", "0.37.8"): "1.0.14 v1-migration.md, Upgrade Procedure step 3: first the latest patch of the current minor",
    ("0.37.8", "1.0.14"): "1.0.14 v1-migration.md, Upgrade Procedure steps 7-10: from that patch, with webhooks on, to 1.0.x",
    ("1.0.14", "1.14.1"): "1.14.1 upgrade-guide.md: 1.1.0+ only after the v1 migration (every manifest and stored object v1)",
    ("1.0.14", "0.37.8"): "1.0.14 v1-migration.md, Downgrading: back from 1.0.x only to the latest patch, webhooks on",
    ("0.37.8", "0.37.2"): "0.37.8 upgrade-guide.md: 0.36+ rolls back within the patch releases that support rollback (same API)",
}


def lowest_default_hop_limit(node_class_crd: dict[str, Any]) -> int:
    """The lowest `metadataOptions.httpPutResponseHopLimit` default of the CRD's versions; EC2's if none sets one."""
    limits = []
    for served in node_class_crd["spec"]["versions"]:
        options = served["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].get("metadataOptions", {})
        default = options.get("default", {}).get("httpPutResponseHopLimit")
        if isinstance(default, int):
            limits.append(default)
    return min(limits) if limits else EC2_DEFAULT_HOP_LIMIT


def next_step(version: str) -> str | None:
    """The release a documented upgrade goes to from `version` (the lowest newer release that follows it), if any."""
    newer = [p.version for p in PROFILES.values() if version in p.follows and _version_key(p.version) > _version_key(version)]
    return min(newer, key=_version_key, default=None)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def release_for_kubernetes() -> dict[int, str]:
    """For each Kubernetes minor some release supports, the newest release that supports it."""
    choice: dict[int, str] = {}
    for profile in sorted(PROFILES.values(), key=lambda p: _version_key(p.version)):
        first, last = profile.kubernetes_minors
        for minor in range(first, last + 1):
            choice[minor] = profile.version
    return choice
