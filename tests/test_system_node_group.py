"""System node group: on-demand, tainted CriticalAddonsOnly=true:NoSchedule, labelled role=system, own role."""

from __future__ import annotations

from tests.conftest import make_config, resource


def test_node_group_is_on_demand_tainted_and_labelled(infra):
    group = resource(infra, "aws_eks_node_group.system")
    assert group["capacity_type"] == "ON_DEMAND"
    assert group["taint"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {"role": "system"}
    assert group["instance_types"] == ["t3.medium"]
    assert group["scaling_config"] == {"min_size": 1, "desired_size": 1, "max_size": 2}
    assert group["cluster_name"] == "aws-2026-eks"


def test_node_group_has_its_own_role_ready_before_it(infra):
    group = resource(infra, "aws_eks_node_group.system")
    assert group["node_role_arn"] == "${aws_iam_role.system_node.arn}"
    assert group["depends_on"] == ["aws_iam_role_policy_attachment.system_node_policies"]
    assert resource(infra, "aws_iam_role_policy_attachment.system_node_policies")["role"] == "${aws_iam_role.system_node.name}"


def test_size_and_subnets_come_from_config(synth_config):
    config = make_config(
        system_node_group={
            "instance_types": ["m6i.large"],
            "min_size": 2,
            "desired_size": 2,
            "max_size": 3,
            "subnet_ids": ["subnet-0aa"],
        }
    )
    group = resource(synth_config(config)["infra"], "aws_eks_node_group.system")
    assert group["instance_types"] == ["m6i.large"]
    assert group["scaling_config"] == {"min_size": 2, "desired_size": 2, "max_size": 3}
    assert group["subnet_ids"] == ["subnet-0aa"]
