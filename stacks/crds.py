"""Stack 2: Karpenter's CRDs, installed and Established before the chart stack is planned."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from karpenter_constructs.cluster_access import ClusterAccess, kubernetes_providers
from karpenter_constructs.karpenter_crds import KarpenterCrds
from karpenter_constructs.running_release import RunningRelease
from karpenter_model.config import KarpenterConfig
from karpenter_model.construct_inputs import CrdsInputs
from karpenter_model.migration import MigrationStep
from stacks.state import configure_backend


class CrdsStack(TerraformStack):
    def __init__(
        self, scope: Construct, name: str, *, config: KarpenterConfig, access: ClusterAccess, step: MigrationStep | None
    ) -> None:
        super().__init__(scope, name)
        configure_backend(self, name, config)
        kubernetes_providers(self, access)
        running = RunningRelease(self, "running", namespace=config.karpenter.namespace)
        KarpenterCrds(self, "crds", inputs=CrdsInputs.of(config), running=running, step=step)
