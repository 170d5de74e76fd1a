"""The infra stack's guards, evaluated by terraform on stand-in answers: which release and identity run, which Kubernetes.

The infra stack deploys first and changes the controller's policies, so it is where a forgotten
`previous_version`, a skipped step, or a version step combined with an identity switch must stop:
before any IAM change. Each guard below is copied out of the synthesized stack (its own condition,
error message and local), with the data sources' answers replaced by literals, and Terraform itself
decides. The moto round trip (test_migration_roundtrip.py) shows the same refusals on a real plan.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_constructs.running_release import RUNNING_IDENTITY, RUNNING_RELEASE, RUNNING_ROLE
from karpenter_model.config import KarpenterConfig
from karpenter_model.naming import IDENTITY_TAG, RELEASE_TAG
from karpenter_model.releases import PROFILES, release_for_kubernetes
from tests.conftest import MIGRATION_STEPS
from tests.test_kubernetes_support import evaluate

ROLE = "aws-2026-eks-karpenter-controller"
# What the controller role can say before a deploy: nothing (a fresh install), no tag, or a release.
RUNNING = ["none", "untagged", *PROFILES, "0.36.2"]
MINORS = (31, 32, 33)


def load(path: Path, **karpenter: Any) -> KarpenterConfig:
    data = yaml.safe_load(path.read_text())
    data["karpenter"].update(karpenter)
    return KarpenterConfig.model_validate(data)


def step(stem_prefix: str) -> Path:
    return next(path for path in MIGRATION_STEPS if path.stem.startswith(stem_prefix))


def role_guards(infra: dict[str, Any]) -> list[dict[str, str]]:
    return infra["resource"]["aws_iam_role"]["karpenter_controller"]["lifecycle"]["precondition"]


def literal(value: str) -> str:
    return json.dumps(value)


@pytest.fixture(scope="module")
def steps(synth_config) -> list[tuple[KarpenterConfig, dict[str, Any]]]:
    return [(config, synth_config(config)["infra"]) for config in map(load, MIGRATION_STEPS)]


@pytest.fixture(scope="module")
def release_verdicts(steps, terraform_bin, tmp_path_factory) -> dict[tuple[str, str], tuple[bool, str]]:
    """(step, what the role's release tag says) -> (plan passes, message), for the release guard of each step."""
    expressions, keys = {}, {}
    for index, (_, infra) in enumerate(steps):
        guard = role_guards(infra)[0]
        for running in RUNNING:
            name = f"s{index}_{re.sub(r'[^a-z0-9]', '_', running)}"
            keys[name] = (MIGRATION_STEPS[index].stem, running)
            expressions[f"{name}_ok"] = guard["condition"].replace(RUNNING_RELEASE, literal(running))
            expressions[f"{name}_message"] = guard["error_message"].replace(RUNNING_RELEASE, literal(running))
    values = evaluate(terraform_bin, tmp_path_factory.mktemp("release-guard"), expressions)
    return {key: (bool(values[f"{name}_ok"]), str(values[f"{name}_message"])) for name, key in keys.items()}


def test_the_controller_role_records_the_release_and_identity_it_is_deployed_for(steps):
    for config, infra in steps:
        tags = infra["resource"]["aws_iam_role"]["karpenter_controller"]["tags"]
        assert tags == {RELEASE_TAG: config.karpenter.version, IDENTITY_TAG: config.karpenter.identity}


def test_the_running_release_is_read_from_the_role_as_it_was_before_the_deploy(steps, terraform_bin, tmp_path):
    """The local, evaluated on what `aws_iam_role` returns: no role, a role without the tag, a tagged role."""
    _, infra = steps[0]
    local = infra["locals"]["running_controller_release"]  # "${...}": evaluated as the value of an output
    answers = {
        "fresh": [],
        "untagged": [{"tags": {"team": "platform"}}],
        "tagged": [{"tags": {RELEASE_TAG: "0.37.8", "team": "platform"}}],
        "no_tags_at_all": [{"tags": None}],
    }
    values = evaluate(
        terraform_bin, tmp_path, {name: local.replace(f"{RUNNING_ROLE}[*]", json.dumps(a)) for name, a in answers.items()}
    )
    assert values == {"fresh": "none", "untagged": "untagged", "tagged": "0.37.8", "no_tags_at_all": "untagged"}
    # The role is read only if `aws_iam_roles` found it: a fresh install reads nothing and fails nothing.
    running = infra["data"]["aws_iam_role"]["karpenter_controller_running"]
    assert running["count"] == "${length(tolist(data.aws_iam_roles.karpenter_controller_running.names))}"
    assert infra["data"]["aws_iam_roles"]["karpenter_controller_running"]["name_regex"] == "^" + re.escape(ROLE) + "$"


def test_the_release_guard_lets_through_a_fresh_install_a_redeploy_the_steps_predecessor_or_an_untagged_role(release_verdicts):
    for (stem, running), (ok, message) in release_verdicts.items():
        config = load(step(stem))
        allowed = {config.karpenter.version, config.karpenter.previous_version or "none", "untagged"}
        assert ok == (running in allowed), (stem, running, message)


def test_a_forgotten_previous_version_is_refused_before_iam_changes(release_verdicts, synth_config, terraform_bin, tmp_path):
    """Mistake (a): 0.37.8 runs, the config says 1.0.14 and forgets previous_version."""
    config = load(step("2-"), previous_version=None)
    guard = role_guards(synth_config(config)["infra"])[0]
    values = evaluate(
        terraform_bin,
        tmp_path,
        {
            key: guard[field].replace(RUNNING_RELEASE, literal("0.37.8"))
            for key, field in (("ok", "condition"), ("m", "error_message"))
        },
    )
    assert values["ok"] is False
    assert values["m"] == (
        f"Refusing Karpenter 1.0.14: Karpenter 0.37.8 runs (the {RELEASE_TAG} tag of the controller role {ROLE}), and "
        "moving it to 1.0.14 is a migration step: set karpenter.previous_version to 0.37.8 for this deploy "
        "(README, Migrating to v1)."
    )


def test_a_skipped_step_is_refused_naming_the_next_step(release_verdicts):
    """Mistake (b): step 3's config (1.14.1 after 1.0.14) over a role that serves 0.37.2."""
    ok, message = release_verdicts[("3-karpenter-1.14.1", "0.37.2")]
    assert not ok
    assert message == (
        f"Refusing Karpenter 1.14.1: Karpenter 0.37.2 runs (the {RELEASE_TAG} tag of the controller role {ROLE}), and "
        "upstream's upgrade guides do not go from it to 1.14.1; the next step is karpenter.version 0.37.8 with "
        "karpenter.previous_version 0.37.2 (README, Migrating to v1)."
    )


def test_a_previous_version_that_does_not_run_is_refused(release_verdicts):
    """Step 2 says 0.37.8 runs; the role says 0.37.2 (step 1 was never deployed)."""
    ok, message = release_verdicts[("2-karpenter-1.0.14", "0.37.2")]
    assert not ok and message.endswith(
        "the next step is karpenter.version 0.37.8 with karpenter.previous_version 0.37.2 (README, Migrating to v1)."
    )
    ok, message = release_verdicts[("2-karpenter-1.0.14", "none")]
    assert not ok and message == (
        f"Refusing Karpenter 1.0.14: karpenter.previous_version is 0.37.8, but the controller role {ROLE} does not exist, "
        "so no Karpenter release was deployed; for a fresh install, leave it unset."
    )
    ok, message = release_verdicts[("1-karpenter-0.37.8", "0.36.2")]
    assert not ok and message.endswith("this app knows no documented step from it to 0.37.8.")


@pytest.fixture(scope="module")
def identity_verdicts(synth_config, terraform_bin, tmp_path_factory) -> dict[str, tuple[bool, str]]:
    """The identity guard of three configs, each against a role that serves IRSA."""
    configs = {
        # Mistake (e): the version step and the switch to Pod Identity in one deploy.
        "step_and_switch": load(step("2-"), identity="pod_identity"),
        "undeclared_switch": load(step("4-"), identity="pod_identity"),
        "declared_switch": load(step("4-"), identity="pod_identity", previous_identity="irsa"),
        "same": load(step("4-")),
    }
    expressions = {}
    for name, config in configs.items():
        guard = role_guards(synth_config(config)["infra"])[1]
        for key, field in (("ok", "condition"), ("message", "error_message")):
            expressions[f"{name}_{key}"] = guard[field].replace(RUNNING_IDENTITY, literal("irsa"))
    values = evaluate(terraform_bin, tmp_path_factory.mktemp("identity-guard"), expressions)
    return {name: (bool(values[f"{name}_ok"]), str(values[f"{name}_message"])) for name in configs}


def test_a_version_step_combined_with_an_identity_switch_is_refused(identity_verdicts):
    ok, message = identity_verdicts["step_and_switch"]
    assert not ok
    assert message == (
        f"Refusing karpenter.identity pod_identity: The controller role {ROLE} serves irsa today (its {IDENTITY_TAG} tag), "
        "and this deploy also changes karpenter.version (previous_version 0.37.8): one change per deploy. Deploy this "
        "step with karpenter.identity: irsa first, then switch in a deploy of its own with karpenter.previous_identity: "
        'irsa (README, "Controller identity: IRSA or EKS Pod Identity").'
    )


def test_an_identity_switch_must_be_declared_and_a_declared_one_passes(identity_verdicts):
    ok, message = identity_verdicts["undeclared_switch"]
    assert not ok and "switching to pod_identity needs karpenter.previous_identity: irsa for this deploy" in message
    assert identity_verdicts["declared_switch"][0] is True
    assert identity_verdicts["same"][0] is True


def test_both_previous_keys_in_one_deploy_are_refused_at_synth():
    with pytest.raises(ValueError, match=r"karpenter\.previous_identity: got 'irsa': this deploy is also a version step"):
        load(step("2-"), identity="pod_identity", previous_identity="irsa")


# -- Kubernetes: the steps on the cluster's real minor -----------------------------------------------


@pytest.fixture(scope="module")
def kubernetes_verdicts(steps, terraform_bin, tmp_path_factory) -> dict[tuple[str, int, str], tuple[bool, str]]:
    """(step, cluster minor, running release) -> (plan passes, message), for the cluster's Kubernetes postcondition."""
    expressions, keys = {}, {}
    for index, (_, infra) in enumerate(steps):
        (check, *_) = infra["data"]["aws_eks_cluster"]["cluster"]["lifecycle"]["postcondition"]
        for minor in MINORS:
            for running in ("none", "untagged", "0.37.2"):
                name = f"s{index}_{minor}_{running.replace('.', '_')}"
                keys[name] = (MIGRATION_STEPS[index].stem, minor, running)
                for key, field in (("ok", "condition"), ("message", "error_message")):
                    text = re.sub(r"\bself\b", f'{{version = "1.{minor}"}}', check[field])
                    expressions[f"{name}_{key}"] = text.replace(RUNNING_RELEASE, literal(running))
    values = evaluate(terraform_bin, tmp_path_factory.mktemp("kubernetes"), expressions)
    return {key: (bool(values[f"{name}_ok"]), str(values[f"{name}_message"])) for name, key in keys.items()}


def test_every_step_plans_on_the_1_32_cluster_eks_upgraded(kubernetes_verdicts):
    assert all(ok for (_, minor, _), (ok, _) in kubernetes_verdicts.items() if minor == 32)


def test_on_another_minor_the_037_and_10_steps_are_refused_naming_that_minor(kubernetes_verdicts):
    """The examples acknowledge 1.32: on 1.31 the 0.37 steps need "1.31"; on 1.33 every step before 1.14.1 needs "1.33"."""
    for (stem, minor, running), (ok, message) in kubernetes_verdicts.items():
        release = load(step(stem[:2])).release
        assert ok == (release.supports(minor) or minor == 32), (stem, minor, running)
        if ok:
            continue
        if running == "none":
            assert message.endswith(f"set karpenter.version to {release_for_kubernetes()[minor]}."), message
        else:
            # A running controller is never told to jump: the crds and chart guards would refuse the jump.
            assert (
                f'continue the migration one documented step at a time, each step with karpenter.acknowledge_unsupported_kubernetes: "1.{minor}"'
                in message
            )
            assert message.count("set karpenter.version to") == 1 and "for a new install, set karpenter.version" in message


def test_the_refusal_on_1_33_quoted(kubernetes_verdicts):
    ok, message = kubernetes_verdicts[("1-karpenter-0.37.8", 33, "0.37.2")]
    assert not ok
    assert message == (
        "Karpenter 0.37.8 supports Kubernetes 1.23 to 1.30, and this cluster runs Kubernetes 1.33; Karpenter 0.37.2 is "
        "deployed: continue the migration one documented step at a time, each step with "
        'karpenter.acknowledge_unsupported_kubernetes: "1.33" until a release that supports it (README, EKS already '
        "upgraded your cluster); for a new install, set karpenter.version to 1.14.1."
    )


# -- the EKS calendar, the untagged role, the cluster security group -------------------------------------


def test_the_calendar_warns_for_a_1_32_cluster_today_and_names_the_date_what_eks_does_and_the_release(
    steps, terraform_bin, tmp_path
):
    (warning,) = steps[0][1]["check"]["eks_support_calendar"]["assert"]
    cases = {
        ("1.32", "2026-12-04T12:00:00Z"): False,  # past standard support (2026-03-23)
        ("1.33", "2026-07-28T23:59:59Z"): True,  # the day before standard support ends
        ("1.33", "2026-07-29T00:00:00Z"): False,
        ("1.40", "2026-12-04T12:00:00Z"): True,  # not in the calendar: nothing to say
    }
    expressions = {}
    for index, ((version, now), _) in enumerate(cases.items()):
        for key, field in (("ok", "condition"), ("message", "error_message")):
            text = warning[field].replace("plantimestamp()", literal(now))
            expressions[f"c{index}_{key}"] = text.replace("data.aws_eks_cluster.cluster.version", literal(version))
    values = evaluate(terraform_bin, tmp_path, expressions)
    assert [values[f"c{i}_ok"] for i in range(len(cases))] == list(cases.values())
    assert values["c0_message"] == (
        "Kubernetes 1.32 on EKS: standard support ended on 2026-03-23; extended support (billed extra) ends on "
        "2027-03-23, and from then EKS upgrades the control plane to 1.33 by itself, without notice; nodes stay on their "
        "version. Karpenter 0.37.2 does not support 1.33: move to Karpenter 1.14.1 before then (README, Migrating to v1), "
        "then upgrade the cluster (source: Amazon EKS User Guide, kubernetes-versions, release calendar)."
    )


def test_an_untagged_role_passes_and_the_plan_says_what_this_deploy_records(steps, terraform_bin, tmp_path):
    config, infra = steps[1]
    (warning,) = infra["check"]["controller_role_records_its_release"]["assert"]
    values = evaluate(
        terraform_bin,
        tmp_path,
        {
            "r_" + r.replace(".", "_"): warning["condition"].replace(RUNNING_RELEASE, literal(r))
            for r in ("untagged", "0.37.2", "none")
        },
    )
    assert values == {"r_untagged": False, "r_0_37_2": True, "r_none": True}
    assert f"This deploy records {config.karpenter.version}" in warning["error_message"]


def test_an_empty_cluster_security_group_is_refused_at_plan_time(example, terraform_bin, tmp_path):
    config, stacks = example
    checks = stacks["infra"]["data"]["aws_eks_cluster"]["cluster"]["lifecycle"]["postcondition"]
    (sg_check,) = [c for c in checks if "cluster_security_group_id" in c["condition"]]
    answers = {"none": "", "some": "sg-0123456789abcdef0"}
    expressions = {}
    for name, group in answers.items():
        cluster = f'{{name = "{config.cluster_name}", vpc_config = [{{cluster_security_group_id = "{group}"}}]}}'
        for key, field in (("ok", "condition"), ("message", "error_message")):
            expressions[f"{name}_{key}"] = re.sub(r"\bself\b", cluster, sg_check[field])
    values = evaluate(terraform_bin, tmp_path, expressions)
    assert (values["none_ok"], values["some_ok"]) == (False, True)
    assert str(values["none_message"]).startswith(
        f"EKS reports no cluster security group for cluster {config.cluster_name}, and discovery.security_group_ids is empty"
    )


def test_no_cluster_security_group_check_when_the_groups_are_given(synth_config):
    data = yaml.safe_load(MIGRATION_STEPS[-1].read_text())
    data["discovery"] = {"security_group_ids": ["sg-0123456789abcdef0"]}
    infra = synth_config(KarpenterConfig.model_validate(data))["infra"]
    checks = infra["data"]["aws_eks_cluster"]["cluster"]["lifecycle"]["postcondition"]
    assert not [c for c in checks if "cluster_security_group_id" in c["condition"]]
