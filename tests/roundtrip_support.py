"""What the tests driving real terraform against moto share: configs, environment, state, figures, and the pool
their scenarios run in.

Their fixtures (`tools`, `moto`, `scenarios`, `started`) live in conftest.py.

One moto server serves the whole session, and scenarios of every module run in it at the same time, so each
keeps to names of its own:

- its own stand-in cluster (`create_stand_in_cluster(moto, name)`), and a config for that cluster
  (`roundtrip_config(moto, name)`): every name the stack creates starts with `<name>-`;
- `name` unique in the session and not a prefix of another scenario's (`rt-a` and `rt-a-b` would see each other's
  roles in a prefix-filtered listing): `create_stand_in_cluster` refuses both;
- account-wide listings (roles, policies, OIDC providers, queues, rules) filtered by that prefix or by the stand-in's
  issuer, never taken whole, and read through `listed(...)`, which follows pagination (IAM lists 100 per page);
- no `moto-api/reset` and nothing else that changes the server for everyone.

A module starts its scenarios early with `@starts_early`: the function runs (in the test thread: synthesis uses
jsii, which is not for threads) when the session's first round-trip work begins, submits its terraform work to
`Scenarios`, and returns what its tests wait on; the module's tests read it from the `started` fixture.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

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


def listed(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item of a paginated listing (`listed(iam, "list_roles", "Roles")`): one moto serves every scenario."""
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


T = TypeVar("T")
SCENARIO_THREAD = "scenario"  # the pool's thread names start with this


class Scenarios:
    """The session's thread pool for round-trip work: terraform runs are processes, so threads suffice.

    Workers run terraform and boto3 (`MotoHarness.client` gives each call a session of its own), never jsii.
    ROUNDTRIP_WORKERS sets the pool's size (default 8: the phases mostly wait on the provider's polling).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or int(os.environ.get("ROUNDTRIP_WORKERS", "8"))
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=SCENARIO_THREAD)

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(function, *args)

    def __enter__(self) -> Scenarios:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)  # every terraform call has a timeout, so this ends


@dataclass(frozen=True)
class Start:
    """What a starter gets: the session's moto, terraform and pool, a tmp directory factory, and its module's selected tests."""

    moto: MotoHarness
    terraform_bin: str
    mirror: Path
    scenarios: Scenarios
    tmp_path_factory: pytest.TempPathFactory
    config: pytest.Config
    items: list[pytest.Item]

    def wants(self, param: str) -> set[Any]:
        """The values of parameter `param` among the module's selected tests (e.g. which deployments to run)."""
        return {item.callspec.params[param] for item in self.items if hasattr(item, "callspec") and param in item.callspec.params}

    def uses(self, fixture: str) -> bool:
        return any(fixture in getattr(item, "fixturenames", ()) for item in self.items)


Starter = Callable[[Start], Any]
STARTERS: dict[str, Starter] = {}


def starts_early(function: Starter) -> Starter:
    """Register a module's scenario starter (one per module): `function(start: Start)` synthesizes what it needs,
    submits its terraform work to `start.scenarios` and returns what the module's tests read from `started(<module>)`."""
    assert function.__module__ not in STARTERS, f"{function.__module__} registers a second starter"
    STARTERS[function.__module__] = function
    return function


class Started:
    """What each module's starter returned (or the exception, skip or failure it raised), by module name."""

    def __init__(self) -> None:
        self._results: dict[str, tuple[Any, BaseException | None]] = {}

    def run(self, module: str, starter: Starter, start: Start) -> None:
        try:
            self._results[module] = (starter(start), None)
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as error:  # noqa: BLE001 - raised again for its tests
            self._results[module] = (None, error)

    def __call__(self, module: str) -> Any:
        if module not in self._results:
            raise LookupError(f"{module} registered no @starts_early starter, or none of its tests was selected")
        result, error = self._results[module]
        if error is not None:
            raise error
        return result


class TerraformRun(Protocol):
    """A round trip of one stack: its terraform runner, and the first failure it records for its tests."""

    failure: str | None

    def tf(self, *args: str) -> Any: ...


Run = TypeVar("Run", bound=TerraformRun)


def guarded(run: Run, steps: Callable[[], None]) -> Run:
    """Run `steps`; on failure record it and destroy what may be left, so nothing lingers in moto."""
    try:
        steps()
    except Exception:  # noqa: BLE001 - recorded; the tests reading this run fail with it
        run.failure = traceback.format_exc()
        try:
            run.tf("destroy", "-auto-approve")
        except Exception:  # noqa: BLE001 - recorded with the first failure
            run.failure += "\nand the clean-up destroy failed too:\n" + traceback.format_exc()
    return run
