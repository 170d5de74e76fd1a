"""checkov on the interruption queue's encryption: what passes with `kms`, and what is accepted with `sqs_managed`.

Two checkov rules read an SQS queue's encryption:
- CKV_AWS_27 ("all data stored in the SQS queue is encrypted") passes SQS-managed keys and KMS keys alike;
- CKV2_AWS_73 ("SQS uses CMK not AWS default keys") fails a queue on the AWS managed key `alias/aws/sqs`.

`interruption.encryption: sqs_managed` (the default, upstream's) has no customer managed key, and that is
accepted: SQS-managed server-side encryption encrypts at rest with keys SQS owns, and upstream, the Karpenter
template, ships exactly that; a team whose policy requires a customer managed key sets `encryption: kms`
(docs/interruption.md, "Scanners"). checkov 3.3.30 does not flag it (CKV2_AWS_73's definition passes a queue
without `kms_master_key_id`); should a later checkov flag it, the test below fails and says to record the
acceptance as a skip in .checkov.yaml with ACCEPTED_SQS_MANAGED as its reason.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.config import KarpenterConfig
from tests.conftest import EXAMPLE_CONFIG, synth
from tests.test_security import CHECKOV_CONFIG, run_checkov

CMK_CHECK, ENCRYPTED_CHECK = "CKV2_AWS_73", "CKV_AWS_27"
QUEUES = ("karpenter_interruption", "karpenter_interruption_dlq")
ACCEPTED_SQS_MANAGED = (
    "aws_sqs_queue.karpenter_interruption, aws_sqs_queue.karpenter_interruption_dlq: interruption.encryption "
    "sqs_managed is upstream's SQS-managed server-side encryption (encrypted at rest with keys SQS owns); "
    "interruption.encryption kms gives both queues a customer managed key"
)
BROUGHT_KEY = "arn:aws:kms:us-east-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"
VARIANTS = {
    "sqs_managed": {"dead_letter_queue": {"enabled": True}},
    "kms_created": {"encryption": "kms", "dead_letter_queue": {"enabled": True}},
    "kms_brought": {"encryption": "kms", "kms_key_arn": BROUGHT_KEY, "dead_letter_queue": {"enabled": True}},
}


def on_aws_managed_key(infra: dict[str, Any]) -> dict[str, Any]:
    """The infra stack with both queues on `alias/aws/sqs` (which the config refuses): what CKV2_AWS_73 must fail."""
    weak = copy.deepcopy(infra)
    for name in QUEUES:
        queue = weak["resource"]["aws_sqs_queue"][name]
        queue.pop("sqs_managed_sse_enabled", None)
        queue["kms_master_key_id"] = "alias/aws/sqs"
    return weak


@pytest.fixture(scope="module")
def verdicts(checkov: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[tuple[str, str], str]]:
    """variant -> {(check, queue): PASSED or FAILED}, from one checkov run over every variant's infra stack."""
    root = tmp_path_factory.mktemp("interruption-checkov")
    files = {}
    for variant, interruption in VARIANTS.items():
        data = yaml.safe_load(EXAMPLE_CONFIG.read_text())
        data["interruption"] = interruption
        infra = synth(KarpenterConfig.model_validate(data), root / variant)["infra"]
        files[variant] = root / variant / "stacks" / "infra" / "cdk.tf.json"
        if variant == "sqs_managed":
            weak = root / "aws_managed_key" / "stacks" / "infra"
            weak.mkdir(parents=True)
            (weak / "cdk.tf.json").write_text(json.dumps(on_aws_managed_key(infra), indent=2))
            files["aws_managed_key"] = weak / "cdk.tf.json"
    config = yaml.safe_load(CHECKOV_CONFIG.read_text())
    config.pop("skip-check", None)
    config["check"] = [CMK_CHECK, ENCRYPTED_CHECK]
    (root / "checkov.yaml").write_text(yaml.safe_dump(config))
    reports = run_checkov(checkov, list(files.values()), root / "checkov.yaml", root)
    found: dict[str, dict[tuple[str, str], str]] = {variant: {} for variant in files}
    for report in reports:
        for outcome, verdict in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
            for record in report["results"][outcome]:
                variant = next(v for v, path in files.items() if Path(record["file_abs_path"]).resolve() == path.resolve())
                found[variant][(record["check_id"], record["resource"].rsplit(".", 1)[-1])] = verdict
    return found


def test_every_queue_is_encrypted_in_every_variant(verdicts):
    for variant in VARIANTS:
        assert {queue: verdicts[variant].get((ENCRYPTED_CHECK, queue)) for queue in QUEUES} == dict.fromkeys(QUEUES, "PASSED"), (
            variant
        )


def test_the_customer_key_check_fails_the_aws_managed_key(verdicts):
    """Non-vacuous: the rule is live and fails what the config refuses."""
    assert {queue: verdicts["aws_managed_key"].get((CMK_CHECK, queue)) for queue in QUEUES} == dict.fromkeys(QUEUES, "FAILED")


def test_the_customer_key_check_passes_with_kms(verdicts):
    """A brought key's ARN passes. checkov leaves a created key (a Terraform reference) unevaluated, never failed:
    tests/test_interruption_queue.py shows both queues take the created key's ARN."""
    assert {queue: verdicts["kms_brought"].get((CMK_CHECK, queue)) for queue in QUEUES} == dict.fromkeys(QUEUES, "PASSED")
    assert all(verdicts["kms_created"].get((CMK_CHECK, queue)) != "FAILED" for queue in QUEUES)


def test_sqs_managed_is_accepted_with_its_reason(verdicts):
    failed = [queue for queue in QUEUES if verdicts["sqs_managed"].get((CMK_CHECK, queue)) == "FAILED"]
    assert not failed, (
        f"checkov now flags SQS-managed encryption ({CMK_CHECK} on {failed}): record the acceptance in .checkov.yaml as "
        f"`- {CMK_CHECK}  # {ACCEPTED_SQS_MANAGED}`"
    )
    assert {queue: verdicts["sqs_managed"].get((CMK_CHECK, queue)) for queue in QUEUES} == dict.fromkeys(QUEUES, "PASSED")
