"""The test tiers (tests/conftest.py): each test gets exactly one, from its fixtures, and the unit tier starts no process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tests.conftest import TIERS, SubprocessInUnitTest, tier_of


def test_tiers_come_from_fixtures():
    assert tier_of(["tmp_path", "synth_config"]) == "unit"
    assert tier_of(["terraform_bin"]) == tier_of(["checkov"]) == tier_of(["parliament"]) == tier_of(["subprocesses"]) == "tools"
    assert tier_of(["cdktf_cli"]) == tier_of(["provider_mirror", "tmp_path"]) == "tools"
    assert tier_of(["moto"]) == tier_of(["tools"]) == tier_of(["started", "terraform_bin"]) == "roundtrip"


def test_every_selected_test_has_exactly_one_tier_and_it_is_its_fixtures(request: pytest.FixtureRequest):
    for item in request.session.items:
        tiers = [mark.name for mark in item.iter_markers() if mark.name in TIERS]
        assert tiers == [tier_of(getattr(item, "fixturenames", ()))], item.nodeid


def test_round_trips_run_last(request: pytest.FixtureRequest):
    roundtrip = [item.get_closest_marker("roundtrip") is not None for item in request.session.items]
    assert roundtrip == sorted(roundtrip)


def test_a_unit_test_cannot_start_a_process(tmp_path):
    assert tier_of(["tmp_path"]) == "unit"  # this test's tier
    with pytest.raises(SubprocessInUnitTest, match="request the `subprocesses` fixture"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    with pytest.raises(SubprocessInUnitTest):
        os.system("true")  # noqa: S605 - what the guard must stop
    with pytest.raises(SubprocessInUnitTest):
        os.posix_spawn("/bin/true", ["true"], {})
    caught: list[BaseException] = []

    def in_a_thread() -> None:
        try:
            subprocess.run(["true"], check=False)
        except SubprocessInUnitTest as error:
            caught.append(error)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert len(caught) == 1, "a thread the test starts is guarded too"


def test_a_tools_test_may(subprocesses):
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0


@pytest.fixture(scope="module")
def process_from_a_module_fixture() -> BaseException | None:
    try:
        subprocess.run(["true"], check=False)
    except SubprocessInUnitTest as error:
        return error
    return None


def test_fixtures_of_every_scope_are_guarded(process_from_a_module_fixture):
    """A unit test's module-scoped fixture is set up inside the guard too (where the expensive processes used to hide)."""
    assert isinstance(process_from_a_module_fixture, SubprocessInUnitTest)
