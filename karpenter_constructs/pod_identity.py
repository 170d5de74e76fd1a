"""EKS Pod Identity for the controller: the association of its service account with the controller role.

Pod Identity needs the `eks-pod-identity-agent` add-on on the cluster. This app does not install it:
a cluster's add-ons belong to the configuration that owns the cluster (e.g. terraform-aws-eks
`cluster_addons`, eksctl `addons`), and a second owner would fight it (CreateAddon fails on an add-on
that exists; a destroy here would remove the agent from every workload using it). Instead the plan
reads the add-on and stops, before anything changes, when the cluster does not have it:
`data.aws_eks_addon.eks_pod_identity_agent` fails with "reading EKS Add-On (<cluster>:eks-pod-identity-agent):
couldn't find resource" (README, "Controller identity: IRSA or EKS Pod Identity").
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_eks_addon import DataAwsEksAddon
from cdktf_cdktf_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_constructs.running_release import RUNNING_ROLE
from karpenter_model.construct_inputs import PodIdentityInputs
from karpenter_model.terraform_literals import literal

POD_IDENTITY_AGENT_ADDON = "eks-pod-identity-agent"


def undeclared_switch_check(role_name: str) -> dict[str, str]:
    """A precondition: no switch from IRSA without `karpenter.previous_identity: irsa`.

    The plan reads the controller role as it is before this deploy (`RUNNING_ROLE`, none on a fresh install).
    Trusting IRSA and not Pod Identity means a controller runs with IRSA credentials; dropping IRSA's trust in
    this deploy would fail its next credential refresh until the chart stack replaces its pods. The role's
    identity tag says the same (`infra_identity_guard`); the trust also covers a role that has no tag yet.
    """
    irsa_only = 'strcontains(trust, "sts:AssumeRoleWithWebIdentity") && !strcontains(trust, "pods.eks.amazonaws.com")'
    return {
        "condition": f"${{alltrue([for trust in {RUNNING_ROLE}[*].assume_role_policy : !({irsa_only})])}}",
        "errorMessage": f"The controller role {role_name} trusts only IRSA today, so the running controller uses IRSA. "
        "Switching to karpenter.identity: pod_identity in one step would drop that trust before the chart stack "
        "replaces the controller's pods. Set karpenter.previous_identity: irsa for this deploy (the role trusts both "
        "until the pods are replaced), and unset it in a later deploy; see the README, "
        '"Controller identity: IRSA or EKS Pod Identity".',
    }


class PodIdentity(Construct):
    """The controller's service account gets the controller role through EKS Pod Identity."""

    def __init__(self, scope: Construct, id: str, *, inputs: PodIdentityInputs, cluster: ExistingCluster, role_arn: str) -> None:
        super().__init__(scope, id)
        self.agent = named(
            DataAwsEksAddon(
                self,
                "eks_pod_identity_agent",
                cluster_name=cluster.eks.name,
                addon_name=POD_IDENTITY_AGENT_ADDON,
            )
        )
        self.association = named(
            EksPodIdentityAssociation(
                self,
                "karpenter_controller",
                cluster_name=cluster.eks.name,
                namespace=literal(inputs.namespace),
                service_account=literal(inputs.service_account),
                role_arn=role_arn,
                depends_on=[self.agent],  # the association is useless, and the switch unsafe, without the agent
                lifecycle=self._guard(inputs),
            )
        )

    def _guard(self, inputs: PodIdentityInputs) -> TerraformResourceLifecycle | None:
        """With `pod_identity` and no `previous_identity`: refuse a plan that would switch a running IRSA controller."""
        if inputs.switch_declared:
            return None  # a declared switch keeps both trusts
        return TerraformResourceLifecycle(precondition=[undeclared_switch_check(literal(inputs.role_name))])
