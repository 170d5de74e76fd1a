"""NodePool / EC2NodeClass: what the example produces passes the CRD schema, and every CEL rule is enforced at synth."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.manifests import node_class_manifest, node_pool_manifest
from karpenter_model.karpenter_api import EC2NodeClassSpec, NodePoolSpec
from tests.conftest import example_data
from tests.crd_schema import schema_errors


def example_manifests(config: KarpenterConfig) -> list[dict]:
    return [node_class_manifest(config, c) for c in config.node_classes] + [node_pool_manifest(config, p) for p in config.node_pools]


def test_example_manifests_pass_the_upstream_crd_schema(example_config):
    for manifest in example_manifests(example_config):
        assert schema_errors(example_config.karpenter.version, manifest) == [], manifest["kind"]


def test_schema_oracle_can_fail():
    bad = {"apiVersion": "karpenter.sh/v1beta1", "kind": "NodePool", "metadata": {"name": "x"}, "spec": {"weight": 0, "template": {"spec": {}}}}
    errors = schema_errors("0.37.2", bad)
    assert any("weight" in e for e in errors) and any("nodeClassRef" in e for e in errors)


def test_manifests_are_v1beta1_and_carry_the_infra_node_role(example_config):
    node_class, node_pool = example_manifests(example_config)
    assert (node_class["apiVersion"], node_class["kind"]) == ("karpenter.k8s.aws/v1beta1", "EC2NodeClass")
    assert (node_pool["apiVersion"], node_pool["kind"]) == ("karpenter.sh/v1beta1", "NodePool")
    assert node_class["spec"]["role"] == "aws-2026-eks-karpenter-node"
    assert node_pool["spec"]["template"]["spec"]["nodeClassRef"] == {
        "name": "default",
        "kind": "EC2NodeClass",
        "apiVersion": "karpenter.k8s.aws/v1beta1",
    }


def test_example_corrects_the_seed_consolidation(example_config):
    disruption = node_pool_manifest(example_config, example_config.node_pools[0])["spec"]["disruption"]
    assert disruption == {"consolidationPolicy": "WhenUnderutilized", "budgets": [{"nodes": "10%"}]}


def test_several_node_classes_and_weighted_pools(synth_config):
    data = example_data()
    spot = copy.deepcopy(data["node_pools"][0])
    spot["name"] = "spot"
    spot["spec"]["weight"] = 100
    spot["spec"]["template"]["spec"]["requirements"][0]["values"] = ["spot"]
    fallback = copy.deepcopy(data["node_pools"][0])
    fallback["name"] = "on-demand"
    fallback["spec"]["weight"] = 10
    fallback["spec"]["template"]["spec"]["requirements"][0]["values"] = ["on-demand"]
    fallback["spec"]["template"]["spec"]["nodeClassRef"]["name"] = "bottlerocket"
    bottlerocket = copy.deepcopy(data["node_classes"][0])
    bottlerocket["name"] = "bottlerocket"
    bottlerocket["spec"]["amiFamily"] = "Bottlerocket"
    del bottlerocket["spec"]["blockDeviceMappings"]
    config = KarpenterConfig.model_validate({**data, "node_classes": [data["node_classes"][0], bottlerocket], "node_pools": [spot, fallback]})
    for manifest in example_manifests(config):
        assert schema_errors(config.karpenter.version, manifest) == [], manifest
    manifests = synth_config(config)["chart"]["resource"]["kubernetes_manifest"]
    assert sorted(manifests) == ["ec2nodeclass_bottlerocket", "ec2nodeclass_default", "nodepool_on-demand", "nodepool_spot"]
    assert manifests["nodepool_on-demand"]["depends_on"] == ["helm_release.karpenter", "kubernetes_manifest.ec2nodeclass_bottlerocket"]
    assert manifests["nodepool_spot"]["manifest"]["spec"]["weight"] == 100


POOL = {
    "template": {"spec": {"nodeClassRef": {"name": "default"}, "requirements": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}}
}
NODE_CLASS = {
    "amiFamily": "AL2",
    "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}],
    "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}],
}


def pool(**changes) -> dict:
    spec = copy.deepcopy(POOL)
    spec.update(changes)
    return spec


def with_requirement(requirement: dict) -> dict:
    spec = copy.deepcopy(POOL)
    spec["template"]["spec"]["requirements"] = [requirement]
    return spec


def node_class(**changes) -> dict:
    return {**copy.deepcopy(NODE_CLASS), **changes}


BAD_NODE_POOLS = [
    (pool(disruption={"consolidationPolicy": "WhenUnderutilized", "consolidateAfter": "30s"}), "disruption", "cannot be combined"),
    (pool(disruption={"consolidateAfter": "30s"}), "disruption", "cannot be combined"),  # defaulted policy
    (pool(disruption={"consolidationPolicy": "WhenEmpty"}), "disruption", "must be specified with consolidationPolicy=WhenEmpty"),
    (pool(disruption={"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"}), "consolidationPolicy", "only in the karpenter.sh/v1"),
    (pool(disruption={"expireAfter": "30d"}), "expireAfter", "String should match pattern"),
    (pool(disruption={"budgets": [{"nodes": "10%", "schedule": "@daily"}]}), "budgets", "'schedule' must be set with 'duration'"),
    (pool(disruption={"budgets": [{"nodes": "10%", "schedule": "@daily", "duration": "30s"}]}), "duration", "String should match pattern"),
    (pool(disruption={"budgets": [{"nodes": 10}]}), "nodes", "string"),
    (pool(disruption={"budgets": [{"nodes": "10%", "reasons": ["Empty"]}]}), "budgets", "only in the karpenter.sh/v1"),
    (pool(limits={"cpu": "lots"}), "limits", "String should match pattern"),
    (pool(weight=0), "weight", "greater than or equal to 1"),
    (pool(weight=101), "weight", "less than or equal to 100"),
    (with_requirement({"key": "karpenter.sh/capacity-type", "operator": "In", "values": []}), "requirements", "must have a value defined"),
    (with_requirement({"key": "karpenter.k8s.aws/instance-cpu", "operator": "Gt", "values": ["1", "2"]}), "requirements", "single positive integer"),
    (with_requirement({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["t3"], "minValues": 2}), "requirements", "minValues"),
    (with_requirement({"key": "kubernetes.io/hostname", "operator": "Exists"}), "key", 'label "kubernetes.io/hostname" is restricted'),
    (with_requirement({"key": "karpenter.sh/nodepool", "operator": "Exists"}), "key", 'label "karpenter.sh/nodepool" is restricted'),
    (with_requirement({"key": "karpenter.sh/anything", "operator": "Exists"}), "key", 'domain "karpenter.sh" is restricted'),
    (with_requirement({"key": "karpenter.k8s.aws/made-up", "operator": "Exists"}), "key", 'domain "karpenter.k8s.aws" is restricted'),
    (with_requirement({"key": "kubernetes.io/made-up", "operator": "Exists"}), "key", 'domain "kubernetes.io" is restricted'),
    (with_requirement({"key": "foo.k8s.io/x", "operator": "Exists"}), "key", 'domain "k8s.io" is restricted'),
    (with_requirement({"key": "Bad Key", "operator": "Exists"}), "key", "String should match pattern"),
    (with_requirement({"key": "team", "operator": "Within", "values": ["a"]}), "operator", "Input should be"),
    (pool(template={"metadata": {"labels": {"karpenter.sh/nodepool": "x"}}, "spec": POOL["template"]["spec"]}), "labels", "restricted"),
    (pool(template={"spec": {**POOL["template"]["spec"], "taints": [{"key": "a", "effect": "NoExecuteNow"}]}}), "effect", "Input should be"),
    (pool(template={"spec": {**POOL["template"]["spec"], "resources": {"requests": {"cpu": "1"}}}}), "resources", "Extra inputs"),
    (pool(template={"spec": {**POOL["template"]["spec"], "kubelet": {"imageGCHighThresholdPercent": 50, "imageGCLowThresholdPercent": 60}}}), "kubelet", "must be greater than"),
    (pool(template={"spec": {**POOL["template"]["spec"], "kubelet": {"evictionSoft": {"memory.available": "5%"}}}}), "kubelet", "evictionSoftGracePeriod"),
    (pool(template={"spec": {**POOL["template"]["spec"], "kubelet": {"evictionHard": {"disk.available": "5%"}}}}), "evictionHard", "valid keys"),
    (pool(template={"spec": {**POOL["template"]["spec"], "kubelet": {"kubeReserved": {"gpu": "1"}}}}), "kubeReserved", "valid keys"),
]

BAD_NODE_CLASSES = [
    (node_class(amiSelectorTerms=[{"alias": "al2023@latest"}]), "amiSelectorTerms", "'alias' exists only in the karpenter.k8s.aws/v1"),
    (node_class(amiFamily="AL2023X"), "amiFamily", "Input should be"),
    (node_class(amiFamily="Custom"), "spec", "amiSelectorTerms is required when amiFamily == 'Custom'"),
    (node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 20}}]), "volumeSize", '"20Gi"'),
    (node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "20GB"}}]), "volumeSize", "String should match pattern"),
    (node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeType": "gp3"}}]), "ebs", "snapshotID or volumeSize must be defined"),
    (node_class(blockDeviceMappings=[{"rootVolume": True, "ebs": {"volumeSize": "20Gi"}}, {"rootVolume": True, "ebs": {"volumeSize": "20Gi"}}]), "blockDeviceMappings", "only one"),
    (node_class(subnetSelectorTerms=[]), "subnetSelectorTerms", "at least 1 item"),
    (node_class(subnetSelectorTerms=[{"name": "x"}]), "subnetSelectorTerms", "Extra inputs"),
    (node_class(subnetSelectorTerms=[{"tags": {"k": ""}}]), "tags", "empty tag keys or values"),
    (node_class(subnetSelectorTerms=[{"id": "subnet-0a", "tags": {"k": "v"}}]), "subnetSelectorTerms", "mutually exclusive"),
    (node_class(securityGroupSelectorTerms=[{"name": "x", "tags": {"k": "v"}}]), "securityGroupSelectorTerms", "mutually exclusive"),
    (node_class(securityGroupSelectorTerms=[{}]), "securityGroupSelectorTerms", "expected at least one"),
    (node_class(metadataOptions={"httpTokens": "always"}), "httpTokens", "Input should be"),
    (node_class(metadataOptions={"httpPutResponseHopLimit": 65}), "httpPutResponseHopLimit", "less than or equal to 64"),
    (node_class(tags={"kubernetes.io/cluster/c": "owned"}), "tags", "restricted"),
    (node_class(tags={"karpenter.sh/nodepool": "x"}), "tags", "restricted"),
    (node_class(role=""), "role", "at least 1 character"),
    (node_class(instanceProfile="p"), "spec", "instanceProfile is not supported"),
    (node_class(instanceStorePolicy="RAID1"), "instanceStorePolicy", "Input should be"),
]


@pytest.mark.parametrize("spec,field,message", BAD_NODE_POOLS, ids=[f"pool-{i}-{c[1]}" for i, c in enumerate(BAD_NODE_POOLS)])
def test_bad_node_pool_is_rejected_naming_the_field(spec, field, message):
    with pytest.raises(ValidationError) as caught:
        NodePoolSpec.model_validate(spec)
    error = caught.value.errors()[0]
    assert field in [str(part) for part in error["loc"]] + ["spec"], error
    assert message in error["msg"], error["msg"]


@pytest.mark.parametrize("spec,field,message", BAD_NODE_CLASSES, ids=[f"class-{i}-{c[1]}" for i, c in enumerate(BAD_NODE_CLASSES)])
def test_bad_node_class_is_rejected_naming_the_field(spec, field, message):
    with pytest.raises(ValidationError) as caught:
        EC2NodeClassSpec.model_validate(spec)
    error = caught.value.errors()[0]
    assert field in [str(part) for part in error["loc"]] + ["spec"], error
    assert message in error["msg"], error["msg"]


def test_good_shapes_are_accepted():
    NodePoolSpec.model_validate(pool(disruption={"consolidationPolicy": "WhenUnderutilized", "consolidateAfter": "Never"}))
    NodePoolSpec.model_validate(pool(disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30s", "expireAfter": "Never"}))
    NodePoolSpec.model_validate(pool(limits={"cpu": "1000m", "memory": 1000}))
    NodePoolSpec.model_validate(with_requirement({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.large"]}))
    NodePoolSpec.model_validate(pool(disruption={"budgets": [{"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h"}]}))
    EC2NodeClassSpec.model_validate(node_class(amiFamily="Custom", amiSelectorTerms=[{"id": "ami-0abc"}]))


def test_a_pool_cpu_limit_in_millicores_warns(example_config):
    data = example_data()
    data["node_pools"][0]["spec"]["limits"]["cpu"] = "1000m"
    (warning,) = KarpenterConfig.model_validate(data).warnings()
    assert "1 vCPU for the whole pool" in warning
    assert example_config.warnings() == []
