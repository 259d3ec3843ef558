"""scripts/bench_all: run every benchmark, one after the other, each under /tmp/bench.lock, and
collect their reports (--json) into docs/figures.json; then rewrite the README's Figures table and
the docs pages' figures sections from that file (benchlib.figures).

    scripts/bench_all                      # every benchmark, quick sizes (≤ 15 min on 2 cores)
    scripts/bench_all --only bench_stats   # one (or a few); the others' entries are kept
    scripts/bench_all --full               # the docs' full sizes (1 M-row roster, 14 M-resident city: hours)
    scripts/bench_all --render             # only rewrite README and docs from docs/figures.json

Do not wrap it in `flock /tmp/bench.lock`: it takes that lock itself for each benchmark (so that
another engineer's benchmark can run between two of ours, never during one). The PostgreSQL
databases the benchmarks wipe are $BENCH_PG_DATABASE when set, else their own defaults
(bench_c, bench_e, bench_r, bench_g). Exit 0 when every benchmark ran clean with its aims met,
1 when one found an unexpected answer or failed, 3 when only aims were missed.
"""
import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchlib import figures, machine

ROOT = Path(__file__).resolve().parent.parent.parent
FIGURES = ROOT / "docs" / "figures.json"
LOCK = "/tmp/bench.lock"
# name: (quick arguments, full arguments, timeout in minutes in quick mode)
BENCHMARKS = {
    "bench_scan": (["--db", "both", "--clients", "16", "--tubes", "5", "--repeat", "3", "--paced-seconds", "5"],
                   ["--db", "both", "--clients", "16", "--tubes", "5", "--repeat", "5", "--paced-seconds", "10"], 10),
    "bench_sync": (["--clients", "4", "--batches", "10", "--repeat", "5", "--history", "200000"],
                   ["--clients", "4", "--batches", "25", "--repeat", "5", "--history", "200000"], 10),
    "bench_collisions": (["--rows", "200000", "--repeat", "3", "--upload-repeat", "3"],
                         ["--rows", "1000000", "--repeat", "3", "--upload-repeat", "3"], 15),
    "bench_results": (["--tubes", "2000", "--repeat", "5", "--db", "both"],
                      ["--tubes", "10000", "--repeat", "5", "--db", "both"], 10),
    "bench_residents": (["--cards", "1000", "--rounds", "3"], ["--cards", "1000", "--rounds", "5"], 10),
    "bench_scanpage": (["--scans", "40"], ["--scans", "100"], 10),
    "bench_stats": (["--generate", "0.05", "--repeat", "20", "--rounds", "3"],
                    ["--generate", "1.0", "--repeat", "20", "--rounds", "3"], 20),
}


def run_one(name: str, args: list[str], timeout_minutes: float, log_dir: Path) -> dict:
    """One benchmark under the lock; its report (or what is known of its failure)."""
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    out.close()
    command = [sys.executable, str(ROOT / "scripts" / f"{name}.py"), *args, "--json", out.name]
    log = log_dir / f"{name}.log"
    with open(LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for {LOCK} (another benchmark runs)...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.time()
        print(f"== {name} {' '.join(args)}  (log: {log})", flush=True)
        with log.open("w") as stream:
            try:
                code = subprocess.run(command, cwd=ROOT, stdout=stream, stderr=subprocess.STDOUT,
                                      timeout=timeout_minutes * 60).returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
    try:
        entry = json.loads(Path(out.name).read_text())
    except (OSError, ValueError):
        entry = {"bench": name, "args": args, "started": datetime.fromtimestamp(started).astimezone().isoformat(
            timespec="seconds"), "figures": [], "aims": [], "conditions": {}, "notes": []}
        tail = log.read_text(errors="replace").splitlines()[-15:]
        entry["problems"] = [f"the benchmark did not finish (exit {code}); last lines of its log:", *tail]
    Path(out.name).unlink(missing_ok=True)
    entry["exit"] = code
    entry["command"] = f"scripts/{name}.py {' '.join(args)}"
    entry["seconds"] = round(time.time() - started, 1)
    verdict = {0: "ok", 1: "FAILED (unexpected answers or checks)", 3: "aims missed"}.get(code, f"FAILED ({code})")
    print(f"   {name}: {verdict} in {entry['seconds']:.0f} s", flush=True)
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the docs' full sizes (hours), not the quick ones")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run these only (others are kept)")
    parser.add_argument("--render", action="store_true", help="only rewrite README and docs from the figures file")
    parser.add_argument("--figures", default=str(FIGURES), help="the figures file (default docs/figures.json)")
    args = parser.parse_args()
    path = Path(args.figures)
    if args.render:
        figures.render(json.loads(path.read_text()), ROOT)
        return 0
    names = args.only or list(BENCHMARKS)
    previous = json.loads(path.read_text()) if path.exists() else {}
    kept = previous.get("benchmarks", {}) if args.only else {}
    log_dir = Path(tempfile.mkdtemp(prefix="bench_all-"))
    watch, started = machine.Watch(every=5), time.time()
    mode = "full" if args.full else "quick"
    results = {}
    for name in names:
        quick, full, minutes = BENCHMARKS[name]
        results[name] = {**run_one(name, full if args.full else quick, minutes * (8 if args.full else 1), log_dir),
                         "mode": mode}
    conditions = watch.result()
    data = {"generated": datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": "scripts/bench_all" + (" --full" if args.full else "") +
                       (f" --only {' '.join(args.only)}" if args.only else ""),
            "seconds": round(time.time() - started, 1), "conditions": conditions,
            "benchmarks": {**kept, **results}}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    figures.render(data, ROOT)
    codes = [entry["exit"] for entry in results.values()]
    print(f"\n{len(results)} benchmarks in {data['seconds'] / 60:.1f} min, load average "
          f"{conditions['load_1min']['median']} (min {conditions['load_1min']['min']}, max "
          f"{conditions['load_1min']['max']}) on {conditions['cpus']} CPUs; figures in {path}; logs in {log_dir}")
    if any(code not in (0, 3) for code in codes):
        return 1
    return 3 if 3 in codes else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
