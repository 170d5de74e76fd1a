"""Stack 1: every AWS piece Karpenter needs, for an existing cluster (karpenter.tf)."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from cdktf_cdktf_provider_tls.provider import TlsProvider
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_constructs.controller_role import IDENTITY_NAMES, ControllerRole
from karpenter_constructs.discovery_tags import DiscoveryTags
from karpenter_constructs.interruption_queue import InterruptionQueue
from karpenter_constructs.node_role import NodeRole
from karpenter_constructs.oidc_provider import OidcProvider
from karpenter_constructs.pod_identity import PodIdentity
from karpenter_constructs.running_release import (
    RUNNING_IDENTITY,
    RUNNING_RELEASE,
    RunningControllerRole,
    infra_identity_guard,
    infra_release_guard,
    untagged_role_warning,
)
from karpenter_constructs.system_node_group import SystemNodeGroup
from karpenter_model.config import KarpenterConfig
from karpenter_model.construct_inputs import (
    ControllerRoleInputs,
    DiscoveryTagsInputs,
    InterruptionQueueInputs,
    NodeRoleInputs,
    OidcProviderInputs,
    PodIdentityInputs,
    SystemNodeGroupInputs,
)
from karpenter_model.migration import MigrationStep
from karpenter_model.terraform_literals import literal, literal_tree
from stacks.state import apply_adoption, configure_backend

UNTAGGED_ROLE_CHECK = "controller_role_records_its_release"


def aws_provider(scope: Construct, config: KarpenterConfig) -> AwsProvider:
    aws = config.aws
    return AwsProvider(
        scope,
        "aws",
        region=config.region,
        default_tags=[AwsProviderDefaultTags(tags=literal_tree(dict(config.tags)))] if config.tags else None,
        endpoints=[AwsProviderEndpoints(**literal_tree(dict(aws.endpoints)))] if aws.endpoints else None,
        skip_credentials_validation=aws.skip_credentials_validation or None,
        skip_metadata_api_check="true" if aws.skip_metadata_api_check else None,
        skip_region_validation=aws.skip_region_validation or None,
    )


class InfraStack(TerraformStack):
    def __init__(self, scope: Construct, name: str, *, config: KarpenterConfig, step: MigrationStep | None) -> None:
        super().__init__(scope, name)
        configure_backend(self, name, config)
        aws_provider(self, config)
        irsa = "irsa" in config.karpenter.identities  # IRSA, alone or during a switch: the OIDC provider exists
        if irsa and not config.oidc.thumbprints:
            TlsProvider(self, "tls")

        # Before anything changes: which release and identity the controller role was last deployed for.
        role_name = literal(config.resource_names.controller_role)
        RunningControllerRole(self, "running", role_name=config.resource_names.controller_role)
        self.add_override(f"check.{UNTAGGED_ROLE_CHECK}", untagged_role_warning(role_name, config.karpenter.version))
        cluster = ExistingCluster(
            self,
            "cluster",
            cluster_name=config.cluster_name,
            release=config.release,
            acknowledged=config.karpenter.acknowledge_unsupported_kubernetes,
            running=RUNNING_RELEASE,
            tags_cluster_security_group=config.discovery.manage_tags and not config.discovery.security_group_ids,
        )
        oidc = OidcProvider(self, "oidc_provider", inputs=OidcProviderInputs.of(config), cluster=cluster) if irsa else None
        node = NodeRole(self, "node_role", inputs=NodeRoleInputs.of(config), cluster=cluster, step=step)
        interruption = InterruptionQueue(self, "interruption", inputs=InterruptionQueueInputs.of(config), cluster=cluster)
        controller = ControllerRole(
            self,
            "controller",
            inputs=ControllerRoleInputs.of(config),
            cluster=cluster,
            oidc=oidc,
            queue_arn=interruption.queue.arn,
            node_role_arn=node.role.arn,
            key_arn=interruption.key_arn,
            step=step,
            guards=[
                infra_release_guard(config.release, step.previous if step else None, role_name, RUNNING_RELEASE),
                infra_identity_guard(
                    config.karpenter.identity,
                    config.karpenter.previous_identity,
                    config.karpenter.previous_version,
                    role_name,
                    RUNNING_IDENTITY,
                ),
            ],
        )
        pod_identity = None
        if "pod_identity" in config.karpenter.identities:
            pod_identity = PodIdentity(
                self, "pod_identity", inputs=PodIdentityInputs.of(config), cluster=cluster, role_arn=controller.role.arn
            )
        if config.discovery.manage_tags:
            DiscoveryTags(self, "discovery", inputs=DiscoveryTagsInputs.of(config), cluster=cluster)
        SystemNodeGroup(self, "system_node_group", inputs=SystemNodeGroupInputs.of(config), cluster=cluster)

        # What the chart stack and operators need; cdktf turns uses in other stacks into remote state reads.
        self.cluster_endpoint = cluster.eks.endpoint
        self.cluster_certificate_authority = cluster.eks.certificate_authority.get(0).data
        self.controller_role_arn = controller.role.arn
        self.interruption_queue_name = interruption.queue.name
        identities = IDENTITY_NAMES[config.karpenter.identities]
        outputs = [
            ("karpenter_controller_role_arn", controller.role.arn, f"IAM role ARN for the Karpenter controller ({identities})"),
            ("karpenter_interruption_queue_name", interruption.queue.name, "SQS queue name for interruption handling"),
            ("karpenter_node_role_name", node.role.name, "IAM role name for Karpenter nodes (EC2NodeClass spec.role)"),
            ("karpenter_node_role_arn", node.role.arn, "IAM role ARN for Karpenter nodes"),
        ]
        if oidc:  # only while IRSA is in use: there is no OIDC provider otherwise
            outputs.append(("oidc_provider_arn", oidc.arn, "ARN of the cluster's IAM OIDC provider"))
        if pod_identity:
            outputs.append(
                (
                    "karpenter_pod_identity_association_arn",
                    pod_identity.association.association_arn,
                    "EKS Pod Identity association of the controller's service account",
                )
            )
        outputs.append(("cluster_endpoint", cluster.eks.endpoint, "Kubernetes API endpoint of the cluster"))
        for output_name, value, description in outputs:
            named(TerraformOutput(self, output_name, value=value, description=description))
        apply_adoption(self, config.adoption)
