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
    assert example_config.interruption.message_retention_seconds == 300
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


# -- issue 10: defaults that work together, checks on final names, every cross-field problem at once ---

MINIMAL = {
    "cluster_name": "blue",
    "region": "eu-west-1",
    "node_classes": [
        {
            "name": "default",
            "spec": {
                "amiFamily": "AL2023",
                "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "blue"}}],
                "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "blue"}}],
            },
        }
    ],
    "node_pools": [
        {
            "name": "default",
            "spec": {
                "template": {
                    "spec": {
                        "nodeClassRef": {"name": "default"},
                        "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
                    }
                }
            },
        }
    ],
}


def test_a_config_with_only_the_required_keys_synthesizes(synth_config):
    config = KarpenterConfig.model_validate(MINIMAL)
    assert (config.karpenter.replicas, config.system_node_group.min_size) == (2, 2)  # two controllers, one per system node
    assert (config.system_node_group.desired_size, config.system_node_group.max_size) == (2, 3)
    stacks = synth_config(config)
    assert sorted(stacks) == ["chart", "crds", "infra"]
    scaling = stacks["infra"]["resource"]["aws_eks_node_group"]["system"]["scaling_config"]
    assert scaling == {"desired_size": 2, "max_size": 3, "min_size": 2}


@pytest.mark.parametrize(
    ("group", "replicas", "sizes"),
    [
        ({}, 2, (2, 2, 3)),
        ({"min_size": 1}, 1, (1, 2, 3)),
        ({"min_size": 1, "desired_size": 1, "max_size": 2}, 1, (1, 1, 2)),  # the example's group: one controller
        ({"min_size": 5}, 2, (5, 5, 5)),
        ({"max_size": 1}, 1, (1, 1, 1)),
        ({"desired_size": 4}, 2, (2, 4, 4)),
        ({"max_size": 10}, 2, (2, 2, 10)),
    ],
)
def test_unset_sizes_and_replicas_fit_the_ones_set(group: dict, replicas: int, sizes: tuple[int, int, int]):
    config = KarpenterConfig.model_validate({**MINIMAL, "system_node_group": group})
    nodes = config.system_node_group
    assert (config.karpenter.replicas, (nodes.min_size, nodes.desired_size, nodes.max_size)) == (replicas, sizes)


def test_set_replicas_are_kept_and_checked():
    message = problem({**MINIMAL, "karpenter": {"replicas": 3}})
    assert "karpenter.replicas: got 3" in message and "min_size is 2" in message


def test_built_in_namespaces_are_not_created_unless_asked():
    config = KarpenterConfig.model_validate({**MINIMAL, "karpenter": {"namespace": "kube-system"}})
    assert config.karpenter.create_namespace is False
    assert KarpenterConfig.model_validate(MINIMAL).karpenter.create_namespace is True
    message = problem({**MINIMAL, "karpenter": {"namespace": "kube-system", "create_namespace": True}})
    assert "karpenter.create_namespace: got True" in message


def test_graviton_instance_types_get_an_arm_ami_unless_one_is_set():
    config = KarpenterConfig.model_validate({**MINIMAL, "system_node_group": {"instance_types": ["m7g.large", "c6gn.xlarge"]}})
    assert config.system_node_group.ami_type == "AL2023_ARM_64_STANDARD"
    assert KarpenterConfig.model_validate(MINIMAL).system_node_group.ami_type == "AL2023_x86_64_STANDARD"
    message = problem({**MINIMAL, "system_node_group": {"instance_types": ["t4g.small"], "ami_type": "AL2_x86_64"}})
    assert "system_node_group.ami_type: got 'AL2_x86_64'" in message


def test_changing_only_the_cluster_name_reports_every_consequence_at_once():
    data = example_data()
    data["cluster_name"] = "green"
    message = problem(data)
    assert message.startswith("config.yaml: invalid configuration (3 problems)")
    assert "node_classes[0].spec.role: got 'aws-2026-eks-karpenter-node'" in message and "'green-karpenter-node'" in message
    assert "subnetSelectorTerms[0].tags['karpenter.sh/discovery']: got 'aws-2026-eks'" in message
    assert "securityGroupSelectorTerms[0].tags['karpenter.sh/discovery']: got 'aws-2026-eks'" in message


def test_a_long_prefix_is_fine_when_the_names_it_would_make_too_long_are_overridden():
    prefix = "p" * 43  # 43 + len("-karpenter-controller") = 64; the interruption rules would need 28
    data = {**example_data(), "name_prefix": prefix}
    del data["node_classes"][0]["spec"]["role"]
    assert "at most 28 characters" in problem(data)
    overrides = {
        "system_node_group": "system",
        "system_node_role": "system-node",
        "interruption_rules": {
            kind: f"karpenter-{kind.replace('_', '-')}" for kind in ("spot", "rebalance", "state_change", "health_event")
        },
    }
    config = KarpenterConfig.model_validate({**data, "names": overrides})
    assert config.resource_names.controller_role == prefix + "-karpenter-controller"
    assert len(config.resource_names.controller_role) == 64


def test_name_clashes_name_both_names():
    message = problem({**example_data(), "names": {"system_node_role": "aws-2026-eks-karpenter-controller"}})
    assert "names.system_node_role: got 'aws-2026-eks-karpenter-controller': is also the controller role name" in message


def test_node_pool_cpu_limit_warnings_handle_any_quantity():
    def warnings(cpu: object) -> list[str]:
        data = example_data()
        data["node_pools"][0]["spec"]["limits"] = {"cpu": cpu}
        return KarpenterConfig.model_validate(data).warnings()

    assert warnings("1000m") == ["node_pools[0].spec.limits.cpu is '1000m': that is 1 vCPU for the whole pool"]
    assert "no node can launch" in warnings("-1")[0]
    assert "no node can launch" in warnings("0")[0]
    assert warnings("1.5")[0].endswith("1.5 vCPU for the whole pool")
    for quiet in ("100", 100, "4", "1e3", "1k", "+8", "1e99999"):
        assert warnings(quiet) == [], quiet


def test_error_messages_never_format_a_whole_huge_value():
    huge = {"k" * 10: ["v" * 1000] * 1000}
    message = problem({**example_data(), "cluster_name": huge})
    assert len(message) < 500 and "cluster_name: got {'kkkkkkkkkk': ['vvv" in message


def test_at_most_so_many_problems_are_listed():
    message = problem({**example_data(), "tags": {f"aws:{i}": "x" for i in range(40)}})
    assert message.startswith("config.yaml: invalid configuration (40 problems)")
    assert message.count("\n  ") == 26 and message.endswith("... and 15 more")
