"""Backends per stack, environments side by side, and the moved/import blocks that adopt an existing state."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, config_for_cluster, example_data, make_config

REMOTE_INFRA = "cross-stack-reference-input-{}"


def remote_state(stacks, consumer: str, producer: str) -> dict:
    return stacks[consumer]["data"]["terraform_remote_state"][REMOTE_INFRA.format(producer)]


def test_local_backend_is_relative_and_followed_by_remote_state(synth_config):
    stacks = synth_config(make_config(backend={"type": "local", "directory": "state/dev"}))
    assert stacks["infra"]["terraform"]["backend"] == {"local": {"path": "../../../state/dev/terraform.infra.tfstate"}}
    assert stacks["chart"]["terraform"]["backend"] == {"local": {"path": "../../../state/dev/terraform.chart.tfstate"}}
    assert remote_state(stacks, "chart", "infra") == {
        "backend": "local",
        "config": {"path": "../../../state/dev/terraform.infra.tfstate"},
        "workspace": "${terraform.workspace}",
    }


@pytest.mark.parametrize("directory", ["/var/state", "../elsewhere", "state/../../x"])
def test_local_state_must_stay_inside_the_project(directory):
    with pytest.raises(ValueError, match="directory"):
        make_config(backend={"type": "local", "directory": directory})


def test_s3_backend_is_encrypted_locked_and_keyed_per_stack(synth_config):
    stacks = synth_config(
        make_config(backend={"type": "s3", "bucket": "acme-tf-state", "key_prefix": "eks/karpenter", "region": "eu-west-1"})
    )
    for name in ("infra", "crds", "chart"):
        assert stacks[name]["terraform"]["backend"] == {
            "s3": {
                "bucket": "acme-tf-state",
                "key": f"eks/karpenter/{name}.tfstate",
                "region": "eu-west-1",
                "encrypt": True,
                "use_lockfile": True,
            }
        }
    assert remote_state(stacks, "chart", "infra") == {
        "backend": "s3",
        "config": {"bucket": "acme-tf-state", "key": "eks/karpenter/infra.tfstate", "region": "eu-west-1", "encrypt": True},
        "workspace": "${terraform.workspace}",
    }


def test_s3_backend_can_lock_with_dynamodb_instead(synth_config):
    backend = {
        "type": "s3",
        "bucket": "acme-tf-state",
        "region": "eu-west-1",
        "use_lockfile": False,
        "dynamodb_table": "tf-locks",
    }
    s3 = synth_config(make_config(backend=backend))["infra"]["terraform"]["backend"]["s3"]
    assert s3["dynamodb_table"] == "tf-locks" and "use_lockfile" not in s3


def test_s3_state_must_be_locked():
    with pytest.raises(ValueError, match="state must be locked"):
        make_config(backend={"type": "s3", "bucket": "acme-tf-state", "region": "eu-west-1", "use_lockfile": False})


def test_hcp_terraform_uses_one_named_workspace_per_stack(synth_config):
    stacks = synth_config(make_config(backend={"type": "cloud", "organization": "acme", "workspace_prefix": "eks-karpenter-"}))
    for name in ("infra", "crds", "chart"):
        assert stacks[name]["terraform"]["cloud"] == {
            "hostname": "app.terraform.io",
            "organization": "acme",
            "workspaces": {"name": f"eks-karpenter-{name}"},
        }
        assert "backend" not in stacks[name]["terraform"]
    assert remote_state(stacks, "chart", "infra") == {
        "backend": "remote",
        "config": {"hostname": "app.terraform.io", "organization": "acme", "workspaces": {"name": "eks-karpenter-infra"}},
    }


def test_two_environments_share_no_state_and_no_names(synth_config):
    def environment(name: str, cluster: str) -> dict:
        config = config_for_cluster(cluster).model_copy(
            update={
                "environment": name,
                "backend": make_config(backend={"type": "s3", "bucket": "acme-tf-state", "region": "eu-west-1"}).backend,
            }
        )
        return synth_config(config)

    dev, prod = environment("dev", "eks-dev"), environment("prod", "eks-prod")
    assert sorted(dev) == ["dev-chart", "dev-crds", "dev-infra"] and sorted(prod) == ["prod-chart", "prod-crds", "prod-infra"]
    keys = lambda stacks: {s["terraform"]["backend"]["s3"]["key"] for s in stacks.values()}  # noqa: E731
    assert keys(dev) == {"karpenter/dev-infra.tfstate", "karpenter/dev-crds.tfstate", "karpenter/dev-chart.tfstate"}
    assert not keys(dev) & keys(prod)
    assert remote_state(prod, "prod-chart", "prod-infra")["config"]["key"] == "karpenter/prod-infra.tfstate"

    def names(stacks: dict, infra: str) -> set[str]:
        found = set()
        for items in stacks[infra]["resource"].values():
            found |= {body.get("name") or body.get("node_group_name") for body in items.values()} - {None}
        return found

    assert names(dev, "dev-infra") and not names(dev, "dev-infra") & names(prod, "prod-infra")


def test_adoption_generates_moved_and_import_blocks(synth_config):
    config = make_config(
        adoption={
            "moved": {"aws_eks_node_group.main": "aws_eks_node_group.system"},
            "imports": {
                "aws_iam_openid_connect_provider.eks": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
            },
        },
        names={"system_node_group": "aws-2026-eks-main", "interruption_rules": {"rebalance": "karpenter-interruption-rebalance"}},
    )
    infra = synth_config(config)["infra"]
    assert infra["moved"] == [{"from": "aws_eks_node_group.main", "to": "aws_eks_node_group.system"}]
    assert infra["import"] == [
        {
            "to": "aws_iam_openid_connect_provider.eks",
            "id": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
        }
    ]
    assert infra["resource"]["aws_eks_node_group"]["system"]["node_group_name"] == "aws-2026-eks-main"
    rules = infra["resource"]["aws_cloudwatch_event_rule"]
    assert rules["karpenter_interruption_rebalance"]["name"] == "karpenter-interruption-rebalance"
    assert rules["karpenter_interruption_spot"]["name"] == "aws-2026-eks-karpenter-interruption-spot"


def test_adoption_into_an_unknown_address_stops_synth(tmp_path, subprocesses):
    data = example_data()
    data["adoption"] = {"moved": {"aws_eks_node_group.main": "aws_eks_node_group.workers"}}
    config = tmp_path / "adopt.yaml"
    config.write_text(yaml.safe_dump(data))
    previous = tmp_path / "cdktf.out"
    (previous / "stacks").mkdir(parents=True)  # what an earlier synth leaves (only such a directory is replaced)
    (previous / "manifest.json").write_text("{}")
    (previous / "marker").write_text("previous output")
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={**os.environ, "KARPENTER_CONFIG": str(config), "CDKTF_OUTDIR": str(previous)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "adoption.moved['aws_eks_node_group.main']: got 'aws_eks_node_group.workers'" in result.stderr
    assert "aws_eks_node_group.system" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in previous.iterdir()) == ["manifest.json", "marker", "stacks"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adopt.yaml", "cdktf.out"], "no staging directory left behind"


def test_adoption_cannot_move_from_an_address_the_stack_declares(tmp_path):
    from karpenter_model.base import ConfigError
    from stacks.app import build_app

    config = make_config(adoption={"moved": {"aws_iam_role.karpenter_node": "aws_iam_role.system_node"}})
    with pytest.raises(
        ConfigError,
        match=r"adoption.moved\['aws_iam_role.karpenter_node'\]: got 'aws_iam_role.karpenter_node' as the old address",
    ):
        build_app(config, str(tmp_path))


def test_two_moves_to_one_address_are_a_config_error_not_a_javascript_stack():
    with pytest.raises(
        ValueError, match=re.escape("'aws_iam_role.a' and 'aws_iam_role.b' both move to 'aws_iam_role.karpenter_node'")
    ):
        make_config(
            adoption={"moved": {"aws_iam_role.a": "aws_iam_role.karpenter_node", "aws_iam_role.b": "aws_iam_role.karpenter_node"}}
        )
