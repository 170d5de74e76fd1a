"""One bounded reader for config files: main.py, the v1beta1 -> v1 converter and `make check` refuse a bad file alike.

The corpus is the bounded-loading one main.py's own tests use: the hostile inputs of tests/test_loading.py
(bombs, deep nesting, huge integers) and the file-level cases of tests/test_bad_configs.py (missing file,
directory, not UTF-8, empty, not a mapping, YAML syntax, tabs, duplicate keys, oversize, recursive alias, NUL).
Each entry point runs in this process from the file's directory, as a user would run it; for every file the
reader refuses, all three print the same one-line message.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from karpenter_check import cli as check_cli
from karpenter_model import conversion
from karpenter_model.base import ConfigError
from karpenter_model.loading import read_config_data
from tests.test_bad_configs import CASES, write_config
from tests.test_loading import HOSTILE

FILE_CASES = {case.id: case for case in CASES if not case.edits and not case.env}
CORPUS = sorted(FILE_CASES) + sorted(f"hostile-{name}" for name in HOSTILE)
# Well-formed YAML refused by validation (YAML 1.1 surprises, a value too long): only main.py and `make check`
# validate, and the converter reads these files without complaint.
VALIDATION_ONLY = {
    "yaml-boolean-key",
    "yaml-boolean-where-text-belongs",
    "yaml-date-where-text-belongs",
    "yaml-empty-value",
    "yaml-octal-where-text-belongs",
    "hostile-long-value-in-an-error",
}


def write(entry: str, workdir: Path) -> Path:
    if entry.startswith("hostile-"):
        config = workdir / "config.yaml"
        config.write_text(HOSTILE[entry.removeprefix("hostile-")][0]())
        return config
    return write_config(FILE_CASES[entry], workdir)


def run(entry_point: Callable[[], int]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry_point()
    return code, out.getvalue(), err.getvalue()


def test_the_corpus_is_the_bounded_loading_one():
    assert len(FILE_CASES) >= 15 and len(HOSTILE) >= 8
    expected = {"file-missing", "file-is-a-directory", "file-not-utf8", "file-over-size-limit", "yaml-recursive-alias"}
    assert expected <= set(FILE_CASES)
    assert VALIDATION_ONLY.issubset(CORPUS)


@pytest.mark.parametrize("entry", CORPUS)
def test_main_the_converter_and_check_refuse_a_bad_file_with_one_message(
    entry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import main

    config = write(entry, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KARPENTER_CONFIG", config.name)
    monkeypatch.setenv("CDKTF_OUTDIR", str(tmp_path / "cdktf.out"))
    try:
        read_config_data(config.name)
    except ConfigError as error:
        message = f"error: {error}\n"
    else:
        assert entry in VALIDATION_ONLY, f"{entry}: the reader accepts it; main.py's tests expect a refusal while reading"
        return
    assert entry not in VALIDATION_ONLY

    assert run(main.main) == (1, "", message)
    assert run(lambda: conversion.main([config.name, "converted.yaml"])) == (1, "", message)
    assert not (tmp_path / "converted.yaml").exists()
    assert run(lambda: check_cli.main(["--config", config.name, "--no-cluster"])) == (2, "", f"check: {message}")
    assert "\n" not in message.rstrip("\n") and len(message) < 1200


def test_the_converter_reads_a_good_file_as_main_does(tmp_path: Path):
    """The same reader accepts what main.py accepts: the bundled 0.37.2 example converts."""
    from tests.conftest import EXAMPLE_CONFIG

    code, out, err = run(lambda: conversion.main([str(EXAMPLE_CONFIG), str(tmp_path / "v1.yaml")]))
    assert code == 0, err
    assert out.startswith("karpenter.version: (unset: 0.37.2) -> 1.0.14\n")
    assert (tmp_path / "v1.yaml").is_file()
