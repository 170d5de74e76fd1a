"""Running the real terraform binary against synthesized stacks, with the provider mirror."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def terraform_env(mirror: Path, workdir: Path, **extra: str) -> dict[str, str]:
    """An environment whose CLI config installs hashicorp/aws from `mirror` and nothing from the network."""
    config = workdir / "terraformrc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
        "}\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    env.update(TF_CLI_CONFIG_FILE=str(config), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", **extra)
    # terraform and its provider are Go: collecting garbage half as often costs ~10% more memory and saves ~15% of the
    # CPU of every command (mostly the AWS provider loading its schema), which the round trips spend most of theirs on.
    env.setdefault("GOGC", "200")
    return env


def terraform(binary: str, *args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"terraform {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
