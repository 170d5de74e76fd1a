"""The `EC2NodeClass` and `NodePool` manifests of the chart stack, in the API version the release stores.

They are the objects the config was validated as (`karpenter_model.node_objects`): only the fields
the config sets, plus the node class role and the class reference this app fills in, so the API
server's defaults, and Karpenter's, apply as documented upstream. Every string is a Terraform
literal: `userData` full of `${VAR}` shell reaches the node unchanged.
"""

from __future__ import annotations

from typing import Any

from karpenter_model.config import KarpenterConfig, NodeClass, NodePool
from karpenter_model.node_objects import node_class_object, node_pool_object
from karpenter_model.terraform_literals import literal_tree


def node_class_manifest(config: KarpenterConfig, node_class: NodeClass) -> dict[str, Any]:
    return literal_tree(node_class_object(config.release, node_class.name, node_class.spec, config.resource_names.node_role))


def node_pool_manifest(config: KarpenterConfig, node_pool: NodePool) -> dict[str, Any]:
    return literal_tree(node_pool_object(config.release, node_pool.name, node_pool.spec))
