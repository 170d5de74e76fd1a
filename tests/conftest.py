"""Shared fixtures: configs, synthesized stacks, and the tools some tests need."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
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


@pytest.fixture(scope="session")
def tools(terraform_bin: str, provider_mirror: Path, moto: Any) -> tuple[str, Path]:
    """terraform and the provider mirror, and moto to run them against; each required (CI fails without)."""
    return terraform_bin, provider_mirror


@pytest.fixture(scope="session")
def moto() -> Iterator[Any]:
    """The session's one local AWS (tests/moto_harness.py), shared by every round trip.

    Scenarios stay apart by name: each uses its own stand-in cluster, whose name is the prefix of all it
    creates (`tests/roundtrip_support.py` says how to pick one), and reads account-wide listings filtered by it.
    """
    from tests.moto_harness import MotoHarness, moto_available

    require(moto_available(), "moto[server] and boto3 (make deps)")
    with MotoHarness() as harness:
        yield harness


@pytest.fixture(scope="session")
def scenarios(moto: Any) -> Iterator[Any]:
    """The session's pool for round-trip scenarios (tests/roundtrip_support.py: `Scenarios`)."""
    from tests.roundtrip_support import Scenarios

    with Scenarios() as pool:
        yield pool


@pytest.fixture(scope="session")
def started(
    request: pytest.FixtureRequest, moto: Any, tools: tuple[str, Path], scenarios: Any, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """Every selected module's round-trip scenarios, started (`@starts_early` in tests/roundtrip_support.py): the
    synthesis here, the terraform work in the background. `started(__name__)` is what a module's starter returned."""
    from tests.roundtrip_support import STARTERS, Start, Started

    terraform_bin, mirror = tools
    result = Started()
    for module, starter in STARTERS.items():
        items = [item for item in request.session.items if getattr(getattr(item, "module", None), "__name__", None) == module]
        if items:
            result.run(module, starter, Start(moto, terraform_bin, mirror, scenarios, tmp_path_factory, request.config, items))
    return result


@pytest.fixture(scope="session", autouse=True)
def _round_trips_start_early(request: pytest.FixtureRequest) -> None:
    """With round-trip tests selected, their scenarios start before the first test of the session, so their terraform
    runs (processes, mostly waiting on the provider) overlap the unit and tools tiers (ROUNDTRIP_EARLY=0: not)."""
    if os.environ.get("ROUNDTRIP_EARLY", "1") == "0":
        return
    if any(item.get_closest_marker("roundtrip") for item in request.session.items):
        with processes_allowed(), contextlib.suppress(pytest.skip.Exception, pytest.fail.Exception):
            request.getfixturevalue("started")  # on failure, the round-trip tests report it


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov's executable, in its own venv (.venv-scan)."""
    path = ROOT / ".venv-scan" / "bin" / "checkov"
    require(path.is_file(), f"checkov in {path.parent.parent} (make deps)")
    return path


@pytest.fixture(scope="session")
def parliament() -> Any:
    """parliament's `analyze_policy_string` (an IAM linter; loads AWS's whole IAM definition)."""
    from parliament import analyze_policy_string

    return analyze_policy_string


@pytest.fixture(scope="session")
def cdktf_cli() -> Path:
    """The cdktf CLI from node_modules (`npm ci`, through `make deps`), and npx to run it."""
    cli = ROOT / "node_modules" / ".bin" / "cdktf"
    require(cli.exists() and shutil.which("npx") is not None, f"the cdktf CLI ({cli}; run `make deps`) and npx")
    return cli


@pytest.fixture(scope="session")
def subprocesses() -> None:
    """Requested by a test that starts processes (main.py, a CLI): it puts the test in the `tools` tier.

    Unit tests run in this process only; the guard below fails one that starts a process without this.
    """


@pytest.fixture(scope="session")
def main_py_contract() -> None:
    """The one unit-tier test allowed a process: main.py's CLI contract (exit code, one-line error, output untouched)."""


# -- tiers ------------------------------------------------------------------------------------------------
#
# Every test gets exactly one tier marker, from the fixtures it uses (directly or through other fixtures):
#   roundtrip: moto (the `moto` and `tools` fixtures) and the real terraform apply/plan/destroy against it;
#   tools:     terraform init/validate, checkov, parliament, the cdktf CLI, or any other process (`subprocesses`);
#   unit:      everything else, in this process only (a subprocess fails the test; see `_no_subprocess_in_unit`).
TIER_FIXTURES = {
    "roundtrip": frozenset({"moto", "tools", "scenarios", "started"}),
    "tools": frozenset({"terraform_bin", "provider_mirror", "checkov", "parliament", "cdktf_cli", "subprocesses"}),
}
TIERS = ("unit", "tools", "roundtrip")


def tier_of(fixturenames: list[str] | tuple[str, ...]) -> str:
    used = set(fixturenames)
    for tier in ("roundtrip", "tools"):
        if used & TIER_FIXTURES[tier]:
            return tier
    return "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    contracts = []
    for item in items:
        tier = tier_of(getattr(item, "fixturenames", ()))
        declared = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
        if declared - {tier}:
            raise pytest.UsageError(
                f"{item.nodeid}: marked {sorted(declared)}, but its fixtures put it in the {tier!r} tier "
                "(tiers come from fixtures: tests/conftest.py, TIER_FIXTURES); remove the marker"
            )
        item.add_marker(getattr(pytest.mark, tier))
        if tier == "unit" and "main_py_contract" in getattr(item, "fixturenames", ()):
            contracts.append(item.nodeid)
    if len(contracts) > 1:
        raise pytest.UsageError(f"only one unit test may use main_py_contract (a process), not {contracts}")
    # Round trips last: their scenarios start with the first test that needs moto and run in the background
    # (tests/roundtrip_support.py), so by the time the round-trip tests run most of their work is done.
    items.sort(key=lambda item: item.get_closest_marker("roundtrip") is not None)


class SubprocessInUnitTest(AssertionError):
    """A unit-tier test started a process."""


_PROCESSES_ALLOWED = threading.local()  # set while a session fixture starts the processes a session needs (jsii's Node)


@contextlib.contextmanager
def processes_allowed() -> Iterator[None]:
    """For the session's own set-up in the test thread (jsii's Node process, the round trips started early)."""
    _PROCESSES_ALLOWED.on = True
    try:
        yield
    finally:
        _PROCESSES_ALLOWED.on = False


class _ProcessGuard:
    """While a unit test is set up, runs and is torn down (fixtures of every scope included), starting a process from
    the test's thread, or from a thread started meanwhile, raises SubprocessInUnitTest. Threads running before (the
    round-trip scenarios in the background) and the pool's threads are not affected."""

    NAMES = ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve", "execvp", "execvpe")

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        import subprocess

        from tests.roundtrip_support import SCENARIO_THREAD

        before = {thread.ident for thread in threading.enumerate()} - {threading.get_ident()}
        nodeid = self.nodeid

        def guarded(name: str, original: Any) -> Any:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                thread = threading.current_thread()
                if not (
                    getattr(_PROCESSES_ALLOWED, "on", False) or thread.ident in before or thread.name.startswith(SCENARIO_THREAD)
                ):
                    raise SubprocessInUnitTest(
                        f"{nodeid} is a unit test and started a process ({name}); do it in this process, "
                        "or request the `subprocesses` fixture (the tools tier)"
                    )
                return original(*args, **kwargs)

            return refuse

        targets: list[tuple[Any, str]] = [(subprocess.Popen, "_execute_child")]
        targets += [(os, name) for name in self.NAMES if hasattr(os, name)]
        for owner, name in targets:
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            self.saved.append((owner, name, original))
            setattr(owner, name, guarded(f"{getattr(owner, '__name__', owner)}.{name}", getattr(owner, name)))

    def __exit__(self, *exc: object) -> None:
        while self.saved:
            owner, name, original = self.saved.pop()
            setattr(owner, name, original)


def _guarded(item: pytest.Item) -> contextlib.AbstractContextManager[None]:
    if item.get_closest_marker("unit") is None or "main_py_contract" in getattr(item, "fixturenames", ()):
        return contextlib.nullcontext()
    return _ProcessGuard(item.nodeid)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    with _guarded(item):
        return (yield)


@pytest.fixture(scope="session", autouse=True)
def _framework_started() -> None:
    """jsii's Node process, started before the first test: the one process every synthesis in this session talks to."""
    with processes_allowed():
        import cdktf  # noqa: F401
