"""Discovery tags on existing subnets and security groups, via aws_ec2_tag (no takeover)."""

from __future__ import annotations

from tests.conftest import make_config, resource


def test_cluster_subnets_and_security_group_are_tagged_by_default(infra):
    subnets = resource(infra, "aws_ec2_tag.karpenter_discovery_subnet")
    groups = resource(infra, "aws_ec2_tag.karpenter_discovery_security_group")
    assert subnets["for_each"] == "${toset(tolist(data.aws_eks_cluster.cluster.vpc_config[0].subnet_ids))}"
    assert groups["for_each"] == "${toset([data.aws_eks_cluster.cluster.vpc_config[0].cluster_security_group_id])}"
    for tag in (subnets, groups):
        assert tag["key"] == "karpenter.sh/discovery"
        assert tag["value"] == "aws-2026-eks"
        assert tag["resource_id"] == "${each.value}"


def test_explicit_ids_override_the_cluster_defaults(synth_config):
    config = make_config(discovery={"subnet_ids": ["subnet-0a1", "subnet-0b2"], "security_group_ids": ["sg-0c3"]})
    stack = synth_config(config)["infra"]
    assert resource(stack, "aws_ec2_tag.karpenter_discovery_subnet")["for_each"] == '${toset(["subnet-0a1", "subnet-0b2"])}'
    assert resource(stack, "aws_ec2_tag.karpenter_discovery_security_group")["for_each"] == '${toset(["sg-0c3"])}'


def test_tagging_can_be_left_to_the_configuration_owning_the_network(synth_config):
    stack = synth_config(make_config(discovery={"manage_tags": False}))["infra"]
    assert "aws_ec2_tag" not in stack["resource"]


def test_existing_networks_are_never_managed_whole(infra):
    assert not {"aws_subnet", "aws_security_group", "aws_vpc"} & set(infra["resource"])
