"""The 0.37.2 controller policy is upstream's KarpenterControllerPolicy, statement for statement (an oracle parsed apart from the app's template reader)."""

from __future__ import annotations

import json

import pytest
import yaml

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import PolicyValues, controller_policies
from karpenter_model.releases import PROFILES
from tests.conftest import EXAMPLES, policy, reference_controller_policy

PARTITION = "${data.aws_partition.current.partition}"
REGION = "${data.aws_region.current.name}"
ACCOUNT = "${data.aws_caller_identity.current.account_id}"
QUEUE_ARN = "${aws_sqs_queue.karpenter_interruption.arn}"
NODE_ROLE_ARN = "${aws_iam_role.karpenter_node.arn}"


def as_set(value: str | list[str]) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


LITERAL = {
    "partition": "aws-cn",
    "region": "cn-north-1",
    "account": "210987654321",
    "cluster": "blue",
    "queue_arn": "arn:aws-cn:sqs:cn-north-1:210987654321:blue-karpenter-interruption",
    "node_role_arn": "arn:aws-cn:iam::210987654321:role/blue-karpenter-node",
}


def built(**values: str) -> dict:
    (document,) = controller_policies(
        PROFILES["0.37.2"],
        PolicyValues(
            partition=values["partition"],
            region=values["region"],
            account_id=values["account"],
            cluster_name=values["cluster"],
            queue_arn=values["queue_arn"],
            node_role_arn=values["node_role_arn"],
        ),
    ).values()
    return document


def test_policy_equals_reference_exactly():
    assert built(**LITERAL) == reference_controller_policy(**LITERAL)


@pytest.mark.parametrize("index", range(16))
def test_each_statement_matches_reference(index):
    ours = built(**LITERAL)["Statement"][index]
    upstream = reference_controller_policy(**LITERAL)["Statement"][index]
    assert ours["Sid"] == upstream["Sid"]
    assert ours["Effect"] == upstream["Effect"] == "Allow"
    assert as_set(ours["Action"]) == as_set(upstream["Action"]), ours["Sid"]
    assert as_set(ours["Resource"]) == as_set(upstream["Resource"]), ours["Sid"]
    assert ours.get("Condition") == upstream.get("Condition"), ours["Sid"]


def test_sixteen_statements_with_upstream_sids():
    sids = [s["Sid"] for s in built(**LITERAL)["Statement"]]
    assert len(sids) == 16 and len(set(sids)) == 16
    assert "AllowScopedInstanceProfileCreationActions" in sids  # the seed's older list lacks these
    assert "AllowPassingInstanceRole" in sids


def test_synthesized_policy_wires_terraform_references(infra, example_config):
    synthesized = policy(infra, "aws_iam_policy.karpenter_controller")
    assert synthesized == reference_controller_policy(
        partition=PARTITION,
        region=REGION,
        account=ACCOUNT,
        cluster=example_config.cluster_name,
        queue_arn=QUEUE_ARN,
        node_role_arn=NODE_ROLE_ARN,
    )


def test_policy_is_attached_to_the_controller_role(infra):
    attachment = infra["resource"]["aws_iam_role_policy_attachment"]["karpenter_controller"]
    assert attachment["role"] == "${aws_iam_role.karpenter_controller.name}"
    assert attachment["policy_arn"] == "${aws_iam_policy.karpenter_controller.arn}"
    assert infra["resource"]["aws_iam_policy"]["karpenter_controller"]["name"] == "aws-2026-eks-karpenter-controller"


def attached_policies(stack: dict) -> dict[str, dict]:
    """Every policy attached to the controller role, by address: the documents the controller runs with."""
    resources = stack["resource"]
    return {
        name: json.loads(resources["aws_iam_policy"][name]["policy"])
        for attachment in resources["aws_iam_role_policy_attachment"].values()
        if attachment["role"] == "${aws_iam_role.karpenter_controller.name}"
        for name in [attachment["policy_arn"].removeprefix("${aws_iam_policy.").removesuffix(".arn}")]
    }


@pytest.mark.parametrize("example", ["aws-2026-eks", "aws-2026-eks-1.14.1"])
def test_with_kms_the_only_difference_from_upstream_is_one_decrypt_statement_on_that_key(synth_config, example):
    """`interruption.encryption: kms` leaves the release's policies as they were (0.37.2's is upstream's
    CloudFormation policy, as above) and adds one policy with one statement: kms:Decrypt on the queue's key."""
    data = yaml.safe_load(EXAMPLES[example].read_text())
    plain = attached_policies(synth_config(KarpenterConfig.model_validate(data))["infra"])
    data["interruption"] = {"encryption": "kms"}
    with_kms = attached_policies(synth_config(KarpenterConfig.model_validate(data))["infra"])
    assert {name: with_kms[name] for name in plain} == plain
    assert sorted(set(with_kms) - set(plain)) == ["karpenter_controller_interruption_kms"]
    (statement,) = with_kms["karpenter_controller_interruption_kms"]["Statement"]
    assert statement == {
        "Sid": "AllowInterruptionQueueDecryption",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "${aws_kms_key.karpenter_interruption.arn}",
    }
    if example == "aws-2026-eks":
        assert with_kms["karpenter_controller"] == reference_controller_policy(
            partition=PARTITION,
            region=REGION,
            account=ACCOUNT,
            cluster="aws-2026-eks",
            queue_arn=QUEUE_ARN,
            node_role_arn=NODE_ROLE_ARN,
        )
