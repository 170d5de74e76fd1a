"""Values for the release's `karpenter` and `karpenter-crd` charts, built as whole objects.

Helm replaces lists given in values (and `--set` paths index into them), so every list we
touch is written out in full, including the chart defaults we keep: the `CriticalAddonsOnly`
toleration, the `karpenter.sh/nodepool DoesNotExist` node affinity that keeps the controller
off nodes it manages, and the hostname pod anti-affinity. Every config string is a Terraform
literal here; only the three references the chart stack passes in are expressions.
"""

from __future__ import annotations

from typing import Any

from karpenter_model.config import KarpenterConfig
from karpenter_model.helm_overrides import merged
from karpenter_model.terraform_literals import literal_tree

CHART_DEFAULT_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists"}
CHART_DEFAULT_NODE_EXPRESSION = {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}
CHART_DEFAULT_ANTI_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname"}]}
# The controller chart's Service is named for the release ("karpenter") and serves webhooks on this port.
WEBHOOK_SERVICE = "karpenter"
WEBHOOK_PORT = 8443
# IRSA: the service account annotation EKS's webhook turns into AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE.
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
# On the controller pods, naming the identity they were created for (identity_rollout_annotation).
IDENTITY_POD_ANNOTATION = "karpenter-cdktf/controller-identity"


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


def identity_rollout_annotation(config: KarpenterConfig) -> str | None:
    """The value of the controller pods' identity annotation: it changes, and so rolls the pods, whenever the identity does.

    EKS injects credentials into a pod only when the pod is created: a running controller keeps the identity
    it started with. None (no annotation) for plain IRSA, so IRSA installs keep their pod template.
    """
    settings = config.karpenter
    if settings.identity == "irsa" and settings.previous_identity is None:
        return None
    return settings.identity + (f", switching from {settings.previous_identity}" if settings.previous_identity else "")


def controller_values(
    config: KarpenterConfig, *, cluster_endpoint: str, interruption_queue: str, controller_role_arn: str
) -> dict[str, Any]:
    settings = config.karpenter
    resources = {kind: dict(values) for kind, values in settings.resources.model_dump().items() if values}
    values: dict[str, Any] = literal_tree(
        {
            "settings": {"clusterName": config.cluster_name},
            "serviceAccount": {"create": True, "name": settings.service_account},
            "replicas": settings.replicas,
            "logLevel": settings.log_level,
            "controller": {"resources": resources},
            "tolerations": system_tolerations(config),
            "affinity": {"nodeAffinity": system_node_affinity(config), "podAntiAffinity": CHART_DEFAULT_ANTI_AFFINITY},
        }
    )
    values["settings"] |= {"clusterEndpoint": cluster_endpoint, "interruptionQueue": interruption_queue}
    if config.karpenter.identity == "irsa":
        values["serviceAccount"]["annotations"] = {IRSA_ROLE_ANNOTATION: controller_role_arn}
    rollout = identity_rollout_annotation(config)
    if rollout:
        values["podAnnotations"] = {IDENTITY_POD_ANNOTATION: rollout}
    if config.release.webhooks:
        values["webhook"] = {"enabled": True, "port": WEBHOOK_PORT}
    # Last: config `karpenter.helm_values`, which validation keeps off everything set above.
    return merged(values, literal_tree(settings.helm_values)) if settings.helm_values else values


def crd_chart_values(config: KarpenterConfig) -> dict[str, Any]:
    """Where the CRDs' conversion webhook calls: the controller's Service, in the namespace the controller runs in.

    The CRD chart's own default namespace is the release's, which holds only while both charts
    share a namespace; written out, it cannot drift. Releases without webhooks get the chart's defaults.
    """
    if not config.release.webhooks:
        return {}
    return {
        "webhook": {
            "enabled": True,
            "serviceName": WEBHOOK_SERVICE,
            "serviceNamespace": config.karpenter.namespace,
            "port": WEBHOOK_PORT,
        }
    }
