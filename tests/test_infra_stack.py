"""The infra stack as a whole: readable addresses, outputs, providers, backend, snapshot."""

from __future__ import annotations

import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

EXPECTED_ADDRESSES = {
    "aws_iam_openid_connect_provider.eks",
    "aws_iam_role.karpenter_controller",
    "aws_iam_policy.karpenter_controller",
    "aws_iam_role_policy_attachment.karpenter_controller",
    "aws_iam_role.karpenter_node",
    "aws_iam_role_policy_attachment.karpenter_node_policies",
    "aws_eks_access_entry.karpenter_node",
    "aws_sqs_queue.karpenter_interruption",
    "aws_sqs_queue_policy.karpenter_interruption",
    "aws_cloudwatch_event_rule.karpenter_interruption_spot",
    "aws_cloudwatch_event_rule.karpenter_interruption_rebalance",
    "aws_cloudwatch_event_rule.karpenter_interruption_state_change",
    "aws_cloudwatch_event_rule.karpenter_interruption_health_event",
    "aws_cloudwatch_event_target.karpenter_interruption_spot",
    "aws_cloudwatch_event_target.karpenter_interruption_rebalance",
    "aws_cloudwatch_event_target.karpenter_interruption_state_change",
    "aws_cloudwatch_event_target.karpenter_interruption_health_event",
    "aws_ec2_tag.karpenter_discovery_subnet",
    "aws_ec2_tag.karpenter_discovery_security_group",
    "aws_iam_role.system_node",
    "aws_iam_role_policy_attachment.system_node_policies",
    "aws_eks_node_group.system",
}


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_resource_has_its_karpenter_tf_address(infra):
    addresses = {f"{kind}.{name}" for kind, items in infra["resource"].items() for name in items}
    assert addresses == EXPECTED_ADDRESSES


def test_no_hashed_logical_ids(example_stacks):
    for stack in example_stacks.values():
        for section in ("resource", "data"):
            for items in stack.get(section, {}).values():
                for name in items:
                    assert not re.search(r"_[0-9A-F]{8}$", name), name


def test_outputs_for_the_next_stacks_and_operators(infra):
    assert {name: output["value"] for name, output in infra["output"].items()} == {
        "karpenter_controller_role_arn": "${aws_iam_role.karpenter_controller.arn}",
        "karpenter_interruption_queue_name": "${aws_sqs_queue.karpenter_interruption.name}",
        "karpenter_node_role_name": "${aws_iam_role.karpenter_node.name}",
        "karpenter_node_role_arn": "${aws_iam_role.karpenter_node.arn}",
        "oidc_provider_arn": "${aws_iam_openid_connect_provider.eks.arn}",
        "cluster_endpoint": "${data.aws_eks_cluster.cluster.endpoint}",
    } | {name: output["value"] for name, output in infra["output"].items() if name.startswith("cross-stack-output-")}


def test_aws_provider_is_pinned_to_the_mirrored_version(infra):
    assert infra["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
    (aws,) = infra["provider"]["aws"]
    assert aws["region"] == "us-east-1"
    assert aws["default_tags"] == [{"tags": {"Environment": "learning"}}]


def test_local_state_is_relative_and_outside_the_build_output(infra):
    assert infra["terraform"]["backend"] == {"local": {"path": "../../../terraform.infra.tfstate"}}


def test_infra_snapshot(example, snapshot_json):
    _, stacks = example
    assert stacks["infra"] == snapshot_json
