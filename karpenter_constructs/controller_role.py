"""The controller's IAM role (IRSA) and the release's controller policies (one or several), attached to it."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_constructs.oidc_provider import OidcProvider
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import PolicyValues, irsa_trust_policy, managed_policies, measured_values


class ControllerRole(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: KarpenterConfig,
        cluster: ExistingCluster,
        oidc: OidcProvider,
        queue_arn: str,
        node_role_arn: str,
    ) -> None:
        super().__init__(scope, id)
        trust = irsa_trust_policy(
            oidc_provider_arn=oidc.arn,
            issuer_host=oidc.issuer_host,
            namespace=config.karpenter.namespace,
            service_account=config.karpenter.service_account,
        )
        self.role = named(
            IamRole(
                self,
                "karpenter_controller",
                name=config.resource_names.controller_role,
                description=f"Karpenter controller for EKS cluster {config.cluster_name} (IRSA)",
                assume_role_policy=json.dumps(trust),
            )
        )
        references = PolicyValues(
            partition=cluster.partition,
            region=cluster.region,
            account_id=cluster.account_id,
            cluster_name=config.cluster_name,
            queue_arn=queue_arn,
            node_role_arn=node_role_arn,
        )
        documents = managed_policies(config.release, references, measured_values(config))
        self.policies = []
        for name, document in documents.items():
            policy = named(
                IamPolicy(
                    self,
                    f"{name.address}_policy",
                    name=config.prefix + name.suffix,
                    # No description: it forces replacement of a policy, which adopting a karpenter.tf state must avoid.
                    policy=json.dumps(document),
                ),
                name.address,
            )
            named(
                IamRolePolicyAttachment(self, f"{name.address}_policy_attachment", role=self.role.name, policy_arn=policy.arn),
                name.address,
            )
            self.policies.append(policy)
