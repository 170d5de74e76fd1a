"""The migration's steps (examples/migration/), synthesized, each against the step before it.

What must hold between two consecutive steps, read from the synthesized JSON: no NodePool or
EC2NodeClass address disappears without a `removed` block that keeps the object, every new
address of an object that existed has an `import` block with the provider's ID for it, the CRDs'
conversion webhook calls the controller's Service where the controller runs, and the policies are
upstream's. The guards (which release runs, which versions are stored) are evaluated by terraform
on stand-in API answers. The upgrade table is checked against upstream's guides.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from syrupy.extensions.json import JSONSnapshotExtension

from karpenter_check.synthesized import reference_values, resolve
from karpenter_model.config import KarpenterConfig
from karpenter_model.conversion import convert_config
from karpenter_model.documents.iam import managed_policies, measured_values
from karpenter_model.releases import PROFILES, STEP_SOURCES, next_step
from tests.conftest import EXAMPLES, MIGRATION_STEPS, reference
from tests.test_kubernetes_support import evaluate

NODE_KINDS = {"NodePool", "EC2NodeClass"}


def load(path: Path) -> KarpenterConfig:
    return KarpenterConfig.model_validate(yaml.safe_load(path.read_text()))


@pytest.fixture(scope="module")
def steps(synth_config) -> list[tuple[KarpenterConfig, dict[str, dict[str, Any]]]]:
    return [(config, synth_config(config)) for config in map(load, MIGRATION_STEPS)]


def node_objects(chart: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """kubernetes_manifest address -> (kind, name, apiVersion) of each NodePool and EC2NodeClass, from the manifests."""
    return {
        f"kubernetes_manifest.{name}": (m["manifest"]["kind"], m["manifest"]["metadata"]["name"], m["manifest"]["apiVersion"])
        for name, m in chart["resource"].get("kubernetes_manifest", {}).items()
        if m["manifest"]["kind"] in NODE_KINDS
    }


def test_the_steps_are_the_documented_path_from_the_seeds_release():
    versions = [load(path).karpenter.version for path in MIGRATION_STEPS]
    assert versions[0] == "0.37.2" and versions[-1] == versions[-2]
    chain = [versions[0]]
    while (following := next_step(chain[-1])) is not None:
        chain.append(following)
    assert versions[:-1] == chain == ["0.37.2", "0.37.8", "1.0.14", "1.14.1"]


def test_each_step_names_the_release_it_replaces_and_the_last_step_names_none():
    configs = [load(path) for path in MIGRATION_STEPS]
    assert configs[0].karpenter.previous_version is None
    for before, after in itertools.pairwise(configs[:-1]):
        assert after.karpenter.previous_version == before.karpenter.version
    assert configs[-1].karpenter.previous_version is None


def test_a_step_changes_only_the_release_keys_and_the_node_objects_api():
    """Apart from karpenter.* release keys, a step's file is its predecessor's (the v1 step: as the converter writes it)."""
    release_keys = {"version", "previous_version", "acknowledge_unsupported_kubernetes"}

    def rest(path: Path) -> dict[str, Any]:
        data = yaml.safe_load(path.read_text())
        data["karpenter"] = {k: v for k, v in data["karpenter"].items() if k not in release_keys}
        return data

    for before, after in itertools.pairwise(MIGRATION_STEPS):
        if load(before).release.api_version == load(after).release.api_version:
            assert rest(before) == rest(after), after.name


def test_the_v1_step_is_the_converters_output_of_the_step_before():
    step_1, step_2 = MIGRATION_STEPS[1], MIGRATION_STEPS[2]
    converted = convert_config(yaml.safe_load(step_1.read_text()), "1.0.14")
    assert converted.data == yaml.safe_load(step_2.read_text())
    assert converted.changes[:2] == [
        "karpenter.version: 0.37.8 -> 1.0.14",
        "karpenter.previous_version: 0.37.2 -> 0.37.8  # a migration step",
    ]
    # 1.0.14 supports Kubernetes up to 1.31: the cluster's 1.32 stays acknowledged.
    assert converted.data["karpenter"]["acknowledge_unsupported_kubernetes"] == "1.32"


def test_no_node_object_address_disappears_without_a_removed_block_that_keeps_it(steps):
    for (_, before), (config, after) in itertools.pairwise(steps):
        gone = set(node_objects(before["chart"])) - set(node_objects(after["chart"]))
        removed = {block["from"]: block["lifecycle"] for block in after["chart"].get("removed", [])}
        for address in gone:
            assert removed.get(address) == {"destroy": False}, f"{config.karpenter.version}: {address} would be destroyed"
        assert set(removed) == gone, "a removed block for an address the previous step did not have"


def test_every_new_address_of_an_existing_object_is_imported_with_its_id(steps):
    for (_, before), (config, after) in itertools.pairwise(steps):
        existing = {(kind, name) for kind, name, _ in node_objects(before["chart"]).values()}
        imports = {block["to"]: block["id"] for block in after["chart"].get("import", [])}
        new = {a: o for a, o in node_objects(after["chart"]).items() if a not in node_objects(before["chart"])}
        for address, (kind, name, api_version) in new.items():
            assert (kind, name) in existing
            assert imports.get(address) == f"apiVersion={api_version},kind={kind},name={name}", address
        assert set(imports) == set(new), config.karpenter.version


def test_the_v1_step_moves_both_objects_and_the_others_move_none(steps):
    moved = {config.karpenter.version: len(stacks["chart"].get("import", [])) for config, stacks in steps[1:]}
    assert moved == {"0.37.8": 0, "1.0.14": 2, "1.14.1": 0}


def test_no_fresh_install_removes_or_imports_anything(example):
    _, stacks = example
    assert "removed" not in stacks["chart"] and "import" not in stacks["chart"]


@pytest.mark.parametrize("namespace", ["karpenter", "platform-autoscaling"])
def test_conversion_webhooks_call_the_controllers_service_where_it_runs(steps, synth_config, namespace):
    for config, stacks in steps:
        if namespace != config.karpenter.namespace:
            data = config.model_dump(mode="json", exclude_unset=True)
            data["karpenter"]["namespace"] = namespace
            config = KarpenterConfig.model_validate(data)
            stacks = synth_config(config)
        crd_release = stacks["crds"]["resource"]["helm_release"]["karpenter_crd"]
        controller = stacks["chart"]["resource"]["helm_release"]["karpenter"]
        crd_values = json.loads(crd_release["values"][0]) if "values" in crd_release else {}
        controller_values = json.loads(controller["values"][0])
        if not config.release.webhooks:
            assert "webhook" not in crd_values and "webhook" not in controller_values
            continue
        # The controller chart's Service is named for its release (the chart's fullname) and serves on webhook.port.
        assert crd_values["webhook"] == {
            "enabled": True,
            "serviceName": controller["name"],
            "serviceNamespace": controller["namespace"],
            "port": controller_values["webhook"]["port"],
        }
        assert controller["namespace"] == crd_release["namespace"] == namespace
        assert controller_values["webhook"]["enabled"] is True


# Each step's policy addresses: the release's own, and the previous release's that must stay (upstream's v1 migration
# attaches the v1 policy next to the old one and removes the old one only after the controller moved).
V1_14_OWN = {
    "karpenter_controller_node_lifecycle",
    "karpenter_controller_iam_integration",
    "karpenter_controller_eks_integration",
    "karpenter_controller_interruption",
    "karpenter_controller_resource_discovery",
    "karpenter_controller_zonal_shift",
}
POLICIES_PER_STEP = {
    "0-karpenter-0.37.2": ({"karpenter_controller"}, {}),
    "1-karpenter-0.37.8": ({"karpenter_controller"}, {}),  # 0.37.2 and 0.37.8 have the same document: nothing to keep
    "2-karpenter-1.0.14": ({"karpenter_controller"}, {"karpenter_controller_previous": "karpenter_controller"}),
    "3-karpenter-1.14.1": (V1_14_OWN, {"karpenter_controller": "karpenter_controller"}),  # 1.14.1 has no policy there
    "4-karpenter-1.14.1-done": (V1_14_OWN, {}),
}


def test_the_policies_of_each_step_are_upstreams_for_both_releases(steps):
    """The release's policies at their addresses; the previous release's kept ones exactly as its template has them."""
    for path, (config, stacks) in zip(MIGRATION_STEPS, steps, strict=True):
        own, kept = POLICIES_PER_STEP[path.stem]
        policies = stacks["infra"]["resource"]["aws_iam_policy"]
        assert set(policies) == own | set(kept), path.stem
        measured = measured_values(config)
        release = {name.address: doc for name, doc in managed_policies(config.release, measured, measured).items()}
        previous = config.previous_release
        before = {name.address: doc for name, doc in managed_policies(previous, measured, measured).items()} if previous else {}
        for address in own:
            assert json.loads(fill(policies[address]["policy"], config)) == release[address], f"{path.stem}: {address}"
        for address, previous_address in kept.items():
            assert json.loads(fill(policies[address]["policy"], config)) == before[previous_address], f"{path.stem}: {address}"


def fill(text: str, config: KarpenterConfig) -> str:
    """The policy text with the stack's references replaced by the values measured_values assumes."""
    measured = measured_values(config)
    values = reference_values(
        partition=measured.partition,
        region=measured.region,
        account=measured.account_id,
        queue_arn=measured.queue_arn,
        node_role_arn=measured.node_role_arn,
        issuer_host="unused.example",  # controller policies do not name the OIDC provider
    )
    return resolve(text, values)


def test_the_previous_releases_policies_are_attached_before_the_releases_own_change(steps):
    for config, stacks in steps:
        policies = stacks["infra"]["resource"]["aws_iam_policy"]
        measured = measured_values(config)
        own = {name.address for name in managed_policies(config.release, measured, measured)}
        kept = sorted(f"aws_iam_role_policy_attachment.{address}" for address in set(policies) - own)
        assert bool(kept) == (config.karpenter.version in ("1.0.14",) or config.karpenter.previous_version == "1.0.14")
        for address in own:
            assert sorted(policies[address].get("depends_on", [])) == kept, (config.karpenter.version, address)
        for address in set(policies) - own:
            assert "depends_on" not in policies[address]


# -- the upgrade table, against upstream's guides ------------------------------------------------------


def guide(version: str, name: str) -> str:
    path = reference(version) / name
    return path.read_text()


def test_every_step_of_the_table_has_its_source_and_every_source_a_step():
    table = {(before, after) for after, profile in PROFILES.items() for before in profile.follows}
    assert table == set(STEP_SOURCES)


def test_v1_is_reached_only_from_the_latest_037_patch_with_webhooks():
    """v1-migration.md: upgrade first to the latest patch of the current minor (0.37.7 when it was written), webhooks on."""
    text = guide("1.0.14", "v1-migration.md")
    listed = re.findall(r"^\s+\* `v?0\.37\.(\d+)`", text, re.MULTILINE)
    assert listed, "the guide's list of latest patches"
    latest_037 = max(v for v in PROFILES if v.startswith("0.37."))
    assert int(latest_037.split(".")[2]) >= max(map(int, listed))
    assert "Note that webhooks must be enabled." in text
    assert PROFILES["1.0.14"].follows == (latest_037,) and PROFILES[latest_037].webhooks


def test_the_way_back_from_1_0_is_only_to_the_latest_037_patch():
    text = guide("1.0.14", "v1-migration.md")
    downgrading = text.split("## Downgrading", 1)[1].split("\n## ", 1)[0]
    assert "only rollback to a version of Karpenter with the conversion webhooks" in downgrading
    back = [after for after, p in PROFILES.items() if "1.0.14" in p.follows]
    assert back == ["0.37.8", "1.14.1"]
    assert PROFILES["0.37.8"].webhooks and not PROFILES["0.37.2"].webhooks and "1.0.14" not in PROFILES["0.37.2"].follows


def test_1_1_and_later_follow_only_a_v1_release_that_still_serves_v1beta1():
    text = guide("1.14.1", "upgrade-guide.md")
    assert "Karpenter `1.1.0` drops the support for `v1beta1` APIs." in text
    assert "**Do not** upgrade to `1.1.0`+ without following the [Migration Guide]" in text
    for version, profile in PROFILES.items():
        if tuple(map(int, version.split("."))) >= (1, 1, 0):
            assert profile.follows, version
            for before in profile.follows:
                assert PROFILES[before].api_version == "v1" and "v1beta1" in next(iter(PROFILES[before].served_versions.values()))
            assert all("v1beta1" not in PROFILES[version].served_versions[crd] for crd in ("nodepools.karpenter.sh",))


# -- the guards, evaluated by terraform ---------------------------------------------------------------

RUNNING = {
    "nothing": [],
    "unlabelled": [{"metadata": {"name": "karpenter", "labels": {"app.kubernetes.io/name": "karpenter"}}}],
    **{v: [{"metadata": {"name": "karpenter", "labels": {"app.kubernetes.io/version": v}}}] for v in (*PROFILES, "0.36.2")},
}


@pytest.fixture(scope="module")
def guard_verdicts(steps, terraform_bin, tmp_path_factory) -> dict[tuple[str, str, str], tuple[bool, str]]:
    """(stack, step, running) -> (plan passes, message), for the guard as each step's crds and chart stacks carry it.

    The stack's own local and precondition, with the data source's objects replaced by a stand-in answer.
    """
    expressions, keys = {}, {}
    for index, (_, stacks) in enumerate(steps):
        for stack, address in (("crds", "karpenter_crd"), ("chart", "karpenter")):
            local = stacks[stack]["locals"]["running_karpenter_version"][2:-1]  # "${...}" -> the expression
            guard = stacks[stack]["resource"]["helm_release"][address]["lifecycle"]["precondition"][0]
            for running, objects in RUNNING.items():
                value = "(" + local.replace("data.kubernetes_resources.running_karpenter.objects", json.dumps(objects)) + ")"
                name = f"s{index}_{stack}_{re.sub(r'[^a-z0-9]', '_', running)}"
                keys[name] = (stack, MIGRATION_STEPS[index].stem, running)
                expressions[f"{name}_ok"] = guard["condition"].replace("local.running_karpenter_version", value)
                expressions[f"{name}_message"] = guard["error_message"].replace("local.running_karpenter_version", value)
    values = evaluate(terraform_bin, tmp_path_factory.mktemp("upgrade-guard"), expressions)
    return {key: (bool(values[f"{name}_ok"]), str(values[f"{name}_message"])) for name, key in keys.items()}


def test_the_guard_lets_through_exactly_a_fresh_install_a_redeploy_or_the_steps_predecessor(guard_verdicts):
    for (stack, step, running), (ok, message) in guard_verdicts.items():
        config = load(next(p for p in MIGRATION_STEPS if p.stem == step))
        allowed = {config.karpenter.version, config.karpenter.previous_version or "nothing"}
        assert ok == (running in allowed), (stack, step, running, message)


def test_skipping_a_step_is_refused_naming_the_next_step(guard_verdicts):
    ok, message = guard_verdicts[("crds", "3-karpenter-1.14.1", "0.37.2")]
    assert not ok
    assert message == (
        "Refusing Karpenter 1.14.1: Karpenter 0.37.2 runs in the cluster, and upstream's upgrade guides do not go from "
        "it to 1.14.1; the next step is karpenter.version 0.37.8 with karpenter.previous_version 0.37.2 (README, Migrating to v1)."
    )
    ok, message = guard_verdicts[("chart", "4-karpenter-1.14.1-done", "1.0.14")]
    assert not ok and "set karpenter.previous_version to 1.0.14" in message
    ok, message = guard_verdicts[("chart", "2-karpenter-1.0.14", "nothing")]
    assert not ok and "for a fresh install, leave it unset" in message
    ok, message = guard_verdicts[("chart", "2-karpenter-1.0.14", "0.36.2")]
    assert not ok and message.endswith(
        "Karpenter 0.36.2 runs in the cluster; this app knows no documented step from it to 1.0.14."
    )
    ok, message = guard_verdicts[("crds", "1-karpenter-0.37.8", "unlabelled")]
    assert not ok and "has no app.kubernetes.io/version label" in message


def test_the_last_step_waits_until_nothing_is_stored_as_v1beta1(steps, terraform_bin, tmp_path):
    config, stacks = steps[3]
    assert config.karpenter.version == "1.14.1"
    conditions = stacks["crds"]["resource"]["helm_release"]["karpenter_crd"]["lifecycle"]["precondition"][1:]
    (nodepools,) = [c for c in conditions if "nodepools.karpenter.sh" in c["error_message"]]
    objects = "data.kubernetes_resources.existing_crd_nodepools.objects"
    cases = {
        "migrated": [{"status": {"storedVersions": ["v1"]}}],
        "not_yet": [{"status": {"storedVersions": ["v1beta1", "v1"]}}],
        "absent": [],
    }
    expressions = {
        f"{name}_{key}": nodepools[field].replace(objects, json.dumps(value))
        for name, value in cases.items()
        for key, field in (("ok", "condition"), ("message", "error_message"))
    }
    values = evaluate(terraform_bin, tmp_path, expressions)
    assert (values["migrated_ok"], values["not_yet_ok"], values["absent_ok"]) == (True, False, True)
    assert str(values["not_yet_message"]).startswith(
        "CRD nodepools.karpenter.sh still lists v1beta1 in status.storedVersions, and Karpenter 1.14.1's CRDs serve only v1"
    )


def test_fresh_installs_of_every_release_pass_the_guard(example):
    """The bundled examples have no previous release: nothing running is among what they accept."""
    config, stacks = example
    (guard,) = stacks["chart"]["resource"]["helm_release"]["karpenter"]["lifecycle"]["precondition"]
    assert guard["condition"] == f'${{contains(["{config.karpenter.version}", "none"], local.running_karpenter_version)}}'


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", ["infra", "crds", "chart"])
@pytest.mark.parametrize("index", range(len(MIGRATION_STEPS)), ids=[p.stem for p in MIGRATION_STEPS])
def test_step_snapshot(steps, snapshot_json, index, stack):
    """The Terraform of every step, for review: what a step adds, keeps, re-addresses and guards."""
    _, stacks = steps[index]
    assert stacks[stack] == snapshot_json


def test_examples_do_not_include_the_migration_steps():
    assert not set(EXAMPLES) & {p.stem for p in MIGRATION_STEPS}


# -- the converter's release keys ----------------------------------------------------------------------


def step_1_data(**karpenter: Any) -> dict[str, Any]:
    data = yaml.safe_load(MIGRATION_STEPS[1].read_text())
    data["karpenter"].update(karpenter)
    return data


def test_the_converter_drops_a_previous_version_the_target_does_not_follow():
    converted = convert_config(step_1_data(), "1.14.1")
    assert "previous_version" not in converted.data["karpenter"]
    assert "karpenter.previous_version: 0.37.2 -> (removed)  # 1.14.1 does not directly follow 0.37.8" in converted.changes
    KarpenterConfig.model_validate(converted.data)


def test_the_converter_keeps_an_acknowledgement_the_target_still_needs():
    converted = convert_config(step_1_data(acknowledge_unsupported_kubernetes="1.32"), "1.0.14")
    assert converted.data["karpenter"]["acknowledge_unsupported_kubernetes"] == "1.32"
    assert not any(line.startswith("karpenter.acknowledge_unsupported_kubernetes") for line in converted.changes)
    KarpenterConfig.model_validate(converted.data)


def test_the_converter_drops_an_acknowledgement_the_target_supports():
    converted = convert_config(step_1_data(acknowledge_unsupported_kubernetes="1.31"), "1.0.14")
    assert "acknowledge_unsupported_kubernetes" not in converted.data["karpenter"]
    assert (
        "karpenter.acknowledge_unsupported_kubernetes: 1.31 -> (removed)  # 1.0.14 supports Kubernetes 1.31" in converted.changes
    )
    KarpenterConfig.model_validate(converted.data)
