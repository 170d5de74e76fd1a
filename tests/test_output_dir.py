"""The output directory: only an earlier synthesis (or an empty directory) is ever replaced; nothing else is moved or deleted.

The refusals are checked in-process (they happen before cdktf loads), the replacement itself
with real syntheses, and one refusal through main.py to see the single error line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from karpenter_model.base import ConfigError
from stacks.output import OutputError, check_output_dir
from tests.conftest import EXAMPLE_CONFIG, ROOT, make_config


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def earlier_output(path: Path) -> Path:
    (path / "stacks" / "infra").mkdir(parents=True)
    (path / "manifest.json").write_text("{}")
    (path / "stacks" / "infra" / "cdk.tf.json").write_text("{}")
    return path


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("outdir", "said"), [(".", "is the current directory"), ("..", "contains the current directory"), ("/", "contains")]
)
def test_the_current_directory_and_its_parents_are_refused(in_tmp: Path, outdir: str, said: str):
    with pytest.raises(OutputError, match=said):
        check_output_dir(outdir)


def test_the_project_is_refused(in_tmp: Path):
    with pytest.raises(OutputError, match="the project"):
        check_output_dir(ROOT)


def test_an_existing_file_is_refused_and_kept(in_tmp: Path):
    (in_tmp / "out").write_text("my notes\n")
    with pytest.raises(OutputError, match="is a file"):
        check_output_dir("out")
    assert (in_tmp / "out").read_text() == "my notes\n"


def test_a_directory_that_is_not_an_earlier_output_is_refused(in_tmp: Path):
    (in_tmp / "docs").mkdir()
    (in_tmp / "docs" / "thesis.tex").write_text("years of work\n")
    with pytest.raises(OutputError, match="not the output of an earlier synth"):
        check_output_dir("docs")
    (in_tmp / "half").mkdir()
    (in_tmp / "half" / "manifest.json").write_text("{}")  # a manifest alone is not cdktf's output
    with pytest.raises(OutputError, match=r"no manifest\.json and no stacks"):
        check_output_dir("half")


def test_a_symlink_is_refused(in_tmp: Path):
    earlier_output(in_tmp / "real")
    (in_tmp / "link").symlink_to(in_tmp / "real")
    with pytest.raises(OutputError, match="symbolic link"):
        check_output_dir("link")


def test_a_directory_holding_the_config_is_refused(in_tmp: Path):
    earlier_output(in_tmp / "out")
    (in_tmp / "out" / "config.yaml").write_text(EXAMPLE_CONFIG.read_text())
    with pytest.raises(OutputError, match="holds the config file"):
        check_output_dir("out", config_path="out/config.yaml")


@pytest.mark.parametrize("setup", ["missing", "empty", "earlier output"])
def test_new_empty_and_earlier_outputs_are_accepted(in_tmp: Path, setup: str):
    target = in_tmp / "build" / "cdktf.out"
    if setup == "empty":
        target.mkdir(parents=True)
    elif setup == "earlier output":
        earlier_output(target)
    assert check_output_dir("build/cdktf.out", make_config()) == target


def test_local_state_inside_the_output_directory_is_refused(in_tmp: Path):
    config = make_config(backend={"type": "local", "directory": "build/state"})
    check_output_dir("cdktf.out", config)  # state in ./build/state, outside ./cdktf.out
    with pytest.raises(ConfigError, match=r"backend\.directory: got 'build/state'.*inside the output directory"):
        check_output_dir("build", config)
    with pytest.raises(ValueError, match=r"inside cdktf\.out/"):
        make_config(backend={"type": "local", "directory": "./cdktf.out/state"})


def test_synthesize_refuses_before_touching_anything(in_tmp: Path):
    from stacks.app import synthesize

    (in_tmp / "docs").mkdir()
    (in_tmp / "docs" / "notes.txt").write_text("keep me\n")
    (in_tmp / "file").write_text("keep me too\n")
    before = tree(in_tmp)
    for outdir in ("docs", "file", "."):
        with pytest.raises(OutputError):
            synthesize(make_config(), outdir)
    assert tree(in_tmp) == before


def test_synthesize_replaces_an_earlier_output_and_leaves_nothing_beside_it(in_tmp: Path):
    from stacks.app import synthesize

    earlier = earlier_output(in_tmp / "cdktf.out")
    (earlier / "stacks" / "infra" / ".terraform").mkdir()
    (earlier / "stacks" / "infra" / ".terraform" / "kept").write_text("provider cache\n")
    (earlier / "stale.txt").write_text("from an earlier synth\n")
    synthesize(make_config(), "cdktf.out")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["cdktf.out"]
    assert not (earlier / "stale.txt").exists()
    assert (earlier / "stacks" / "infra" / ".terraform" / "kept").read_text() == "provider cache\n"
    assert sorted(p.name for p in (earlier / "stacks").iterdir()) == ["chart", "crds", "infra"]
    assert oct((earlier).stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_main_reports_a_refused_output_directory_in_one_line(tmp_path: Path, subprocesses):
    (tmp_path / "out").write_text("not a directory\n")
    env = {k: v for k, v in os.environ.items() if k not in ("KARPENTER_CONFIG", "CDKTF_OUTDIR")}
    env.update(KARPENTER_CONFIG=str(EXAMPLE_CONFIG), CDKTF_OUTDIR="out", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: CDKTF_OUTDIR='out': is a file") and result.stderr.count("\n") == 1, result.stderr
    assert (tmp_path / "out").read_text() == "not a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
