"""Node role: EC2 trust, the four managed policies, and an EC2_LINUX access entry (switchable off)."""

from __future__ import annotations

from tests.conftest import make_config, policy, resource

PARTITION = "${data.aws_partition.current.partition}"


def managed(*names: str) -> str:
    """The attachments' for_each: the policy ARNs, sorted so the synthesized order never depends on upstream's."""
    return "${toset([" + ", ".join(f'"arn:{PARTITION}:iam::aws:policy/{n}"' for n in sorted(names)) + "])}"


def test_node_role_trusts_ec2(infra):
    assert policy(infra, "aws_iam_role.karpenter_node", "assume_role_policy")["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert resource(infra, "aws_iam_role.karpenter_node")["name"] == "aws-2026-eks-karpenter-node"


def test_node_role_has_the_four_managed_policies(infra):
    attachments = resource(infra, "aws_iam_role_policy_attachment.karpenter_node_policies")
    assert attachments["for_each"] == managed(
        "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly", "AmazonSSMManagedInstanceCore"
    )
    assert attachments["policy_arn"] == "${each.key}"
    assert attachments["role"] == "${aws_iam_role.karpenter_node.name}"


def test_nodes_may_join_through_an_access_entry(infra):
    entry = resource(infra, "aws_eks_access_entry.karpenter_node")
    assert {key: value for key, value in entry.items() if key != "//"} == {  # "//": cdktf's metadata, no attribute
        "type": "EC2_LINUX",
        "cluster_name": "aws-2026-eks",
        "principal_arn": "${aws_iam_role.karpenter_node.arn}",
    }


def test_access_entry_can_be_switched_off_for_aws_auth_clusters(synth_config):
    stack = synth_config(make_config(node_role={"access_entry": False}))["infra"]
    assert "aws_eks_access_entry" not in stack["resource"]


def test_passrole_is_limited_to_this_node_role(infra):
    statements = {s["Sid"]: s for s in policy(infra, "aws_iam_policy.karpenter_controller")["Statement"]}
    assert statements["AllowPassingInstanceRole"]["Resource"] == "${aws_iam_role.karpenter_node.arn}"
