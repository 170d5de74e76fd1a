"""Synth is a pure function of the config: same bytes on every run and from any checkout location.

Snapshot tests and `terraform plan` diffs rely on it. The project sources are copied into two
directories whose paths differ in length (`.venv` and `node_modules` are symlinked) and `python
main.py` runs in each with its defaults (two runs, two locations, in parallel); both `cdktf.out`
trees must match byte for byte and carry no trace of where or when they were made.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Not sources: environments, tool state, outputs of earlier runs.
NOT_COPIED = (
    ".git",
    ".venv",
    ".venv-*",
    "node_modules",
    "cdktf.out",
    "cdktf.out.*",
    ".pytest_cache",
    ".bench",
    "__pycache__",
    ".terraform",
    "*.tfstate",
    "*.tfstate.*",
)
SYMLINKED = (".venv", "node_modules")

DATE_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Unix time in seconds or milliseconds, 2001-2033, standing alone (not inside an ID, a hex digest or a decimal).
EPOCH = re.compile(rb"(?<![\w.])1\d{9}(?:\d{3})?(?![\w.])")


def read_tree(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def checkout(destination: Path) -> Path:
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    for name in SYMLINKED:
        if (ROOT / name).exists():
            (destination / name).symlink_to(ROOT / name)
    return destination


def synth_env() -> dict[str, str]:
    """The defaults a user gets: bundled example config, ./cdktf.out, fast imports."""
    env = {k: v for k, v in os.environ.items() if k not in ("KARPENTER_CONFIG", "CDKTF_OUTDIR", "KARPENTER_PLAIN_IMPORTS")}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    return env


def start_synth(project: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "main.py"], cwd=project, env=synth_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str], project: Path) -> dict[str, bytes]:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, f"synth in {project} failed ({process.returncode}):\n{stderr[-4000:]}"
    return read_tree(project / "cdktf.out")


@pytest.fixture(scope="module")
def checkouts(subprocesses, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("determinism")
    short = checkout(tmp / "a")
    long = checkout(tmp / ("a-checkout-whose-path-is-much-longer-than-the-other-one" * 2))
    runs = {project: start_synth(project) for project in (short, long)}  # in parallel: each is mostly one busy Node process
    try:
        trees = {"short": finish(runs[short], short), "long": finish(runs[long], long)}
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return {"trees": trees, "dirs": [tmp, short, long]}


def test_output_is_the_whole_app(checkouts):
    tree = checkouts["trees"]["short"]
    stacks = json.loads(tree["manifest.json"])["stacks"]
    assert "infra" in stacks
    for stack in stacks.values():
        assert stack["synthesizedStackPath"] in tree


def test_same_bytes_across_runs_and_checkout_locations(checkouts):
    short, long = checkouts["trees"]["short"], checkouts["trees"]["long"]
    assert sorted(long) == sorted(short)
    differing = [name for name in short if short[name] != long[name]]
    assert not differing, f"these files differ between the two checkouts: {differing}"


def test_no_absolute_path_in_any_output_file(checkouts):
    forbidden = {str(ROOT), sys.prefix, "jsii-kernel-"} | ({str(Path.home())} if len(str(Path.home())) > 1 else set())
    for directory in checkouts["dirs"]:
        forbidden |= {str(directory), os.path.realpath(directory)}
    for run, tree in checkouts["trees"].items():
        for name, content in tree.items():
            found = [path for path in forbidden if path.encode() in content]
            assert not found, f"{run}: {name} contains {found}"


def test_no_timestamp_in_any_output_file(checkouts):
    """No build time, whatever the day: the EKS calendar's dates (data, the same every day) are the only dates allowed."""
    from karpenter_model.releases.eks_calendar import CALENDAR

    today = datetime.date.today()
    dates = {day.isoformat().encode() for day in (today - datetime.timedelta(days=1), today, today + datetime.timedelta(days=1))}
    calendar = {d.isoformat().encode() for s in CALENDAR.values() for d in (s.end_of_standard, s.end_of_extended, s.warn_from)}
    for run, tree in checkouts["trees"].items():
        for name, raw in tree.items():
            content = raw
            for date in calendar:
                content = content.replace(date, b"<calendar>")
            stamps = DATE_TIME.findall(content) + EPOCH.findall(content) + [date for date in dates if date in content]
            assert not stamps, f"{run}: {name} contains timestamp-like strings {stamps[:5]}"
