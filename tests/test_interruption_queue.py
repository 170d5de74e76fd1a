"""Interruption queue, its policy, the EventBridge rules with targets on the queue, and the optional hardening:
a customer managed key (created, or brought and checked at plan time), CloudWatch alarms, a dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from syrupy.extensions.json import JSONSnapshotExtension

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.interruption import eventbridge_key_statement, key_policy
from karpenter_model.naming import ResourceNames, final_names
from karpenter_model.releases import PROFILES
from tests.conftest import EXAMPLES, config_for_cluster, example_data, policy, reference, resource
from tests.test_kubernetes_support import evaluate

QUEUE_ARN = "${aws_sqs_queue.karpenter_interruption.arn}"
TOPIC = "arn:aws:sns:us-east-1:111122223333:platform-alerts"
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


# -- a customer managed key, alarms, a dead-letter queue (issue 22) --------------------------------

HARDENED = {"encryption": "kms", "alarms": {"enabled": True, "sns_topic_arn": TOPIC}, "dead_letter_queue": {"enabled": True}}
KEY_ARN = "${aws_kms_key.karpenter_interruption.arn}"
DLQ_ARN = "${aws_sqs_queue.karpenter_interruption_dlq.arn}"
BROUGHT = "arn:aws:kms:us-east-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"
ACCOUNT_REF = "${data.aws_caller_identity.current.account_id}"


def hardened(example: str = "aws-2026-eks", **interruption: Any) -> KarpenterConfig:
    data = yaml.safe_load(EXAMPLES[example].read_text())
    data["interruption"] = {**HARDENED, **interruption}
    return KarpenterConfig.model_validate(data)


def rule_arns(stack: dict) -> list[str]:
    """The ARNs of the stack's rules, in the release's order (upstream's template order, the order the stack creates them)."""
    partition, region = "${data.aws_partition.current.partition}", "${data.aws_region.current.name}"
    rules = stack["resource"]["aws_cloudwatch_event_rule"]
    order = [rule.key for rule in PROFILES["1.14.1"].interruption_rules]
    return [
        f"arn:{partition}:events:{region}:{ACCOUNT_REF}:rule/{rules[f'karpenter_interruption_{key}']['name']}"
        for key in order
        if f"karpenter_interruption_{key}" in rules
    ]


@pytest.fixture(scope="module")
def kms_infra(synth_config) -> dict:
    return synth_config(hardened())["infra"]


def test_defaults_add_nothing(infra):
    for kind in ("aws_kms_key", "aws_kms_alias", "aws_cloudwatch_metric_alarm"):
        assert kind not in infra["resource"]
    assert sorted(infra["resource"]["aws_sqs_queue"]) == ["karpenter_interruption"]
    assert all(
        "retry_policy" not in t and "dead_letter_config" not in t
        for t in infra["resource"]["aws_cloudwatch_event_target"].values()
    )
    assert "aws_cloudcontrolapi_resource" not in infra.get("data", {})


def test_created_key_rotates_has_an_alias_and_admits_only_these_rules(kms_infra):
    key = resource(kms_infra, "aws_kms_key.karpenter_interruption")
    assert key["enable_key_rotation"] is True
    assert resource(kms_infra, "aws_kms_alias.karpenter_interruption") | {"//": None} == {
        "//": None,
        "name": "alias/aws-2026-eks-karpenter-interruption",
        "target_key_id": "${aws_kms_key.karpenter_interruption.key_id}",
    }
    admin, events = json.loads(key["policy"])["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:${{data.aws_partition.current.partition}}:iam::{ACCOUNT_REF}:root"}
    assert events == {
        "Sid": "AllowEventBridgeToUseTheKey",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns(kms_infra)}, "StringEquals": {"aws:SourceAccount": ACCOUNT_REF}},
    }
    assert len(rule_arns(kms_infra)) == 4


def test_both_queues_use_the_key_and_the_dead_letter_queue_admits_only_the_rules(kms_infra):
    for name in ("karpenter_interruption", "karpenter_interruption_dlq"):
        queue = resource(kms_infra, f"aws_sqs_queue.{name}")
        assert queue["kms_master_key_id"] == KEY_ARN and "sqs_managed_sse_enabled" not in queue
    assert resource(kms_infra, "aws_sqs_queue.karpenter_interruption_dlq")["message_retention_seconds"] == 1_209_600
    allow, deny = policy(kms_infra, "aws_sqs_queue_policy.karpenter_interruption_dlq")["Statement"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == DLQ_ARN
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arns(kms_infra)}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_target_retries_then_dead_letters(kms_infra):
    targets = kms_infra["resource"]["aws_cloudwatch_event_target"]
    assert len(targets) == 4
    for target in targets.values():
        assert target["dead_letter_config"] == {"arn": DLQ_ARN}
        # EventBridge's own defaults, written out (EventBridge API reference, RetryPolicy).
        assert target["retry_policy"] == {"maximum_event_age_in_seconds": 86_400, "maximum_retry_attempts": 185}


def test_alarms_watch_the_queue_age_each_rule_and_the_dead_letter_queue(kms_infra):
    alarms = kms_infra["resource"]["aws_cloudwatch_metric_alarm"]
    metrics = {
        name: (a["namespace"], a["metric_name"], a["dimensions"], a["statistic"], a["threshold"], a["evaluation_periods"])
        for name, a in alarms.items()
    }
    queue = "aws-2026-eks-karpenter-interruption"
    assert metrics == {
        "karpenter_interruption_oldest_message": (
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": queue},
            "Maximum",
            120,
            3,
        ),
        "karpenter_interruption_dlq_messages": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": f"{queue}-dlq"},
            "Maximum",
            0,
            1,
        ),
    } | {
        f"karpenter_interruption_{kind}_failed_invocations": (
            "AWS/Events",
            "FailedInvocations",
            {"RuleName": f"{queue}-{kind.replace('_', '-')}"},
            "Sum",
            0,
            1,
        )
        for kind in UPSTREAM_RULES
    }
    for alarm in alarms.values():
        assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["period"] == 60
        assert alarm["treat_missing_data"] == "notBreaching"
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [TOPIC]
        assert len(alarm["alarm_description"]) <= 1024  # CloudWatch's limit for AlarmDescription


def test_the_controller_gets_kms_decrypt_on_that_key_only_in_a_policy_of_its_own(kms_infra):
    assert policy(kms_infra, "aws_iam_policy.karpenter_controller_interruption_kms") == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowInterruptionQueueDecryption", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}
        ],
    }
    attachment = resource(kms_infra, "aws_iam_role_policy_attachment.karpenter_controller_interruption_kms")
    assert attachment["role"] == "${aws_iam_role.karpenter_controller.name}"
    assert attachment["policy_arn"] == "${aws_iam_policy.karpenter_controller_interruption_kms.arn}"
    assert resource(kms_infra, "aws_iam_policy.karpenter_controller_interruption_kms")["name"] == (
        "aws-2026-eks-karpenter-controller-interruption-kms"
    )


def test_sqs_managed_dead_letter_queue_is_encrypted_like_the_queue_and_alarms_need_no_topic(synth_config):
    stack = synth_config(hardened(encryption="sqs_managed", alarms={"enabled": True}))["infra"]
    assert resource(stack, "aws_sqs_queue.karpenter_interruption_dlq")["sqs_managed_sse_enabled"] is True
    assert (
        "aws_kms_key" not in stack["resource"]
        and "karpenter_controller_interruption_kms" not in stack["resource"]["aws_iam_policy"]
    )
    assert all("alarm_actions" not in a for a in stack["resource"]["aws_cloudwatch_metric_alarm"].values())


def test_a_brought_key_is_used_as_is_and_read_at_plan_time(synth_config):
    stack = synth_config(hardened(kms_key_arn=BROUGHT))["infra"]
    assert "aws_kms_key" not in stack["resource"]
    assert resource(stack, "aws_sqs_queue.karpenter_interruption")["kms_master_key_id"] == BROUGHT
    assert policy(stack, "aws_iam_policy.karpenter_controller_interruption_kms")["Statement"][0]["Resource"] == BROUGHT
    read = resource(stack, "data.aws_cloudcontrolapi_resource.karpenter_interruption_key")
    assert read["type_name"] == "AWS::KMS::Key" and read["identifier"] == "0123abcd-0123-4567-89ab-0123456789ab"
    (guard,) = read["lifecycle"]["postcondition"]
    assert "self.properties" in guard["condition"]


def test_the_current_release_gets_a_failed_invocations_alarm_for_its_fifth_rule(synth_config):
    stack = synth_config(hardened("aws-2026-eks-1.14.1"))["infra"]
    assert "karpenter_interruption_capacity_reservation_failed_invocations" in stack["resource"]["aws_cloudwatch_metric_alarm"]
    assert (
        len(rule_arns(stack))
        == 5
        == len(
            json.loads(resource(stack, "aws_kms_key.karpenter_interruption")["policy"])["Statement"][1]["Condition"]["ArnEquals"][
                "aws:SourceArn"
            ]
        )
    )


def test_the_earlier_section_name_still_reads():
    data = example_data()
    data["interruption_queue"] = data.pop("interruption")
    assert KarpenterConfig.model_validate(data).interruption == KarpenterConfig.model_validate(example_data()).interruption


def test_infra_snapshot_with_kms_alarms_and_dead_letter_queue(kms_infra, snapshot):
    assert kms_infra == snapshot.use_extension(JSONSnapshotExtension)


# -- the brought key's plan-time guard, decided by terraform on stand-in key policies ---------------


def stand_in_policies() -> dict[str, Any]:
    created = key_policy(partition="aws", account_id="111122223333", rule_arns=["arn:aws:events:us-east-1:111122223333:rule/r"])
    admin = created["Statement"][0]
    events = created["Statement"][1]
    return {
        "created_key_policy_as_text": (json.dumps(created), True),
        "created_key_policy_as_object": (created, True),
        "without_the_eventbridge_statement": (json.dumps({**created, "Statement": [admin]}), False),
        "decrypt_only": (json.dumps({**created, "Statement": [admin, {**events, "Action": "kms:Decrypt"}]}), False),
        "denied": (json.dumps({**created, "Statement": [admin, {**events, "Effect": "Deny"}]}), False),
        "another_service": (
            json.dumps({**created, "Statement": [admin, {**events, "Principal": {"Service": "sns.amazonaws.com"}}]}),
            False,
        ),
        "kms_star_services_listed": (
            json.dumps(
                {
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": {"Service": ["sns.amazonaws.com", "events.amazonaws.com"]},
                        "Action": "KMS:*",
                        "Resource": "*",
                    }
                }
            ),
            True,
        ),
        "unconditioned_actions_any_case": (
            json.dumps(
                {
                    "Statement": [
                        admin,
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": ["kms:generatedatakey", "KMS:Decrypt"],
                            "Resource": "*",
                        },
                    ]
                }
            ),
            True,
        ),
        "no_statements": (json.dumps({"Version": "2012-10-17"}), False),
    }


def test_a_brought_key_whose_policy_does_not_admit_eventbridge_is_refused_at_plan(synth_config, terraform_bin, tmp_path):
    """The guard copied out of the synthesized stack, Cloud Control's answer replaced by stand-in key policies."""
    stack = synth_config(hardened(kms_key_arn=BROUGHT))["infra"]
    (guard,) = resource(stack, "data.aws_cloudcontrolapi_resource.karpenter_interruption_key")["lifecycle"]["postcondition"]
    wanted = eventbridge_key_statement(
        account_id="111122223333",
        rule_arns=[
            f"arn:aws:events:us-east-1:111122223333:rule/aws-2026-eks-karpenter-interruption-{kind}"
            for kind in ("spot", "rebalance", "state-change", "health-event")
        ],
    )
    cases = stand_in_policies() | {"the_statement_the_message_shows": (json.dumps({"Statement": [wanted]}), True)}

    def answered(document: Any) -> str:
        """Cloud Control's answer: the resource's properties as JSON text, KeyPolicy among them."""
        return guard["condition"].replace("self.properties", json.dumps(json.dumps({"KeyId": "k", "KeyPolicy": document})))

    message = guard["error_message"]
    for placeholder, value in (
        ("${data.aws_partition.current.partition}", "aws"),
        ("${data.aws_region.current.name}", "us-east-1"),
        ("${data.aws_caller_identity.current.account_id}", "111122223333"),
    ):
        message = message.replace(placeholder, value)
    verdicts = evaluate(
        terraform_bin, tmp_path, {name: answered(document) for name, (document, _) in cases.items()} | {"message": message}
    )
    assert {name: verdicts[name] for name in cases} == {name: admits for name, (_, admits) in cases.items()}
    shown = str(verdicts["message"])
    assert shown.startswith(
        f"Refusing the interruption queue's key {BROUGHT} (interruption.kms_key_arn): its key policy does not let EventBridge"
    )
    assert json.loads(shown.split("Add this statement to the key policy: ", 1)[1]) == wanted
