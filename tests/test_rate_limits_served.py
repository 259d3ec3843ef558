"""Rate limits hold however many processes serve: real gunicorn with 3 workers counting in a shared
Redis lets at most 30 of 100 requests through a 30/min limit, and one login budget covers the web
form and the API; without a shared store the same command serves with one worker, which holds too."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float = 2.0) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None


def _post(port: int, path: str, body: bytes, content_type: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.fixture
def redis_url(tmp_path):
    """A private Redis on a free port (nothing on disk), stopped afterwards."""
    if not REDIS:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing; scripts/test installs it")
        pytest.skip("redis-server is missing")
    port = _free_port()
    process = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.time() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture
def serve(migrated_database, tmp_path):
    """Start gunicorn (gunicorn.conf.py, WEB_CONCURRENCY=3) with extra environment; yields (port, pid)."""
    started = []

    def start(**env):
        port = _free_port()
        full_env = {**os.environ, "DATABASE_URL": migrated_database, "SECRET_KEY": "served-limits-test",
                    "WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4", "LOG_LEVEL": "warning", "ACCESS_LOG": "/dev/null",
                    "INSTANCE_PATH": str(tmp_path / "instance"), **env}
        full_env.pop("RATELIMIT_STORAGE_URI", None) if "RATELIMIT_STORAGE_URI" not in env else None
        process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                    "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=full_env,
                                   stdout=subprocess.DEVNULL, stderr=open(tmp_path / "gunicorn.log", "ab"),
                                   start_new_session=True)
        started.append(process)
        deadline = time.time() + 90
        while _get(port, "/healthz") != 200:
            if time.time() > deadline or process.poll() is not None:
                pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
            time.sleep(0.2)
        # every worker up (each answered /healthz or is about to): wait for the master's children
        wanted = 1 if "RATELIMIT_STORAGE_URI" not in env else 3
        while len(_workers(process.pid)) < wanted and time.time() < deadline:
            time.sleep(0.2)
        return port, process.pid

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def _workers(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _through(port: int, requests: list[tuple[str, bytes, str]]) -> list[int]:
    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(pool.map(lambda r: _post(port, *r), requests))


QUERY = ("/api/v1/query", json.dumps({"id_number": "11010519491231002X", "name": "张三"}).encode(), "application/json")


def test_thirty_per_minute_lets_at_most_thirty_through_three_workers(serve, redis_url):
    port, pid = serve(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_PUBLIC="30 per minute")
    assert len(_workers(pid)) == 3
    statuses = _through(port, [QUERY] * 100)
    assert all(s < 500 for s in statuses)
    assert statuses.count(429) == 70 and len([s for s in statuses if s != 429]) == 30


def _web_login(port: int, username: str, password: str) -> int:
    """A real form post: the login page's session cookie and CSRF token, then the POST."""
    import re
    from urllib.parse import urlencode
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    page = conn.getresponse()
    html = page.read().decode()
    cookie = page.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    body = urlencode({"username": username, "password": password, "csrf_token": token})
    conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                       "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    return response.status


def test_one_login_budget_for_the_web_form_and_the_api(serve, redis_url):
    port, pid = serve(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_LOGIN="6 per minute")
    assert len(_workers(pid)) == 3
    api = ("/api/v1/auth/token", json.dumps({"username": "nobody", "password": "guess"}).encode(), "application/json")
    statuses = []
    for _ in range(8):  # alternately, from connections served by any of the workers
        statuses.append(_post(port, *api))
        statuses.append(_web_login(port, "nobody", "guess"))
    assert all(s < 500 for s in statuses)
    assert statuses[:6] == [401, 200] * 3  # wrong password: 401 from the API, the form again from the web
    assert statuses[6:] == [429] * 10  # one budget of 6, not 6 per door


def test_without_a_shared_store_one_process_serves_and_the_limit_holds(serve):
    port, pid = serve(RATELIMIT_PUBLIC="30 per minute")  # no RATELIMIT_STORAGE_URI: memory://
    assert len(_workers(pid)) == 1  # WEB_CONCURRENCY=3 was asked for
    statuses = _through(port, [QUERY] * 100)
    assert all(s < 500 for s in statuses) and len([s for s in statuses if s != 429]) == 30
