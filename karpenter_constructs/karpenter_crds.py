"""Karpenter's CRDs through upstream's `karpenter-crd` chart, confirmed Established before the stack completes.

`kubernetes_manifest` reads a CRD's schema when it is planned, so NodePools cannot be planned
in the stack that installs their CRDs (hashicorp/terraform-provider-kubernetes#1367). This
construct lives in its own stack; reading each CRD back after the release, with a
postcondition on its Established condition, fails this stack's apply rather than letting the
chart stack be planned against CRDs the API server does not serve yet.
"""

from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.data_kubernetes_resource import DataKubernetesResource
from cdktf_cdktf_provider_kubernetes.data_kubernetes_resources import DataKubernetesResources
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.running_release import RunningRelease, stored_versions_guard
from karpenter_model.construct_inputs import CrdsInputs
from karpenter_model.migration import MigrationStep

ESTABLISHED = '${anytrue([for c in try(self.object.status.conditions, []) : c.type == "Established" && c.status == "True"])}'


class KarpenterCrds(Construct):
    def __init__(
        self, scope: Construct, id: str, *, inputs: CrdsInputs, running: RunningRelease, step: MigrationStep | None
    ) -> None:
        super().__init__(scope, id)
        chart = inputs.chart
        preconditions = [running.guard(chart.release, step)]
        for crd_name in chart.release.crd_names:
            existing = named(
                DataKubernetesResources(
                    self,
                    f"existing_crd_{crd_name.split('.')[0]}",
                    api_version="apiextensions.k8s.io/v1",
                    kind="CustomResourceDefinition",
                    field_selector=f"metadata.name={crd_name}",
                )
            )
            preconditions.append(
                stored_versions_guard(chart.release, crd_name, f"data.kubernetes_resources.{existing.friendly_unique_id}.objects")
            )
        depends_on = []
        if inputs.create_namespace:
            created = named(NamespaceV1(self, "karpenter_namespace", metadata={"name": chart.namespace}), "karpenter")
            depends_on.append(created)
        self.release = named(
            Release(
                self,
                "karpenter_crd",
                name="karpenter-crd",
                repository=chart.release.chart_repository,
                chart=chart.release.crd_chart,
                version=chart.release.chart_version,
                namespace=chart.namespace,
                wait=True,
                timeout=chart.timeout_seconds,
                values=[json.dumps(chart.values, indent=2)] if chart.values else None,
                depends_on=depends_on or None,
                lifecycle=TerraformResourceLifecycle(precondition=preconditions),
            )
        )
        for crd_name in chart.release.crd_names:
            named(
                DataKubernetesResource(
                    self,
                    f"crd_{crd_name.split('.')[0]}",
                    api_version="apiextensions.k8s.io/v1",
                    kind="CustomResourceDefinition",
                    metadata={"name": crd_name},
                    depends_on=[self.release],
                    lifecycle=TerraformResourceLifecycle(
                        postcondition=[{"condition": ESTABLISHED, "errorMessage": f"CRD {crd_name} is not Established yet."}]
                    ),
                )
            )
