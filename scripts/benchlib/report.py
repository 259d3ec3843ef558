"""A benchmark's outcome: its figures, its aims, the problems it found, and the exit code.

Every script makes one :class:`Report`, records each figure it prints (``figure``), each aim
(``aim``) and each unexpected answer or failed check (``problem``), and ends with
``raise SystemExit(report.finish())``: exit 0 when everything was as expected and every aim held,
1 when an answer or a check was wrong (the figures are not to be trusted), 3 when only an aim was
missed. With ``--json FILE`` the report is also written as JSON (``scripts/bench_all`` collects
these into docs/figures.json).
"""
import argparse
import json
import statistics
import sys
import time
from datetime import datetime

from benchlib.machine import Watch

EXIT_OK, EXIT_PROBLEM, EXIT_AIM_MISSED = 0, 1, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", help="also write the figures, aims and conditions to FILE")


class Report:
    """Figures, aims and problems of one run (see the module's docstring)."""

    def __init__(self, bench: str, args: argparse.Namespace | None = None, page: str | None = None):
        """``page``: the docs page whose figures section scripts/bench_all rewrites (default
        benchlib.figures.PAGES[bench], else docs/<bench>.md)."""
        self.bench, self.args, self.page = bench, args, page
        self.figures, self.aims, self.problems, self.notes = [], [], [], []
        self.started = datetime.now().astimezone()
        self.watch = Watch()

    def figure(self, key: str, value: float, unit: str, label: str, db: str | None = None) -> float:
        """Record a figure (``unit``: "/s", "ms", "s", "MB", "x" for a ratio, "%" ...); returns it."""
        self.figures.append({"key": key, "db": db, "value": value, "unit": unit, "label": label})
        return value

    def ratio(self, key: str, numerator: float, denominator: float, label: str, db: str | None = None,
              unit: str = "x") -> float:
        """A ratio of two figures of this run (both measured here, interleaved); ``unit`` "%" for a share."""
        return self.figure(key, numerator / denominator if denominator else float("nan"), unit, label, db)

    def aim(self, key: str, label: str, met: bool, measured: str, db: str | None = None) -> bool:
        """Record an aim (``label`` says it, e.g. "scan p99 < 100 ms at 725/s") and whether it held."""
        self.aims.append({"key": key, "db": db, "label": label, "met": bool(met), "measured": measured})
        print(f"aim {'met   ' if met else 'MISSED'} {label}{f' [{db}]' if db else ''}: {measured}", flush=True)
        return bool(met)

    def problem(self, text: str) -> None:
        """An unexpected answer or a failed check: the run's figures are not to be trusted."""
        self.problems.append(text)
        print(f"  FAILED {text}", file=sys.stderr, flush=True)

    def check(self, ok: bool, text: str) -> bool:
        if not ok:
            self.problem(text)
        return ok

    def phase(self, name: str, phase) -> None:
        """The problems an HTTP phase (benchlib.load.Phase) found in its answers."""
        for text in phase.problems:
            self.problem(f"{name}: {text}")
        if phase.problem_count > len(phase.problems):
            self.problem(f"{name}: {phase.problem_count - len(phase.problems)} more unexpected answers")

    def note(self, text: str) -> None:
        """A sentence for the docs (what ran, sizes, settings)."""
        self.notes.append(text)

    def exit_code(self) -> int:
        if self.problems:
            return EXIT_PROBLEM
        return EXIT_AIM_MISSED if any(not a["met"] for a in self.aims) else EXIT_OK

    def finish(self) -> int:
        """Print the verdict, write --json, return the exit code."""
        conditions = self.watch.result()
        code = self.exit_code()
        print(f"\n{self.bench} figures:")
        for f in self.figures:
            label = f"{f['label']} [{f['db']}]" if f["db"] else f["label"]
            print(f"  {label:<86} {fmt(f['value'], f['unit'])}")
        missed = [a for a in self.aims if not a["met"]]
        print(f"\n{self.bench}: {len(self.figures)} figures, {len(self.aims) - len(missed)}/{len(self.aims)} aims met, "
              f"{len(self.problems)} problems; load average {conditions['load_1min']['median']} "
              f"(min {conditions['load_1min']['min']}, max {conditions['load_1min']['max']}) on "
              f"{conditions['cpus']} CPUs; exit {code}", flush=True)
        path = getattr(self.args, "json", None) if self.args else None
        if path:
            args = {k: v for k, v in vars(self.args).items() if k != "json"} if self.args else {}
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"bench": self.bench, "page": self.page, "args": args,
                           "started": self.started.isoformat(timespec="seconds"), "conditions": conditions,
                           "figures": self.figures, "aims": self.aims, "problems": self.problems,
                           "notes": self.notes, "exit": code},
                          f, ensure_ascii=False, indent=1, default=str)
        return code


def interleaved(rounds: int, phases: dict) -> dict:
    """Run ``phases`` {name: fn(round)} ``rounds`` times, one of each per round, the order rotated
    every round (so no phase always runs first or last); returns {name: [result per round]}."""
    names = list(phases)
    out = {name: [] for name in names}
    for n in range(rounds):
        for name in names[n % len(names):] + names[:n % len(names)]:
            out[name].append(phases[name](n))
    return out


def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def timed(fn) -> tuple[float, object]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def fmt(value: float, unit: str) -> str:
    """A figure as the docs print it: 1,234/s, 12.3 ms, 1.23 s, 1.41 ×, 44 %."""
    if value != value:  # nan
        return "—"
    if unit == "x":
        return f"{value:.2f} ×" if value < 10 else f"{value:,.0f} ×"
    if unit == "%":
        return f"{value:.0%}"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 1000 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:,.1f} MB" if value < 10 else f"{value:,.0f} MB"
    if not unit:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
    return f"{value:,.4g} {unit}"
