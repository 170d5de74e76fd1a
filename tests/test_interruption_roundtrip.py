"""Interruption hardening with the real terraform and hashicorp/aws 5.100.0 against moto (tests/moto_harness.py).

One run per release, 0.37.2 (four rules) and 1.14.1 (five), each on a stand-in cluster of its own in the session's
moto, side by side with the other modules' round trips:

1. the bundled example as it is (`interruption.encryption: sqs_managed`, no alarms, no dead-letter queue) applied;
2. the same deployment switched to a created KMS key, alarms and a dead-letter queue: the saved plan (`terraform show
   -json`) updates the queue in place, replaces nothing, and the queue URL stays; applied, boto3 reads back the key
   and its policy, the queues' KmsMasterKeyId, the alarms' metrics and dimensions, the targets' dead-letter and retry
   settings, the controller's kms:Decrypt policy; a second plan shows no changes;
3. `make check`'s AWS half on what terraform applied: every row passes, then breaking one thing at a time (the key
   policy's EventBridge statement removed, an alarm in ALARM, an event in the dead-letter queue) fails exactly its row;
4. destroy: nothing is left in state, and boto3 finds none of it (the key is pending deletion, as KMS keeps keys).

A key the user brings (`kms_key_arn`) is read at plan time through Cloud Control (`aws_cloudcontrolapi_resource`),
which moto 5.2.1 does not implement: its refusal is shown on terraform's evaluation of the synthesized condition
(tests/test_interruption_queue.py), not here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.interruption import (
    EVENTBRIDGE_KEY_SID,
    INTERRUPTION_KMS_POLICY,
    TARGET_ID,
    decrypt_policy,
    eventbridge_key_statement,
    rule_arn,
)
from tests.conftest import synth
from tests.moto_harness import ACCOUNT_ID, REGION, MotoHarness, create_stand_in_cluster
from tests.roundtrip_support import (
    Figures,
    Start,
    Started,
    aws_env,
    guarded,
    listed,
    roundtrip_config,
    starts_early,
    state_instances,
)
from tests.terraform import terraform, terraform_env

HARDENED = {
    "encryption": "kms",
    "alarms": {"enabled": True, "sns_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:platform-alerts"},
    "dead_letter_queue": {"enabled": True, "maximum_retry_attempts": 10, "maximum_event_age_seconds": 3600},
}
# label: (stand-in cluster, bundled example)
RUNS = {"0.37.2": ("rt-kms-037", "aws-2026-eks"), "1.14.1": ("rt-kms-114", "aws-2026-eks-1.14.1")}
QUEUE = "aws_sqs_queue.karpenter_interruption"
# `make check` rows each break must fail, alone.
BROKEN_ROWS = {
    "eventbridge key statement removed": "interruption key",
    "alarm in ALARM": "interruption alarms",
    "event in the dead-letter queue": "interruption dead-letter queue",
}


@dataclass
class Run:
    label: str
    cluster: str
    workdir: Path
    env: dict[str, str]
    terraform_bin: str
    steps: dict[str, KarpenterConfig] = field(default_factory=dict)  # "sqs_managed", "hardened"
    seen: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    failure: str | None = None

    @property
    def stack_dir(self) -> Path:
        return self.workdir / "cdktf.out" / "stacks" / "infra"

    def use(self, step: str) -> None:
        self.stack_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.workdir / step / "cdktf.out" / "stacks" / "infra" / "cdk.tf.json", self.stack_dir / "cdk.tf.json")

    def tf(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return terraform(self.terraform_bin, *args, "-input=false", "-no-color", cwd=self.stack_dir, env=self.env, check=check)

    def timed(self, phase: str, action: Any) -> Any:
        start = time.monotonic()
        try:
            return action()
        finally:
            self.phases[phase] = round(time.monotonic() - start, 1)

    def ok(self) -> Run:
        if self.failure:
            pytest.fail(f"the {self.label} run failed:\n{self.failure}", pytrace=False)
        return self


def live(moto: MotoHarness, config: KarpenterConfig) -> dict[str, Any]:
    """The interruption pieces as boto3 reads them."""
    sqs, kms, cloudwatch, events, iam = (moto.client(s) for s in ("sqs", "kms", "cloudwatch", "events", "iam"))
    names = config.resource_names

    def attributes(queue: str) -> dict[str, str]:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        return {"url": url, **sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]}

    found: dict[str, Any] = {"queue": attributes(names.interruption_queue)}
    if config.interruption.encryption == "kms":
        key = kms.describe_key(KeyId=names.interruption_key_alias)["KeyMetadata"]
        found["key"] = {
            "metadata": key,
            "rotation": kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"],
            "policy": json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]),
        }
        found["dead_letter_queue"] = attributes(names.interruption_dead_letter_queue)
        alarms = listed(cloudwatch, "describe_alarms", "MetricAlarms", AlarmNamePrefix=names.interruption_queue)
        found["alarms"] = {a["AlarmName"]: a for a in alarms}
    found["targets"] = {
        rule.key: events.list_targets_by_rule(Rule=names.interruption_rule(rule.key))["Targets"]
        for rule in config.release.interruption_rules
    }
    found["controller_policies"] = {
        p["PolicyName"]: p["PolicyArn"]
        for p in iam.list_attached_role_policies(RoleName=names.controller_role)["AttachedPolicies"]
    }
    decrypt = found["controller_policies"].get(names.controller_policy(INTERRUPTION_KMS_POLICY.suffix))
    if decrypt:
        version = iam.get_policy(PolicyArn=decrypt)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=decrypt, VersionId=version)["PolicyVersion"]["Document"]
        found["decrypt_policy"] = json.loads(document) if isinstance(document, str) else document
    return found


def leftovers(moto: MotoHarness, config: KarpenterConfig, key_id: str) -> dict[str, Any]:
    """What is left under the deployment's names after destroy."""
    sqs, kms, cloudwatch, iam = (moto.client(s) for s in ("sqs", "kms", "cloudwatch", "iam"))
    prefix = config.prefix + "-"
    return {
        "queues": sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []),
        "alarms": [a["AlarmName"] for a in listed(cloudwatch, "describe_alarms", "MetricAlarms", AlarmNamePrefix=prefix)],
        "aliases": [
            a["AliasName"] for a in listed(kms, "list_aliases", "Aliases") if a["AliasName"].startswith(f"alias/{prefix}")
        ],
        "key_state": kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"],
        "policies": [
            p["PolicyName"] for p in listed(iam, "list_policies", "Policies", Scope="Local") if p["PolicyName"].startswith(prefix)
        ],
    }


def checks(run: Run, moto: MotoHarness) -> dict[str, list[Any]]:
    """`make check`'s AWS half on the hardened deployment: intact, then one thing broken (and restored) at a time."""
    from karpenter_check.aws import AwsClients
    from karpenter_check.cli import run_checks

    class MotoSession:  # one session per client (thread safety)
        def client(self, service: str, **_: Any) -> Any:
            return moto.client(service)

    config = run.steps["hardened"]
    names = config.resource_names
    kms, cloudwatch, sqs = moto.client("kms"), moto.client("cloudwatch"), moto.client("sqs")
    key_id = kms.describe_key(KeyId=names.interruption_key_alias)["KeyMetadata"]["KeyId"]
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    without = json.loads(policy)
    without["Statement"] = [s for s in without["Statement"] if s.get("Sid") != EVENTBRIDGE_KEY_SID]
    alarm = f"{names.interruption_queue}-oldest-message"
    state = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
    dead_letters = sqs.get_queue_url(QueueName=names.interruption_dead_letter_queue)["QueueUrl"]
    breaks = {
        "intact": (lambda: None, lambda: None),
        "eventbridge key statement removed": (
            lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(without)),
            lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy),
        ),
        "alarm in ALARM": (
            lambda: cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="the round trip's test"),
            lambda: cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason="restored"),
        ),
        "event in the dead-letter queue": (
            lambda: sqs.send_message(
                QueueUrl=dead_letters, MessageBody=json.dumps({"detail-type": "EC2 Spot Instance Interruption Warning"})
            ),
            lambda: sqs.purge_queue(QueueUrl=dead_letters),
        ),
    }
    outdir = run.workdir / "hardened" / "cdktf.out"
    found = {}
    for name, (break_it, restore) in breaks.items():
        break_it()
        try:
            found[name] = run_checks(config, outdir, cluster=False, clients=AwsClients(config, MotoSession()), log=lambda _: None)
        finally:
            restore()
    return found


def plan_json(run: Run, name: str) -> dict[str, Any]:
    run.tf("plan", f"-out={name}.tfplan")
    shown = terraform(run.terraform_bin, "show", "-json", f"{name}.tfplan", cwd=run.stack_dir, env=run.env).stdout
    return json.loads(shown)


def switch_and_back(run: Run, moto: MotoHarness) -> Run:
    def state() -> list[str]:
        pulled = terraform(run.terraform_bin, "state", "pull", cwd=run.stack_dir, env=run.env).stdout
        return state_instances(json.loads(pulled or "{}"))

    def steps() -> None:
        run.use("sqs_managed")
        run.timed("init", lambda: run.tf("init"))
        run.timed("apply sqs_managed", lambda: run.tf("apply", "-auto-approve"))
        run.seen["before"] = live(moto, run.steps["sqs_managed"])
        run.use("hardened")
        run.seen["switch_plan"] = run.timed("plan switch", lambda: plan_json(run, "switch"))
        run.timed(
            "apply switch",
            lambda: terraform(
                run.terraform_bin, "apply", "-input=false", "-no-color", "switch.tfplan", cwd=run.stack_dir, env=run.env
            ),
        )
        run.seen["after"] = live(moto, run.steps["hardened"])
        run.seen["second_plan"] = run.timed("second plan", lambda: run.tf("plan", "-detailed-exitcode", check=False))
        run.seen["checks"] = run.timed("checks", lambda: checks(run, moto))
        run.timed("destroy", lambda: run.tf("destroy", "-auto-approve"))
        run.seen["state_after_destroy"] = state()
        run.seen["leftovers"] = leftovers(moto, run.steps["hardened"], run.seen["after"]["key"]["metadata"]["KeyId"])

    return guarded(run, steps)


@starts_early
def start(start: Start) -> dict[str, Future[Run]]:
    """Both runs' configs synthesized here (jsii is not for threads); terraform runs in the session's pool."""
    figures = Figures("interruption hardening round trip against moto")
    start.config.pluginmanager.register(figures, "interruption-roundtrip-figures")
    futures = {}
    for label, (cluster, example) in RUNS.items():
        workdir = start.tmp_path_factory.mktemp(f"interruption-{label}")
        create_stand_in_cluster(start.moto, cluster)
        run = Run(label, cluster, workdir, aws_env(terraform_env(start.mirror, workdir)), start.terraform_bin)
        plain = roundtrip_config(start.moto, cluster, example)
        for step, data in (("sqs_managed", plain), ("hardened", {**plain, "interruption": HARDENED})):
            run.steps[step] = KarpenterConfig.model_validate(data)
            (workdir / step).mkdir()
            synth(run.steps[step], workdir / step / "cdktf.out")
        futures[label] = start.scenarios.submit(switch_and_back, run, start.moto)

        def done(future: Future[Run]) -> None:
            finished = future.result()
            phases = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in finished.phases.items())
            status = "FAILED" if finished.failure else "ok"
            figures.add(f"{finished.label:7} {status}: {phases}; total {sum(finished.phases.values()):.1f}s")

        futures[label].add_done_callback(done)
    return futures


@pytest.fixture(scope="module")
def runs(started: Started) -> dict[str, Future[Run]]:
    return started(__name__)


@pytest.fixture(scope="module", params=sorted(RUNS))
def run(request: pytest.FixtureRequest, runs: dict[str, Future[Run]]) -> Run:
    return runs[request.param].result(timeout=1800).ok()


# -- the switch from sqs_managed to kms -----------------------------------------------------------------


def test_the_switch_to_kms_updates_the_queue_in_place_and_replaces_nothing(run: Run) -> None:
    changes = {c["address"]: c["change"] for c in run.seen["switch_plan"]["resource_changes"]}
    actions = {address: change["actions"] for address, change in changes.items()}
    assert actions[QUEUE] == ["update"]
    assert changes[QUEUE]["after_unknown"]["kms_master_key_id"] is True  # the key is created by the same plan
    assert not [address for address, planned in actions.items() if "delete" in planned], actions
    assert run.seen["after"]["queue"]["url"] == run.seen["before"]["queue"]["url"]
    assert run.seen["before"]["queue"]["SqsManagedSseEnabled"] == "true"
    assert "KmsMasterKeyId" not in run.seen["before"]["queue"]
    assert "Policy" in run.seen["after"]["queue"]  # the queue policy is untouched (moto gap 6 otherwise drops it)


def test_the_hardened_deployment_converges(run: Run) -> None:
    plan = run.seen["second_plan"]
    assert plan.returncode == 0, f"exit {plan.returncode} (2 = changes pending):\n{plan.stdout}\n{plan.stderr}"


# -- read back through boto3 ------------------------------------------------------------------------------


def rule_arns(config: KarpenterConfig) -> list[str]:
    names = config.resource_names
    return [
        rule_arn(partition="aws", region=REGION, account_id=ACCOUNT_ID, rule_name=names.interruption_rule(rule.key))
        for rule in config.release.interruption_rules
    ]


def test_the_created_key_rotates_and_its_policy_admits_exactly_the_rules(run: Run) -> None:
    key, config = run.seen["after"]["key"], run.steps["hardened"]
    assert key["metadata"]["KeyState"] == "Enabled" and key["rotation"] is True
    admin, events = key["policy"]["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"} and admin["Action"] == "kms:*"
    assert events == eventbridge_key_statement(account_id=ACCOUNT_ID, rule_arns=rule_arns(config))
    assert len(rule_arns(config)) == len(config.release.interruption_rules) == (4 if run.label == "0.37.2" else 5)


def test_both_queues_are_encrypted_with_the_key(run: Run) -> None:
    after = run.seen["after"]
    key_arn = after["key"]["metadata"]["Arn"]
    assert after["queue"]["KmsMasterKeyId"] == key_arn
    assert after["dead_letter_queue"]["KmsMasterKeyId"] == key_arn
    dead_letter_policy = json.loads(after["dead_letter_queue"]["Policy"])
    assert dead_letter_policy["Statement"][0]["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arns(run.steps["hardened"])}}


def test_every_target_has_the_dead_letter_queue_and_the_retry_policy(run: Run) -> None:
    after = run.seen["after"]
    for key, targets in after["targets"].items():
        (target,) = targets
        assert target["Id"] == TARGET_ID, key
        assert target["Arn"] == after["queue"]["QueueArn"], key
        assert target["DeadLetterConfig"] == {"Arn": after["dead_letter_queue"]["QueueArn"]}, key
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600}, key
    for targets in run.seen["before"]["targets"].values():
        assert "DeadLetterConfig" not in targets[0] and "RetryPolicy" not in targets[0]


def test_the_alarms_watch_the_right_metrics(run: Run) -> None:
    config = run.steps["hardened"]
    names = config.resource_names
    alarms = {
        name: (a["Namespace"], a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}, a["Statistic"], a["Threshold"])
        for name, a in run.seen["after"]["alarms"].items()
    }
    queue, dead_letters = names.interruption_queue, names.interruption_dead_letter_queue
    assert alarms == {
        f"{queue}-oldest-message": ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue}, "Maximum", 120.0),
        f"{dead_letters}-messages": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": dead_letters},
            "Maximum",
            0.0,
        ),
    } | {
        f"{names.interruption_rule(rule.key)}-failed-invocations": (
            "AWS/Events",
            "FailedInvocations",
            {"RuleName": names.interruption_rule(rule.key)},
            "Sum",
            0.0,
        )
        for rule in config.release.interruption_rules
    }
    for alarm in run.seen["after"]["alarms"].values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [HARDENED["alarms"]["sns_topic_arn"]]  # type: ignore[index]


def test_the_controller_may_decrypt_with_that_key_only(run: Run) -> None:
    names = run.steps["hardened"].resource_names
    assert names.controller_policy(INTERRUPTION_KMS_POLICY.suffix) not in run.seen["before"]["controller_policies"]
    assert run.seen["after"]["decrypt_policy"] == decrypt_policy(run.seen["after"]["key"]["metadata"]["Arn"])


# -- make check -------------------------------------------------------------------------------------------


def test_make_check_passes_every_row_on_the_hardened_deployment(run: Run) -> None:
    rows = run.seen["checks"]["intact"]
    assert [r for r in rows if r.status == "FAIL"] == [], [(r.check, r.detail) for r in rows if r.status == "FAIL"]
    passed = {r.check for r in rows if r.status == "PASS"}
    assert {"interruption key", "interruption alarms", "interruption dead-letter queue", "interruption queue"} <= passed


@pytest.mark.parametrize("broken", sorted(BROKEN_ROWS))
def test_make_check_fails_exactly_the_row_of_what_was_broken(run: Run, broken: str) -> None:
    failed = [r for r in run.seen["checks"][broken] if r.status == "FAIL"]
    assert [r.check for r in failed] == [BROKEN_ROWS[broken]], [(r.check, r.detail) for r in failed]


# -- destroy ----------------------------------------------------------------------------------------------


def test_destroy_leaves_nothing_but_the_key_pending_deletion(run: Run) -> None:
    assert run.seen["state_after_destroy"] == []
    assert run.seen["leftovers"] == {"queues": [], "alarms": [], "aliases": [], "key_state": "PendingDeletion", "policies": []}
