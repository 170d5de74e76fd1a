"""What the tests driving real terraform against moto share: configs, environment, state, figures.

Their fixtures (`tools`, `moto`) live in conftest.py."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from tests.conftest import config_for_cluster
from tests.moto_harness import CREDENTIALS, REGION, MotoHarness

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"  # the tls provider cannot be installed here


def roundtrip_config(moto: MotoHarness, cluster: str, example: str | Path = "aws-2026-eks") -> dict[str, Any]:
    """A bundled example configuration for `cluster`, with the provider pointed at moto (as a user would write it)."""
    data = config_for_cluster(cluster, example).model_dump(mode="json", exclude_unset=True, by_alias=True)
    data["region"] = REGION
    data["aws"] = {
        "endpoints": moto.endpoints(),
        # Credentials come from the environment (moto's); never from the metadata service of the machine
        # running this (a CI runner on EC2 has one, with real credentials).
        "skip_metadata_api_check": True,
    }
    data["oidc"] = {"thumbprints": [THUMBPRINT]}
    return data


def aws_env(env: dict[str, str]) -> dict[str, str]:
    """`env` without the caller's AWS settings (profiles, real keys), with moto's test credentials."""
    clean = {key: value for key, value in env.items() if not key.startswith("AWS_")}
    clean.update(CREDENTIALS, AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")
    return clean


def state_instances(state: dict[str, Any]) -> list[str]:
    """Managed resource instances in a state file (v4 format), as addresses."""
    found = []
    for resource in state.get("resources", []):
        if resource["mode"] != "managed":
            continue
        for instance in resource["instances"]:
            key = instance.get("index_key")
            suffix = "" if key is None else f"[{json.dumps(key)}]"
            found.append(f"{resource['type']}.{resource['name']}{suffix}")
    return sorted(found)


class Figures:
    """A pytest plugin registered for this module's run: prints resources and phase times in the summary."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def add(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.write_sep("-", self.title)
            for line in self.lines:
                terminalreporter.write_line(line)
