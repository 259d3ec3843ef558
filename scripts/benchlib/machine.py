"""The machine's conditions during a benchmark: CPUs, load average, and what else used the CPU.

:class:`Watch` samples /proc every ``every`` seconds in a thread: the 1-minute load average, and
the CPU time each process used, grouped by command (python processes by their script or tool:
``pytest``, ``bench_scan.py``, ...). Processes of the benchmark itself (its descendants) are
counted apart from the others; PostgreSQL's backends serve every client, the benchmark's included.
"""
import os
import platform
import statistics
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str):
    """(command, parent pid, start time, CPU seconds) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return _name(comm, cmdline), fields[1], fields[19], (int(fields[11]) + int(fields[12])) / TICKS


def _name(comm: str, cmdline: list[bytes]) -> str:
    if not comm.startswith("python"):
        return comm.split(":")[0].split()[0] if comm else "?"
    args = [arg.decode(errors="replace") for arg in cmdline[1:]]
    for i, text in enumerate(args):
        if text == "-c":
            return "python -c"
        if text == "-m" and i + 1 < len(args):
            return "pytest" if "pytest" in args[i + 1] else args[i + 1]
        if not text.startswith("-"):
            base = os.path.basename(text)
            return "pytest" if "pytest" in base else base or "python"
    return "python"


class Watch:
    """Load average and per-command CPU time while a benchmark runs (see the module's docstring)."""

    def __init__(self, every: float = 2.0, root_pid: int | None = None):
        self.every, self.root = every, str(root_pid or os.getpid())
        self.first, self.last, self.names, self.parents, self.loads = {}, {}, {}, {}, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.time()
        self._sample(initial=True)
        self.thread.start()

    def _sample(self, initial: bool = False) -> None:
        self.loads.append(os.getloadavg()[0])
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            info = _stat(pid)
            if info is None:
                continue
            name, parent, started, cpu = info
            key = (pid, started)
            self.first.setdefault(key, cpu if initial else 0.0)
            self.last[key], self.names[key], self.parents[pid] = cpu, name, parent

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self._sample()

    def _ours(self, pid: str) -> bool:
        for _ in range(64):
            if pid == self.root:
                return True
            pid = self.parents.get(pid, "0")
            if pid in ("0", "1"):
                return False
        return False

    def result(self) -> dict:
        """Stop sampling; the conditions as a JSON-able dict."""
        self.stop.set()
        self.thread.join()
        self._sample()
        ours, others = 0.0, {}
        for key, cpu in self.last.items():
            used = cpu - self.first.get(key, 0.0)
            if used <= 0.05:
                continue
            if self._ours(key[0]):
                ours += used
            else:
                others[self.names[key]] = others.get(self.names[key], 0.0) + used
        wall = time.time() - self.started
        top = dict(sorted(((k, round(v, 1)) for k, v in others.items()), key=lambda kv: -kv[1])[:8])
        return {**machine(), "seconds": round(wall, 1),
                "load_1min": {"min": round(min(self.loads), 2), "median": round(statistics.median(self.loads), 2),
                              "max": round(max(self.loads), 2)},
                "cpu_seconds_available": round(wall * (os.cpu_count() or 1), 1),
                "cpu_seconds_benchmark": round(ours, 1), "cpu_seconds_others": top}


def machine() -> dict:
    """What does not change during a run: CPUs, CPU model, Python, the code's commit."""
    model = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                  if line.startswith("model name")), platform.processor())
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "commit": commit + ("+changes" if dirty else "")}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
