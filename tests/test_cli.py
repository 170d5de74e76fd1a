"""The real cdktf CLI (through cdktf.json) produces exactly what `make synth` does, without the Node banner."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys

from tests.conftest import ROOT


def tree(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_cdktf_cli_synth_matches_main_py(tmp_path, cdktf_cli):
    cli = cdktf_cli
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1"}
    env.pop("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", None)  # the app itself must silence it
    via_cli = subprocess.run(
        [str(cli), "synth", "--output", str(tmp_path / "cli")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert via_cli.returncode == 0, via_cli.stdout + via_cli.stderr
    direct = subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={**env, "CDKTF_OUTDIR": str(tmp_path / "direct")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert direct.returncode == 0, direct.stderr
    assert tree(tmp_path / "cli") == tree(tmp_path / "direct")
    assert not filecmp.dircmp(tmp_path / "cli", tmp_path / "direct").diff_files
    for output in (via_cli.stdout, via_cli.stderr, direct.stdout, direct.stderr):
        assert "end-of-life" not in output and "!!!!" not in output
    assert "Generated Terraform code for the stacks: chart, crds, infra" in via_cli.stdout
