"""Crash safety: SIGKILL the server in the middle of a sync, restart it, send the batch again:
every item lands exactly once, nothing is lost or doubled."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from sampling.extensions import db
from sampling.kernel import tokens
from sampling.models import Sample, Tube
from tests import waits
from tests.conftest import _base_config
from tests.field import cid, current_round, make_residents, qr

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(database_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": _base_config("")["SECRET_KEY"],
           "RATELIMIT_ENABLED": "false", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "2", "LOG_LEVEL": "warning"}
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py",
                                "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"],
                               cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("gunicorn did not start")


def _sync(port: int, token: str, items: list) -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/api/v1/sync", json.dumps({"items": items}),
                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    except (OSError, http.client.HTTPException):
        return 0, None  # the server died under us: the phone keeps its queue and retries


def _gate(database_url: str, round_id: int):
    """PostgreSQL: hold the statistics row of S-HP-002 in the round (every write at a site takes its
    row first), so that a sync stops at its first item there, its items at S-HP-001 committed.
    Returns the connection holding it (roll it back to open the gate)."""
    site = db.session.scalar(text("SELECT id FROM sites WHERE code = 'S-HP-002'"))
    db.session.execute(text("INSERT INTO stats_site (round_id, site_id) VALUES (:r, :s)"), {"r": round_id, "s": site})
    db.session.commit()
    conn = create_engine(database_url).connect()
    conn.execute(text("SELECT 1 FROM stats_site WHERE round_id = :r AND site_id = :s FOR UPDATE"),
                 {"r": round_id, "s": site})
    return conn


def test_killing_the_server_mid_sync_loses_and_doubles_nothing(demo_city, make_user, database_url, is_postgres):
    """Half the batch at S-HP-001, half at S-HP-002. On PostgreSQL the sync is held at its first
    item at S-HP-002 (a lock it waits for, seen in pg_stat_activity) and killed there: exactly the
    first half is committed. On SQLite (one writer, no row locks) the server is frozen (SIGSTOP)
    once part of the batch is committed, and killed frozen, the batch provably half done."""
    sampler = make_user("sampler", sites=("S-HP-001", "S-HP-002"))
    token, _expires = tokens.issue_token(sampler, 1)
    people, rnd = make_residents(500), current_round().id
    items = []
    for t in range(50):
        code = f"KILL{t:04d}"
        items.append({"client_id": cid(), "op": "open_tube", "tube_code": code, "round_id": rnd,
                      "site_code": "S-HP-001" if t < 25 else "S-HP-002", "capacity": 10})
        items += [{"client_id": cid(), "op": "add_sample", "tube_code": code, "qr": qr(p)}
                  for p in people[t * 10:(t + 1) * 10]]
    db.session.commit()
    gate = _gate(database_url, rnd) if is_postgres else None
    port = _free_port()
    server = _start(database_url, port)
    try:
        first = {}
        sender = threading.Thread(target=lambda: first.update(answer=_sync(port, token, items)), name="the sync")
        sender.start()
        if gate is not None:
            waits.lock_waiters(database_url, 1, alive=[sender])  # held at its first item at S-HP-002
        else:
            def committed() -> int:
                db.session.rollback()
                return db.session.scalar(select(func.count()).select_from(Tube))
            waits.until(lambda: committed() >= 3, "part of the batch committed")
            os.killpg(server.pid, signal.SIGSTOP)  # frozen where it is: nothing more commits
            assert committed() < 50, "the batch was done before the server could be frozen"
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        sender.join(30)
        if gate is not None:
            gate.rollback()  # the killed server's session can only roll back now
            gate.close()
        db.session.rollback()
        partial = db.session.scalar(select(func.count()).select_from(Sample))
        assert first["answer"][0] == 0  # the phone got no answer: it keeps its queue
        # the kill really interrupted the sync: part of it was committed, part not
        assert partial == 250 if gate is not None else 0 < partial < 500, partial
        server = _start(database_url, port)
        status, body = _sync(port, token, items)
        assert status == 200
        statuses = [r["status"] for r in body["results"]]
        assert set(statuses) <= {200, 201} and len(statuses) == len(items)
        # what was committed before the kill is replayed (200), the rest applied now (201)
        scan_statuses = [r["status"] for item, r in zip(items, body["results"], strict=True)
                         if item["op"] == "add_sample"]
        assert scan_statuses.count(200) == partial and scan_statuses.count(201) == 500 - partial
        again = _sync(port, token, items)[1]
        assert [r["status"] for r in again["results"]] == [200] * len(items)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    db.session.rollback()
    scans = [item["client_id"] for item in items if item["op"] == "add_sample"]
    stored = db.session.execute(select(Sample.client_id, func.count()).group_by(Sample.client_id)).all()
    assert sorted(c for c, _n in stored) == sorted(scans) and {n for _c, n in stored} == {1}
    assert db.session.execute(text("SELECT count(*) FROM tubes WHERE sample_count <> 10 OR status <> 'sealed'")
                              ).scalar() == 0
