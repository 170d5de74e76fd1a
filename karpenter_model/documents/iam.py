"""IAM policy documents for the controller and node roles.

The controller policies are upstream's, read from the release's CloudFormation template
(`karpenter_model.releases`), with the template's `${...}` placeholders filled in. Arguments are
plain strings: literal values in tests, Terraform references when a construct wires them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from karpenter_model.config import KarpenterConfig
from karpenter_model.limits import IAM_MANAGED_POLICY_MAX_CHARACTERS, partition_of
from karpenter_model.releases import ControllerPolicyName, ReleaseProfile
from karpenter_model.releases.cloudformation import substitute
from karpenter_model.terraform_literals import literal_tree

PolicyDocument = dict[str, Any]

# A managed node group's role: what EKS requires for its nodes to join (SSM is only upstream's choice for Karpenter nodes).
SYSTEM_NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


# The policy of config `iam.controller_policy_statements`: beside upstream's, which stay as upstream wrote them.
ADDITIONAL_POLICY = ControllerPolicyName("karpenter_controller_additional", "-karpenter-controller-additional")


def additional_policy(config: KarpenterConfig) -> PolicyDocument | None:
    """The controller's extra statements from config, as one policy (validation keeps it within IAM's size limit)."""
    statements = [statement.document() for statement in config.iam.controller_policy_statements]
    return {"Version": "2012-10-17", "Statement": literal_tree(statements)} if statements else None


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def node_role_policy_arns(profile: ReleaseProfile, *, partition: str) -> list[str]:
    """The AWS managed policies upstream's `KarpenterNodeRole` has in this release."""
    return [substitute(arn, {"AWS::Partition": partition}) for arn in profile.node_role_policy_arns]


@dataclass(frozen=True)
class PolicyValues:
    """What fills the template's placeholders: Terraform references in the stack, literal values to measure or test."""

    partition: str
    region: str
    account_id: str
    cluster_name: str
    queue_arn: str
    node_role_arn: str

    def placeholders(self) -> dict[str, str]:
        return {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "ClusterName": self.cluster_name,
            "KarpenterInterruptionQueue.Arn": self.queue_arn,
            "KarpenterNodeRole.Arn": self.node_role_arn,
        }


def controller_policies(profile: ReleaseProfile, values: PolicyValues) -> dict[ControllerPolicyName, PolicyDocument]:
    """Every controller policy of the release, statement for statement as upstream's template has it."""
    return {name: substitute(document, values.placeholders()) for name, document in profile.controller_policies.items()}


def measured_values(config: KarpenterConfig) -> PolicyValues:
    """The literal values the stack's references will take, as long as they will be: what a policy's size is measured with.

    Only the account ID is unknown at synth, and every account ID has twelve digits.
    """
    partition, account = partition_of(config.region), "123456789012"
    names = config.resource_names
    return PolicyValues(
        partition=partition,
        region=config.region,
        account_id=account,
        cluster_name=config.cluster_name,
        queue_arn=f"arn:{partition}:sqs:{config.region}:{account}:{names.interruption_queue}",
        node_role_arn=f"arn:{partition}:iam::{account}:role/{names.node_role}",
    )


def policy_size(document: PolicyDocument) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def managed_policies(
    profile: ReleaseProfile, values: PolicyValues, measured: PolicyValues
) -> dict[ControllerPolicyName, PolicyDocument]:
    """The release's controller policies as IAM managed policies, each within IAM's size limit.

    Upstream's single policy of 0.37 and 1.0 outgrows 6,144 characters once the cluster name is
    long enough (it appears in most statements; 1.0.14's passes the limit at about 25 characters),
    and IAM refuses it at apply. A policy too large when filled in with `measured` (the literal
    values the references will take) is cut, in template order, into parts that fit: the same
    statements, in the same order. The first part keeps the policy's name and address.
    """
    filled, sized = controller_policies(profile, values), controller_policies(profile, measured)
    fitted: dict[ControllerPolicyName, PolicyDocument] = {}
    for name, document in filled.items():
        for part, indices in enumerate(_parts(sized[name])):
            part_name = name if part == 0 else ControllerPolicyName(f"{name.address}_{part + 1}", f"{name.suffix}-{part + 1}")
            fitted[part_name] = {**document, "Statement": [document["Statement"][i] for i in indices]}
    return fitted


def _parts(document: PolicyDocument) -> list[list[int]]:
    """Statement indices per part, filled greedily in order so each part's document fits."""
    parts: list[list[int]] = [[]]
    for index, _ in enumerate(document["Statement"]):
        candidate = {**document, "Statement": [document["Statement"][i] for i in (*parts[-1], index)]}
        if parts[-1] and policy_size(candidate) > IAM_MANAGED_POLICY_MAX_CHARACTERS:
            parts.append([])
        parts[-1].append(index)
        if (
            policy_size({**document, "Statement": [document["Statement"][i] for i in parts[-1]]})
            > IAM_MANAGED_POLICY_MAX_CHARACTERS
        ):
            raise ValueError(
                f"statement {document['Statement'][index].get('Sid', index)} alone exceeds IAM's managed policy size"
            )
    return parts


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


# The service principal EKS Pod Identity assumes roles as (EKS User Guide, "Create IAM role with trust policy required
# by EKS Pod Identity"); `sts:TagSession` lets it attach the session tags (eks-cluster-name, kubernetes-namespace, ...).
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ["sts:AssumeRole", "sts:TagSession"]


def pod_identity_trust_policy() -> PolicyDocument:
    """EKS Pod Identity may assume the role; which pods get it is the association's business (namespace, service account)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": POD_IDENTITY_ACTIONS}],
    }


def controller_trust_policy(
    identities: tuple[str, ...],
    *,
    namespace: str,
    service_account: str,
    oidc_provider_arn: str | None = None,
    issuer_host: str | None = None,
) -> PolicyDocument:
    """The controller role's trust: one statement per identity in use (both while `karpenter.previous_identity` is set).

    IRSA's statement first, so a switch from IRSA only appends the Pod Identity statement.
    """
    statements = []
    if "irsa" in identities:
        if oidc_provider_arn is None or issuer_host is None:
            raise ValueError("IRSA needs the OIDC provider's ARN and issuer host")
        irsa = irsa_trust_policy(
            oidc_provider_arn=oidc_provider_arn, issuer_host=issuer_host, namespace=namespace, service_account=service_account
        )
        statements += irsa["Statement"]
    if "pod_identity" in identities:
        statements += pod_identity_trust_policy()["Statement"]
    if not statements:
        raise ValueError(f"no known identity in {identities!r}")
    return {"Version": "2012-10-17", "Statement": statements}


def ec2_trust_policy() -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
