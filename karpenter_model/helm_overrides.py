"""Extra values for the `karpenter` chart (config `karpenter.helm_values`): which are refused, and how they merge.

Extra values go on last, so they may set anything the chart has except what this app wires itself:
the infra stack's outputs, and what a config key already sets (the key is the one place to change it,
and the trust policy, the CRD chart and the plan-time guards read the same key). A value is refused
when it sits at, above or below a wired path: replacing `settings` would drop `clusterEndpoint` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from karpenter_model.releases import ReleaseProfile

# Wired value path -> where it comes from (what to change instead).
WIRED_VALUES: dict[tuple[str, ...], str] = {
    ("settings", "clusterName"): "cluster_name",
    ("settings", "clusterEndpoint"): "the infra stack (the cluster's endpoint)",
    ("settings", "interruptionQueue"): "the infra stack (the interruption queue)",
    ("serviceAccount", "create"): "this app: it creates the service account the controller role trusts",
    ("serviceAccount", "name"): "karpenter.service_account",
    (
        "serviceAccount",
        "annotations",
        "eks.amazonaws.com/role-arn",
    ): "the infra stack (the controller role) and karpenter.identity",
    ("podAnnotations", "karpenter-cdktf/controller-identity"): "karpenter.identity and karpenter.previous_identity",
    ("replicas",): "karpenter.replicas",
    ("logLevel",): "karpenter.log_level",
    ("controller", "resources"): "karpenter.resources",
    ("tolerations",): "system_node_group.taints",
    ("affinity",): "system_node_group.labels (the controller stays on the system node group, off the nodes it manages)",
    ("webhook",): "the release profile (the CRD chart's conversion webhook points at it)",
    ("nameOverride",): "this app: the webhook Service and the Deployment the plan-time guards read are named for the release",
    ("fullnameOverride",): "this app: the webhook Service and the Deployment the plan-time guards read are named for the release",
}


def helm_value_problems(release: ReleaseProfile, values: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """`(path, value, why)` for each extra value that the chart does not have or that this app wires."""
    problems: list[tuple[str, Any, str]] = []
    chart_keys = sorted(release.chart_values)
    for key, value in values.items():
        if key not in release.chart_values:
            problems.append(
                (
                    key,
                    value,
                    f"not a value of the karpenter chart {release.chart_version}; allowed: one of {', '.join(chart_keys)}",
                )
            )
        else:
            problems += _wired((key,), value)
    return problems


def _wired(path: tuple[str, ...], value: Any) -> list[tuple[str, Any, str]]:
    if path in WIRED_VALUES:
        return [(".".join(path), value, f"set by {WIRED_VALUES[path]}; allowed: a value this app does not wire")]
    below = [wired for wired in WIRED_VALUES if wired[: len(path)] == path]
    if not below:
        return []
    if not isinstance(value, Mapping):  # replaces the whole map, wired values included
        shown = ", ".join(".".join(wired) for wired in below)
        return [(".".join(path), value, f"would replace {shown}, which this app wires; allowed: a map of the other values")]
    return [problem for key, item in value.items() for problem in _wired((*path, str(key)), item)]


def merged(values: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with `extra` merged in last: maps merge key by key, anything else (lists too) replaces, as in Helm."""
    result = dict(values)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(dict(result[key]), value)
        else:
            result[key] = value
    return result
