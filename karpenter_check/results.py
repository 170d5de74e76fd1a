"""One row of the check table, and the table."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["PASS", "WARN", "FAIL", "SKIP"]


@dataclass(frozen=True)
class Result:
    check: str  # stable name: "controller policy aws-2026-eks-karpenter-controller"
    status: Status
    detail: str
    fix: str = ""  # what to do, for FAIL rows


def passed(check: str, detail: str) -> Result:
    return Result(check, "PASS", detail)


def warned(check: str, detail: str, fix: str) -> Result:
    """Works today, but needs action soon (a support deadline); not a failure."""
    return Result(check, "WARN", detail, fix)


def failed(check: str, detail: str, fix: str) -> Result:
    return Result(check, "FAIL", detail, fix)


def skipped(check: str, detail: str) -> Result:
    return Result(check, "SKIP", detail)


def exit_code(results: Iterable[Result]) -> int:
    """1 if any check failed, else 0 (WARN and SKIP are not failures)."""
    return 1 if any(r.status == "FAIL" for r in results) else 0


HEADERS = ("check", "status", "detail", "fix")


def render_table(results: Sequence[Result], width: int | None = None) -> str:
    """A plain-text table, cells wrapped so the table fits `width` columns (the terminal's by default)."""
    width = width or max(shutil.get_terminal_size((160, 24)).columns, 100)
    rows = [HEADERS] + [(r.check, r.status, r.detail, r.fix) for r in results]
    natural = [max(len(row[i]) for row in rows) for i in range(4)]
    check_w, status_w = min(natural[0], 44), max(natural[1], len("status"))
    rest = max(width - check_w - status_w - 3 * 3, 40)
    detail_w = min(natural[2], max(rest // 2, rest - natural[3]))
    fix_w = max(min(natural[3], rest - detail_w), len("fix"))
    widths = (check_w, status_w, detail_w, fix_w)
    lines = []
    for index, row in enumerate(rows):
        cells = [
            textwrap.wrap(text, w, break_long_words=True, break_on_hyphens=False) or [""]
            for text, w in zip(row, widths, strict=True)
        ]
        for line in range(max(len(c) for c in cells)):
            parts = [(c[line] if line < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True)]
            lines.append(" | ".join(parts).rstrip())
        if index == 0:
            lines.append("-+-".join("-" * w for w in widths))
    counts = {status: sum(1 for r in results if r.status == status) for status in ("PASS", "WARN", "FAIL", "SKIP")}
    lines.append("")
    # Not "N passed, N failed": that line is what test-run summaries look like to CI.
    lines.append(f"checks: {counts['PASS']} PASS / {counts['WARN']} WARN / {counts['FAIL']} FAIL / {counts['SKIP']} SKIP")
    return "\n".join(lines)
