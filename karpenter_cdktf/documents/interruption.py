"""Interruption handling: the EventBridge patterns and the queue policy that lets their events in.

Patterns are upstream's (`SpotInterruptionRule`, `RebalanceRule`, `InstanceStateChangeRule`,
`ScheduledChangeRule` of the v0.37.2 template). Without the queue policy EventBridge cannot
deliver to the queue, and without rule targets nothing is sent: both are easy to forget.
"""

from __future__ import annotations

from typing import Any

# Keyed by the suffix karpenter.tf gives each rule's address and name.
INTERRUPTION_RULES: dict[str, dict[str, Any]] = {
    "spot": {
        "description": "Karpenter: EC2 Spot Instance Interruption Warning",
        "pattern": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    },
    "rebalance": {
        "description": "Karpenter: EC2 Instance Rebalance Recommendation",
        "pattern": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    },
    "state_change": {
        "description": "Karpenter: EC2 Instance State-change Notification",
        "pattern": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    },
    "health_event": {
        "description": "Karpenter: AWS Health Event (scheduled changes)",
        "pattern": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    },
}

TARGET_ID = "KarpenterInterruptionQueueTarget"


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
