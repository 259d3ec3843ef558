"""Rewrite the README's Figures table and each docs page's figures section from docs/figures.json
(written by scripts/bench_all). Only text between the markers is replaced:

    <!-- figures:readme -->  ...  <!-- /figures:readme -->          (README.md)
    <!-- figures:bench_scan --> ... <!-- /figures:bench_scan -->   (the docs page of each benchmark)

Every number written comes from the file, so the README never quotes a figure the current code
has not produced; each section says when, by which command and under what load it was measured.
"""
import re
from datetime import datetime
from pathlib import Path

from benchlib.readme_rows import ROWS
from benchlib.report import fmt

PAGES = {"bench_scan": "docs/sampling.md", "bench_sync": "docs/sampling.md", "bench_collisions": "docs/collisions.md",
         "bench_results": "docs/lab.md", "bench_residents": "docs/residents.md", "bench_scanpage": "docs/scanpage.md",
         "bench_stats": "docs/stats.md"}
DB_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite", None: ""}


def replace_between(text: str, marker: str, body: str) -> str:
    """``text`` with what stands between <!-- marker --> and <!-- /marker --> replaced by ``body``."""
    pattern = re.compile(rf"(<!-- {re.escape(marker)} -->\n).*?(<!-- /{re.escape(marker)} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"marker <!-- {marker} --> ... <!-- /{marker} --> not found")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text, count=1)


def day(stamp: str | None) -> str:
    return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M") if stamp else "never"


def conditions(c: dict) -> str:
    """One sentence: CPUs, load average, what else used the CPU."""
    if not c:
        return "conditions not recorded"
    load = c.get("load_1min", {})
    others = c.get("cpu_seconds_others", {})
    top = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in list(others.items())[:4])
    used = sum(others.values())
    return (f"{c.get('cpus')} CPUs ({c.get('cpu_model', '?')}), commit {c.get('commit', '?')}; load average "
            f"{load.get('median', '?')} (min {load.get('min', '?')}, max {load.get('max', '?')}); other processes "
            f"used {used:,.0f} of the {c.get('cpu_seconds_available', 0):,.0f} CPU-seconds available meanwhile"
            + (f" ({top})" if top else ""))


def section(entry: dict) -> str:
    """A benchmark's generated figures section (markdown)."""
    lines = [f"Measured {day(entry.get('started'))} by `scripts/bench_all` ({entry.get('mode', '?')} mode): "
             f"`{entry.get('command', entry.get('bench'))}`, {entry.get('seconds', 0):,.0f} s; "
             f"{conditions(entry.get('conditions', {}))}.", ""]
    lines += [f"{note}." if not note.endswith(".") else note for note in entry.get("notes", [])]
    dbs = sorted({f["db"] for f in entry.get("figures", [])}, key=lambda d: (d is None, d or ""))
    rows: dict[tuple, dict] = {}
    for f in entry.get("figures", []):
        rows.setdefault((f["key"], f["label"]), {})[f["db"]] = fmt(f["value"], f["unit"])
    if rows:
        heads = [DB_NAMES.get(db, db) or "value" for db in dbs]
        lines += ["", "| figure | " + " | ".join(heads) + " |", "|---" * (len(dbs) + 1) + "|"]
        for (_key, label), values in rows.items():
            lines.append(f"| {label} | " + " | ".join(values.get(db, "") for db in dbs) + " |")
    aims = entry.get("aims", [])
    if aims:
        lines.append("")
        for aim in aims:
            where = f" ({DB_NAMES.get(aim['db'], aim['db'])})" if aim.get("db") else ""
            lines.append(f"- aim {aim['label']}{where}: {'met' if aim['met'] else '**not met**'} — {aim['measured']}")
    problems = entry.get("problems", [])
    if problems:
        lines += ["", f"**The run failed (exit {entry.get('exit')})**: its figures are not to be trusted:", ""]
        lines += [f"    {p}" for p in problems[:20]]
    return "\n".join(lines) + "\n"


def readme_table(data: dict) -> str:
    benches = data.get("benchmarks", {})
    c = data.get("conditions", {})
    lines = [f"Generated from [docs/figures.json](docs/figures.json), written by `{data.get('command')}` on "
             f"{day(data.get('generated'))} ({data.get('seconds', 0) / 60:,.0f} min; {conditions(c)}). "
             "Each figure is a median of interleaved rounds with its ceiling or floor measured in the same run; "
             "the docs pages have every figure with its conditions. Regenerate: `scripts/bench_all` "
             "(see [Figures](#figures)).", "",
             "| what | aim | measured | script |", "|---|---|---|---|"]
    for row in ROWS:
        entry = benches.get(row.bench)
        if entry is None:
            measured = "not measured yet"
        elif entry.get("problems"):
            measured = f"**run failed** (exit {entry.get('exit')}): see the docs page"
        else:
            measured = row.measured(Lookup(entry))
            missed = [a for a in entry.get("aims", []) if a["key"] in row.aims and not a["met"]]
            if missed:
                measured += " — **aim not met" + (
                    f" on {', '.join(DB_NAMES.get(a['db'], a['db']) for a in missed if a['db'])}"
                    if any(a["db"] for a in missed) else "") + "**"
            measured += f" ({day(entry.get('started'))[:10]})"
        lines.append(f"| {row.what} | {row.aim} | {measured} | `scripts/{row.bench}.py` |")
    return "\n".join(lines) + "\n"


class Lookup:
    """Formatted figures of one benchmark entry: ``f("scan_rate", "postgresql")``."""

    def __init__(self, entry: dict):
        self.entry = entry
        self.values = {(f["key"], f["db"]): f for f in entry.get("figures", [])}

    def __call__(self, key: str, db: str | None = None) -> str:
        f = self.values.get((key, db))
        return fmt(f["value"], f["unit"]) if f else "—"

    def raw(self, key: str, db: str | None = None) -> float | None:
        f = self.values.get((key, db))
        return f["value"] if f else None

    def has(self, db: str) -> bool:
        return any(d == db for _k, d in self.values)

    def arg(self, name: str, default=None):
        return self.entry.get("args", {}).get(name, default)


def render(data: dict, root: Path) -> None:
    """Rewrite README.md and the docs pages from ``data`` (the figures file's content)."""
    readme = root / "README.md"
    readme.write_text(replace_between(readme.read_text(), "figures:readme", readme_table(data)))
    for name, entry in data.get("benchmarks", {}).items():
        page = root / (entry.get("page") or PAGES.get(name, f"docs/{name}.md"))
        if page.exists():
            page.write_text(replace_between(page.read_text(), f"figures:{name}", section(entry)))
