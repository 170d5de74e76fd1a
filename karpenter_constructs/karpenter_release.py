"""The `karpenter` chart of the configured release: the controller, with IRSA, pinned to the system node group."""

from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.running_release import RunningRelease
from karpenter_model.construct_inputs import HelmReleaseInputs
from karpenter_model.migration import MigrationStep


class KarpenterRelease(Construct):
    def __init__(
        self, scope: Construct, id: str, *, inputs: HelmReleaseInputs, running: RunningRelease, step: MigrationStep | None
    ) -> None:
        super().__init__(scope, id)
        self.release = named(
            Release(
                self,
                "karpenter",
                name="karpenter",
                repository=inputs.release.chart_repository,
                chart=inputs.release.controller_chart,
                version=inputs.release.chart_version,
                namespace=inputs.namespace,
                skip_crds=True,  # the crds stack owns them, and upgrades them with the karpenter-crd chart
                wait=True,
                timeout=inputs.timeout_seconds,
                values=[json.dumps(inputs.values, indent=2)],
                lifecycle=TerraformResourceLifecycle(precondition=[running.guard(inputs.release, step)]),
            )
        )
