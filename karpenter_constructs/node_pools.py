"""EC2NodeClass and NodePool objects, created after the controller and deleted before it.

Destroy order is what keeps EC2 instances from being orphaned: each NodePool depends on its
node class and both on the release, so Terraform deletes NodePools first (Karpenter drains and
terminates their nodes), then node classes (whose finalizer waits until no NodeClaim uses
them), and only then the controller.
"""

from __future__ import annotations

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_kubernetes.manifest import Manifest, ManifestTimeouts
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.manifests import node_class_manifest, node_pool_manifest

# Deleting these waits while Karpenter drains and terminates their nodes (the node class's finalizer).
DELETE_TIMEOUT = "30m"


def terraform_name(kind: str, name: str) -> str:
    """`nodepool_team_batch` for NodePool `team.batch`: Terraform names have no dots, Kubernetes names no underscores."""
    return f"{kind}_{name.replace('.', '_')}"


class NodePools(Construct):
    def __init__(self, scope: Construct, id: str, *, config: KarpenterConfig, controller: ITerraformDependable) -> None:
        super().__init__(scope, id)
        node_classes = {}
        for node_class in config.node_classes:
            node_classes[node_class.name] = named(
                Manifest(
                    self,
                    terraform_name("ec2nodeclass", node_class.name),
                    manifest=node_class_manifest(config, node_class),
                    depends_on=[controller],
                    timeouts=ManifestTimeouts(delete=DELETE_TIMEOUT),
                )
            )
        for node_pool in config.node_pools:
            pool_class = node_classes[node_pool.spec["template"]["spec"]["nodeClassRef"]["name"]]
            named(
                Manifest(
                    self,
                    terraform_name("nodepool", node_pool.name),
                    manifest=node_pool_manifest(config, node_pool),
                    depends_on=[controller, pool_class],
                    timeouts=ManifestTimeouts(delete=DELETE_TIMEOUT),
                )
            )
