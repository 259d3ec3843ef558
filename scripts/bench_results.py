"""Benchmark: posting a day's lab results, and listing positive pools.

    .venv/bin/python scripts/bench_results.py --help
    .venv/bin/python scripts/bench_results.py --tubes 2000          # SQLite in a temp dir
    .venv/bin/python scripts/bench_results.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

It builds a round of N received 10-in-1 tubes (N*10 residents and samples), then times, with
medians over --repeat runs:

- post:   results.post_results for all N tubes (the real path: classify, conditional UPDATE
          ... RETURNING per chunk, audit rows, positive summary);
- floor:  the least any implementation must do: one bare ``UPDATE tubes SET result=...
          WHERE id IN (...)`` per 500 tubes, nothing checked, nothing audited;
- naive:  a per-row ORM loop (SELECT the tube, set fields, flush) on the same rows — what
          set-based code avoids (run on --naive-tubes rows and scaled to N);
- list:   positives.list_pools for an admin with 1% of the pools positive;
- list floor: one SELECT of the same member rows without follow-up look-ups.

THE DATABASE GIVEN WITH --database-url IS WIPED.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, select, text, update  # noqa: E402

from sampling import create_app  # noqa: E402
from sampling.extensions import db  # noqa: E402


def build(tubes: int):
    from sampling.cli import load_demo
    from sampling.models import Region, Resident, Round, Sample, Site, Tube, User
    from sampling.models.base import utcnow
    load_demo()
    rnd = db.session.scalars(select(Round)).first()
    site = db.session.scalar(select(Site).where(Site.code == "S-HP-001"))
    community = db.session.scalar(select(Region).where(Region.code == "120101001001"))
    now = utcnow()
    db.session.execute(insert(Resident), [
        {"name": f"居民{i}", "id_type": "other", "id_number": f"BENCH{i:09d}", "phone": f"139{i:08d}",
         "community_id": community.id, "address": "新华路", "source": "batch", "created_at": now}
        for i in range(tubes * 10)])
    db.session.execute(insert(Tube), [
        {"code": f"BT{i:08d}", "round_id": rnd.id, "site_id": site.id, "capacity": 10, "sample_count": 10,
         "status": "received", "opened_at": now, "sealed_at": now, "received_at": now} for i in range(tubes)])
    tube_ids = dict(db.session.execute(select(Tube.code, Tube.id)).all())
    resident_ids = list(db.session.scalars(select(Resident.id).order_by(Resident.id)))
    db.session.execute(insert(Sample), [
        {"tube_id": tube_ids[f"BT{i // 10:08d}"], "resident_id": rid, "round_id": rnd.id, "site_id": site.id,
         "supplementary": False, "sampled_at": now} for i, rid in enumerate(resident_ids)])
    db.session.commit()
    lab = db.session.scalar(select(User).where(User.username == "lab"))
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    return lab, admin, rnd.id


def reset():
    from sampling.models import Tube, TubeEvent
    db.session.execute(delete(TubeEvent))
    db.session.execute(update(Tube).values(status="received", result=None, resulted_at=None))
    db.session.commit()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tubes", type=int, default=2000, help="received 10-in-1 tubes (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--naive-tubes", type=int, default=300, help="rows for the per-row loop (default 300)")
    parser.add_argument("--database-url", help="a scratch database (WIPED); default: SQLite in a temp dir")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context(), app.test_request_context():
        from flask_migrate import upgrade
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        from sampling.lab import positives, results
        from sampling.models import Tube
        lab, admin, round_id = build(args.tubes)
        codes = [f"BT{i:08d}" for i in range(args.tubes)]
        words = ["positive" if i % 100 == 0 else "negative" for i in range(args.tubes)]

        def post():
            rows = (results.make_row(None, c, w) for c, w in zip(codes, words, strict=True))
            report = results.post_results(lab, rows)
            assert report["updated"] == args.tubes, report["rejected"][:3]

        def floor():
            ids = list(db.session.scalars(select(Tube.id).where(Tube.code.in_(codes)).order_by(Tube.id)))
            for start in range(0, len(ids), 500):
                db.session.execute(update(Tube).where(Tube.id.in_(ids[start:start + 500]))
                                   .values(result="negative", status="resulted"))
            db.session.commit()

        def naive():
            for code, word in zip(codes[:args.naive_tubes], words, strict=False):
                tube = db.session.scalar(select(Tube).where(Tube.code == code))
                if tube.status == "received":
                    tube.status, tube.result = "resulted", word
                    db.session.flush()
            db.session.commit()

        figures = {}
        for name, fn, scale in (("post", post, 1), ("floor", floor, 1),
                                ("naive", naive, args.tubes / max(1, args.naive_tubes))):
            runs = []
            for _ in range(args.repeat):
                reset()
                runs.append(timed(fn) * scale)
            figures[name] = statistics.median(runs)
        reset()
        post()
        figures["list"] = statistics.median(timed(lambda: positives.list_pools(admin, round_id))
                                            for _ in range(args.repeat))
        members = positives._members_query().where(Tube.round_id == round_id)
        figures["list floor"] = statistics.median(timed(lambda: db.session.execute(members).all())
                                                  for _ in range(args.repeat))
        pools = len(positives.list_pools(admin, round_id))
    print(f"database: {url.split(':')[0]}; tubes: {args.tubes} "
          f"(10-in-1, {args.tubes * 10} samples); positive pools: {pools}; repeat: {args.repeat}")
    print(f"post results  median {figures['post']:.3f} s  ({args.tubes / figures['post']:.0f} tubes/s)")
    print(f"floor (bare)  median {figures['floor']:.3f} s  -> post / floor = {figures['post'] / figures['floor']:.1f}x")
    print(f"naive loop    median {figures['naive']:.3f} s (scaled) -> naive / post = "
          f"{figures['naive'] / figures['post']:.1f}x")
    print(f"list pools    median {figures['list'] * 1000:.1f} ms; floor {figures['list floor'] * 1000:.1f} ms "
          f"-> {figures['list'] / figures['list floor']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
