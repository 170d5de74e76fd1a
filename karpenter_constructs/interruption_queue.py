"""The SQS queue Karpenter reads interruption events from, its policy, the rules feeding it, and what keeps that
path honest when configured: a customer managed key, a dead-letter queue with retries, CloudWatch alarms."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_cloudcontrolapi_resource import DataAwsCloudcontrolapiResource
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_model import limits
from karpenter_model.construct_inputs import InterruptionQueueInputs
from karpenter_model.documents.interruption import (
    TARGET_ID,
    dead_letter_queue_policy,
    eventbridge_key_statement,
    key_admits_eventbridge,
    key_policy,
    queue_policy,
    rule_arn,
)
from karpenter_model.terraform_literals import literal

BROUGHT_KEY = "karpenter_interruption_key"  # data.aws_cloudcontrolapi_resource.<this>: the user's key, read at plan time


class InterruptionQueue(Construct):
    def __init__(self, scope: Construct, id: str, *, inputs: InterruptionQueueInputs, cluster: ExistingCluster) -> None:
        """`cluster`: the account, partition and region the key policy and the rules' ARNs name."""
        super().__init__(scope, id)
        rule_arns = [
            rule_arn(partition=cluster.partition, region=cluster.region, account_id=cluster.account_id, rule_name=rule.name)
            for rule in inputs.rules
        ]
        self.key_arn = self._key(inputs, cluster, rule_arns) if inputs.kms else None
        encryption = {"kms_master_key_id": self.key_arn} if self.key_arn else {"sqs_managed_sse_enabled": True}
        self.queue = self._queue(
            "karpenter_interruption", inputs.queue_name, inputs.message_retention_seconds, encryption, queue_policy
        )
        settings = inputs.dead_letter_queue
        dead_letter_queue = None
        if settings is not None:
            dead_letter_queue = self._queue(
                "karpenter_interruption_dlq",
                inputs.dead_letter_queue_name,
                settings.message_retention_seconds,
                encryption,
                lambda arn: dead_letter_queue_policy(arn, rule_arns),
            )
        for rule in inputs.rules:
            event_rule = named(
                CloudwatchEventRule(
                    self,
                    f"karpenter_interruption_{rule.key}",
                    name=rule.name,
                    description=rule.description,
                    event_pattern=json.dumps(rule.pattern),
                )
            )
            named(
                CloudwatchEventTarget(
                    self,
                    f"karpenter_interruption_{rule.key}_target",
                    rule=event_rule.name,
                    target_id=TARGET_ID,
                    arn=self.queue.arn,
                    dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=dead_letter_queue.arn)
                    if dead_letter_queue and settings
                    else None,
                    retry_policy=CloudwatchEventTargetRetryPolicy(
                        maximum_event_age_in_seconds=settings.maximum_event_age_seconds,
                        maximum_retry_attempts=settings.maximum_retry_attempts,
                    )
                    if settings
                    else None,
                ),
                event_rule.node.id,
            )
        actions = [literal(action) for action in inputs.alarm_actions] or None
        for alarm in inputs.alarms:
            named(
                CloudwatchMetricAlarm(
                    self,
                    alarm.address,
                    alarm_name=alarm.name,
                    alarm_description=alarm.description,
                    namespace=alarm.namespace,
                    metric_name=alarm.metric,
                    dimensions=alarm.dimensions,
                    statistic=alarm.statistic,
                    period=limits.CLOUDWATCH_ALARM_PERIOD,
                    evaluation_periods=alarm.evaluation_periods,
                    threshold=alarm.threshold,
                    comparison_operator="GreaterThanThreshold",
                    # No data is no event: SQS and EventBridge publish nothing while all is quiet.
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                )
            )

    def _queue(
        self,
        address: str,
        name: str,
        retention_seconds: int,
        encryption: dict[str, Any],
        policy: Callable[[str], dict[str, Any]],
    ) -> SqsQueue:
        """A queue (`aws_sqs_queue.<address>`) and its queue policy (same address), the policy built from the queue's ARN."""
        queue = named(
            SqsQueue(self, address, name=name, message_retention_seconds=retention_seconds, tags={"Name": name}, **encryption)
        )
        named(SqsQueuePolicy(self, f"{address}_policy", queue_url=queue.url, policy=json.dumps(policy(queue.arn))), address)
        return queue

    def _key(self, inputs: InterruptionQueueInputs, cluster: ExistingCluster, rule_arns: list[str]) -> str:
        """The user's key ARN, or a key created here: rotation on, an alias, a policy admitting the rules."""
        if inputs.kms_key_arn:
            self._brought_key_guard(inputs.kms_key_arn, cluster, rule_arns)
            return literal(inputs.kms_key_arn)
        key = named(
            KmsKey(
                self,
                "karpenter_interruption_key",
                description=f"Encrypts the Karpenter interruption queue {inputs.queue_name} and its dead-letter queue",
                enable_key_rotation=True,
                policy=json.dumps(key_policy(partition=cluster.partition, account_id=cluster.account_id, rule_arns=rule_arns)),
            ),
            "karpenter_interruption",
        )
        named(
            KmsAlias(self, "karpenter_interruption_alias", name=inputs.key_alias, target_key_id=key.key_id),
            "karpenter_interruption",
        )
        return key.arn

    def _brought_key_guard(self, key_arn: str, cluster: ExistingCluster, rule_arns: list[str]) -> None:
        """The user's key policy, read at plan time through Cloud Control: the plan stops unless EventBridge may use it."""
        statement = eventbridge_key_statement(account_id=cluster.account_id, rule_arns=rule_arns)
        named(
            DataAwsCloudcontrolapiResource(
                self,
                BROUGHT_KEY,
                type_name="AWS::KMS::Key",
                identifier=literal(key_arn.rsplit("/", 1)[1]),
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        {
                            "condition": key_admits_eventbridge("jsondecode(self.properties).KeyPolicy"),
                            "errorMessage": (
                                f"Refusing the interruption queue's key {literal(key_arn)} (interruption.kms_key_arn): its "
                                "key policy does not let EventBridge (events.amazonaws.com) use kms:GenerateDataKey and "
                                "kms:Decrypt, so no interruption event would reach the queue. Add this statement to the "
                                f"key policy: {json.dumps(statement)}"
                            ),
                        }
                    ]
                ),
            )
        )
