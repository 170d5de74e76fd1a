"""The role Karpenter-launched nodes run as, and the access entry that lets them join the cluster."""

from __future__ import annotations

import json
from collections.abc import Mapping

from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_model.construct_inputs import NodeRoleInputs
from karpenter_model.documents.iam import ec2_trust_policy, node_role_policy_arns
from karpenter_model.migration import MigrationStep


def ec2_role_with_policies(
    scope: Construct,
    *,
    role_id: str,
    name: str,
    description: str,
    policy_arns: list[str],
    permissions_boundary: str | None,
    tags: Mapping[str, str],
) -> tuple[IamRole, IamRolePolicyAttachment]:
    """An EC2 instance role with AWS managed policies, attached by for_each keyed on the policy ARN."""
    role = named(
        IamRole(
            scope,
            role_id,
            name=name,
            description=description,
            assume_role_policy=json.dumps(ec2_trust_policy()),
            permissions_boundary=permissions_boundary,
            tags=dict(tags) or None,
        )
    )
    arns = TerraformIterator.from_list(sorted(policy_arns))
    attachments = named(
        IamRolePolicyAttachment(scope, f"{role_id}_policies", for_each=arns, role=role.name, policy_arn=Token.as_string(arns.key))
    )
    return role, attachments


class NodeRole(Construct):
    def __init__(
        self, scope: Construct, id: str, *, inputs: NodeRoleInputs, cluster: ExistingCluster, step: MigrationStep | None
    ) -> None:
        super().__init__(scope, id)
        policy_arns = set(node_role_policy_arns(inputs.release, partition=cluster.partition))
        if step:
            policy_arns.update(step.kept_node_role_policy_arns(partition=cluster.partition))
        self.role, _ = ec2_role_with_policies(
            self,
            role_id="karpenter_node",
            name=inputs.role_name,
            description=f"Nodes Karpenter launches for EKS cluster {inputs.cluster_name}",
            policy_arns=sorted(policy_arns),
            permissions_boundary=inputs.permissions_boundary,
            tags=inputs.tags,
        )
        if inputs.access_entry:
            named(
                EksAccessEntry(
                    self,
                    "karpenter_node_access_entry",
                    cluster_name=inputs.cluster_name,
                    principal_arn=self.role.arn,
                    type="EC2_LINUX",
                ),
                "karpenter_node",
            )
