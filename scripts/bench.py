"""`make bench`: how long synth of every stack takes, against a baseline and a floor, how it grows, and the test suite.

One run measures, as separate processes (this environment minus CDKTF_OUTDIR and
KARPENTER_PLAIN_IMPORTS, with the Node end-of-life banner silenced), interleaved:

* current: `python main.py` with the bare provider packages (karpenter_constructs/fast_imports.py)
  on `--config` (default: the bundled example);
* baseline: `python main.py` of the project as of `--baseline-rev` (default d184739, the last
  commit before release profiles and CRD validation), on its own bundled example. The revision is
  materialized with `git archive <rev> | tar -x` into the temporary directory (the working tree is
  never touched) with `.venv` and `node_modules` symlinked from this checkout. Skipped, with a
  message, when the revision is not in this clone (a shallow clone: `git fetch --unshallow`).
  A provider package its fast_imports.py names but nothing imports, and which the shared venv no
  longer has, gets an empty stand-in on its PYTHONPATH (a bare registration runs none of its code).
  Report: "CRD validation and release profiles add X % to the median" (target: at most 10 %);
* floor: a process that only loads what every synth must: `cdktf` and the jsii assemblies of the
  provider packages the app uses, the way the app does (bare packages, then each package's `_jsii`
  module) and in the order it does: an untimed `python -X importtime main.py` at the start tells
  which and in what order (`--floor-providers auto`; the order matters: loading aws first cost
  the jsii kernel about 10 % more CPU and 230 MiB more peak memory when this was written). Report: "synth is N % above the floor";
* growth: the current app on a generated config, written into the temporary directory: the
  config's node_classes[0] and node_pools[0] copied `--growth` (200) times as c000.. and p000..,
  each pool's nodeClassRef pointing at its class. Report: the ratio of its median to the current
  one (target: at most 1.5x) and the stacks' sizes both ways;
* plain (`--no-plain` skips it): current with `KARPENTER_PLAIN_IMPORTS=1` (the provider packages'
  eager `__init__`); fast and plain runs must produce the same bytes (the benchmark exits 1
  otherwise; tests/test_fast_imports.py is the real proof);
* `npx cdktf synth`, the command users run, fast and plain, interleaved on their own
  (`--cli-runs`, 0 skips it);
* the default test suite, `pytest -m "not roundtrip"`, once (`--no-tests` skips it).

`--only core` is a focused run: baseline, current, floor and growth only.

Each mode gets one untimed warm-up run (page cache, `.pyc` files, jsii's package cache), then
`--runs` (CLI: `--cli-runs`) timed runs; the main.py modes take turns, starting with a different
one each round. Every run writes into its own temporary output directory.

Memory. jsii runs the JavaScript in Node: Python starts `node jsii-runtime.js`, which starts a
second `node program.js` (the kernel); the CLI path adds npm, a shell and the cdktf CLI's Node on
top. A sampler thread walks that process tree every `--interval` seconds through
/proc/<pid>/task/<tid>/children and reads each process's VmRSS and VmHWM. Three figures:

* tree peak: the largest sum of VmRSS over the tree seen in one sample. This is what the tree
  holds at once; it can miss a spike shorter than the interval, and it counts pages shared
  between processes (libnode, libpython) once per process.
* sum of peaks: the sum over processes of each one's own peak (VmHWM, the last value read). An
  upper bound of the tree peak, since the processes need not peak at the same moment.
* largest process: `ru_maxrss` of the `wait4` rusage of the top process, which Linux fills with
  the largest peak of that process and of every descendant it reaped. Exact, but one process: it
  is not a sum (RUSAGE_CHILDREN's ru_maxrss has the same meaning).

CPU is user + system time of the whole tree from the same rusage (every process here reaps its
children). Other work on the machine inflates wall time much more than CPU time, so each run also
records "other load": the busy CPU time of the whole machine (/proc/stat) minus the tree's own,
divided by the run's wall time, in cores. On a shared 2-core machine, read the wall times with it
(the ratio lines also give the CPU-time ratio, which load disturbs less).
Before each timed run (and the suite) the script waits up to `--settle` seconds for a half-second
in which other processes use under 0.3 cores; if they never do, it runs anyway.

Only the standard library (the growth config is derived from the YAML text, line by line, and the
app's own config validation checks the result: unique names, every nodeClassRef resolving).
Results: a table on stdout and `.bench/results.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = "examples/aws-2026-eks.yaml"
TARGET_SECONDS = 3.0
SUITE_BUDGET_SECONDS = 60.0
BUSY_CORES = 0.3  # other load above which a wall time says more about the machine than about synth
DEFAULT_BASELINE_REV = "d184739"  # the last commit before release profiles and CRD validation
BASELINE_TARGET_PERCENT = 10.0  # CRD validation and release profiles may add at most this much
GROWTH_TARGET_RATIO = 1.5  # 200 node classes + 200 node pools vs the example's one of each
DEFAULT_GROWTH = 200

# The floor process: load what every synth of this app loads before it can do anything, the way
# main.py does (bare provider packages, so only each package's `_jsii` assembly module runs).
FLOOR_CODE = """\
import importlib, sys
sys.path.insert(0, sys.argv[1])
from karpenter_constructs.fast_imports import register_bare_packages
register_bare_packages()
import cdktf
for name in sys.argv[2:]:
    importlib.import_module(name + "._jsii")
"""


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    returncode: int
    tree_peak_rss_kb: int
    sum_of_peaks_kb: int
    largest_process_kb: int
    other_load_cores: float  # CPU the rest of the machine used meanwhile, in cores (see busy_cpu_seconds)
    processes: list[dict] = field(default_factory=list)
    output_digest: str | None = None
    stacks: dict | None = None  # per stack: bytes and resources (warm-up runs only)


def _read_status(pid: int) -> dict[str, int] | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    values: dict[str, int] = {}
    for key in ("VmRSS", "VmHWM"):
        if key in fields:
            values[key] = int(fields[key].split()[0])  # kB
    return values


def _children(pid: int) -> list[int]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return []
    found: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as children:
                found.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            argv = [part.decode(errors="replace") for part in cmdline.read().split(b"\0") if part]
    except (FileNotFoundError, ProcessLookupError):
        return ""
    if len(argv) == 1 and " " in argv[0]:  # a process that set its title (npm does): one string
        argv = argv[0].split()
    shown = [os.path.basename(argv[0])] if argv else []
    for arg in argv[1:]:
        if not arg.startswith("-"):
            shown.append(os.path.basename(arg) if "/" in arg else arg)
    return " ".join(shown)[:80]


class TreeSampler(threading.Thread):
    """Samples the RSS of a process tree until stopped; see the module docstring for what it reports."""

    def __init__(self, root_pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self.stopped = threading.Event()
        self.tree_peak_kb = 0
        self.peaks: dict[int, dict] = {}

    def run(self) -> None:
        while not self.stopped.is_set():
            self.sample()
            self.stopped.wait(self.interval)

    def sample(self) -> None:
        total = 0
        pending = [self.root_pid]
        while pending:
            pid = pending.pop()
            status = _read_status(pid)
            if status is None:
                continue
            total += status.get("VmRSS", 0)
            seen = self.peaks.get(pid)
            if seen is None:
                seen = self.peaks[pid] = {"pid": pid, "command": "", "peak_kb": 0}
            peak = max(status.get("VmHWM", 0), status.get("VmRSS", 0))
            if peak > seen["peak_kb"] or not seen["command"]:  # re-read: a process may exec after the first sample
                seen["command"] = _command(pid) or seen["command"]
                seen["peak_kb"] = peak
            pending.extend(_children(pid))
        self.tree_peak_kb = max(self.tree_peak_kb, total)


def busy_cpu_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait: float) -> float:
    """Wait (at most `max_wait` s) for a half-second in which the rest of the machine uses under BUSY_CORES.

    Returns the load of the last window. Best effort: on a shared machine the other work may not stop.
    """
    deadline = time.monotonic() + max_wait
    while True:
        busy, started = busy_cpu_seconds(), time.monotonic()
        time.sleep(0.5)
        load = (busy_cpu_seconds() - busy) / (time.monotonic() - started)
        if load < BUSY_CORES or time.monotonic() >= deadline:
            return load


def measure(argv: list[str], env: dict[str, str], cwd: Path, log: Path, interval: float) -> Run:
    with open(log, "wb") as out:
        busy_before = busy_cpu_seconds()
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid, interval)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        busy = busy_cpu_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stopped.set()
        sampler.join()
    processes = sorted(sampler.peaks.values(), key=lambda p: -p["peak_kb"])
    cpu = usage.ru_utime + usage.ru_stime
    return Run(
        wall_s=wall,
        cpu_s=cpu,
        other_load_cores=max(0.0, (busy - cpu) / wall),  # includes this script's sampler (well under 0.05)
        returncode=process.returncode,
        tree_peak_rss_kb=sampler.tree_peak_kb,
        sum_of_peaks_kb=sum(p["peak_kb"] for p in processes),
        largest_process_kb=usage.ru_maxrss,  # kB on Linux
        processes=[p for p in processes if p["peak_kb"] >= 10 * 1024],
    )


def tree_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def base_env(config: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KARPENTER_PLAIN_IMPORTS", "CDKTF_OUTDIR")}
    env.update(
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CHECKPOINT_DISABLE="1",
        KARPENTER_CONFIG=config,
    )
    return env


@dataclass
class Mode:
    name: str
    argv: list[str]
    plain: bool = False
    outdir_flag: str | None = None  # CLI flag for the output directory; None: CDKTF_OUTDIR
    cwd: Path = ROOT
    env: dict[str, str | None] = field(default_factory=dict)  # on top of the base environment; None removes
    output: bool = True  # writes stacks (the floor does not)


def cli_modes(npx: str) -> list[Mode]:
    return [
        Mode("cdktf CLI fast", [npx, "cdktf", "synth"], outdir_flag="--output"),
        Mode("cdktf CLI plain", [npx, "cdktf", "synth"], plain=True, outdir_flag="--output"),
    ]


def stack_stats(outdir: Path) -> dict:
    """Per stack (manifest.json): bytes of cdk.tf.json, resources and data sources in it."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stats = {}
    for name, stack in sorted(manifest["stacks"].items()):
        path = outdir / stack["synthesizedStackPath"]
        document = json.loads(path.read_text())
        stats[name] = {
            "bytes": path.stat().st_size,
            "resources": sum(len(v) for v in document.get("resource", {}).values()),
            "data_sources": sum(len(v) for v in document.get("data", {}).values()),
        }
    return stats


def run_mode(
    mode: Mode, env: dict[str, str], workdir: Path, label: str, interval: float, settle: float = 0.0, stats: bool = False
) -> Run:
    env = dict(env)
    for key, value in mode.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if mode.plain:
        env["KARPENTER_PLAIN_IMPORTS"] = "1"
    outdir = workdir / f"{label}.out"
    argv = list(mode.argv)
    if mode.outdir_flag:
        argv += [mode.outdir_flag, str(outdir)]
    elif mode.output:
        env["CDKTF_OUTDIR"] = str(outdir)
    log = workdir / f"{label}.log"
    if settle > 0:
        wait_for_quiet(settle)
    run = measure(argv, env, mode.cwd, log, interval)
    if run.returncode != 0:
        raise SystemExit(f"{mode.name} failed with exit code {run.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
    if mode.output:
        run.output_digest = tree_digest(outdir)
        if stats:
            run.stacks = stack_stats(outdir)
        shutil.rmtree(outdir, ignore_errors=True)
    return run


# -- baseline: the project at an earlier revision, materialized without touching the working tree --


def materialize_baseline(rev: str, workdir: Path) -> tuple[Path | None, str]:
    """`git archive <rev> | tar -x` into workdir; returns (directory, resolved commit) or (None, why not)."""
    if shutil.which("git") is None:
        return None, "git is not installed"
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], capture_output=True, text=True
    )
    if found.returncode != 0:
        shallow = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
        ).stdout.strip()
        hint = " (this is a shallow clone: `git fetch --unshallow` brings the history)" if shallow == "true" else ""
        return None, f"revision {rev} is not in this clone{hint}"
    commit = found.stdout.strip()
    directory = workdir / f"baseline-{commit[:12]}"
    directory.mkdir()
    with subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE) as archive:
        extract = subprocess.run(["tar", "-x", "-C", str(directory)], stdin=archive.stdout, capture_output=True)
    if archive.returncode != 0 or extract.returncode != 0:
        return None, f"git archive {rev} | tar -x failed: {extract.stderr.decode(errors='replace').strip()}"
    for name in (".venv", "node_modules"):
        if (ROOT / name).exists():
            (directory / name).symlink_to(ROOT / name)
    if not (directory / "main.py").is_file():
        return None, f"revision {rev} has no main.py"
    return directory, commit


def baseline_stubs(directory: Path, workdir: Path) -> tuple[Path | None, list[str], str | None]:
    """Empty stand-ins for provider packages the baseline only names (its fast_imports.py registers
    them as bare packages) but never imports, when the shared venv no longer has them installed.

    Registering a bare package runs none of its code, so a stub changes nothing that is measured.
    Returns (directory for PYTHONPATH or None, the stubbed names, why the baseline cannot run or None).
    """
    import importlib.util

    fast_imports = directory / "karpenter_constructs" / "fast_imports.py"
    if not fast_imports.is_file():
        return None, [], None
    named = sorted(set(re.findall(r"[\"'](cdktf_cdktf_provider_\w+)[\"']", fast_imports.read_text())))
    missing = [name for name in named if importlib.util.find_spec(name) is None]
    if not missing:
        return None, [], None
    imported: set[str] = set()
    for path in directory.rglob("*.py"):
        if path != fast_imports and ".venv" not in path.parts and "node_modules" not in path.parts:
            imported.update(_PROVIDER_IMPORT.findall(path.read_text(errors="replace")))
    needed = [name for name in missing if name in imported]
    if needed:
        return None, [], f"it imports {', '.join(needed)}, which this venv no longer has installed"
    stubs = workdir / "baseline-stubs"
    for name in missing:
        (stubs / name).mkdir(parents=True)
        (stubs / name / "__init__.py").write_text("# bench stand-in: named by the baseline's fast_imports.py, never imported\n")
    return stubs, missing, None


# -- growth: a config with many node classes and node pools, derived from the config's text --


class GrowthError(ValueError):
    pass


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], key: str) -> tuple[int, int]:
    """Line range of the top-level `key:` block: the header line and the lines before the next top-level key."""
    header = re.compile(rf"^{re.escape(key)}:\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        raise GrowthError(f"no block-style top-level `{key}:` in the config")
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^[^\s#-]", lines[i])), len(lines))
    return start, end


def _first_item(lines: list[str], start: int, end: int) -> list[str]:
    """The first `- ` item of the sequence in lines[start+1:end], without trailing blank and comment lines."""
    items = [i for i in range(start + 1, end) if re.match(r"^\s*- ", lines[i])]
    if not items:
        raise GrowthError(f"`{lines[start].split(':')[0]}:` is not a block sequence")
    dash = _indent(lines[items[0]])
    following = next((i for i in items[1:] if _indent(lines[i]) == dash), end)
    item = lines[items[0] : following]
    while item and (not item[-1].strip() or item[-1].lstrip().startswith("#")):
        item.pop()
    return item


def _set_key(item: list[str], first: int, parent_indent: int, key: str, value: str) -> bool:
    """Set `key: value` among the direct children (indentation > parent_indent) of item[first-1]; True if found."""
    child_indent = None
    for i in range(first, len(item)):
        line = item[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = _indent(line)
        if indent <= parent_indent:
            break
        child_indent = indent if child_indent is None else child_indent
        if indent == child_indent and re.match(rf"^\s*{key}:\s", line + " "):
            item[i] = f"{' ' * indent}{key}: {value}"
            return True
    return False


def _renamed(item: list[str], name: str) -> list[str]:
    """The item with its `name:` (on the dash line or among the item's keys) set to `name`."""
    item = list(item)
    match = re.match(r"^(\s*- )name:\s", item[0] + " ")
    if match:
        item[0] = f"{match.group(1)}name: {name}"
        return item
    keys = _indent(item[0]) + 2
    for i in range(1, len(item)):
        if _indent(item[i]) == keys and re.match(r"^\s*name:\s", item[i] + " "):
            item[i] = f"{' ' * keys}name: {name}"
            return item
    raise GrowthError("an item has no `name:`")


def _pointed(item: list[str], node_class: str) -> list[str]:
    item = list(item)
    for i, line in enumerate(item):
        if re.match(r"^\s*nodeClassRef:", line):
            inline = re.match(r"^(\s*nodeClassRef:\s*\{.*?\bname:\s*)([^,}\s]+)(.*)$", line)
            if inline:
                item[i] = inline.group(1) + node_class + inline.group(3)
                return item
            if _set_key(item, i + 1, _indent(line), "name", node_class):
                return item
            raise GrowthError("nodeClassRef has no `name:`")
    raise GrowthError("node_pools[0] has no nodeClassRef")


def growth_config(text: str, count: int) -> str:
    """The config with node_classes[0] and node_pools[0] repeated `count` times (c000.., p000.. -> c000..)."""
    lines = text.splitlines()
    width = max(3, len(str(count - 1)))
    replacements = []
    for key in ("node_classes", "node_pools"):
        start, end = _block(lines, key)
        item = _first_item(lines, start, end)
        generated = []
        for n in range(count):
            if key == "node_classes":
                copy = _renamed(item, f"c{n:0{width}d}")
            else:
                copy = _pointed(_renamed(item, f"p{n:0{width}d}"), f"c{n:0{width}d}")
            generated.extend(copy)
        replacements.append((start, end, [lines[start].split("#")[0].rstrip()] + generated + [""]))
    for start, end, new in sorted(replacements, reverse=True):
        lines[start:end] = new
    return "\n".join(lines) + "\n"


def git_state() -> dict:
    """HEAD and how many files differ from it (read-only: no index refresh), to tell which code was measured."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    if shutil.which("git") is None:
        return {}
    status = git("status", "--porcelain", "--untracked-files=normal")
    return {"head": git("rev-parse", "--short=7", "HEAD"), "uncommitted_paths": len(status.splitlines()) if status else 0}


def summarize(runs: list[Run]) -> dict:
    walls = [r.wall_s for r in runs]
    return {
        "runs": len(runs),
        "wall_s": {"min": min(walls), "median": statistics.median(walls), "max": max(walls)},
        "cpu_s_median": statistics.median(r.cpu_s for r in runs),
        "other_load_cores_median": statistics.median(r.other_load_cores for r in runs),
        "tree_peak_rss_mb_max": max(r.tree_peak_rss_kb for r in runs) / 1024,
        "sum_of_peaks_mb_max": max(r.sum_of_peaks_kb for r in runs) / 1024,
        "largest_process_mb_max": max(r.largest_process_kb for r in runs) / 1024,
        "samples": [asdict(r) for r in runs],
    }


def run_suite(python: str, env: dict[str, str], workdir: Path, interval: float) -> dict:
    env = dict(env)
    env.pop("KARPENTER_CONFIG", None)
    argv = [python, "-m", "pytest", "-m", "not roundtrip", "-q", "-p", "no:cacheprovider", "--durations=8"]
    log = workdir / "pytest.log"
    run = measure(argv, env, ROOT, log, interval)
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    summary = next((line.strip("= ") for line in reversed(lines) if re.search(r"\b(passed|failed|error)", line)), "no summary")
    slowest = [line.strip() for line in lines if re.match(r"\s*\d+\.\d+s (setup|call|teardown) ", line)]
    return {
        "command": " ".join(argv[1:]),
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "other_load_cores": run.other_load_cores,
        "tree_peak_rss_mb": run.tree_peak_rss_kb / 1024,
        "returncode": run.returncode,
        "summary": summary,
        "slowest": slowest,
    }


_PROVIDER_IMPORT = re.compile(r"^\s*(?:from|import)\s+(cdktf_cdktf_provider_\w+)", re.MULTILINE)
_PROVIDER_ASSEMBLY = re.compile(r"\|\s*(cdktf_cdktf_provider_\w+)\._jsii\s*$", re.MULTILINE)


def probe_app(python: str, env: dict[str, str], workdir: Path) -> tuple[list[str], list[str]]:
    """One untimed `python -X importtime main.py`: the stack names, and the provider packages whose
    assemblies it loads, in the order it loads them (the floor's memory and CPU depend on the order)."""
    outdir = workdir / "stacks.out"
    done = subprocess.run(
        [python, "-X", "importtime", "main.py"],
        cwd=ROOT,
        env={**env, "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        errors = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("import time:"))
        raise SystemExit(f"python main.py failed with exit code {done.returncode}:\n{(done.stdout + errors)[-4000:]}")
    manifest = json.loads((outdir / "manifest.json").read_text())
    shutil.rmtree(outdir, ignore_errors=True)
    return sorted(manifest["stacks"]), list(dict.fromkeys(_PROVIDER_ASSEMBLY.findall(done.stderr)))


def fmt_wall(summary: dict) -> str:
    wall = summary["wall_s"]
    return f"{wall['min']:5.2f} / {wall['median']:5.2f} / {wall['max']:5.2f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def fmt_stacks(stacks: dict) -> str:
    return ", ".join(f"{name} {s['bytes'] / 1024:,.0f} KiB / {s['resources']} resources" for name, s in stacks.items())


def caution(results: dict, *names: str) -> list[str]:
    busy = {n: results["synth"][n]["other_load_cores_median"] for n in names if n in results["synth"]}
    loud = {n: b for n, b in busy.items() if b > BUSY_CORES}
    if not loud:
        return []
    shown = ", ".join(f"{n} {b:.2f}" for n, b in loud.items())
    return [
        f"  caution: other processes used more than {BUSY_CORES} cores during these runs (median: {shown}); read the CPU ratio, rerun to confirm"
    ]


def report(results: dict) -> str:
    lines = []
    synth = results["synth"]
    source = results.get("source") or {}
    lines.append(
        f"synth of all stacks ({', '.join(results['stacks'])}) from {results['config']}"
        + (f", code at {source['head']} + {source['uncommitted_paths']} uncommitted paths" if source.get("head") else "")
        + f": {results['runs']} timed runs per main.py mode, {results['cli_runs']} per CLI mode, each after 1 warm-up, modes interleaved"
    )
    lines.append(
        f"{results['machine']['cpus']} CPUs, load average before {results['machine']['loadavg_before']}, after {results['machine']['loadavg_after']}"
    )
    lines.append("")
    width = max([17] + [len(name) + 2 for name in synth])
    header = f"{'mode':<{width}}{'wall s min / median / max':>27}{'CPU s':>8}{'other load':>12}{'tree peak MiB':>15}{'sum of peaks MiB':>18}{'largest proc MiB':>18}"
    lines.append(header)
    lines.append("-" * len(header))
    for name, summary in synth.items():
        lines.append(
            f"{name:<{width}}{fmt_wall(summary):>27}{summary['cpu_s_median']:>8.2f}{summary['other_load_cores_median']:>12.2f}"
            f"{summary['tree_peak_rss_mb_max']:>15.0f}{summary['sum_of_peaks_mb_max']:>18.0f}{summary['largest_process_mb_max']:>18.0f}"
        )
    lines.append("")
    current = results["current_mode"]
    fast = synth[current]["wall_s"]["median"]
    fast_cpu = synth[current]["cpu_s_median"]

    baseline = results.get("baseline")
    if baseline and baseline.get("mode") in synth:
        b = synth[baseline["mode"]]
        added = 100 * (fast / b["wall_s"]["median"] - 1)
        added_cpu = 100 * (fast_cpu / b["cpu_s_median"] - 1)
        lines.append(
            f"CRD validation and release profiles add {added:+.1f} % to the median (target: at most {BASELINE_TARGET_PERCENT:.0f} %): "
            f"{verdict(added <= BASELINE_TARGET_PERCENT)} ({current} {fast:.2f} s vs {baseline['mode']} {b['wall_s']['median']:.2f} s; CPU {added_cpu:+.1f} %)"
        )
        lines.extend(caution(results, current, baseline["mode"]))
        if baseline.get("stubbed_packages"):
            lines.append(
                f"  baseline ran with empty stand-ins for {', '.join(baseline['stubbed_packages'])}: named in its fast_imports.py "
                "(registered bare, never imported), no longer installed in the venv"
            )
    elif baseline:
        lines.append(f"baseline skipped: {baseline['skipped']}")

    floor = results.get("floor")
    if floor and floor["mode"] in synth:
        f = synth[floor["mode"]]
        above = 100 * (fast / f["wall_s"]["median"] - 1)
        above_cpu = 100 * (fast_cpu / f["cpu_s_median"] - 1)
        lines.append(
            f"synth is {above:.0f} % {'above' if above >= 0 else 'BELOW'} the floor ({fast:.2f} s vs {f['wall_s']['median']:.2f} s, "
            f"{fast - f['wall_s']['median']:+.2f} s; CPU {above_cpu:+.0f} %); floor: cdktf and the "
            f"{', '.join(p.removeprefix('cdktf_cdktf_provider_') for p in floor['providers'])} assemblies, in {floor['order']} order"
        )
        lines.extend(caution(results, current, floor["mode"]))

    growth = results.get("growth")
    if growth and growth.get("mode") in synth:
        g = synth[growth["mode"]]
        ratio = g["wall_s"]["median"] / fast
        ratio_cpu = g["cpu_s_median"] / fast_cpu
        lines.append(
            f"growth: {growth['count']} node classes + {growth['count']} node pools take {ratio:.2f}x the median of the config's "
            f"{growth['base_classes']} + {growth['base_pools']} (target: at most {GROWTH_TARGET_RATIO}x): {verdict(ratio <= GROWTH_TARGET_RATIO)} "
            f"({g['wall_s']['median']:.2f} s vs {fast:.2f} s; CPU {ratio_cpu:.2f}x)"
        )
        lines.extend(caution(results, current, growth["mode"]))
        lines.append(
            f"  stacks, {growth['base_classes']} + {growth['base_pools']}: {fmt_stacks(results['stack_sizes'][current])}"
        )
        lines.append(f"  stacks, {growth['count']} + {growth['count']}: {fmt_stacks(results['stack_sizes'][growth['mode']])}")
        lines.append(
            f"  generated config: {growth['config_bytes'] / 1024:,.0f} KiB (the temporary copy is deleted; regenerate with --growth)"
        )
    elif growth:
        lines.append(f"growth skipped: {growth['skipped']}")

    for ratio in results["ratios"]:
        lines.append(
            f"ratio plain/fast, median wall, {ratio['path']}: {ratio['ratio']:.1f}x ({ratio['plain_median_s']:.2f} s / {ratio['fast_median_s']:.2f} s)"
        )
    identical = results["outputs"]["identical"]
    compared = "between fast and plain runs" if results["ratios"] else f"across the {current} runs"
    lines.append(
        f"outputs byte-identical {compared} ({results['outputs']['runs']} runs, compared per path): "
        + ("yes" if identical else "NO (were sources edited during the benchmark? see the digests in the JSON)")
    )
    unstable = [name for name, n in results["outputs"]["distinct_per_mode"].items() if n > 1]
    if unstable:
        lines.append(
            f"  outputs differed between runs of: {', '.join(unstable)} (sources edited meanwhile, or nondeterministic output)"
        )
    lines.append(
        f"target, median `python main.py` synth under {TARGET_SECONDS:.0f} s: {fast:.2f} s, {verdict(fast < TARGET_SECONDS)}"
    )
    busy = synth[current]["other_load_cores_median"]
    if busy > BUSY_CORES:
        lines.append(
            f"  caution: other processes used {busy:.2f} cores during the median fast run; the machine was not quiet, rerun to confirm"
        )
    suite = results.get("test_suite")
    if suite:
        verdict_suite = "within" if suite["wall_s"] < SUITE_BUDGET_SECONDS else "OVER"
        lines.append(
            f'test suite, `pytest -m "not roundtrip"` (one run): {suite["wall_s"]:.1f} s wall, {verdict_suite} the {SUITE_BUDGET_SECONDS:.0f} s budget; '
            f"{suite['summary']} (exit {suite['returncode']})"
        )
        lines.append(f"  CPU {suite['cpu_s']:.1f} s, other load {suite['other_load_cores']:.2f} cores; slowest:")
        lines.extend(f"    {line}" for line in suite["slowest"][:6])
    lines.append("")
    lines.append("wall: from spawn to exit. CPU: user+system of the whole process tree (median). other load: median CPU")
    lines.append(
        f"used by everything else on the machine during a run, in cores (of {results['machine']['cpus']}); above ~{BUSY_CORES} wall times are inflated."
    )
    lines.append("Ratios and percentages compare medians; the CPU figure beside each compares median CPU times.")
    if results["settle_max_s"] > 0:
        lines.append(
            f"Each timed run first waited up to {results['settle_max_s']:.0f} s for other load under {BUSY_CORES} cores (best effort)."
        )
    lines.append("MiB columns, worst run: tree peak = largest sum of VmRSS over the process tree in one sample;")
    lines.append("sum of peaks = sum of each process's own VmHWM (an upper bound of the tree peak); both sampled every")
    lines.append(
        f"{results['sampling_interval_s'] * 1000:.0f} ms, so they can miss growth in a process's last interval. largest proc = wait4 ru_maxrss:"
    )
    lines.append("exact, but the peak of one process (the biggest in the tree), not a sum. Per-process peaks: " + results["json"])
    if any(name.startswith("cdktf CLI") for name in synth):
        lines.append("The CLI rows include npx, the cdktf CLI's own Node process and its `terraform version` calls.")
    return "\n".join(lines)


def count_items(text: str, key: str) -> int:
    lines = text.splitlines()
    try:
        start, end = _block(lines, key)
    except GrowthError:
        return 0
    items = [i for i in range(start + 1, end) if re.match(r"^\s*- ", lines[i])]
    return sum(1 for i in items if _indent(lines[i]) == _indent(lines[items[0]]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per main.py mode (default 5)")
    parser.add_argument("--cli-runs", type=int, default=3, help="timed runs per cdktf CLI mode (default 3; 0 skips the CLI)")
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timing")
    parser.add_argument("--no-plain", action="store_true", help="skip `main.py` with KARPENTER_PLAIN_IMPORTS=1")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline revision")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor process")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth config")
    parser.add_argument(
        "--only",
        choices=["core"],
        help="core: baseline, current, floor and growth only (as --no-plain --cli-runs 0 --no-tests)",
    )
    parser.add_argument(
        "--baseline-rev",
        default=DEFAULT_BASELINE_REV,
        help=f"git revision of the baseline (default {DEFAULT_BASELINE_REV}: before release profiles and CRD validation)",
    )
    parser.add_argument(
        "--growth",
        type=int,
        default=DEFAULT_GROWTH,
        help=f"node classes and node pools in the growth config (default {DEFAULT_GROWTH})",
    )
    parser.add_argument(
        "--floor-providers",
        default="auto",
        help="provider packages the floor loads, in order, comma-separated (aws,helm,...); default auto: those whose assemblies `main.py` loads, in its order",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="before each timed run, wait up to this many seconds for the rest of the machine to go quiet (default 15; 0: don't)",
    )
    parser.add_argument("--interval", type=float, default=0.01, help="RSS sampling interval in seconds (default 0.01)")
    parser.add_argument("--config", default=os.environ.get("KARPENTER_CONFIG") or DEFAULT_CONFIG)
    parser.add_argument("--json", default=str(ROOT / ".bench" / "results.json"))
    args = parser.parse_args()
    if args.only == "core":
        args.no_plain, args.cli_runs, args.no_tests = True, 0, True
    if args.runs < 1 or args.cli_runs < 0 or args.growth < 1:
        parser.error("--runs and --growth must be at least 1 and --cli-runs at least 0")

    python = sys.executable
    npx = shutil.which("npx") if args.cli_runs > 0 else None
    env = base_env(args.config)
    results: dict = {
        "config": args.config,
        "runs": args.runs,
        "cli_runs": args.cli_runs if npx else 0,
        "sampling_interval_s": args.interval,
        "settle_max_s": args.settle,
        "json": os.path.relpath(args.json, ROOT),
        "source": git_state(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
            "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        },
        "synth": {},
        "ratios": [],
        "stack_sizes": {},
    }
    current = Mode("main.py fast", [python, "main.py"])
    results["current_mode"] = current.name
    digests: dict[str, set[str]] = {}  # per path: the outputs that must all be one
    per_mode: dict[str, set[str]] = {}
    compared_runs = 0

    def record(mode: Mode, run: Run, path: str | None) -> None:
        nonlocal compared_runs
        if run.output_digest is None:
            return
        per_mode.setdefault(mode.name, set()).add(run.output_digest)
        if path:
            digests.setdefault(path, set()).add(run.output_digest)
            compared_runs += 1

    def note(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="karpenter-bench-") as tmp:
        workdir = Path(tmp)
        results["stacks"], app_providers = probe_app(python, env, workdir)

        # The main.py modes, interleaved: current first, then what was asked for.
        modes = [current]
        path_of = {current.name: "python main.py"}
        if not args.no_baseline:
            directory, commit = materialize_baseline(args.baseline_rev, workdir)
            if directory is None:
                note(f"baseline skipped: {commit}")
                results["baseline"] = {"rev": args.baseline_rev, "skipped": commit}
            else:
                stubs, stubbed, why_not = baseline_stubs(directory, workdir)
                if why_not:
                    note(f"baseline skipped: {why_not}")
                    results["baseline"] = {"rev": args.baseline_rev, "commit": commit, "skipped": why_not}
                else:
                    # its main.py reads its own bundled example (KARPENTER_CONFIG unset)
                    extra: dict[str, str | None] = {"KARPENTER_CONFIG": None}
                    if stubs:
                        extra["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stubs), env.get("PYTHONPATH")]))
                    mode = Mode(f"baseline {commit[:7]}", [python, "main.py"], cwd=directory, env=extra)
                    results["baseline"] = {
                        "rev": args.baseline_rev,
                        "commit": commit,
                        "mode": mode.name,
                        "config": f"{DEFAULT_CONFIG} of {commit[:7]}",
                        "stubbed_packages": stubbed,
                    }
                    modes.insert(0, mode)
        if not args.no_plain:
            plain = Mode("main.py plain", [python, "main.py"], plain=True)
            modes.append(plain)
            path_of[plain.name] = "python main.py"
        if not args.no_floor:
            if args.floor_providers == "auto":
                providers = app_providers
            else:
                providers = [
                    p if p.startswith("cdktf_cdktf_provider_") else f"cdktf_cdktf_provider_{p}"
                    for p in args.floor_providers.split(",")
                    if p
                ]
            mode = Mode("floor", [python, "-c", FLOOR_CODE, str(ROOT), *providers], output=False)
            results["floor"] = {
                "mode": mode.name,
                "providers": providers,
                "order": "the app's" if args.floor_providers == "auto" else "as given",
            }
            modes.append(mode)
        if not args.no_growth:
            text = Path(ROOT, args.config).read_text()
            try:
                generated = growth_config(text, args.growth)
            except GrowthError as error:
                note(f"growth skipped: cannot derive it from {args.config}: {error}")
                results["growth"] = {"count": args.growth, "skipped": f"cannot derive it from {args.config}: {error}"}
            else:
                config = workdir / f"growth-{args.growth}.yaml"
                config.write_text(generated)
                mode = Mode(f"growth {args.growth}+{args.growth}", [python, "main.py"], env={"KARPENTER_CONFIG": str(config)})
                results["growth"] = {
                    "count": args.growth,
                    "mode": mode.name,
                    "base_classes": count_items(text, "node_classes"),
                    "base_pools": count_items(text, "node_pools"),
                    "config_bytes": len(generated.encode()),
                }
                modes.append(mode)

        timed: dict[str, list[Run]] = {mode.name: [] for mode in modes}
        for mode in modes:
            note(f"warm-up: {mode.name}")
            run = run_mode(mode, env, workdir, f"warmup-{mode.name.replace(' ', '-')}", args.interval, stats=True)
            record(mode, run, path_of.get(mode.name))
            if run.stacks:
                results["stack_sizes"][mode.name] = run.stacks
        for i in range(args.runs):
            for mode in modes[i % len(modes) :] + modes[: i % len(modes)]:  # a different mode goes first each round
                run = run_mode(mode, env, workdir, f"{mode.name.replace(' ', '-')}-{i}", args.interval, args.settle)
                note(
                    f"  {mode.name} #{i + 1}: {run.wall_s:.2f} s, CPU {run.cpu_s:.2f} s (other load {run.other_load_cores:.2f} cores)"
                )
                record(mode, run, path_of.get(mode.name))
                timed[mode.name].append(run)
        for mode in modes:
            results["synth"][mode.name] = summarize(timed[mode.name])
        if not args.no_plain:
            fast, plain = (
                results["synth"]["main.py fast"]["wall_s"]["median"],
                results["synth"]["main.py plain"]["wall_s"]["median"],
            )
            results["ratios"].append(
                {"path": "python main.py", "ratio": plain / fast, "plain_median_s": plain, "fast_median_s": fast}
            )

        if npx:
            group = cli_modes(npx)
            for mode in group:
                note(f"warm-up: {mode.name}")
                record(
                    mode, run_mode(mode, env, workdir, f"warmup-{mode.name.replace(' ', '-')}", args.interval), "npx cdktf synth"
                )
            cli_timed: dict[str, list[Run]] = {mode.name: [] for mode in group}
            for i in range(args.cli_runs):
                for mode in group:
                    run = run_mode(mode, env, workdir, f"{mode.name.replace(' ', '-')}-{i}", args.interval, args.settle)
                    note(
                        f"  {mode.name} #{i + 1}: {run.wall_s:.2f} s, CPU {run.cpu_s:.2f} s (other load {run.other_load_cores:.2f} cores)"
                    )
                    record(mode, run, "npx cdktf synth")
                    cli_timed[mode.name].append(run)
            for name, mode_runs in cli_timed.items():
                results["synth"][name] = summarize(mode_runs)
            fast, plain = (results["synth"][mode.name]["wall_s"]["median"] for mode in group)
            results["ratios"].append(
                {"path": "npx cdktf synth", "ratio": plain / fast, "plain_median_s": plain, "fast_median_s": fast}
            )
    results["outputs"] = {
        "runs": compared_runs,
        # Compared within a path (fast and plain runs interleave there): sources edited between paths
        # would change the bytes legitimately. tests/test_fast_imports.py is the real guarantee.
        "identical": all(len(d) == 1 for d in digests.values()),
        "digests": {path: sorted(d) for path, d in digests.items()},
        "distinct_per_mode": {name: len(d) for name, d in per_mode.items()},
    }
    if not args.no_tests:
        note("test suite: pytest -m 'not roundtrip'")
        if args.settle > 0:
            wait_for_quiet(args.settle)
        with tempfile.TemporaryDirectory(prefix="karpenter-bench-") as tmp:
            results["test_suite"] = run_suite(python, env, Path(tmp), args.interval)
    results["machine"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]

    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0 if results["outputs"]["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
