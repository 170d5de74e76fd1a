"""karpenter_constructs/fast_imports.py: same bytes as the plain import, without the eager provider `__init__`.

The end-to-end tests run main.py in subprocesses (the mechanism acts at import time, once per
process); the unit tests drive `register_bare_packages` on throwaway packages in a tmp dir.
How much time it saves is measured by `make bench` (scripts/bench.py), not asserted here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from karpenter_constructs.fast_imports import PROVIDER_PACKAGES, register_bare_packages
from tests.conftest import EXAMPLE_CONFIG, ROOT

# The app uses a few dozen of cdktf_cdktf_provider_aws's ~2,100 submodules; the eager __init__ loads all.
MAX_AWS_SUBMODULES = 100
MIN_AWS_SUBMODULES_PLAIN = 2000

# Runs main.main() like `python main.py`, then reports what the provider packages look like in sys.modules.
# It ends with os._exit: the output is written by then, and with the plain import the interpreter's
# teardown of ~2,100 modules would add ~4 s (jsii's Node process exits when its stdin closes).
PROBE = """
import json, os, sys
sys.path.insert(0, {root!r})
import main
code = main.main()
report = {{"exit_code": code, "packages": {{}}}}
for name in {packages!r}:
    package = sys.modules.get(name)
    report["packages"][name] = None if package is None else {{
        "doc": package.__doc__,
        "has_all": hasattr(package, "__all__"),
        "submodules": sorted(m for m in sys.modules if m.startswith(name + ".")),
    }}
print("PROBE " + json.dumps(report), flush=True)
sys.stderr.flush()
os._exit(code)
"""


def read_tree(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def synth_env(outdir: Path, *, plain: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("KARPENTER_PLAIN_IMPORTS", "CDKTF_OUTDIR")}
    env.update(KARPENTER_CONFIG=str(EXAMPLE_CONFIG), CDKTF_OUTDIR=str(outdir), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    if plain:
        env["KARPENTER_PLAIN_IMPORTS"] = "1"
    return env


@pytest.fixture(scope="module")
def both_ways(subprocesses, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The example synthesized with the bare packages and with KARPENTER_PLAIN_IMPORTS=1 (in parallel),
    with what each process had in sys.modules."""
    tmp = tmp_path_factory.mktemp("fast-imports")
    probe = PROBE.format(root=str(ROOT), packages=list(PROVIDER_PACKAGES))
    started = {}
    results = {}
    try:
        for way in ("fast", "plain"):
            (tmp / way).mkdir()
            outdir = tmp / way / "cdktf.out"
            process = subprocess.Popen(
                [sys.executable, "-c", probe],
                cwd=ROOT,
                env=synth_env(outdir, plain=way == "plain"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            started[way] = (process, outdir)
        for way, (process, outdir) in started.items():
            stdout, stderr = process.communicate(timeout=600)
            assert process.returncode == 0, f"{way} synth failed ({process.returncode}):\n{stderr[-4000:]}"
            line = next(line for line in reversed(stdout.splitlines()) if line.startswith("PROBE "))
            report = json.loads(line.removeprefix("PROBE "))
            assert report["exit_code"] == 0, stderr
            results[way] = {"tree": read_tree(outdir), "packages": report["packages"]}
    finally:
        for process, _ in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def test_fast_and_plain_imports_synthesize_identical_bytes(both_ways):
    fast, plain = both_ways["fast"]["tree"], both_ways["plain"]["tree"]
    assert "manifest.json" in fast and any(re.fullmatch(r"stacks/[^/]+/cdk\.tf\.json", name) for name in fast)
    assert sorted(fast) == sorted(plain)
    differing = [name for name in fast if fast[name] != plain[name]]
    assert not differing, f"these files differ between the fast and the plain import: {differing}"


def test_fast_path_never_runs_the_aws_package_init(both_ways):
    aws = both_ways["fast"]["packages"]["cdktf_cdktf_provider_aws"]
    assert aws is not None, "the app no longer imports the AWS provider?"
    assert aws["doc"].endswith("(bare: submodules load on demand)")
    assert not aws["has_all"]  # the real __init__ defines __all__ with every submodule
    assert "cdktf_cdktf_provider_aws.accessanalyzer_analyzer" not in aws["submodules"]  # the __init__'s first import
    assert "cdktf_cdktf_provider_aws._jsii" in aws["submodules"]
    assert len(aws["submodules"]) <= MAX_AWS_SUBMODULES, aws["submodules"]


def test_fast_path_leaves_every_loaded_provider_package_bare(both_ways):
    loaded = {name: info for name, info in both_ways["fast"]["packages"].items() if info is not None}
    assert loaded
    for name, info in loaded.items():
        assert info["doc"].endswith("(bare: submodules load on demand)"), name
        assert not info["has_all"], name


def test_plain_switch_runs_the_eager_init(both_ways):
    """The comparison above means something only if KARPENTER_PLAIN_IMPORTS=1 really takes the slow path."""
    aws = both_ways["plain"]["packages"]["cdktf_cdktf_provider_aws"]
    assert aws["has_all"]
    assert len(aws["submodules"]) >= MIN_AWS_SUBMODULES_PLAIN


# --- register_bare_packages on throwaway packages --------------------------------------------------


@pytest.fixture
def fake_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    """A package shaped like a prebuilt provider whose `__init__` must not run; returns its (unique) name."""
    name = "fake_provider_" + re.sub(r"\W", "_", request.node.name)
    package = tmp_path / name
    (package / "_jsii").mkdir(parents=True)
    (package / "__init__.py").write_text('raise RuntimeError("the eager __init__ ran")\n')
    (package / "_jsii" / "__init__.py").write_text('ASSEMBLY = "fake-provider@1.0.0"\n')
    (package / "leaf.py").write_text("from ._jsii import ASSEMBLY\nVALUE = 42\n")
    (tmp_path / "fake_plain_module.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("KARPENTER_PLAIN_IMPORTS", raising=False)
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".") or m == "fake_plain_module"]:
        del sys.modules[module]


def test_registers_a_bare_package_that_loads_submodules_on_demand(fake_provider: str):
    assert register_bare_packages((fake_provider,)) == [fake_provider]

    package = sys.modules[fake_provider]
    leaf = __import__(f"{fake_provider}.leaf", fromlist=["VALUE"])
    assert (leaf.VALUE, leaf.ASSEMBLY) == (42, "fake-provider@1.0.0")  # relative imports resolve through the bare package
    assert sys.modules[fake_provider] is package
    assert package.__file__ is not None and package.__spec__ is not None
    assert package.__path__ == [str(Path(package.__file__).parent)]
    assert package.__spec__.name == fake_provider
    assert sorted(m for m in sys.modules if m.startswith(fake_provider + ".")) == [
        f"{fake_provider}._jsii",
        f"{fake_provider}.leaf",
    ]


def test_registering_twice_keeps_the_first_module(fake_provider: str):
    assert register_bare_packages((fake_provider,)) == [fake_provider]
    package = sys.modules[fake_provider]

    assert register_bare_packages((fake_provider,)) == []
    assert sys.modules[fake_provider] is package


def test_an_already_imported_package_is_left_alone(fake_provider: str, tmp_path: Path):
    (tmp_path / fake_provider / "__init__.py").write_text("IMPORTED_NORMALLY = True\n")
    package = __import__(fake_provider)

    assert register_bare_packages((fake_provider,)) == []
    assert sys.modules[fake_provider] is package and package.IMPORTED_NORMALLY


def test_plain_imports_switch_registers_nothing(fake_provider: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KARPENTER_PLAIN_IMPORTS", "1")

    assert register_bare_packages((fake_provider,)) == []
    assert fake_provider not in sys.modules
    with pytest.raises(RuntimeError, match="the eager __init__ ran"):
        __import__(f"{fake_provider}.leaf")


@pytest.mark.parametrize("value", ["", "0", "true"])
def test_only_the_value_1_switches_to_plain_imports(fake_provider: str, monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("KARPENTER_PLAIN_IMPORTS", value)

    assert register_bare_packages((fake_provider,)) == [fake_provider]


def test_a_missing_package_is_a_clear_import_error(fake_provider: str):
    with pytest.raises(ImportError, match=r"no_such_provider_package is not an installed package \(run `make deps`\)"):
        register_bare_packages(("no_such_provider_package",))


def test_a_plain_module_is_not_a_package(fake_provider: str):
    with pytest.raises(ImportError, match="fake_plain_module is not an installed package"):
        register_bare_packages(("fake_plain_module",))


def test_every_pinned_provider_package_is_registered():
    """A provider added to the runtime dependencies but not to PROVIDER_PACKAGES would quietly take the slow path."""
    dependencies = "\n".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    pinned = re.findall(r"^cdktf-cdktf-provider-(\w+)==", dependencies, re.MULTILINE)
    assert pinned
    assert sorted(PROVIDER_PACKAGES) == sorted(f"cdktf_cdktf_provider_{name}" for name in pinned)
