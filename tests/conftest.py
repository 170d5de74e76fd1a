"""Shared fixtures: configs, synthesized stacks, and the tools some tests need."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_constructs.fast_imports import prepare_framework
from karpenter_model.config import KarpenterConfig

prepare_framework()  # before any test module imports cdktf: the tests synthesize as main.py does

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
EXAMPLE_CONFIG = ROOT / "examples" / "aws-2026-eks.yaml"
# Every bundled example, by file name: each is synthesized once per session and snapshotted.
EXAMPLES = {path.stem: path for path in sorted((ROOT / "examples").glob("*.yaml"))}
# The migration's steps, in order (examples/migration/<n>-karpenter-<version>.yaml).
MIGRATION_STEPS = sorted((ROOT / "examples" / "migration").glob("*.yaml"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def reference(version: str) -> Path:
    """Upstream data of one release that only the tests read (tests/reference/README.md)."""
    return REFERENCE / f"karpenter-{version}"


def require(available: bool, what: str) -> None:
    """Skip when a tool is missing on a developer machine; fail in CI, which must have it."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI is supposed to have it", pytrace=False)
    pytest.skip(f"{what} is missing")


def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text())


def make_config(**overrides: Any) -> KarpenterConfig:
    """The example configuration with top-level keys replaced."""
    return KarpenterConfig.model_validate({**example_data(), **overrides})


def config_for_cluster(name: str, example: str | Path = "aws-2026-eks") -> KarpenterConfig:
    """A bundled example configuration (by name, or a path) moved to another cluster, discovery selectors and role names included."""
    data = yaml.safe_load((example if isinstance(example, Path) else EXAMPLES[example]).read_text())
    return KarpenterConfig.model_validate(json.loads(json.dumps(data).replace("aws-2026-eks", name)))


def synth(config: KarpenterConfig, outdir: Path) -> dict[str, dict[str, Any]]:
    """Synthesize all stacks of `config` into `outdir`; returns each stack's JSON by stack name."""
    from stacks.app import build_app

    build_app(config, str(outdir)).synth()
    return {path.parent.name: json.loads(path.read_text()) for path in sorted(outdir.glob("stacks/*/cdk.tf.json"))}


class Syntheses:
    """Synthesizes configs in this process (jsii starts once per session), each distinct config once.

    The stacks and directories handed out are shared between tests: copy before changing them.
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._done: dict[str, tuple[Path, dict[str, dict[str, Any]]]] = {}

    def _synthesized(self, config: KarpenterConfig) -> tuple[Path, dict[str, dict[str, Any]]]:
        key = config.model_dump_json()
        if key not in self._done:
            outdir = self._factory.mktemp("synth") / "cdktf.out"
            self._done[key] = (outdir, synth(config, outdir))
        return self._done[key]

    def __call__(self, config: KarpenterConfig) -> dict[str, dict[str, Any]]:
        return self._synthesized(config)[1]

    def outdir(self, config: KarpenterConfig) -> Path:
        return self._synthesized(config)[0]


@pytest.fixture(scope="session")
def synth_config(tmp_path_factory: pytest.TempPathFactory) -> Syntheses:
    return Syntheses(tmp_path_factory)


@pytest.fixture(scope="session")
def example_config() -> KarpenterConfig:
    return make_config()


@pytest.fixture(scope="session")
def example_stacks(example_config: KarpenterConfig, synth_config) -> dict[str, dict[str, Any]]:
    return synth_config(example_config)


@pytest.fixture(scope="session")
def infra(example_stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return example_stacks["infra"]


@pytest.fixture(scope="session", params=sorted(EXAMPLES))
def example(request: pytest.FixtureRequest, synth_config) -> tuple[KarpenterConfig, dict[str, dict[str, Any]]]:
    """Each bundled example: its config and its synthesized stacks."""
    from karpenter_model.loading import load_config

    config = load_config(EXAMPLES[request.param])
    return config, synth_config(config)


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    path = shutil.which("terraform")
    require(path is not None, "the terraform binary")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def provider_mirror() -> Path:
    mirror = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
    require(
        (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0").is_dir(),
        f"the hashicorp/aws 5.100.0 filesystem mirror (TF_PROVIDER_MIRROR={mirror})",
    )
    return mirror


def reference_controller_policy(
    *, partition: str, region: str, account: str, cluster: str, queue_arn: str, node_role_arn: str
) -> dict[str, Any]:
    """Upstream's v0.37.2 controller policy with its CloudFormation placeholders filled in."""
    text = (reference("0.37.2") / "controller-policy.json").read_text()
    for placeholder, value in {
        "${AWS::Partition}": partition,
        "${AWS::Region}": region,
        "${AWS::AccountId}": account,
        "${ClusterName}": cluster,
        "${KarpenterInterruptionQueue.Arn}": queue_arn,
        "${KarpenterNodeRole.Arn}": node_role_arn,
    }.items():
        text = text.replace(placeholder, value)
    assert "${AWS::" not in text and "${Karpenter" not in text and "${ClusterName}" not in text, "a placeholder is left"
    return json.loads(text)


def resource(stack: dict[str, Any], address: str) -> dict[str, Any]:
    """`resource(stack, "aws_iam_role.karpenter_controller")`; `data.` prefix for data sources."""
    section = "resource"
    if address.startswith("data."):
        section, address = "data", address.removeprefix("data.")
    kind, name = address.split(".", 1)
    return stack[section][kind][name]


def policy(stack: dict[str, Any], address: str, attribute: str = "policy") -> dict[str, Any]:
    return json.loads(resource(stack, address)[attribute])


@pytest.fixture(scope="module")
def tools(terraform_bin: str, provider_mirror: Path) -> tuple[str, Path]:
    """terraform and the provider mirror, and moto to run them against; each required (CI fails without)."""
    from tests.moto_harness import moto_available

    require(moto_available(), "moto[server] and boto3 (make deps)")
    return terraform_bin, provider_mirror


@pytest.fixture(scope="module")
def moto(tools: tuple[str, Path]) -> Iterator[Any]:
    """A local AWS (tests/moto_harness.py) for one test module."""
    from tests.moto_harness import MotoHarness

    with MotoHarness() as harness:
        yield harness
