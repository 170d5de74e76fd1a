"""The `karpenter` chart of the configured release: the controller, with IRSA, pinned to the system node group."""

from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.running_release import RunningRelease
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.helm_values import controller_values


class KarpenterRelease(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: KarpenterConfig,
        cluster_endpoint: str,
        interruption_queue: str,
        controller_role_arn: str,
        running: RunningRelease,
    ) -> None:
        super().__init__(scope, id)
        values = controller_values(
            config,
            cluster_endpoint=cluster_endpoint,
            interruption_queue=interruption_queue,
            controller_role_arn=controller_role_arn,
        )
        self.release = named(
            Release(
                self,
                "karpenter",
                name="karpenter",
                repository=config.release.chart_repository,
                chart=config.release.controller_chart,
                version=config.release.chart_version,
                namespace=config.karpenter.namespace,
                skip_crds=True,  # the crds stack owns them, and upgrades them with the karpenter-crd chart
                wait=True,
                timeout=config.karpenter.helm_timeout_seconds,
                values=[json.dumps(values, indent=2)],
                lifecycle=TerraformResourceLifecycle(precondition=[running.guard(config.release, config.previous_release)]),
            )
        )
