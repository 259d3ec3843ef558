"""Shared parts of the benchmarks (scripts/bench_*.py).

- city: the benchmark databases (fresh, migrated), the demo city with residents and tubes, the
  after-run checks of tubes and samples;
- server: gunicorn on a free port, with the bare ceiling endpoints (sampling/api/bench.py);
- load: keep-alive HTTP clients in separate processes, every answer checked, paced load timed from
  the scheduled send;
- report: figures, aims, problems, the exit code and the --json file; interleaved rounds, medians;
- machine: CPUs, load average and what else used the CPU meanwhile.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BENCH_CEILING"] = "1"  # this process's app knows the ceiling's table (sampling/api/bench.py)

from benchlib.city import (  # noqa: E402
    DEMO_SITES,
    PG_ADMIN,
    SECRET,
    add_history,
    check_database,
    database_url,
    fresh_database,
    pg_url,
    populate,
)
from benchlib.load import Client, Phase, percentile, run_phase, status_counts  # noqa: E402
from benchlib.report import Report, add_arguments, interleaved, median, timed  # noqa: E402
from benchlib.server import free_port, start_server, stop_server  # noqa: E402

__all__ = ["DEMO_SITES", "PG_ADMIN", "ROOT", "SECRET", "Client", "Phase", "Report", "add_arguments", "add_history",
           "check_database", "database_url", "fresh_database", "interleaved", "median", "percentile", "pg_url",
           "populate", "run_phase", "start_server", "status_counts", "stop_server", "free_port", "timed"]
