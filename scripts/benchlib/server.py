"""gunicorn on a free port, started and stopped by the benchmark (its own process group)."""
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from benchlib.city import SECRET

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int, threads: int, ceiling: bool = True,
                 log: str = "/tmp/bench_server.log", env: dict | None = None) -> subprocess.Popen:
    """gunicorn (gthread) on 127.0.0.1:port with rate limits off and, with ``ceiling``, the bare
    ceiling endpoints (sampling/api/bench.py); returns once /healthz answers 200."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": "false",
           "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads), "LOG_LEVEL": "warning",
           "BENCH_CEILING": "1" if ceiling else "0", **(env or {})}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--max-requests", "0", "wsgi:app"],
        cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"server did not start; see {log}")


def stop_server(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Stop the server we started (its own process group: the master and its workers)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
