"""Interruption handling: the policies that let EventBridge's events in, the key's, the alarms.

The rules and their patterns are each release's own (`ReleaseProfile.interruption_rules`, read
from upstream's template). Without the queue policy EventBridge cannot deliver to the queue, and
without rule targets nothing is sent: both are easy to forget. With a customer managed key,
EventBridge must also be allowed to use the key (`key_policy`, `EVENTBRIDGE_KEY_ACTIONS`), or it
drops every event without a word; the alarms (`alarms`) are how such a silent failure is noticed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from karpenter_model.releases import ControllerPolicyName

TARGET_ID = "KarpenterInterruptionQueueTarget"
EVENTS_SERVICE = "events.amazonaws.com"
# What EventBridge does with the key of an encrypted target queue (EventBridge User Guide, "Amazon SQS permissions").
EVENTBRIDGE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
EVENTBRIDGE_KEY_SID = "AllowEventBridgeToUseTheKey"


def queue_policy(queue_arn: str) -> dict[str, Any]:
    """Upstream's `EC2InterruptionPolicy` plus the `DenyHTTP` statement its later docs added."""
    return {
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {
                "Sid": "AllowInterruptionEvents",
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def rule_arn(*, partition: str, region: str, account_id: str, rule_name: str) -> str:
    """A rule's ARN on the default event bus, known at plan time (so a key policy needs no rule to exist first)."""
    return f"arn:{partition}:events:{region}:{account_id}:rule/{rule_name}"


def eventbridge_key_statement(*, account_id: str, rule_arns: Sequence[str]) -> dict[str, Any]:
    """What a key policy needs so that these rules, and only they, can deliver to a queue encrypted with the key."""
    return {
        "Sid": EVENTBRIDGE_KEY_SID,
        "Effect": "Allow",
        "Principal": {"Service": EVENTS_SERVICE},
        "Action": list(EVENTBRIDGE_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}, "StringEquals": {"aws:SourceAccount": account_id}},
    }


def key_policy(*, partition: str, account_id: str, rule_arns: Sequence[str]) -> dict[str, Any]:
    """The created key's policy: the account administers it (and IAM policies, such as the controller's kms:Decrypt,
    take effect, as with KMS's default key policy), and the rules may encrypt what they deliver."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowAccountToAdministerTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            eventbridge_key_statement(account_id=account_id, rule_arns=rule_arns),
        ],
    }


# The controller's policy of `decrypt_policy`, beside upstream's unchanged ones (only with `interruption.encryption: kms`).
INTERRUPTION_KMS_POLICY = ControllerPolicyName("karpenter_controller_interruption_kms", "-karpenter-controller-interruption-kms")


def decrypt_policy(key_arn: str) -> dict[str, Any]:
    """The controller's one addition to upstream's policies: reading messages of a queue encrypted with this key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowInterruptionQueueDecryption", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}
        ],
    }


def dead_letter_queue_policy(queue_arn: str, rule_arns: Sequence[str]) -> dict[str, Any]:
    """Only these rules may send to the dead-letter queue (EventBridge sends there as events.amazonaws.com); no HTTP."""
    return {
        "Version": "2012-10-17",
        "Id": "KarpenterInterruptionDeadLetterPolicy",
        "Statement": [
            {
                "Sid": "AllowUndeliveredInterruptionEvents",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_SERVICE},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}},
            },
            queue_policy(queue_arn)["Statement"][1],
        ],
    }


def key_admits_eventbridge(key_policy_expression: str) -> str:
    """A Terraform condition: the key policy (an expression giving its JSON text or object) has an Allow statement for
    events.amazonaws.com with kms:GenerateDataKey and kms:Decrypt (or kms:* or *), whatever its conditions.

    `karpenter_check.policies.eventbridge_key_problems` answers the same question on a policy read through boto3.
    """
    statements = f"flatten([try(try(jsondecode({key_policy_expression}), {key_policy_expression}).Statement, [])])"
    actions = "[for a in flatten([try(s.Action, [])]) : lower(a)]"
    needed = " && ".join(f"contains({actions}, {json.dumps(a.lower())})" for a in EVENTBRIDGE_KEY_ACTIONS)
    return (
        f'${{length([for s in {statements} : s if try(s.Effect, "") == "Allow"'
        f" && contains(flatten([try(s.Principal.Service, [])]), {json.dumps(EVENTS_SERVICE)})"
        f' && (contains({actions}, "kms:*") || contains({actions}, "*") || ({needed}))]) > 0}}'
    )


@dataclass(frozen=True)
class Alarm:
    """One CloudWatch metric alarm: `address` is its Terraform name, the rest what PutMetricAlarm gets."""

    address: str
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    threshold: int
    evaluation_periods: int


def alarms(
    *,
    queue_name: str,
    rule_names: dict[str, str],
    dead_letter_queue_name: str | None,
    oldest_message_age_seconds: int,
    evaluation_periods: int,
) -> list[Alarm]:
    """The queue's oldest message too old; each rule failing to deliver; anything in the dead-letter queue (if any).

    `rule_names`: rule key (`spot`) -> the rule's name. Each description says what the alarm means and what to do
    (docs/interruption.md says more).
    """
    found = [
        Alarm(
            "karpenter_interruption_oldest_message",
            f"{queue_name}-oldest-message",
            f"The oldest interruption event in {queue_name} is older than {oldest_message_age_seconds} s: the Karpenter "
            "controller is not consuming the queue (not running, or denied sqs:ReceiveMessage or kms:Decrypt). "
            "Nodes are reclaimed without being drained. Check the controller's pods and logs.",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": queue_name},
            "Maximum",
            oldest_message_age_seconds,
            evaluation_periods,
        )
    ]
    found += [
        Alarm(
            f"karpenter_interruption_{key}_failed_invocations",
            f"{name}-failed-invocations",
            f"EventBridge rule {name} failed to deliver an event to {queue_name}: the queue policy or the key policy "
            "does not admit it, or the queue is gone. Run make check; a deploy of the infra stack restores them.",
            "AWS/Events",
            "FailedInvocations",
            {"RuleName": name},
            "Sum",
            0,
            1,
        )
        for key, name in rule_names.items()
    ]
    if dead_letter_queue_name is not None:
        found.append(
            Alarm(
                "karpenter_interruption_dlq_messages",
                f"{dead_letter_queue_name}-messages",
                f"Interruption events EventBridge could not deliver to {queue_name} are waiting in "
                f"{dead_letter_queue_name}. Find out why (the FailedInvocations alarms, make check), fix it, then read "
                "and delete the messages.",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": dead_letter_queue_name},
                "Maximum",
                0,
                1,
            )
        )
    return found
