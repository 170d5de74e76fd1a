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
from karpenter_constructs.running_release import NOT_INSTALLED, UNTAGGED
from karpenter_model.releases import ReleaseProfile, release_for_kubernetes
from karpenter_model.releases.eks_calendar import CALENDAR, support_warning


def _minor(version: str) -> str:
    """Terraform: the minor of `version`, an expression such as `self.version` (`1.31` -> 31)."""
    return f'tonumber(split(".", {version})[1])'


def _supported(release: ReleaseProfile, version: str) -> str:
    """Terraform: the minor of `version` is one the release supports."""
    first, last = release.kubernetes_minors
    return f"{_minor(version)} >= {first} && {_minor(version)} <= {last}"


def kubernetes_support_check(release: ReleaseProfile, running: str, acknowledged: str | None = None) -> dict[str, str]:
    """A postcondition on the cluster: its Kubernetes minor is one the release supports (upstream's compatibility matrix).

    The plan fails before anything changes, naming the cluster's version and the release's range.
    `acknowledged` (config `karpenter.acknowledge_unsupported_kubernetes`) lets exactly that one version
    through, for a migration step on a cluster EKS already upgraded. `running` (the Terraform expression
    of the release the controller role records, `RUNNING_RELEASE`) decides the advice: a fresh install
    may pick the release that supports the cluster, but a running controller reaches it only step by
    step, each step acknowledging the cluster's version; advising the jump would send the operator to a refusal.
    """
    first, last = release.kubernetes_minors
    choices = json.dumps({str(minor): version for minor, version in release_for_kubernetes().items()})
    supported = _supported(release, "self.version")
    choose = (
        f'format("set karpenter.version to %s", lookup({choices}, {_minor("self.version")}, "(none of the supported releases)"))'
    )
    deployed = f'{running} == "{UNTAGGED}" ? "a Karpenter controller role exists" : format("Karpenter %s is deployed", {running})'
    migrate = (
        f'format("%s: continue the migration one documented step at a time, each step with '
        f'karpenter.acknowledge_unsupported_kubernetes: \\"%s\\" until a release that supports it (README, EKS already '
        f'upgraded your cluster); for a new install, %s", {deployed}, self.version, {choose})'
    )
    advice = f'${{{_minor("self.version")} > {last} && {running} != "{NOT_INSTALLED}" ? {migrate} : {choose}}}'
    return {
        "condition": f'${{{supported} || self.version == "{acknowledged}"}}' if acknowledged else f"${{{supported}}}",
        "errorMessage": f"Karpenter {release.version} supports Kubernetes 1.{first} to 1.{last}, and this cluster runs "
        f"Kubernetes ${{self.version}}; {advice}.",
    }


def cluster_security_group_check() -> dict[str, str]:
    """A postcondition on the cluster: it reports a cluster security group, which the discovery tags go on.

    Without one the stack would plan a tag on resource ID "" and fail mid-apply.
    """
    return {
        "condition": '${self.vpc_config[0].cluster_security_group_id != ""}',
        "errorMessage": "EKS reports no cluster security group for cluster ${self.name}, and discovery.security_group_ids is "
        "empty, so there is nothing to tag karpenter.sh/discovery on; set discovery.security_group_ids to the security "
        "groups Karpenter's nodes should use (README, configuration).",
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


def eks_calendar_warning(release: ReleaseProfile, cluster_version: str) -> dict[str, object]:
    """A `check` block: the plan warns once EKS's calendar says the cluster's minor is past standard support.

    The dates are data (`eks_calendar.CALENDAR`); `plantimestamp()` makes the plan, not the synth, read the clock.
    """
    minor = _minor(cluster_version)
    # Minors below the release's range fail the support check before this could say anything.
    calendar = {m: support for m, support in CALENDAR.items() if m >= release.kubernetes_minors[0]}
    warn_from = {str(m): support.warn_from.isoformat() for m, support in calendar.items()}
    messages = {str(m): support_warning(release, m) for m in calendar}
    day = f'lookup({json.dumps(warn_from)}, {minor}, "9999-12-31")'
    return {
        "assert": [
            {
                "condition": f'${{timecmp(plantimestamp(), format("%sT00:00:00Z", {day})) < 0}}',
                "error_message": f'${{lookup({json.dumps(messages)}, {minor}, "")}}',
            }
        ]
    }


class ExistingCluster(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        release: ReleaseProfile,
        running: str,
        acknowledged: str | None = None,
        tags_cluster_security_group: bool = False,
    ) -> None:
        """`running`: the Terraform expression of the release deployed before (see `kubernetes_support_check`)."""
        super().__init__(scope, id)
        checks = [kubernetes_support_check(release, running, acknowledged)]
        if tags_cluster_security_group:
            checks.append(cluster_security_group_check())
        self.eks = named(
            DataAwsEksCluster(
                self,
                "cluster",
                name=cluster_name,
                lifecycle=TerraformResourceLifecycle(postcondition=checks),
            )
        )
        stack = TerraformStack.of(self)
        if acknowledged:
            check = acknowledged_version_warning(release, acknowledged, "data.aws_eks_cluster.cluster.version")
            stack.add_override("check.kubernetes_support_acknowledged", check)
        stack.add_override("check.eks_support_calendar", eks_calendar_warning(release, "data.aws_eks_cluster.cluster.version"))
        self.partition = named(DataAwsPartition(self, "current_partition"), "current").partition
        self.region = named(DataAwsRegion(self, "current_region"), "current").name
        self.account_id = named(DataAwsCallerIdentity(self, "current_account"), "current").account_id
        vpc_config = self.eks.vpc_config.get(0)
        self.subnet_ids = vpc_config.subnet_ids
        self.cluster_security_group_id = vpc_config.cluster_security_group_id
        self.issuer_url = self.eks.identity.get(0).oidc.get(0).issuer
