"""The SQS queue Karpenter reads interruption events from, its policy, and the four rules feeding it."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.interruption import TARGET_ID, queue_policy


class InterruptionQueue(Construct):
    def __init__(self, scope: Construct, id: str, *, config: KarpenterConfig) -> None:
        super().__init__(scope, id)
        names = config.resource_names
        self.queue = named(
            SqsQueue(
                self,
                "karpenter_interruption",
                name=names.interruption_queue,
                message_retention_seconds=config.interruption_queue.message_retention_seconds,
                sqs_managed_sse_enabled=True,
                tags={"Name": names.interruption_queue},
            )
        )
        named(
            SqsQueuePolicy(
                self, "karpenter_interruption_policy", queue_url=self.queue.url, policy=json.dumps(queue_policy(self.queue.arn))
            ),
            "karpenter_interruption",
        )
        for rule in config.release.interruption_rules:
            event_rule = named(
                CloudwatchEventRule(
                    self,
                    f"karpenter_interruption_{rule.key}",
                    name=names.interruption_rule(rule.key),
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
                ),
                event_rule.node.id,
            )
