"""CRD and chart stacks: what is installed, in which order it is created and destroyed, and with which values."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from syrupy.extensions.json import JSONSnapshotExtension

from karpenter_model.releases import PROFILES
from tests.conftest import make_config, reference, resource

REFERENCE_PATTERN = re.compile(r"\$\{(?:data\.)?([a-z0-9_]+\.[A-Za-z0-9_-]+)")


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def chart_values(stack) -> dict:
    (values,) = resource(stack, "helm_release.karpenter")["values"]
    return json.loads(values)


def dependencies(stack) -> dict[str, set[str]]:
    """Address -> addresses it depends on, from depends_on and from references in its arguments."""
    graph = {}
    for kind, items in stack.get("resource", {}).items():
        for name, body in items.items():
            address = f"{kind}.{name}"
            text = json.dumps({k: v for k, v in body.items() if k != "depends_on"})
            graph[address] = set(body.get("depends_on", [])) | {
                m for m in REFERENCE_PATTERN.findall(text) if not m.startswith(("terraform_remote_state.", "each.", "self."))
            }
    return graph


def destroyed_before(stack, first: str, then: str) -> bool:
    """Terraform destroys `first` before `then` exactly when `first` depends on `then`, directly or not."""
    graph, seen, todo = dependencies(stack), set[str](), [first]
    while todo:
        for dependency in graph.get(todo.pop(), set()) - seen:
            seen.add(dependency)
            todo.append(dependency)
    return then in seen


def test_release_installs_karpenter_0_37_2_without_crds(example_stacks):
    release = resource(example_stacks["chart"], "helm_release.karpenter")
    assert release["chart"] == "karpenter"
    assert release["repository"] == "oci://public.ecr.aws/karpenter"
    assert release["version"] == "0.37.2"
    assert release["namespace"] == "karpenter"
    assert release["skip_crds"] is True
    assert release["wait"] is True


def test_crd_stack_installs_and_confirms_every_crd(example_stacks):
    crds = example_stacks["crds"]
    release = resource(crds, "helm_release.karpenter_crd")
    assert (release["chart"], release["version"], release["repository"]) == (
        "karpenter-crd",
        "0.37.2",
        "oci://public.ecr.aws/karpenter",
    )
    assert release["depends_on"] == ["kubernetes_namespace_v1.karpenter"]
    checked = {body["metadata"]["name"]: body for body in crds["data"]["kubernetes_resource"].values()}
    crd_files = sorted((PROFILES["0.37.2"].data_dir / "crds").glob("*.yaml"))
    assert sorted(yaml.safe_load(f.read_text())["metadata"]["name"] for f in crd_files) == sorted(checked)
    for body in checked.values():
        assert body["depends_on"] == ["helm_release.karpenter_crd"]
        (condition,) = body["lifecycle"]["postcondition"]
        assert '"Established"' in condition["condition"]


def test_no_stack_plans_a_custom_resource_whose_crd_it_creates(example_stacks):
    for name, stack in example_stacks.items():
        resources = stack.get("resource", {})
        creates_crds = "helm_release" in resources and any(
            r["chart"] == "karpenter-crd" for r in resources["helm_release"].values()
        )
        uses_crds = any(
            m["manifest"]["apiVersion"].startswith("karpenter.") for m in resources.get("kubernetes_manifest", {}).values()
        )
        assert not (creates_crds and uses_crds), name


def test_stacks_deploy_in_order(synth_config, example_config):
    manifest = json.loads((synth_config.outdir(example_config) / "manifest.json").read_text())["stacks"]
    assert manifest["infra"]["dependencies"] == []
    assert manifest["crds"]["dependencies"] == ["infra"]
    assert set(manifest["chart"]["dependencies"]) == {"crds", "infra"}


def test_node_pools_go_before_node_classes_before_the_controller_on_destroy(example_stacks):
    chart = example_stacks["chart"]
    assert destroyed_before(chart, "kubernetes_manifest.nodepool_default", "kubernetes_manifest.ec2nodeclass_default")
    assert destroyed_before(chart, "kubernetes_manifest.ec2nodeclass_default", "helm_release.karpenter")
    assert destroyed_before(chart, "kubernetes_manifest.nodepool_default", "helm_release.karpenter")
    assert not destroyed_before(chart, "helm_release.karpenter", "kubernetes_manifest.nodepool_default")
    manifests = example_stacks["chart"]["resource"]["kubernetes_manifest"]
    assert manifests["nodepool_default"]["depends_on"] == ["helm_release.karpenter", "kubernetes_manifest.ec2nodeclass_default"]
    assert manifests["ec2nodeclass_default"]["depends_on"] == ["helm_release.karpenter"]
    assert manifests["ec2nodeclass_default"]["timeouts"] == {"delete": "30m"}


def test_destroy_order_helper_detects_a_missing_dependency(example_stacks):
    stack = json.loads(json.dumps(example_stacks["chart"]))
    stack["resource"]["kubernetes_manifest"]["nodepool_default"]["depends_on"] = []
    assert not destroyed_before(stack, "kubernetes_manifest.nodepool_default", "helm_release.karpenter")


def test_values_come_from_the_infra_stack(example_stacks):
    settings = chart_values(example_stacks["chart"])["settings"]
    remote = "${data.terraform_remote_state.cross-stack-reference-input-infra.outputs."
    assert settings["clusterName"] == "aws-2026-eks"
    assert settings["clusterEndpoint"].startswith(remote) and "endpoint" in settings["clusterEndpoint"]
    assert settings["interruptionQueue"].startswith(remote) and "karpenter_interruption" in settings["interruptionQueue"]
    service_account = chart_values(example_stacks["chart"])["serviceAccount"]
    assert service_account["name"] == "karpenter"
    assert service_account["annotations"]["eks.amazonaws.com/role-arn"].startswith(remote)
    assert "karpenter_controller" in service_account["annotations"]["eks.amazonaws.com/role-arn"]
    outputs = {o["value"] for o in example_stacks["infra"]["output"].values()}
    assert {"${aws_sqs_queue.karpenter_interruption.name}", "${aws_iam_role.karpenter_controller.arn}"} <= outputs


def test_values_keep_the_chart_defaults_and_pin_to_the_system_nodes(example_stacks):
    upstream = yaml.safe_load((reference("0.37.2") / "chart-values.yaml").read_text())
    values = chart_values(example_stacks["chart"])
    for toleration in upstream["tolerations"]:
        assert toleration in values["tolerations"]
    (term,) = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    (upstream_term,) = upstream["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert all(expression in term["matchExpressions"] for expression in upstream_term["matchExpressions"])
    assert {"key": "role", "operator": "In", "values": ["system"]} in term["matchExpressions"]
    assert values["affinity"]["podAntiAffinity"] == upstream["affinity"]["podAntiAffinity"]
    assert values["replicas"] == 1
    assert values["controller"]["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert set(values) <= set(upstream), "every key we set exists in the chart"
    assert set(values["settings"]) <= set(upstream["settings"])


def test_other_system_taints_get_their_own_toleration(synth_config):
    config = make_config(
        system_node_group={
            "labels": {"workload-type": "system"},
            "taints": [{"key": "workload-type", "value": "system", "effect": "NO_SCHEDULE"}],
        }
    )
    values = chart_values(synth_config(config)["chart"])
    assert values["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": "workload-type", "operator": "Equal", "value": "system", "effect": "NoSchedule"},
    ]


def test_providers_authenticate_with_a_fresh_token_per_run(example_stacks):
    for name in ("crds", "chart"):
        (kubernetes,) = example_stacks[name]["provider"]["kubernetes"]
        (exec_block,) = kubernetes["exec"]
        assert exec_block["command"] == "aws"
        assert exec_block["args"][:4] == ["eks", "get-token", "--cluster-name", "aws-2026-eks"]
        assert "token" not in kubernetes
        (helm,) = example_stacks[name]["provider"]["helm"]
        assert helm["kubernetes"]["exec"] == exec_block
        assert helm["kubernetes"]["host"] == kubernetes["host"]


def test_existing_namespace_is_not_created(synth_config):
    config = make_config(karpenter={"namespace": "kube-system", "create_namespace": False, "replicas": 1})
    crds = synth_config(config)["crds"]
    assert "kubernetes_namespace_v1" not in crds["resource"]
    assert "depends_on" not in resource(crds, "helm_release.karpenter_crd")


@pytest.mark.parametrize("stack", ["crds", "chart"])
def test_stack_snapshot(example, snapshot_json, stack):
    _, stacks = example
    assert stacks[stack] == snapshot_json


def test_every_examples_crd_stack_waits_for_every_crd_its_release_ships(example):
    config, stacks = example
    crds, chart = stacks["crds"], stacks["chart"]
    checked = sorted(body["metadata"]["name"] for body in crds["data"]["kubernetes_resource"].values())
    files = sorted((config.release.data_dir / "crds").glob("*.yaml"))
    assert checked == sorted(yaml.safe_load(f.read_text())["metadata"]["name"] for f in files)
    for release in (resource(crds, "helm_release.karpenter_crd"), resource(chart, "helm_release.karpenter")):
        assert release["version"] == config.release.version
