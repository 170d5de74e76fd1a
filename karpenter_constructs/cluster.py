"""The existing EKS cluster, looked up by name, and the account facts ARNs are built from."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct

from karpenter_constructs.base import named

# Karpenter 0.37 supports Kubernetes up to 1.30 (its compatibility matrix); checked at plan time.
MAX_KUBERNETES_MINOR = 30


class ExistingCluster(Construct):
    def __init__(self, scope: Construct, id: str, *, cluster_name: str) -> None:
        super().__init__(scope, id)
        self.eks = named(
            DataAwsEksCluster(
                self,
                "cluster",
                name=cluster_name,
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        {
                            "condition": f'${{tonumber(split(".", self.version)[1]) <= {MAX_KUBERNETES_MINOR}}}',
                            "errorMessage": f"Karpenter 0.37.2 supports Kubernetes up to 1.{MAX_KUBERNETES_MINOR}; "
                            "upgrade Karpenter before the cluster.",
                        }
                    ]
                ),
            )
        )
        self.partition = named(DataAwsPartition(self, "current_partition"), "current").partition
        self.region = named(DataAwsRegion(self, "current_region"), "current").name
        self.account_id = named(DataAwsCallerIdentity(self, "current_account"), "current").account_id
        vpc_config = self.eks.vpc_config.get(0)
        self.subnet_ids = vpc_config.subnet_ids
        self.cluster_security_group_id = vpc_config.cluster_security_group_id
        self.issuer_url = self.eks.identity.get(0).oidc.get(0).issuer
