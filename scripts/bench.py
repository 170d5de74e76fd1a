"""`make bench`: how long synth of every stack takes, each way, and how long the test suite takes.

One run measures, as separate processes (this environment minus CDKTF_OUTDIR and
KARPENTER_PLAIN_IMPORTS, with the Node end-of-life banner silenced):

* `python main.py` with the bare provider packages (karpenter_constructs/fast_imports.py) and
  with `KARPENTER_PLAIN_IMPORTS=1` (the provider packages' eager `__init__`), interleaved;
* `npx cdktf synth`, the command users run, both ways too;
* the default test suite, `pytest -m "not roundtrip"`, once.

Each synth mode gets one untimed warm-up run (page cache, `.pyc` files, jsii's package cache),
then `--runs` (CLI: `--cli-runs`) timed runs, fast and plain alternating. Every run writes into
its own temporary output directory; fast and plain runs of one path must produce the same bytes
(the benchmark exits 1 otherwise). tests/test_fast_imports.py is the real proof of that.

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
divided by the run's wall time, in cores. On a shared 2-core machine, read the wall times with it.
Before each timed run (and the suite) the script waits up to `--settle` seconds for a half-second
in which other processes use under 0.3 cores; if they never do, it runs anyway.

Only the standard library. Results: a table on stdout and `.bench/results.json`.
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


def _read_status(pid: int) -> dict[str, int] | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    values = {}
    for key in ("VmRSS", "VmHWM"):
        if key in fields:
            values[key] = int(fields[key].split()[0])  # kB
    return values


def _children(pid: int) -> list[int]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return []
    found = []
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
    plain: bool
    argv: list[str]
    outdir_flag: str | None  # CLI flag for the output directory; None: CDKTF_OUTDIR


def synth_modes(python: str, npx: str | None) -> list[list[Mode]]:
    groups = [[
        Mode("main.py fast", False, [python, "main.py"], None),
        Mode("main.py plain", True, [python, "main.py"], None),
    ]]
    if npx:
        groups.append([
            Mode("cdktf CLI fast", False, [npx, "cdktf", "synth"], "--output"),
            Mode("cdktf CLI plain", True, [npx, "cdktf", "synth"], "--output"),
        ])
    return groups


def run_mode(mode: Mode, env: dict[str, str], workdir: Path, label: str, interval: float, settle: float = 0.0) -> Run:
    env = dict(env)
    if mode.plain:
        env["KARPENTER_PLAIN_IMPORTS"] = "1"
    outdir = workdir / f"{label}.out"
    argv = list(mode.argv)
    if mode.outdir_flag:
        argv += [mode.outdir_flag, str(outdir)]
    else:
        env["CDKTF_OUTDIR"] = str(outdir)
    log = workdir / f"{label}.log"
    if settle > 0:
        wait_for_quiet(settle)
    run = measure(argv, env, ROOT, log, interval)
    if run.returncode != 0:
        raise SystemExit(f"{mode.name} failed with exit code {run.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
    run.output_digest = tree_digest(outdir)
    shutil.rmtree(outdir, ignore_errors=True)
    return run


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


def stack_names(python: str, env: dict[str, str], workdir: Path) -> list[str]:
    outdir = workdir / "stacks.out"
    subprocess.run([python, "main.py"], cwd=ROOT, env={**env, "CDKTF_OUTDIR": str(outdir)}, check=True, capture_output=True)
    manifest = json.loads((outdir / "manifest.json").read_text())
    shutil.rmtree(outdir, ignore_errors=True)
    return sorted(manifest["stacks"])


def fmt_wall(summary: dict) -> str:
    wall = summary["wall_s"]
    return f"{wall['min']:5.2f} / {wall['median']:5.2f} / {wall['max']:5.2f}"


def report(results: dict) -> str:
    lines = []
    synth = results["synth"]
    lines.append(
        f"synth of all stacks ({', '.join(results['stacks'])}) from {results['config']}: "
        f"{results['runs']} timed runs per main.py mode, {results['cli_runs']} per CLI mode, each after 1 warm-up, modes interleaved"
    )
    lines.append(f"{results['machine']['cpus']} CPUs, load average before {results['machine']['loadavg_before']}, after {results['machine']['loadavg_after']}")
    lines.append("")
    header = f"{'mode':<17}{'wall s min / median / max':>27}{'CPU s':>8}{'other load':>12}{'tree peak MiB':>15}{'sum of peaks MiB':>18}{'largest proc MiB':>18}"
    lines.append(header)
    lines.append("-" * len(header))
    for name, summary in synth.items():
        lines.append(
            f"{name:<17}{fmt_wall(summary):>27}{summary['cpu_s_median']:>8.2f}{summary['other_load_cores_median']:>12.2f}"
            f"{summary['tree_peak_rss_mb_max']:>15.0f}{summary['sum_of_peaks_mb_max']:>18.0f}{summary['largest_process_mb_max']:>18.0f}"
        )
    lines.append("")
    for ratio in results["ratios"]:
        lines.append(f"ratio plain/fast, median wall, {ratio['path']}: {ratio['ratio']:.1f}x ({ratio['plain_median_s']:.2f} s / {ratio['fast_median_s']:.2f} s)")
    identical = results["outputs"]["identical"]
    lines.append(
        f"outputs byte-identical between fast and plain runs ({results['outputs']['runs']} runs, compared per path): "
        + ("yes" if identical else "NO (were sources edited during the benchmark? see the digests in the JSON)")
    )
    fast = synth["main.py fast"]["wall_s"]["median"]
    lines.append(f"target, median `python main.py` synth under {TARGET_SECONDS:.0f} s: {fast:.2f} s, {'met' if fast < TARGET_SECONDS else 'NOT MET'}")
    busy = synth["main.py fast"]["other_load_cores_median"]
    if busy > BUSY_CORES:
        lines.append(f"  caution: other processes used {busy:.2f} cores during the median fast run; the machine was not quiet, rerun to confirm")
    suite = results.get("test_suite")
    if suite:
        verdict = "within" if suite["wall_s"] < SUITE_BUDGET_SECONDS else "OVER"
        lines.append(
            f"test suite, `pytest -m \"not roundtrip\"` (one run): {suite['wall_s']:.1f} s wall, {verdict} the {SUITE_BUDGET_SECONDS:.0f} s budget; "
            f"{suite['summary']} (exit {suite['returncode']})"
        )
        lines.append(f"  CPU {suite['cpu_s']:.1f} s, other load {suite['other_load_cores']:.2f} cores; slowest:")
        lines.extend(f"    {line}" for line in suite["slowest"][:6])
    lines.append("")
    lines.append("wall: from spawn to exit. CPU: user+system of the whole process tree (median). other load: median CPU")
    lines.append(f"used by everything else on the machine during a run, in cores (of {results['machine']['cpus']}); above ~{BUSY_CORES} wall times are inflated.")
    if results["settle_max_s"] > 0:
        lines.append(f"Each timed run first waited up to {results['settle_max_s']:.0f} s for other load under {BUSY_CORES} cores (best effort).")
    lines.append("MiB columns, worst run: tree peak = largest sum of VmRSS over the process tree in one sample;")
    lines.append("sum of peaks = sum of each process's own VmHWM (an upper bound of the tree peak); both sampled every")
    lines.append(f"{results['sampling_interval_s'] * 1000:.0f} ms, so they can miss growth in a process's last interval. largest proc = wait4 ru_maxrss:")
    lines.append("exact, but the peak of one process (the biggest in the tree), not a sum. Per-process peaks: " + results["json"])
    if any(name.startswith("cdktf CLI") for name in synth):
        lines.append("The CLI rows include npx, the cdktf CLI's own Node process and its `terraform version` calls.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per main.py mode (default 5)")
    parser.add_argument("--cli-runs", type=int, default=3, help="timed runs per cdktf CLI mode (default 3; 0 skips the CLI)")
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timing")
    parser.add_argument("--settle", type=float, default=15.0, help="before each timed run, wait up to this many seconds for the rest of the machine to go quiet (default 15; 0: don't)")
    parser.add_argument("--interval", type=float, default=0.01, help="RSS sampling interval in seconds (default 0.01)")
    parser.add_argument("--config", default=os.environ.get("KARPENTER_CONFIG") or DEFAULT_CONFIG)
    parser.add_argument("--json", default=str(ROOT / ".bench" / "results.json"))
    args = parser.parse_args()
    if args.runs < 1 or args.cli_runs < 0:
        parser.error("--runs must be at least 1 and --cli-runs at least 0")

    python = sys.executable
    npx = shutil.which("npx") if args.cli_runs > 0 else None
    env = base_env(args.config)
    results: dict = {
        "config": args.config,
        "runs": args.runs,
        "cli_runs": args.cli_runs,
        "sampling_interval_s": args.interval,
        "settle_max_s": args.settle,
        "json": os.path.relpath(args.json, ROOT),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
            "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        },
        "synth": {},
        "ratios": [],
    }
    digests: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="karpenter-bench-") as tmp:
        workdir = Path(tmp)
        results["stacks"] = stack_names(python, env, workdir)
        for group in synth_modes(python, npx):
            runs = args.runs if not group[0].outdir_flag else args.cli_runs
            path = "python main.py" if not group[0].outdir_flag else "npx cdktf synth"
            group_digests = digests.setdefault(path, set())
            for mode in group:
                print(f"warm-up: {mode.name}", file=sys.stderr, flush=True)
                group_digests.add(run_mode(mode, env, workdir, f"warmup-{mode.name.replace(' ', '-')}", args.interval).output_digest)
            timed: dict[str, list[Run]] = {mode.name: [] for mode in group}
            for i in range(runs):
                for mode in group:
                    run = run_mode(mode, env, workdir, f"{mode.name.replace(' ', '-')}-{i}", args.interval, args.settle)
                    print(f"  {mode.name} #{i + 1}: {run.wall_s:.2f} s (other load {run.other_load_cores:.2f} cores)", file=sys.stderr, flush=True)
                    group_digests.add(run.output_digest)
                    timed[mode.name].append(run)
            for name, mode_runs in timed.items():
                results["synth"][name] = summarize(mode_runs)
            fast, plain = (results["synth"][mode.name]["wall_s"]["median"] for mode in group)
            results["ratios"].append({"path": path, "ratio": plain / fast, "plain_median_s": plain, "fast_median_s": fast})
    results["outputs"] = {
        "runs": sum(1 + s["runs"] for s in results["synth"].values()),
        # Compared within a path (fast and plain runs interleave there): sources edited between paths
        # would change the bytes legitimately. tests/test_fast_imports.py is the real guarantee.
        "identical": all(len(d) == 1 for d in digests.values()),
        "digests": {path: sorted(d) for path, d in digests.items()},
    }
    if not args.no_tests:
        print("test suite: pytest -m 'not roundtrip'", file=sys.stderr, flush=True)
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
