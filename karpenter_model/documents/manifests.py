"""The `EC2NodeClass` and `NodePool` objects, from the validated config, in the API version the release stores.

Only fields the config sets are written (plus the node class role and the class reference this
app fills in), so the API server's defaults, and Karpenter's, apply as documented upstream.
Every string is a Terraform literal: `userData` full of `${VAR}` shell reaches the node unchanged.
"""

from __future__ import annotations

from typing import Any

from karpenter_model.config import KarpenterConfig, NodeClass, NodePool
from karpenter_model.terraform_literals import literal_tree


def node_class_manifest(config: KarpenterConfig, node_class: NodeClass) -> dict[str, Any]:
    spec = node_class.spec.model_dump(mode="json", exclude_none=True)
    spec.setdefault("role", config.resource_names.node_role)
    manifest = {"apiVersion": config.release.node_class_api, "kind": "EC2NodeClass", "metadata": {"name": node_class.name}, "spec": spec}
    return literal_tree(manifest)


def node_pool_manifest(config: KarpenterConfig, node_pool: NodePool) -> dict[str, Any]:
    spec = node_pool.spec.model_dump(mode="json", exclude_none=True)
    manifest = {"apiVersion": config.release.node_pool_api, "kind": "NodePool", "metadata": {"name": node_pool.name}, "spec": spec}
    return literal_tree(manifest)
