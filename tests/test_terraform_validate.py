"""`terraform init` from the provider mirror and `terraform validate` accept the synthesized infra stack of every
example, and of the variants that add blocks of their own (an acknowledged Kubernetes version, EKS Pod Identity,
a brought interruption key).

Every variant is synthesized once, in this process (jsii is not for threads), then initialized and validated
concurrently: each terraform command spends most of its time starting the provider.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.config import KarpenterConfig
from tests.conftest import EXAMPLES, synth
from tests.terraform import terraform, terraform_env

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def variants() -> dict[str, dict[str, Any]]:
    found = {name: yaml.safe_load(path.read_text()) for name, path in EXAMPLES.items()}
    acknowledged = yaml.safe_load(EXAMPLES["aws-2026-eks-0.37.8"].read_text())
    acknowledged["karpenter"]["acknowledge_unsupported_kubernetes"] = "1.31"  # adds a `check` block
    example = yaml.safe_load(EXAMPLES["aws-2026-eks"].read_text())
    # EKS Pod Identity: the association and the add-on lookup; during a switch from IRSA, also the OIDC provider.
    pod_identity = {**example, "karpenter": {"replicas": 1, "identity": "pod_identity"}}  # as tests/test_pod_identity.py
    switching = {**pod_identity, "karpenter": {**pod_identity["karpenter"], "previous_identity": "irsa"}}
    # A brought KMS key: its key policy read through Cloud Control, with a postcondition (docs/interruption.md).
    brought_key = {
        **example,
        "interruption": {
            "encryption": "kms",
            "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab",
            "alarms": {"enabled": True},
            "dead_letter_queue": {"enabled": True},
        },
    }
    return {
        **found,
        "0.37.8-on-1.31": acknowledged,
        "pod-identity": pod_identity,
        "pod-identity-from-irsa": switching,
        "interruption-brought-key": brought_key,
    }


def config_of(data: dict[str, Any]) -> KarpenterConfig:
    if data["karpenter"].get("identity") == "pod_identity" and not data["karpenter"].get("previous_identity"):
        return KarpenterConfig.model_validate(data)  # no OIDC provider, so no thumbprints (they would be refused as ignored)
    # Thumbprints from config: the tls provider cannot be installed here.
    return KarpenterConfig.model_validate({**data, "oidc": {"thumbprints": [THUMBPRINT]}})


def validate(terraform_bin: str, stack_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    terraform(terraform_bin, "init", "-backend=false", "-input=false", "-no-color", cwd=stack_dir, env=env)
    return json.loads(terraform(terraform_bin, "validate", "-json", "-no-color", cwd=stack_dir, env=env).stdout)


@pytest.fixture(scope="module")
def reports(
    terraform_bin: str, provider_mirror: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Future[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("validate")
    with ThreadPoolExecutor(max_workers=min(4, 2 * (os.cpu_count() or 1))) as pool:
        futures = {}
        for name, data in sorted(variants().items()):
            (root / name).mkdir()
            synth(config_of(data), root / name / "cdktf.out")
            env = terraform_env(provider_mirror, root / name)
            futures[name] = pool.submit(validate, terraform_bin, root / name / "cdktf.out" / "stacks" / "infra", env)
        for future in futures.values():
            future.exception()  # wait for all, inside the pool's scope
        return futures


@pytest.mark.parametrize("name", sorted(variants()))
def test_infra_stack_validates_with_the_real_provider(name, reports):
    report = reports[name].result()
    assert report["valid"] is True, report
    assert report["error_count"] == 0 and report["warning_count"] == 0, report["diagnostics"]
