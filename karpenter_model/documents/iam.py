"""IAM policy documents for the controller and node roles.

The controller policies are upstream's, read from the release's CloudFormation template
(`karpenter_model.releases`), with the template's `${...}` placeholders filled in. Arguments are
plain strings: literal values in tests, Terraform references when a construct wires them.
"""

from __future__ import annotations

from typing import Any

from karpenter_model.releases import ControllerPolicyName, ReleaseProfile
from karpenter_model.releases.cloudformation import substitute

PolicyDocument = dict[str, Any]

# A managed node group's role: what EKS requires for its nodes to join (SSM is only upstream's choice for Karpenter nodes).
SYSTEM_NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def node_role_policy_arns(profile: ReleaseProfile, *, partition: str) -> list[str]:
    """The AWS managed policies upstream's `KarpenterNodeRole` has in this release."""
    return [substitute(arn, {"AWS::Partition": partition}) for arn in profile.node_role_policy_arns]


def controller_policies(
    profile: ReleaseProfile,
    *,
    partition: str,
    region: str,
    account_id: str,
    cluster_name: str,
    queue_arn: str,
    node_role_arn: str,
) -> dict[ControllerPolicyName, PolicyDocument]:
    """Every controller policy of the release, statement for statement as upstream's template has it."""
    placeholders = {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "ClusterName": cluster_name,
        "KarpenterInterruptionQueue.Arn": queue_arn,
        "KarpenterNodeRole.Arn": node_role_arn,
    }
    return {name: substitute(document, placeholders) for name, document in profile.controller_policies.items()}


def irsa_trust_policy(*, oidc_provider_arn: str, issuer_host: str, namespace: str, service_account: str) -> PolicyDocument:
    """Only `system:serviceaccount:<namespace>:<service_account>`, with the STS audience, may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer_host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{issuer_host}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def ec2_trust_policy() -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
