"""Reading a config is bounded: bombs, endless files and deep nesting end in one error line, in bounded time and memory.

The hostile inputs run through the real entry point (main.py in a subprocess) under limits the
test itself sets: an address-space limit (RLIMIT_AS) and a CPU-time limit applied in the child
before it starts, and a wall-clock timeout. Each must exit 1 with a single `error:` line and no
traceback. The rest are in-process checks of the loader's pieces.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from karpenter_model.base import ConfigError, bounded_repr
from karpenter_model.limits import MAX_CONFIG_BYTES, MAX_YAML_ALIASES, MAX_YAML_DEPTH, MAX_YAML_NODES
from karpenter_model.loading import load_config, parse_yaml, read_bounded
from tests.conftest import EXAMPLE_CONFIG, ROOT

# Bounds for one run of main.py on a hostile file. A config error exits before cdktf (and Node)
# load; such a run needs about 100 MiB of address space and under a second of CPU.
MEMORY_LIMIT = 384 * 2**20
CPU_SECONDS = 20
WALL_SECONDS = 60


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run_bounded(config: str | Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("KARPENTER_CONFIG", "CDKTF_OUTDIR")}
    env.update(KARPENTER_CONFIG=str(config), CDKTF_OUTDIR=str(tmp_path / "cdktf.out"), PYTHONPATH=str(ROOT))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=WALL_SECONDS,
        preexec_fn=_limit_child,
    )
    return result, time.monotonic() - started


def assert_one_error(result: subprocess.CompletedProcess[str], *texts: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("error: ") and result.stderr.count("error:") == 1, result.stderr[-2000:]
    assert len(result.stderr) < 2000, "the message must not quote the input at length"
    for text in texts:
        assert text in result.stderr, result.stderr


def merge_key_bomb() -> str:
    """About 700 bytes; each level merges the previous one ten times: 10**10 keys once merged."""
    lines = ["l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}"]
    lines += [f"l{i}: &l{i} {{<<: [{', '.join([f'*l{i - 1}'] * 10)}]}}" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def alias_bomb() -> str:
    """ "Billion laughs": nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]" for i in range(1, 9)]
    lines.append("cluster_name: *i")  # where the expanded value would be validated, and quoted in an error
    return "\n".join(lines) + "\n"


HOSTILE = {
    "merge-key-bomb": (merge_key_bomb, "once its aliases are expanded"),
    "alias-bomb": (alias_bomb, "once its aliases are expanded"),
    "deep-flow-nesting": (lambda: "a: " + "[" * 100_000 + "]" * 100_000 + "\n", f"nested more than {MAX_YAML_DEPTH} levels"),
    "deep-block-nesting": (
        lambda: "".join(" " * i + f"k{i}:\n" for i in range(1_000)),
        f"nested more than {MAX_YAML_DEPTH} levels",
    ),
    "many-small-values": (lambda: "tags: [" + ", ".join(["x"] * 300_000) + "]\n", f"more than {MAX_YAML_NODES:,} values"),
    "many-aliases": (
        lambda: "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_YAML_ALIASES + 1)) + "]\n",
        f"more than {MAX_YAML_ALIASES} aliases",
    ),
    "huge-integer": (lambda: "karpenter: {replicas: " + "9" * 500_000 + "}\n", "an integer of 500000 characters"),
    "long-value-in-an-error": (lambda: "cluster_name: " + "x!" * 400_000 + "\n", "cluster_name: got 'x!x!"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_is_refused_within_bounds(name: str, tmp_path: Path, subprocesses):
    make, expected = HOSTILE[name]
    text = make()
    assert len(text.encode()) <= MAX_CONFIG_BYTES, "each input fits the size limit, so the parser itself is what is bounded"
    config = tmp_path / "hostile.yaml"
    config.write_text(text)
    result, seconds = run_bounded(config, tmp_path)
    assert_one_error(result, expected)
    assert seconds < WALL_SECONDS


def test_dev_zero_is_read_only_up_to_the_limit(tmp_path: Path, subprocesses):
    result, _ = run_bounded("/dev/zero", tmp_path)
    assert_one_error(result, f"larger than {MAX_CONFIG_BYTES:,} bytes")


def test_a_fifo_that_never_ends_is_read_only_up_to_the_limit(tmp_path: Path, subprocesses):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write_forever() -> None:
        try:
            with open(fifo, "wb") as stream:
                while not stop.is_set():
                    stream.write(b"# comment line\n" * 4096)
        except (BrokenPipeError, OSError):
            pass  # the reader closed the pipe, as it should

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    try:
        result, _ = run_bounded(fifo, tmp_path)
    finally:
        stop.set()
    writer.join(timeout=10)
    assert_one_error(result, f"larger than {MAX_CONFIG_BYTES:,} bytes")
    assert not writer.is_alive()


def test_a_large_regular_file_is_refused_without_reading_it(tmp_path: Path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as stream:
        stream.truncate(10 * 2**30)  # 10 GiB, sparse: never read
    with pytest.raises(ConfigError, match="larger than"):
        read_bounded(big)


def test_a_file_at_the_limit_is_read(tmp_path: Path):
    exact = tmp_path / "exact.yaml"
    exact.write_bytes(b"#" * MAX_CONFIG_BYTES)
    assert len(read_bounded(exact)) == MAX_CONFIG_BYTES


def test_bounded_repr_never_formats_a_whole_bomb():
    level: object = ["lol"] * 9
    for _ in range(12):  # 9**12 strings, all shared references
        level = [level] * 9
    started = time.monotonic()
    shown = bounded_repr({"key": level})
    assert time.monotonic() - started < 1
    assert len(shown) == 100 and shown.startswith("{'key': [[[") and shown.endswith("...")
    assert bounded_repr("x" * 10**7).endswith("...") and len(bounded_repr("x" * 10**7)) == 100
    assert bounded_repr(10**100_000).startswith("<an integer of")
    assert bounded_repr({"a": [1, (2,)], "b": None}) == repr({"a": [1, (2,)], "b": None})


def test_duplicate_keys_are_refused_however_they_are_written():
    for text in ("tags: {Owner: a, Owner: b}\n", "tags:\n  Owner: a\n  Owner: b\n", "a: 1\nb: {x: 1}\na: 2\n"):
        with pytest.raises(Exception, match="duplicate key"):
            parse_yaml(text)


def test_merge_keys_still_work_and_may_be_overridden():
    data, _ = parse_yaml("base: &b {x: 1, y: 2}\nother: &o {y: 3}\nc:\n  <<: [*b, *o]\n  x: 9\n")
    assert data["c"] == {"x": 9, "y": 2}


def test_recursive_aliases_are_refused():
    with pytest.raises(Exception, match="inside its own anchor"):
        parse_yaml("a: &a [1, *a]\n")


def test_plain_scalars_yaml_reads_as_other_types_are_remembered_as_written():
    _, sources = parse_yaml("a: yes\nb: 2024-01-01\nc: '0755'\nd: 0755\ne:\nf: [on]\nno: 1\n")
    assert sources[("a",)] == ("yes", "tag:yaml.org,2002:bool")
    assert sources[("b",)][0] == "2024-01-01"
    assert ("c",) not in sources  # quoted: a string, as written
    assert sources[("d",)] == ("0755", "tag:yaml.org,2002:int")
    assert sources[("e",)] == ("", "tag:yaml.org,2002:null")
    assert sources[("f", 0)] == ("on", "tag:yaml.org,2002:bool")
    assert sources[(False, "[key]")] == ("no", "tag:yaml.org,2002:bool")


def test_yaml_surprises_are_explained_in_yaml_terms(tmp_path: Path):
    text = EXAMPLE_CONFIG.read_text().replace(
        "  Environment: learning\n", "  Environment: learning\n  Enabled: yes\n  Since: 2024-01-01\n"
    )
    config = tmp_path / "c.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert "tags['Enabled']: got yes (YAML reads it as a boolean): Input should be a valid string; quote it: \"yes\"" in message
    assert "tags['Since']: got 2024-01-01 (YAML reads it as a date)" in message and 'quote it: "2024-01-01"' in message
    assert "datetime" not in message and "False" not in message


def test_the_bounded_loader_reads_the_example_as_pyyaml_does():
    import yaml

    data, _ = parse_yaml(EXAMPLE_CONFIG.read_text())
    assert data == yaml.safe_load(EXAMPLE_CONFIG.read_text())
