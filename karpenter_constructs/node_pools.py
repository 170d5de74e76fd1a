"""EC2NodeClass and NodePool objects, created after the controller and deleted before it.

Destroy order is what keeps EC2 instances from being orphaned: each NodePool depends on its
node class and both on the release, so Terraform deletes NodePools first (Karpenter drains and
terminates their nodes), then node classes (whose finalizer waits until no NodeClaim uses
them), and only then the controller.
"""

from __future__ import annotations

from cdktf import ITerraformDependable, TerraformStack
from cdktf_cdktf_provider_kubernetes.manifest import Manifest, ManifestTimeouts
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.manifests import node_class_manifest, node_pool_manifest
from karpenter_model.migration import ManifestMove, manifest_moves, manifest_name
from karpenter_model.terraform_literals import literal

# Deleting these waits while Karpenter drains and terminates their nodes (the node class's finalizer).
DELETE_TIMEOUT = "30m"


class NodePools(Construct):
    def __init__(self, scope: Construct, id: str, *, config: KarpenterConfig, controller: ITerraformDependable) -> None:
        super().__init__(scope, id)
        api = config.release.api_version
        node_classes = {}
        for node_class in config.node_classes:
            node_classes[node_class.name] = named(
                Manifest(
                    self,
                    manifest_name("EC2NodeClass", node_class.name, api),
                    manifest=node_class_manifest(config, node_class),
                    depends_on=[controller],
                    timeouts=ManifestTimeouts(delete=DELETE_TIMEOUT),
                )
            )
        manifests = {("EC2NodeClass", name): manifest for name, manifest in node_classes.items()}
        for node_pool in config.node_pools:
            pool_class = node_classes[node_pool.spec["template"]["spec"]["nodeClassRef"]["name"]]
            manifests[("NodePool", node_pool.name)] = named(
                Manifest(
                    self,
                    manifest_name("NodePool", node_pool.name, api),
                    manifest=node_pool_manifest(config, node_pool),
                    depends_on=[controller, pool_class],
                    timeouts=ManifestTimeouts(delete=DELETE_TIMEOUT),
                )
            )
        readdress(TerraformStack.of(self), manifests, manifest_moves(config))


def readdress(stack: TerraformStack, manifests: dict[tuple[str, str], Manifest], moves: list[ManifestMove]) -> None:
    """Forget each object at its old address (`removed`, `destroy = false`) and import it at its new one.

    Both blocks run inside the step's normal plan and apply; the object in the cluster is never
    deleted, so the nodes its NodePool owns keep running.
    """
    if not moves:
        return
    stack.add_override("removed", [{"from": move.old_address, "lifecycle": {"destroy": False}} for move in moves])
    for move in moves:
        manifests[(move.kind, move.name)].import_from(literal(move.import_id))
