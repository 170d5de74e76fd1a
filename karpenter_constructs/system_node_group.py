"""The small on-demand managed node group the controller runs on, tainted to keep workloads off.

Karpenter must not run on nodes it manages (consolidating its own node would stop it), so the
controller is pinned here by label and tolerates the taint.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
    EksNodeGroupUpdateConfig,
)
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_constructs.node_role import ec2_role_with_policies
from karpenter_model.construct_inputs import SystemNodeGroupInputs
from karpenter_model.documents.iam import SYSTEM_NODE_MANAGED_POLICIES, managed_policy_arn


class SystemNodeGroup(Construct):
    def __init__(self, scope: Construct, id: str, *, inputs: SystemNodeGroupInputs, cluster: ExistingCluster) -> None:
        super().__init__(scope, id)
        settings = inputs.settings
        role, attachments = ec2_role_with_policies(
            self,
            role_id="system_node",
            name=inputs.role_name,
            description=f"System managed node group of EKS cluster {inputs.cluster_name}",
            policy_arns=[managed_policy_arn(cluster.partition, policy) for policy in SYSTEM_NODE_MANAGED_POLICIES],
            permissions_boundary=inputs.permissions_boundary,
            tags=inputs.tags,
        )
        self.node_group = named(
            EksNodeGroup(
                self,
                "system",
                cluster_name=inputs.cluster_name,
                node_group_name=inputs.group_name,
                node_role_arn=role.arn,
                subnet_ids=list(settings.subnet_ids) or cluster.subnet_ids,
                capacity_type="ON_DEMAND",
                instance_types=list(settings.instance_types),
                ami_type=settings.ami_type,
                disk_size=settings.disk_size,
                scaling_config=EksNodeGroupScalingConfig(
                    min_size=settings.min_size, desired_size=settings.desired_size, max_size=settings.max_size
                ),
                update_config=EksNodeGroupUpdateConfig(max_unavailable=1),
                labels=dict(settings.labels),
                taint=[EksNodeGroupTaint(key=t.key, value=t.value or None, effect=t.effect) for t in settings.taints],
                tags=dict(inputs.tags) or None,
                # Nodes need their policies to join, and to drain cleanly on destroy.
                depends_on=[attachments],
            )
        )
