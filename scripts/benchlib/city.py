"""The benchmarks' databases: a fresh one, migrated; the demo city with a sampler, residents and
open tubes (and an earlier round's history); the after-run checks of tubes and samples."""
import os
import tempfile
from pathlib import Path

SECRET = "bench-secret-key-not-for-production"
DEMO_SITES = ("S-HP-001", "S-HP-002", "S-HP-003", "S-HD-001", "S-HD-002", "S-HX-001")  # sampling/demo/sites.csv
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_url(default_name: str) -> str:
    """The PostgreSQL database a benchmark WIPES: $BENCH_PG_DATABASE when set (one per engineer on a
    shared machine), else ``default_name``."""
    name = os.environ.get("BENCH_PG_DATABASE") or default_name
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def database_url(kind: str, pg_name: str = "bench_c") -> str:
    """``kind`` postgresql (see :func:`pg_url`) or sqlite (a file in the temporary folder)."""
    if kind == "postgresql":
        return pg_url(pg_name)
    return f"sqlite:///{Path(tempfile.gettempdir()) / f'{pg_name}.db'}"


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
