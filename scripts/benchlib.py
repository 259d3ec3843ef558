"""Shared parts of the sampling benchmarks: a fresh database with residents and tubes, a gunicorn
server on a free port, keep-alive HTTP clients in separate processes, and the after-run checks."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BENCH_CEILING"] = "1"  # this process's app knows the ceiling's table (sampling/api/bench.py)
SECRET = "bench-secret-key-not-for-production"
DEMO_SITES = ("S-HP-001", "S-HP-002", "S-HP-003", "S-HD-001", "S-HD-002", "S-HX-001")  # sampling/demo/sites.csv
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def database_url(kind: str, pg_name: str = "bench_c") -> str:
    if kind == "postgresql":
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    return "sqlite:////tmp/bench_c.db"


def fresh_database(url: str) -> None:
    """Drop and re-create the benchmark database, then migrate it."""
    from sqlalchemy import create_engine, text
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        engine.dispose()
    else:
        path = Path(url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    from flask_migrate import upgrade

    from sampling import create_app
    from sampling.api.bench import BENCH_ROWS
    from sampling.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        BENCH_ROWS.create(db.engine)


def add_history(samples: int) -> None:
    """An earlier, closed round with ``samples`` samples (sealed tubes of 10) of as many residents
    of its own: a city's database is never empty, and the planner must see tables as they are in
    the field (bulk SQL, so a few hundred thousand rows take seconds; :func:`populate` then VACUUMs)."""
    from sqlalchemy import text

    from sampling.extensions import db
    series = "WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x < :n - 1) "
    db.session.execute(text("INSERT INTO rounds (name, pool_size, status, starts_at, created_at) "
                            "VALUES ('earlier round', 10, 'closed', :t, :t)"), {"t": "2026-11-01 08:00:00"})
    round_id = db.session.execute(text("SELECT max(id) FROM rounds")).scalar()
    site_id = db.session.execute(text("SELECT id FROM sites WHERE code = 'S-HP-002'")).scalar()
    db.session.execute(text(series + "INSERT INTO residents (name, id_type, id_number, phone, source, created_at) "
                            "SELECT 'earlier', 'passport', 'H' || CAST(100000000 + x AS VARCHAR(12)), "
                            "'13800000000', 'self', :t FROM g"), {"n": samples, "t": "2026-11-01 08:00:00"})
    db.session.execute(text(series + "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, "
                            "opened_at, sealed_at) SELECT 'HT' || CAST(10000000 + x AS VARCHAR(12)), :r, :s, 10, 10, "
                            "'sealed', :t, :t FROM g"),
                       {"n": -(-samples // 10), "r": round_id, "s": site_id, "t": "2026-11-01 08:00:00"})
    db.session.execute(text(
        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, client_id, supplementary, resample, "
        "position, sampled_at) SELECT t.id, r.id, :r, :s, NULL, false, false, 1, :t FROM residents r "
        "JOIN tubes t ON t.code = 'HT' || CAST(10000000 + (CAST(substr(r.id_number, 2) AS INTEGER) - 100000000) / 10 "
        "AS VARCHAR(12)) WHERE r.id_number LIKE 'H1%'"), {"r": round_id, "s": site_id, "t": "2026-11-01 08:00:00"})
    db.session.commit()


def populate(url: str, residents: int, tubes: int, capacity: int = 10, ceiling_rows: int = 0,
             history: int = 0, tube_sites=None) -> dict:
    """The demo city, a sampler with a token, ``residents`` residents and their codes, and
    ``tubes`` open tubes of ``capacity`` at the sampler's site, and ``ceiling_rows`` sample rows
    (tube, resident) for the bare sample-row ceiling (tubes coded CT..., left out of the checks),
    after ``history`` samples of an earlier round (:func:`add_history`). ``tube_sites(i)`` names the
    site of tube i (default: all at S-HP-001); the sampler works at every such site. Returns what
    the clients need."""
    from sqlalchemy import insert, select, text

    from sampling import create_app
    from sampling.cli import load_demo
    from sampling.extensions import db
    from sampling.kernel import tokens
    from sampling.kernel.users import create_user
    from sampling.models import Resident, Round, Site, Tube
    from sampling.models.base import utcnow
    from sampling.residents import codes
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        load_demo()
        if history:
            add_history(history)
        site_of = tube_sites or (lambda _i: "S-HP-001")
        codes_ = sorted({site_of(i) for i in range(tubes)} | {"S-HP-001"})
        user = create_user("bench_sampler", "sampler", "bench-password", None, tuple(codes_))
        db.session.commit()
        token, _expires = tokens.issue_token(user, 24)
        now = utcnow()
        rows = [{"name": f"居民{i}", "id_type": "passport", "id_number": f"E{i:08d}", "phone": f"139{i:08d}",
                 "source": "self", "created_at": now} for i in range(residents)]
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Resident), rows[start:start + 5000])
        rnd = db.session.scalar(select(Round).where(Round.status == "open").order_by(Round.id))
        site_ids = dict(db.session.execute(select(Site.code, Site.id)).all())
        site = db.session.scalar(select(Site).where(Site.code == "S-HP-001"))
        tube_rows = [{"code": f"BT{i:07d}", "round_id": rnd.id, "site_id": site_ids[site_of(i)], "capacity": capacity,
                      "sample_count": 0, "status": "open", "opened_by_id": user.id, "opened_at": now}
                     for i in range(tubes)]
        for start in range(0, len(tube_rows), 5000):
            db.session.execute(insert(Tube), tube_rows[start:start + 5000])
        db.session.commit()
        ceiling_tubes = -(-ceiling_rows // 20)
        if ceiling_tubes:
            db.session.execute(insert(Tube), [
                {"code": f"CT{i:07d}", "round_id": rnd.id, "site_id": site.id, "capacity": 20, "sample_count": 0,
                 "status": "open", "opened_by_id": user.id, "opened_at": now} for i in range(ceiling_tubes)])
        db.session.commit()
        if history:  # as autovacuum would have left it long ago, so that it does not run during the benchmark
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        ids = db.session.scalars(select(Resident.id).where(Resident.name != "earlier").order_by(Resident.id)).all()
        ceiling_tube_ids = db.session.scalars(select(Tube.id).where(Tube.code.like("CT%")).order_by(Tube.id)).all()
        spare = ids[len(ids) - ceiling_rows:]  # the last residents are the ceiling's, never scanned
        rows = [{"tube_id": ceiling_tube_ids[i // 20], "resident_id": spare[i], "round_id": rnd.id,
                 "site_id": site.id} for i in range(ceiling_rows)]
        qrs = [codes.token_for(i) for i in ids]
        return {"token": token, "qrs": qrs, "tubes": [r["code"] for r in tube_rows], "round_id": rnd.id,
                "ceiling_rows": rows}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int, threads: int, ceiling: bool = True,
                 log: str = "/tmp/bench_c_server.log") -> subprocess.Popen:
    """gunicorn (gthread) on 127.0.0.1:port; returns once /healthz answers."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": "false",
           "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads), "LOG_LEVEL": "warning",
           "BENCH_CEILING": "1" if ceiling else "0"}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--max-requests", "0", "wsgi:app"],
        cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
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


class Client:
    """One keep-alive HTTP connection sending JSON."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 120):
        self.port, self.timeout = port, timeout
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, path: str, body) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        for attempt in range(2):
            try:
                self.conn.request("POST", path, data, self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def check_database(url: str, expected_samples: int | None = None, all_sealed_full: bool = False) -> dict:
    """After a run: no tube over capacity, each tube's count equals its samples, no doubled scan;
    with ``all_sealed_full``, every benchmark tube (BT...) sealed at its capacity too."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        over = conn.execute(text("SELECT count(*) FROM tubes WHERE sample_count > capacity")).scalar()
        mismatched = conn.execute(text(
            "SELECT count(*) FROM tubes t WHERE t.code NOT LIKE 'CT%' AND t.code NOT LIKE 'HT%' "
            "AND t.sample_count <> (SELECT count(*) FROM samples s WHERE s.tube_id = t.id)"
        )).scalar()
        samples = conn.execute(text("SELECT count(*) FROM samples s JOIN tubes t ON t.id = s.tube_id "
                                    "WHERE t.code NOT LIKE 'CT%' AND t.code NOT LIKE 'HT%'")).scalar()
        doubled = conn.execute(text(
            "SELECT count(*) FROM (SELECT client_id FROM samples WHERE client_id IS NOT NULL "
            "GROUP BY client_id HAVING count(*) > 1) d")).scalar()
        not_full = conn.execute(text(
            "SELECT count(*) FROM tubes WHERE code LIKE 'BT%' AND (status <> 'sealed' OR sample_count <> capacity)"
        )).scalar()
    engine.dispose()
    result = {"tubes_over_capacity": over, "tubes_count_mismatch": mismatched, "samples": samples,
              "doubled_scans": doubled}
    if all_sealed_full:
        result["tubes_not_sealed_full"] = not_full
    if expected_samples is not None:
        result["lost_or_extra"] = samples - expected_samples
    return result
