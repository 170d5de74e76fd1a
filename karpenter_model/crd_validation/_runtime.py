"""Karpenter's NodePool.RuntimeValidate: what the controller checks on NodePools the API server
admitted. A NodePool failing it is skipped by the provisioner (0.37: "nodepool failed validation") or
marked ValidationSucceeded=False and never used (1.x), so it provisions nothing.

The label tables and operators differ between releases and are release data
(`releases/node_pool_rules.py`, named by each profile); the checks are the same code in every release.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from karpenter_model.releases.node_pool_rules import NodePoolRules

from ._golang import _go_parse_int64, label_value_error, qualified_name_error

_NORMALIZED = {
    "failure-domain.beta.kubernetes.io/zone": "topology.kubernetes.io/zone",
    "beta.kubernetes.io/arch": "kubernetes.io/arch",
    "beta.kubernetes.io/os": "kubernetes.io/os",
    "beta.kubernetes.io/instance-type": "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
}


def restricted(rules: NodePoolRules, key: str) -> str | None:
    """IsRestrictedLabel."""
    if key in rules.well_known:
        return None
    domain = key.split("/", 1)[0] if "/" in key else ""
    if rules.exact_domains:  # the domain itself or a subdomain of it
        hit = any(domain == d or domain.endswith("." + d) for d in rules.restricted_domains)
    else:  # plain suffixes, with exceptions
        hit = not any(domain.endswith(e) for e in rules.exceptions) and any(domain.endswith(d) for d in rules.restricted_domains)
    if hit or key == "kubernetes.io/hostname":
        return (
            f"label {key} is restricted; specify a well known label or a custom label that does not use a "
            f"restricted domain: {sorted(rules.restricted_domains)}"
        )
    return None


def _requirement(rules: NodePoolRules, requirement: dict[str, Any]) -> Iterator[str]:
    """ValidateRequirement."""
    key = given_key = requirement.get("key", "")
    key = _NORMALIZED.get(key, key)
    operator, values = requirement.get("operator", ""), requirement.get("values") or []
    if operator not in rules.operators:
        yield f"key {key} has an unsupported operator {operator}"
    refused = restricted(rules, key)
    if refused:
        yield refused
    known = rules.known_values.get(key)
    if known is not None and key in rules.well_known and operator == "In":
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
    if operator in ("Gt", "Lt", "Gte", "Lte") and operator in rules.operators:
        number = _go_parse_int64(values[0]) if len(values) == 1 and isinstance(values[0], str) else None  # strconv.Atoi
        if number is None or number < 0:
            yield f"key {key} with operator {operator} must have a single positive integer value"
    if given_key == "karpenter.sh/nodepool":
        yield "karpenter.sh/nodepool is restricted"


def runtime_validate(rules: NodePoolRules, spec: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any, str]]:
    """(path, value, error) for every RuntimeValidate failure of a (defaulted) NodePool spec."""
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    for key, value in labels.items():
        path = ("spec", "template", "metadata", "labels", key)
        if key == "karpenter.sh/nodepool":
            yield path, key, f"invalid key name {key!r} in labels, restricted"
        for error in (qualified_name_error(key), restricted(rules, key)):
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
        for error in _requirement(rules, requirement):
            yield ("spec", "template", "spec", "requirements", index), requirement, error
