"""NodePool / EC2NodeClass manifests: what every example writes passes its release's CRD, and a bad spec stops the config.

The rules themselves are tested case by case in test_crd_differential.py (verdicts from upstream);
here: the objects the app writes, and how a refusal reads in the config file's terms.
"""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from karpenter_model.config import KarpenterConfig
from karpenter_model.crd_validation import validator
from karpenter_model.documents.manifests import node_class_manifest, node_pool_manifest
from karpenter_model.errors import format_validation_error
from tests.conftest import EXAMPLES, example_data
from tests.crd_schema import schema_errors


def example_manifests(config: KarpenterConfig) -> list[dict]:
    return [node_class_manifest(config, c) for c in config.node_classes] + [
        node_pool_manifest(config, p) for p in config.node_pools
    ]


def refusal(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        KarpenterConfig.model_validate(data)
    return format_validation_error(KarpenterConfig, caught.value, "config.yaml")


def test_every_example_manifest_passes_its_releases_crd_schema_and_rules(example):
    config, stacks = example
    for manifest in example_manifests(config):
        assert schema_errors(config.karpenter.version, manifest) == [], manifest["kind"]  # jsonschema: an independent oracle
        assert validator(config.release, manifest["kind"]).validate(manifest) == [], manifest["kind"]
    written = [m["manifest"] for m in stacks["chart"]["resource"]["kubernetes_manifest"].values()]
    assert sorted(written, key=str) == sorted(example_manifests(config), key=str)


def test_schema_oracle_can_fail():
    bad = {
        "apiVersion": "karpenter.sh/v1beta1",
        "kind": "NodePool",
        "metadata": {"name": "x"},
        "spec": {"weight": 0, "template": {"spec": {}}},
    }
    errors = schema_errors("0.37.2", bad)
    assert any("weight" in e for e in errors) and any("nodeClassRef" in e for e in errors)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_manifests_are_in_the_api_the_release_stores_with_the_infra_node_role(name):
    from karpenter_model.loading import load_config

    config = load_config(EXAMPLES[name])
    node_class, node_pool = example_manifests(config)
    api = config.release.api_version
    assert (node_class["apiVersion"], node_class["kind"]) == (f"karpenter.k8s.aws/{api}", "EC2NodeClass")
    assert (node_pool["apiVersion"], node_pool["kind"]) == (f"karpenter.sh/{api}", "NodePool")
    assert node_class["spec"]["role"] == "aws-2026-eks-karpenter-node"
    reference = node_pool["spec"]["template"]["spec"]["nodeClassRef"]
    if api == "v1beta1":
        assert reference == {"name": "default", "kind": "EC2NodeClass", "apiVersion": "karpenter.k8s.aws/v1beta1"}
    else:
        assert reference == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}


def test_example_corrects_the_seed_consolidation(example_config):
    disruption = node_pool_manifest(example_config, example_config.node_pools[0])["spec"]["disruption"]
    assert disruption == {"consolidationPolicy": "WhenUnderutilized", "budgets": [{"nodes": "10%"}]}


def test_the_role_is_filled_in_only_when_omitted(example_config):
    data = example_data()
    del data["node_classes"][0]["spec"]["role"]
    config = KarpenterConfig.model_validate(data)
    assert node_class_manifest(config, config.node_classes[0])["spec"]["role"] == "aws-2026-eks-karpenter-node"


def test_several_node_classes_and_weighted_pools(synth_config):
    data = example_data()
    spot = copy.deepcopy(data["node_pools"][0])
    spot["name"] = "spot"
    spot["spec"]["weight"] = 100
    spot["spec"]["template"]["spec"]["requirements"][0]["values"] = ["spot"]
    fallback = copy.deepcopy(data["node_pools"][0])
    fallback["name"] = "team.on-demand"  # a DNS subdomain: valid in Kubernetes, and addressed without the dot
    fallback["spec"]["weight"] = 10
    fallback["spec"]["template"]["spec"]["requirements"][0]["values"] = ["on-demand"]
    fallback["spec"]["template"]["spec"]["nodeClassRef"]["name"] = "bottlerocket"
    bottlerocket = copy.deepcopy(data["node_classes"][0])
    bottlerocket["name"] = "bottlerocket"
    bottlerocket["spec"]["amiFamily"] = "Bottlerocket"
    del bottlerocket["spec"]["blockDeviceMappings"]
    config = KarpenterConfig.model_validate(
        {**data, "node_classes": [data["node_classes"][0], bottlerocket], "node_pools": [spot, fallback]}
    )
    for manifest in example_manifests(config):
        assert schema_errors("0.37.2", manifest) == [], manifest
    manifests = synth_config(config)["chart"]["resource"]["kubernetes_manifest"]
    assert sorted(manifests) == ["ec2nodeclass_bottlerocket", "ec2nodeclass_default", "nodepool_spot", "nodepool_team_on-demand"]
    assert manifests["nodepool_team_on-demand"]["manifest"]["metadata"]["name"] == "team.on-demand"
    assert manifests["nodepool_team_on-demand"]["depends_on"] == [
        "helm_release.karpenter",
        "kubernetes_manifest.ec2nodeclass_bottlerocket",
    ]
    assert manifests["nodepool_spot"]["manifest"]["spec"]["weight"] == 100


def test_a_refused_spec_names_the_config_path_the_value_and_the_rules_own_message():
    data = example_data()
    data["node_pools"][0]["spec"]["disruption"]["consolidateAfter"] = "30s"  # what the seed's karpenter.tf did
    data["node_classes"][0]["spec"]["blockDeviceMappings"][0]["ebs"]["volumeSize"] = 20
    message = refusal(data)
    assert "node_pools[0].spec.disruption: " in message
    assert "consolidateAfter cannot be combined with consolidationPolicy=WhenUnderutilized" in message
    assert "node_classes[0].spec.blockDeviceMappings[0].ebs.volumeSize: got 20:" in message


def test_every_problem_of_every_object_is_reported_at_once():
    data = example_data()
    data["node_pools"][0]["spec"]["weight"] = 0
    data["node_pools"][0]["spec"]["template"]["spec"]["requirements"][0]["operator"] = "Within"
    data["node_classes"][0]["spec"]["metadataOptions"]["httpTokens"] = "always"
    message = refusal(data)
    for path in (
        "node_pools[0].spec.weight",
        "node_pools[0].spec.template.spec.requirements[0].operator",
        "node_classes[0].spec.metadataOptions.httpTokens",
    ):
        assert path in message, message


def test_what_only_the_controller_would_refuse_says_so():
    data = example_data()
    data["node_pools"][0]["spec"]["disruption"]["budgets"] = [{"nodes": "10%", "schedule": "0 0 9 * * 1-5", "duration": "8h"}]
    message = refusal(data)
    assert "node_pools[0].spec.disruption.budgets[0].schedule" in message
    assert "the Kubernetes API would accept this; the Karpenter controller cannot decode it" in message


@pytest.mark.parametrize(
    ("example_name", "version", "written_for", "accepted_by"),
    [("aws-2026-eks", "1.14.1", "v1beta1", "0.37.2 and 0.37.8"), ("aws-2026-eks-1.14.1", "0.37.2", "v1", "1.0.14 and 1.14.1")],
)
def test_a_spec_for_the_other_api_version_names_the_releases_that_accept_it(example_name, version, written_for, accepted_by):
    import yaml

    data = yaml.safe_load(EXAMPLES[example_name].read_text())
    data["karpenter"]["version"] = version
    message = refusal(data)
    assert f"node_pools[0].spec: written for the {written_for} API of NodePool, which Karpenter {accepted_by} accept" in message
    assert f"node_classes[0].spec: written for the {written_for} API of EC2NodeClass" in message
    assert message.count("\n") == 2, "one line per object, not every rule the other API breaks"


def test_a_pool_cpu_limit_in_millicores_warns(example_config):
    data = example_data()
    data["node_pools"][0]["spec"]["limits"]["cpu"] = "1000m"
    (warning,) = KarpenterConfig.model_validate(data).warnings()
    assert "1 vCPU for the whole pool" in warning
    assert example_config.warnings() == []
