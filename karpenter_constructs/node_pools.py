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
from karpenter_model.construct_inputs import NodeObject, NodePoolsInputs

# Deleting these waits while Karpenter drains and terminates their nodes (the node class's finalizer).
DELETE_TIMEOUT = "30m"


class NodePools(Construct):
    def __init__(self, scope: Construct, id: str, *, inputs: NodePoolsInputs, controller: ITerraformDependable) -> None:
        super().__init__(scope, id)
        #: Every manifest by `(kind, name)`: what a migration step re-addresses (stacks.state.readdress).
        self.manifests: dict[tuple[str, str], Manifest] = {}
        for node_class in inputs.node_classes:
            self._manifest(node_class, [controller])
        for node_pool in inputs.node_pools:
            depends_on = [controller]
            if node_pool.node_class:
                depends_on.append(self.manifests[("EC2NodeClass", node_pool.node_class)])
            self._manifest(node_pool, depends_on)

    def _manifest(self, node_object: NodeObject, depends_on: list[ITerraformDependable]) -> None:
        self.manifests[(node_object.kind, node_object.name)] = named(
            Manifest(
                self,
                node_object.address,
                manifest=dict(node_object.manifest),
                depends_on=depends_on,
                timeouts=ManifestTimeouts(delete=DELETE_TIMEOUT),
            )
        )
