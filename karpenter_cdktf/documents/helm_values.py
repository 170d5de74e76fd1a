"""Values for the `karpenter` chart 0.37.2, built as whole objects.

Helm replaces lists given in values (and `--set` paths index into them), so every list we
touch is written out in full, including the chart defaults we keep: the `CriticalAddonsOnly`
toleration, the `karpenter.sh/nodepool DoesNotExist` node affinity that keeps the controller
off nodes it manages, and the hostname pod anti-affinity.
"""

from __future__ import annotations

from typing import Any

from karpenter_cdktf.config import KarpenterConfig

CHART_DEFAULT_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists"}
CHART_DEFAULT_NODE_EXPRESSION = {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}
CHART_DEFAULT_ANTI_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname"}]}


def system_tolerations(config: KarpenterConfig) -> list[dict[str, str]]:
    """The chart default, plus one toleration for each system node group taint it does not already cover."""
    tolerations = [CHART_DEFAULT_TOLERATION]
    for taint in config.system_node_group.taints:
        if taint.key == CHART_DEFAULT_TOLERATION["key"]:
            continue  # `Exists` without an effect tolerates every value and effect of this key
        tolerations.append({"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.kubernetes_effect})
    return tolerations


def system_node_affinity(config: KarpenterConfig) -> dict[str, Any]:
    """Required: a system node group label match, and (chart default) never a Karpenter-launched node."""
    expressions = [CHART_DEFAULT_NODE_EXPRESSION] + [
        {"key": key, "operator": "In", "values": [value]} for key, value in sorted(config.system_node_group.labels.items())
    ]
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}}


def controller_values(
    config: KarpenterConfig, *, cluster_endpoint: str, interruption_queue: str, controller_role_arn: str
) -> dict[str, Any]:
    settings = config.karpenter
    resources = {kind: dict(values) for kind, values in settings.resources.model_dump().items() if values}
    return {
        "settings": {
            "clusterName": config.cluster_name,
            "clusterEndpoint": cluster_endpoint,
            "interruptionQueue": interruption_queue,
        },
        "serviceAccount": {
            "create": True,
            "name": settings.service_account,
            "annotations": {"eks.amazonaws.com/role-arn": controller_role_arn},
        },
        "replicas": settings.replicas,
        "logLevel": settings.log_level,
        "controller": {"resources": resources},
        "tolerations": system_tolerations(config),
        "affinity": {"nodeAffinity": system_node_affinity(config), "podAntiAffinity": CHART_DEFAULT_ANTI_AFFINITY},
    }
