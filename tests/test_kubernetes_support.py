"""The infra plan refuses a cluster whose Kubernetes minor the release does not support: the guard, evaluated by terraform.

The postcondition's condition and error message are copied out of the synthesized stack into a
config with nothing but outputs, `self` replaced by a literal cluster, and applied: Terraform
itself decides, for every release and every minor around its range, with no provider needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from karpenter_constructs.cluster import kubernetes_support_check
from karpenter_model.releases import PROFILES, release_for_kubernetes
from tests.terraform import terraform

MINORS = range(20, 40)


@pytest.fixture(scope="module")
def decided(terraform_bin: str, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], tuple[bool, str]]:
    outputs = {}
    for version, profile in PROFILES.items():
        check = kubernetes_support_check(profile, running='"none"')  # a fresh install: the advice names a release
        for minor in MINORS:
            cluster = f'{{version = "1.{minor}"}}'
            condition, message = (re.sub(r"\bself\b", cluster, check[key]) for key in ("condition", "errorMessage"))
            outputs[f"v{version.replace('.', '_')}_{minor}"] = {"value": {"ok": condition, "message": message}}
    workdir = tmp_path_factory.mktemp("guard")
    (workdir / "main.tf.json").write_text(json.dumps({"output": outputs}))
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"}
    terraform(terraform_bin, "init", "-input=false", "-no-color", cwd=workdir, env=env)
    terraform(terraform_bin, "apply", "-auto-approve", "-input=false", "-no-color", cwd=workdir, env=env)
    values = json.loads(terraform(terraform_bin, "output", "-json", cwd=workdir, env=env).stdout)
    return {
        (version, minor): (
            values[f"v{version.replace('.', '_')}_{minor}"]["value"]["ok"],
            values[f"v{version.replace('.', '_')}_{minor}"]["value"]["message"],
        )
        for version in PROFILES
        for minor in MINORS
    }


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_the_plan_passes_exactly_on_the_minors_the_release_supports(decided, version):
    assert [minor for minor in MINORS if decided[(version, minor)][0]] == [m for m in MINORS if PROFILES[version].supports(m)]


def test_the_refusal_names_the_clusters_version_the_releases_range_and_the_release_to_use(decided):
    first, last = PROFILES["0.37.2"].kubernetes_minors
    message = decided[("0.37.2", 33)][1]
    assert message.startswith(
        f"Karpenter 0.37.2 supports Kubernetes 1.{first} to 1.{last}, and this cluster runs Kubernetes 1.33;"
    )
    assert message.endswith(f"set karpenter.version to {release_for_kubernetes()[33]}.")
    assert decided[("1.14.1", 39)][1].endswith("set karpenter.version to (none of the supported releases).")


def test_the_guard_is_what_the_infra_stack_carries(example, tmp_path: Path):
    config, stacks = example
    check = stacks["infra"]["data"]["aws_eks_cluster"]["cluster"]["lifecycle"]["postcondition"][0]
    expected = kubernetes_support_check(config.release, running="local.running_controller_release")
    assert (check["condition"], check["error_message"]) == (expected["condition"], expected["errorMessage"])


def evaluate(terraform_bin: str, workdir: Path, expressions: dict[str, str]) -> dict[str, object]:
    """Terraform's value of each expression (JSON-syntax strings), from a config with nothing but outputs."""
    (workdir / "main.tf.json").write_text(json.dumps({"output": {name: {"value": text} for name, text in expressions.items()}}))
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"}
    terraform(terraform_bin, "init", "-input=false", "-no-color", cwd=workdir, env=env)
    terraform(terraform_bin, "apply", "-auto-approve", "-input=false", "-no-color", cwd=workdir, env=env)
    values = json.loads(terraform(terraform_bin, "output", "-json", cwd=workdir, env=env).stdout)
    return {name: values[name]["value"] for name in expressions}


def test_an_acknowledged_version_passes_the_guard_and_only_that_version(terraform_bin, tmp_path: Path):
    check = kubernetes_support_check(PROFILES["0.37.8"], running='"0.37.8"', acknowledged="1.31")
    cases = {f"v{minor}": re.sub(r"\bself\b", f'{{version = "1.{minor}"}}', check["condition"]) for minor in (30, 31, 32)}
    assert evaluate(terraform_bin, tmp_path, cases) == {"v30": True, "v31": True, "v32": False}


def test_an_acknowledged_version_warns_in_every_plan(terraform_bin, tmp_path: Path, synth_config):
    import yaml

    from karpenter_model.config import KarpenterConfig
    from tests.conftest import EXAMPLES

    data = yaml.safe_load(EXAMPLES["aws-2026-eks-0.37.8"].read_text())
    data["karpenter"]["acknowledge_unsupported_kubernetes"] = "1.31"
    infra = synth_config(KarpenterConfig.model_validate(data))["infra"]
    (warning,) = infra["check"]["kubernetes_support_acknowledged"]["assert"]
    assert "data.aws_eks_cluster.cluster.version" in warning["condition"]
    assert "let through by karpenter.acknowledge_unsupported_kubernetes" in warning["error_message"]
    cluster = {"version": "1.31"}
    shown = re.sub(r"data\.aws_eks_cluster\.cluster\.version", f'"{cluster["version"]}"', warning["condition"])
    assert evaluate(terraform_bin, tmp_path, {"passes": shown}) == {"passes": False}, "the check fails, so terraform prints it"
