"""`karpenter.sh/discovery` tags on existing subnets and security groups, without taking them over.

`aws_ec2_tag` manages one tag on a resource Terraform does not own: destroy removes that tag
and leaves the subnet or security group, and its other tags, as they were.
"""

from __future__ import annotations

from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.ec2_tag import Ec2Tag
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_model.config import DISCOVERY_TAG
from karpenter_model.construct_inputs import DiscoveryTagsInputs


class DiscoveryTags(Construct):
    def __init__(self, scope: Construct, id: str, *, inputs: DiscoveryTagsInputs, cluster: ExistingCluster) -> None:
        super().__init__(scope, id)
        subnets = list(inputs.subnet_ids) or cluster.subnet_ids
        security_groups = list(inputs.security_group_ids) or [cluster.cluster_security_group_id]
        for kind, ids in (("subnet", subnets), ("security_group", security_groups)):
            each = TerraformIterator.from_list(ids)
            named(
                Ec2Tag(
                    self,
                    f"karpenter_discovery_{kind}",
                    for_each=each,
                    resource_id=Token.as_string(each.value),
                    key=DISCOVERY_TAG,
                    value=inputs.cluster_name,
                )
            )
