"""Helm and Kubernetes providers authenticated to the cluster the infra stack looked up.

Credentials come from `aws eks get-token` at each provider start (an exec plugin), not from a
token read once at plan time: a token expires after 15 minutes, a long apply outlives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes, HelmProviderKubernetesExec
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from constructs import Construct

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


@dataclass(frozen=True)
class ClusterAccess:
    """What a client needs to reach the API server; endpoint and CA are references into the infra stack."""

    name: str
    region: str
    endpoint: str
    certificate_authority: str

    def token_args(self) -> list[str]:
        """`aws <args>` prints a fresh token for the cluster."""
        return ["eks", "get-token", "--cluster-name", self.name, "--region", self.region, "--output", "json"]


def kubernetes_providers(scope: Construct, access: ClusterAccess) -> None:
    certificate = Fn.base64decode(access.certificate_authority)
    HelmProvider(
        scope,
        "helm",
        kubernetes=HelmProviderKubernetes(
            host=access.endpoint,
            cluster_ca_certificate=certificate,
            exec=HelmProviderKubernetesExec(api_version=EXEC_API_VERSION, command="aws", args=access.token_args()),
        ),
    )
    KubernetesProvider(
        scope,
        "kubernetes",
        host=access.endpoint,
        cluster_ca_certificate=certificate,
        exec=[KubernetesProviderExec(api_version=EXEC_API_VERSION, command="aws", args=access.token_args())],
    )
