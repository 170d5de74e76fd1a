"""The existing EKS cluster, looked up by name, and the account facts ARNs are built from."""

from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_model.releases import ReleaseProfile, release_for_kubernetes


def _minor(version: str) -> str:
    """Terraform: the minor of `version`, an expression such as `self.version` (`1.31` -> 31)."""
    return f'tonumber(split(".", {version})[1])'


def _supported(release: ReleaseProfile, version: str) -> str:
    """Terraform: the minor of `version` is one the release supports."""
    first, last = release.kubernetes_minors
    return f"{_minor(version)} >= {first} && {_minor(version)} <= {last}"


def kubernetes_support_check(release: ReleaseProfile, acknowledged: str | None = None) -> dict[str, str]:
    """A postcondition on the cluster: its Kubernetes minor is one the release supports (upstream's compatibility matrix).

    The plan fails before anything changes, naming the cluster's version, the release's range and
    the release to choose instead. `acknowledged` (config `karpenter.acknowledge_unsupported_kubernetes`)
    lets exactly that one version through, for a migration step on a cluster EKS already upgraded.
    """
    first, last = release.kubernetes_minors
    choices = json.dumps({str(minor): version for minor, version in release_for_kubernetes().items()})
    supported = _supported(release, "self.version")
    return {
        "condition": f'${{{supported} || self.version == "{acknowledged}"}}' if acknowledged else f"${{{supported}}}",
        "errorMessage": f"Karpenter {release.version} supports Kubernetes 1.{first} to 1.{last}, and this cluster runs "
        f'Kubernetes ${{self.version}}; set karpenter.version to ${{lookup({choices}, {_minor("self.version")}, "(none of the supported releases)")}}.',
    }


def acknowledged_version_warning(release: ReleaseProfile, acknowledged: str, cluster_version: str) -> dict[str, object]:
    """A `check` block: the plan shows a warning, every time, while a cluster runs a version the release does not support."""
    first, last = release.kubernetes_minors
    return {
        "assert": [
            {
                "condition": f"${{{_supported(release, cluster_version)}}}",
                "error_message": f"Kubernetes {acknowledged} is outside what Karpenter {release.version} supports (1.{first} to 1.{last}); "
                "it is let through by karpenter.acknowledge_unsupported_kubernetes, for a migration step: take the next step soon.",
            }
        ]
    }


class ExistingCluster(Construct):
    def __init__(
        self, scope: Construct, id: str, *, cluster_name: str, release: ReleaseProfile, acknowledged: str | None = None
    ) -> None:
        super().__init__(scope, id)
        self.eks = named(
            DataAwsEksCluster(
                self,
                "cluster",
                name=cluster_name,
                lifecycle=TerraformResourceLifecycle(postcondition=[kubernetes_support_check(release, acknowledged)]),
            )
        )
        if acknowledged:
            check = acknowledged_version_warning(release, acknowledged, "data.aws_eks_cluster.cluster.version")
            TerraformStack.of(self).add_override("check.kubernetes_support_acknowledged", check)
        self.partition = named(DataAwsPartition(self, "current_partition"), "current").partition
        self.region = named(DataAwsRegion(self, "current_region"), "current").name
        self.account_id = named(DataAwsCallerIdentity(self, "current_account"), "current").account_id
        vpc_config = self.eks.vpc_config.get(0)
        self.subnet_ids = vpc_config.subnet_ids
        self.cluster_security_group_id = vpc_config.cluster_security_group_id
        self.issuer_url = self.eks.identity.get(0).oidc.get(0).issuer
