"""Karpenter's NodePool.RuntimeValidate, per release: what the controller checks on NodePools the API
server admitted. A NodePool failing it is skipped by the provisioner (0.37: "nodepool failed
validation") or marked ValidationSucceeded=False and never used (1.x), so it provisions nothing.

Ported from kubernetes-sigs/karpenter pkg/apis/{v1beta1,v1}/{nodepool,nodeclaim}_validation.go and
labels.go (v0.37.2, v0.37.7, v1.0.9, v1.14.1 as pinned by aws/karpenter-provider-aws v0.37.2,
v0.37.8, v1.0.14, v1.14.1), with the provider's additions from its pkg/apis/*/labels.go init().
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._golang import _go_parse_int64, label_value_error, qualified_name_error

_CORE = {
    "karpenter.sh/nodepool",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "karpenter.sh/capacity-type",
    "node.kubernetes.io/windows-build",
}
_AWS_INSTANCE = {
    f"karpenter.k8s.aws/instance-{n}"
    for n in (
        "hypervisor",
        "encryption-in-transit-supported",
        "category",
        "family",
        "generation",
        "size",
        "local-nvme",
        "cpu",
        "cpu-manufacturer",
        "memory",
        "ebs-bandwidth",
        "network-bandwidth",
        "gpu-name",
        "gpu-manufacturer",
        "gpu-count",
        "gpu-memory",
        "accelerator-name",
        "accelerator-manufacturer",
        "accelerator-count",
    )
} | {"topology.k8s.aws/zone-id"}
_AWS_1_14 = _AWS_INSTANCE | {
    f"karpenter.k8s.aws/{n}"
    for n in (
        "capacity-reservation-id",
        "capacity-reservation-type",
        "capacity-reservation-interruptible",
        "instance-capability-flex",
        "instance-cpu-sustained-clock-speed-mhz",
        "instance-tenancy",
        "placement-group-id",
        "placement-group-partition",
    )
}
_NORMALIZED = {
    "failure-domain.beta.kubernetes.io/zone": "topology.kubernetes.io/zone",
    "beta.kubernetes.io/arch": "kubernetes.io/arch",
    "beta.kubernetes.io/os": "kubernetes.io/os",
    "beta.kubernetes.io/instance-type": "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
}
_OPERATORS = ("In", "NotIn", "Gt", "Lt", "Exists", "DoesNotExist")


class Profile:
    """The label tables and rules of one Karpenter generation."""

    def __init__(
        self,
        well_known: set[str],
        domains: set[str],
        exceptions: set[str],
        operators: tuple[str, ...],
        known_values: dict[str, set[str]],
        exact_domains: bool,
    ):
        self.well_known, self.domains, self.exceptions = well_known, domains, exceptions
        self.operators, self.known_values, self.exact_domains = operators, known_values, exact_domains

    def restricted(self, key: str) -> str | None:
        """IsRestrictedLabel."""
        if key in self.well_known:
            return None
        domain = key.split("/", 1)[0] if "/" in key else ""
        if self.exact_domains:  # v1.14: the domain itself or a subdomain of it
            hit = any(domain == d or domain.endswith("." + d) for d in self.domains)
        else:  # v0.37 / v1.0: plain suffixes, with exceptions
            hit = not any(domain.endswith(e) for e in self.exceptions) and any(domain.endswith(d) for d in self.domains)
        if hit or key == "kubernetes.io/hostname":
            return (
                f"label {key} is restricted; specify a well known label or a custom label that does not use a "
                f"restricted domain: {sorted(self.domains)}"
            )
        return None


_OLD_DOMAINS = {"kubernetes.io", "k8s.io", "karpenter.sh", "karpenter.k8s.aws"}
_OLD_EXCEPTIONS = {"kops.k8s.io", "node.kubernetes.io", "node-restriction.kubernetes.io"}
PROFILES = {
    "0.37": Profile(_CORE | _AWS_INSTANCE, _OLD_DOMAINS, _OLD_EXCEPTIONS, _OPERATORS, {}, exact_domains=False),
    "1.0": Profile(_CORE | _AWS_INSTANCE, _OLD_DOMAINS, _OLD_EXCEPTIONS, _OPERATORS, {}, exact_domains=False),
    "1.14": Profile(
        _CORE | _AWS_1_14,
        {"karpenter.sh", "karpenter.k8s.aws"},
        set(),
        _OPERATORS + ("Gte", "Lte"),
        {
            "karpenter.sh/capacity-type": {"on-demand", "spot", "reserved"},
            "karpenter.k8s.aws/instance-tenancy": {"dedicated", "default"},
        },
        exact_domains=True,
    ),
}


def profile_for(release: str) -> Profile | None:
    major_minor = ".".join(release.split(".")[:2])
    return PROFILES.get(major_minor)


def _requirement(profile: Profile, requirement: dict[str, Any]) -> Iterator[str]:
    """ValidateRequirement."""
    key = profile_key = requirement.get("key", "")
    key = _NORMALIZED.get(key, key)
    operator, values = requirement.get("operator", ""), requirement.get("values") or []
    if operator not in profile.operators:
        yield f"key {key} has an unsupported operator {operator}"
    restricted = profile.restricted(key)
    if restricted:
        yield restricted
    known = profile.known_values.get(key)
    if known is not None and key in profile.well_known and operator == "In":
        valid = [v for v in values if v in known]
        if not valid:
            yield f"no valid values found in {values} for {key}, expected one of: {sorted(known)}"
        elif requirement.get("minValues") is not None and len(valid) < requirement["minValues"]:
            yield f"not enough valid values found in {values} for {key}"
    error = qualified_name_error(key)
    if error:
        yield f"key {key} is not a qualified name, {error}"
    for value in values:
        error = label_value_error(value) if isinstance(value, str) else None
        if error:
            yield f"invalid value {value} for key {key}, {error}"
    if operator == "In" and not values:
        yield f"key {key} with operator In must have a value defined"
    if operator == "In" and requirement.get("minValues") is not None and len(values) < requirement["minValues"]:
        yield f"key {key} with operator In must have at least minimum number of values defined in 'values' field"
    if operator in ("Gt", "Lt", "Gte", "Lte") and operator in profile.operators:
        number = _go_parse_int64(values[0]) if len(values) == 1 and isinstance(values[0], str) else None  # strconv.Atoi
        if number is None or number < 0:
            yield f"key {key} with operator {operator} must have a single positive integer value"
    if profile_key == "karpenter.sh/nodepool":
        yield "karpenter.sh/nodepool is restricted"


def runtime_validate(profile: Profile, spec: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any, str]]:
    """(path, value, error) for every RuntimeValidate failure of a (defaulted) NodePool spec."""
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    for key, value in labels.items():
        path = ("spec", "template", "metadata", "labels", key)
        if key == "karpenter.sh/nodepool":
            yield path, key, f"invalid key name {key!r} in labels, restricted"
        for error in (qualified_name_error(key), profile.restricted(key)):
            if error:
                yield path, key, f"invalid key name {key!r} in labels, {error}"
        error = label_value_error(value) if isinstance(value, str) else None
        if error:
            yield path, value, f"invalid value {value!r} for label {key}, {error}"
    template_spec = template.get("spec") or {}
    seen: set[tuple[str, str]] = set()
    for field in ("taints", "startupTaints"):
        for index, taint in enumerate(template_spec.get(field) or []):
            path = ("spec", "template", "spec", field, index)
            key, value, effect = taint.get("key", ""), taint.get("value", ""), taint.get("effect", "")
            for error in (qualified_name_error(key), qualified_name_error(value) if value else None):
                if error:
                    yield path, taint, f"invalid value: {error} in {field}"
            if effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute", ""):
                yield path, taint, f"invalid value: {effect!r} in {field}"
            if (key, effect) in seen:
                yield path, taint, f"duplicate taint Key/Effect pair {key}={effect}"
            seen.add((key, effect))
    for index, requirement in enumerate(template_spec.get("requirements") or []):
        for error in _requirement(profile, requirement):
            yield ("spec", "template", "spec", "requirements", index), requirement, error
