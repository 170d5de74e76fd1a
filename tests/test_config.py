"""The typed config: defaults, names, and the cross-field checks that catch configs which synthesize but cannot work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from karpenter_model.base import ConfigError
from karpenter_model.config import KarpenterConfig
from karpenter_model.errors import format_validation_error
from karpenter_model.loading import load_config
from tests.conftest import EXAMPLE_CONFIG, example_data


def problem(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        KarpenterConfig.model_validate(data)
    return format_validation_error(KarpenterConfig, caught.value, "config.yaml")


def test_example_reproduces_the_seed_values(example_config):
    assert example_config.cluster_name == "aws-2026-eks"
    assert example_config.system_node_group.instance_types == ["t3.medium"]
    assert example_config.system_node_group.desired_size == 1
    assert example_config.interruption_queue.message_retention_seconds == 300
    assert example_config.karpenter.namespace == "karpenter"
    assert example_config.resource_names.node_role == "aws-2026-eks-karpenter-node"
    assert example_config.resource_names.interruption_queue == "aws-2026-eks-karpenter-interruption"
    assert load_config(EXAMPLE_CONFIG) == example_config


def test_replicas_above_the_system_node_count_are_rejected():
    message = problem({**example_data(), "karpenter": {"replicas": 2}})
    assert "karpenter.replicas: got 2" in message and "replicas <= system_node_group.min_size" in message


def test_node_pool_must_reference_a_declared_node_class():
    data = example_data()
    data["node_pools"][0]["spec"]["template"]["spec"]["nodeClassRef"]["name"] = "missing"
    message = problem(data)
    assert "node_pools[0].spec.template.spec.nodeClassRef.name: got 'missing'" in message and "['default']" in message


def test_discovery_tag_value_must_be_the_cluster_name():
    data = example_data()
    data["node_classes"][0]["spec"]["subnetSelectorTerms"][0]["tags"]["karpenter.sh/discovery"] = "other-cluster"
    message = problem(data)
    assert "subnetSelectorTerms[0].tags['karpenter.sh/discovery']: got 'other-cluster'" in message
    assert "'aws-2026-eks'" in message


def test_node_class_role_must_be_the_infra_node_role():
    data = example_data()
    data["node_classes"][0]["spec"]["role"] = "SomeOtherRole"
    message = problem(data)
    assert "node_classes[0].spec.role: got 'SomeOtherRole'" in message and "'aws-2026-eks-karpenter-node'" in message


def test_names_too_long_for_aws_are_rejected_with_the_limit():
    message = problem({**example_data(), "name_prefix": "x" * 40})
    assert "name_prefix: got 'xxxx" in message and "AWS allows 64" in message


def test_unknown_keys_are_errors_not_defaults():
    message = problem({**example_data(), "karpenter": {"replica": 1}})
    assert "karpenter.replica: unknown key" in message


def test_load_config_reports_files_and_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(tmp_path / "list.yaml")


def test_whole_number_quantities_read_as_kubernetes_does():
    config = KarpenterConfig.model_validate(
        {**example_data(), "karpenter": {"replicas": 1, "resources": {"requests": {"cpu": 1, "memory": "1Gi"}}}}
    )
    assert config.karpenter.resources.requests == {"cpu": "1", "memory": "1Gi"}
    message = problem({**example_data(), "karpenter": {"replicas": 1, "resources": {"requests": {"cpu": True}}}})
    assert "karpenter.resources.requests['cpu']: got True" in message
