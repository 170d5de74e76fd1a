"""Stack 3: the Karpenter controller chart, then the node classes and node pools it serves."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from karpenter_constructs.cluster_access import ClusterAccess, kubernetes_providers
from karpenter_constructs.karpenter_release import KarpenterRelease
from karpenter_constructs.node_pools import NodePools
from karpenter_constructs.running_release import RunningRelease
from karpenter_model.config import KarpenterConfig
from karpenter_model.construct_inputs import HelmReleaseInputs, NodePoolsInputs
from karpenter_model.migration import MigrationStep
from stacks.infra import InfraStack
from stacks.state import configure_backend, readdress


class ChartStack(TerraformStack):
    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        config: KarpenterConfig,
        infra: InfraStack,
        access: ClusterAccess,
        step: MigrationStep | None,
    ) -> None:
        super().__init__(scope, name)
        configure_backend(self, name, config)
        kubernetes_providers(self, access)
        chart = HelmReleaseInputs.controller(
            config,
            cluster_endpoint=infra.cluster_endpoint,
            interruption_queue=infra.interruption_queue_name,
            controller_role_arn=infra.controller_role_arn,
        )
        running = RunningRelease(self, "running", namespace=config.karpenter.namespace)
        controller = KarpenterRelease(self, "controller", inputs=chart, running=running, step=step)
        node_objects = NodePoolsInputs.of(config)
        node_pools = NodePools(self, "node_pools", inputs=node_objects, controller=controller.release)
        if step:
            readdress(self, node_pools.manifests, step.manifest_moves(node_objects.objects))
