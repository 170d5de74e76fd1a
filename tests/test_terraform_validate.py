"""`terraform init` from the provider mirror and `terraform validate` accept the synthesized infra stack of every example."""

from __future__ import annotations

import json

import pytest
import yaml

from karpenter_model.config import KarpenterConfig
from tests.conftest import EXAMPLES, synth
from tests.terraform import terraform, terraform_env

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def variants() -> dict[str, dict]:
    found = {name: yaml.safe_load(path.read_text()) for name, path in EXAMPLES.items()}
    acknowledged = yaml.safe_load(EXAMPLES["aws-2026-eks-0.37.8"].read_text())
    acknowledged["karpenter"]["acknowledge_unsupported_kubernetes"] = "1.31"  # adds a `check` block
    return {**found, "0.37.8-on-1.31": acknowledged}


@pytest.mark.parametrize("name", sorted(variants()))
def test_infra_stack_validates_with_the_real_provider(name, tmp_path, terraform_bin, provider_mirror):
    # Thumbprints from config: the tls provider cannot be installed here.
    data = {**variants()[name], "oidc": {"thumbprints": [THUMBPRINT]}}
    synth(KarpenterConfig.model_validate(data), tmp_path / "cdktf.out")
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "infra"
    env = terraform_env(provider_mirror, tmp_path)
    terraform(terraform_bin, "init", "-backend=false", "-input=false", "-no-color", cwd=stack_dir, env=env)
    result = terraform(terraform_bin, "validate", "-json", "-no-color", cwd=stack_dir, env=env)
    report = json.loads(result.stdout)
    assert report["valid"] is True, report
    assert report["error_count"] == 0 and report["warning_count"] == 0, report["diagnostics"]
