"""Interruption handling: the queue policy that lets EventBridge's events in.

The rules and their patterns are each release's own (`ReleaseProfile.interruption_rules`, read
from upstream's template). Without this policy EventBridge cannot deliver to the queue, and
without rule targets nothing is sent: both are easy to forget.
"""

from __future__ import annotations

from typing import Any

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
