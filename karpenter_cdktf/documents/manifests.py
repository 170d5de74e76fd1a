"""The v1beta1 `EC2NodeClass` and `NodePool` objects, from the validated config.

v1beta1 is what Karpenter 0.37.2 stores; writing v1 would need the conversion webhook the
chart leaves disabled. Only fields the config sets are written, so the API server's defaults
(and Karpenter's) apply as documented upstream.
"""

from __future__ import annotations

from typing import Any

from karpenter_cdktf.config import KarpenterConfig, NodeClass, NodePool

NODE_CLASS_API = "karpenter.k8s.aws/v1beta1"
NODE_POOL_API = "karpenter.sh/v1beta1"


def node_class_manifest(config: KarpenterConfig, node_class: NodeClass) -> dict[str, Any]:
    spec = node_class.spec.model_dump(mode="json", exclude_none=True)
    spec.setdefault("role", config.resource_names.node_role)
    return {"apiVersion": NODE_CLASS_API, "kind": "EC2NodeClass", "metadata": {"name": node_class.name}, "spec": spec}


def node_pool_manifest(node_pool: NodePool) -> dict[str, Any]:
    spec = node_pool.spec.model_dump(mode="json", exclude_none=True)
    return {"apiVersion": NODE_POOL_API, "kind": "NodePool", "metadata": {"name": node_pool.name}, "spec": spec}
