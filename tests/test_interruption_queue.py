"""Interruption queue, its policy, and the four EventBridge rules with targets on the queue."""

from __future__ import annotations

import json

import pytest

from karpenter_model.config import KarpenterConfig
from karpenter_model.naming import ResourceNames, final_names
from karpenter_model.releases import PROFILES
from tests.conftest import config_for_cluster, example_data, policy, reference, resource

QUEUE_ARN = "${aws_sqs_queue.karpenter_interruption.arn}"
UPSTREAM_RULES = {
    "spot": "SpotInterruptionRule",
    "rebalance": "RebalanceRule",
    "state_change": "InstanceStateChangeRule",
    "health_event": "ScheduledChangeRule",
}


def upstream_patterns() -> dict[str, dict]:
    rules = json.loads((reference("0.37.2") / "interruption.json").read_text())["eventBridgeRules"]
    return {rule["logicalId"]: rule["eventPattern"] for rule in rules}


def test_queue_retention_and_encryption(infra):
    queue = resource(infra, "aws_sqs_queue.karpenter_interruption")
    assert queue["message_retention_seconds"] == 300
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue["name"] == "aws-2026-eks-karpenter-interruption"


def test_queue_policy_lets_eventbridge_send_and_denies_plain_http(infra):
    document = policy(infra, "aws_sqs_queue_policy.karpenter_interruption")
    assert (
        resource(infra, "aws_sqs_queue_policy.karpenter_interruption")["queue_url"]
        == "${aws_sqs_queue.karpenter_interruption.url}"
    )
    allow, deny = document["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == QUEUE_ARN
    assert deny == {
        "Sid": "DenyHTTP",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": QUEUE_ARN,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


@pytest.mark.parametrize("kind", sorted(UPSTREAM_RULES))
def test_rule_pattern_is_upstream_and_targets_the_queue(infra, kind):
    rule = resource(infra, f"aws_cloudwatch_event_rule.karpenter_interruption_{kind}")
    assert json.loads(rule["event_pattern"]) == upstream_patterns()[UPSTREAM_RULES[kind]]
    target = resource(infra, f"aws_cloudwatch_event_target.karpenter_interruption_{kind}")
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.karpenter_interruption_{kind}.name}}"
    assert target["arn"] == QUEUE_ARN


def test_exactly_four_rules_each_with_one_target(infra):
    assert sorted(infra["resource"]["aws_cloudwatch_event_rule"]) == sorted(f"karpenter_interruption_{k}" for k in UPSTREAM_RULES)
    assert sorted(infra["resource"]["aws_cloudwatch_event_target"]) == sorted(infra["resource"]["aws_cloudwatch_event_rule"])


def test_rule_names_are_per_cluster_and_fit_64_characters(synth_config):
    names = {}
    for cluster in ("blue", "green"):
        stack = synth_config(config_for_cluster(cluster))["infra"]
        names[cluster] = {r["name"] for r in stack["resource"]["aws_cloudwatch_event_rule"].values()}
        assert all(name.startswith(f"{cluster}-") and len(name) <= 64 for name in names[cluster])
    assert not names["blue"] & names["green"]


def test_longest_allowed_prefix_still_fits(synth_config):
    longest_rule = max(
        (n for n in final_names(ResourceNames(""), PROFILES["0.37.2"]) if n.what.endswith("interruption rule")),
        key=lambda n: len(n.name),
    )
    prefix = "p" * (64 - len(longest_rule.name))
    data = example_data()
    del data["node_classes"][0]["spec"]["role"]  # defaults to the (renamed) node role
    stack = synth_config(KarpenterConfig.model_validate({**data, "name_prefix": prefix}))["infra"]
    assert max(len(r["name"]) for r in stack["resource"]["aws_cloudwatch_event_rule"].values()) == 64
