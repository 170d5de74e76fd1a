"""`terraform init` from the provider mirror and `terraform validate` accept the synthesized infra stack."""

from __future__ import annotations

import json

from tests.conftest import make_config, synth
from tests.terraform import terraform, terraform_env

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def test_infra_stack_validates_with_the_real_provider(tmp_path, terraform_bin, provider_mirror):
    # Thumbprints from config: the tls provider cannot be installed here.
    synth(make_config(oidc={"thumbprints": [THUMBPRINT]}), tmp_path / "cdktf.out")
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "infra"
    env = terraform_env(provider_mirror, tmp_path)
    terraform(terraform_bin, "init", "-backend=false", "-input=false", "-no-color", cwd=stack_dir, env=env)
    result = terraform(terraform_bin, "validate", "-json", "-no-color", cwd=stack_dir, env=env)
    report = json.loads(result.stdout)
    assert report["valid"] is True, report
    assert report["error_count"] == 0 and report["warning_count"] == 0, report["diagnostics"]
