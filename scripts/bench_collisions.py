#!/usr/bin/env python
"""Benchmark of roster upload and data collision, on PostgreSQL and SQLite.

Generates residents with samples in one round and a roster CSV (GB18030, as Excel saves it) of
``--rows`` people, of whom ``--overlap`` were sampled; as many sampled people are not on the
roster. Then, per database, times:

  * upload: parse + validate + bulk load of the roster file (the service call the API makes),
  * collision: the full run (untested, not on roster, name mismatch lists stored + counts),
  * floor: the bare SQL anti-joins on the same tables (untested count; + not-on-roster count),

prints medians of ``--repeat`` runs, the ratio collision / floor, and the peak resident memory
of each phase (Linux VmHWM, reset before each phase).

    .venv/bin/python scripts/bench_collisions.py --rows 1000000
    .venv/bin/python scripts/bench_collisions.py --rows 200000 --only sqlite
"""
import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, text  # noqa: E402
from stdnum.cn import ric  # noqa: E402

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "bench_e"
FLOOR_UNTESTED = """SELECT count(*) FROM roster_entries e WHERE e.roster_id = :rid AND e.error IS NULL
AND NOT EXISTS (SELECT 1 FROM residents r CROSS JOIN samples s
                WHERE r.id_number = e.id_number AND s.resident_id = r.id AND s.round_id = :round_id)"""
FLOOR_NOT_ON_ROSTER = """SELECT count(DISTINCT s.resident_id) FROM samples s JOIN residents r ON r.id = s.resident_id
WHERE s.round_id = :round_id AND s.site_id IN :site_ids AND NOT EXISTS (
  SELECT 1 FROM roster_entries e WHERE e.roster_id = :rid AND e.id_number = r.id_number AND e.error IS NULL)"""


def peak_reset() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def id_numbers(count: int):
    """``count`` distinct valid resident ID numbers (area 120101, consecutive birth dates)."""
    day, start = 0, datetime(1940, 1, 1)
    made = 0
    while made < count:
        birth = (start + timedelta(days=day)).strftime("%Y%m%d")
        for seq in range(1000):
            body = f"120101{birth}{seq:03d}"
            yield body + ric.calc_check_digit(body + "0")
            made += 1
            if made == count:
                return
        day += 1


def surname(i: int) -> str:
    return ("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"[i % 16] + "伟芳娜敏静丽强磊军洋"[(i // 16) % 10]
            + "一二三四五六七八九十"[(i // 160) % 10])


def make_roster_file(path: Path, rows: int) -> None:
    """Roster: people 0..rows-1 (the first ``overlap`` of them are sampled by load_city)."""
    with path.open("w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["姓名", "证件类型", "证件号码", "联系电话", "社区", "楼栋", "单元", "门牌"])
        for i, number in enumerate(id_numbers(rows)):
            name = surname(i) if i % 100 else surname(i + 1)  # 1 % registered under another name
            writer.writerow([name, "居民身份证", number, f"138{i:08d}", "新华里社区", f"{i // 200 % 50 + 1}号楼",
                             f"{i // 50 % 4 + 1}单元", f"{i % 50 + 101}"])


def load_city(rows: int, overlap: int) -> tuple[int, int]:
    """Demo city, residents and one round with samples; returns (round id, resident count)."""
    from sampling.cli import load_demo
    from sampling.extensions import db
    from sampling.models import Region, Round, Site
    load_demo()
    rnd = db.session.query(Round).first()
    community = db.session.query(Region).filter_by(code="120101001001").one()
    sites = [s.id for s in db.session.query(Site).filter(Site.code.in_(["S-HP-001", "S-HP-002", "S-HP-003"]))]
    # residents 0..rows-1 are on the roster; the first `overlap` of them were sampled, and so were
    # residents rows..rows+(rows-overlap)-1, who are not on the roster
    sampled_off_roster = rows - overlap
    total = rows + sampled_off_roster
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")
    residents = ((i + 1, surname(i), "resident_id_card", number, community.id, "self", now)
                 for i, number in enumerate(id_numbers(total)))
    sampled = range(overlap), range(rows, total)
    count = overlap + sampled_off_roster
    tubes = ((t + 1, f"B{t:09d}", rnd.id, sites[t % 3], 10, 10, "sealed", now) for t in range((count + 9) // 10))
    samples = ((n + 1, n // 10 + 1, i + 1, rnd.id, sites[(n // 10) % 3], False, now)
               for n, i in enumerate(i for part in sampled for i in part))
    tables = (("residents", "id, name, id_type, id_number, community_id, source, created_at", residents),
              ("tubes", "id, code, round_id, site_id, capacity, sample_count, status, opened_at", tubes),
              ("samples", "id, tube_id, resident_id, round_id, site_id, supplementary, sampled_at", samples))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # bulk test data: the statistics triggers (and foreign-key checks) are bypassed for the load
        # and the aggregates rebuilt set-based afterwards, as scripts/gen_city.py does (a per-row
        # counter trigger updating one community's row a million times in one COPY is quadratic)
        connection.exec_driver_sql("SET session_replication_role = replica")
    for table, columns, data in tables:
        if connection.dialect.name == "postgresql":
            raw = connection.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns.split(",")))
            batch = []
            for row in data:
                batch.append(row)
                if len(batch) == 10000:
                    connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", batch)
                    batch = []
            if batch:
                connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", batch)
    db.session.commit()
    if connection.dialect.name == "postgresql":
        db.session.execute(text("SET session_replication_role = DEFAULT"))
        from sampling.stats.triggers.rebuild import rebuild_stats
        rebuild_stats()
        for table in ("residents", "tubes", "samples"):
            db.session.execute(text(f"ANALYZE {table}"))
        db.session.commit()
        db.session.execute(text("SELECT setval('residents_id_seq', (SELECT max(id) FROM residents))"))
        db.session.execute(text("SELECT setval('samples_id_seq', (SELECT max(id) FROM samples))"))
        db.session.execute(text("SELECT setval('tubes_id_seq', (SELECT max(id) FROM tubes))"))
        db.session.commit()
    return rnd.id, total


def fresh_database(kind: str) -> str:
    if kind == "postgresql":
        import psycopg
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
    path = Path(tempfile.gettempdir()) / "bench_collisions.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, peaks, result = [], [], None
    for _ in range(repeat):
        peak_reset()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        peaks.append(peak_mb())
    return statistics.median(times), max(peaks), result


def bench(kind: str, args, roster_file: Path) -> dict:
    from flask_migrate import upgrade

    from sampling import create_app
    from sampling.extensions import db
    from sampling.kernel.users import create_user
    from sampling.rosters import collisions, uploads
    url = fresh_database(kind)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "sampling" / "migrations"))
        start = time.perf_counter()
        round_id, residents = load_city(args.rows, args.overlap)
        user = create_user("bench", "coordinator", "bench-password", "120101")
        db.session.commit()
        print(f"[{kind}] data: {residents} residents, {args.rows} samples loaded in "
              f"{time.perf_counter() - start:.1f} s", flush=True)

        def upload():
            with roster_file.open("rb") as stream:
                return uploads.upload_roster(user, stream, roster_file.name, "bench", None)[0]

        up_time, up_peak, roster = timed(upload, 1)
        roster_id = roster.id
        run = lambda: collisions.run_collision(user, roster_id, round_id)  # noqa: E731
        col_time, col_peak, collision = timed(run, args.repeat)
        params = {"rid": roster_id, "round_id": round_id, "site_ids": collisions.region_site_ids(roster.region)}

        def floor(sql: str, serial: bool = False):
            """The bare query, in a transaction with the same settings as a collision run.
            ``serial``: without parallel workers (PostgreSQL runs INSERT ... SELECT serially)."""
            uploads.large_work_mem()
            if serial and kind == "postgresql":
                db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            stmt = text(sql).bindparams(bindparam("site_ids", expanding=True)) if ":site_ids" in sql else text(sql)
            value = db.session.execute(stmt, params).scalar()
            db.session.rollback()
            return value

        floor_u, _, untested = timed(lambda: floor(FLOOR_UNTESTED), args.repeat)
        floor_n, _, off = timed(lambda: floor(FLOOR_NOT_ON_ROSTER), args.repeat)
        serial = 0.0
        if kind == "postgresql":
            serial = (timed(lambda: floor(FLOOR_UNTESTED, True), args.repeat)[0]
                      + timed(lambda: floor(FLOOR_NOT_ON_ROSTER, True), args.repeat)[0])
        assert untested == collision.untested and off == collision.not_on_roster, (untested, off, collision)
        result = {"db": kind, "rows": args.rows, "upload_s": up_time, "upload_peak_mb": up_peak,
                  "collision_s": col_time, "collision_peak_mb": col_peak, "floor_untested_s": floor_u,
                  "floor_both_s": floor_u + floor_n, "floor_serial_s": serial,
                  "tested": collision.tested, "untested": collision.untested,
                  "not_on_roster": collision.not_on_roster, "name_mismatch": collision.name_mismatch}
        db.session.remove()
        db.engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="roster rows = samples (default 200000)")
    parser.add_argument("--overlap", type=float, default=0.8, help="share of the roster that was sampled")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the collision and floor (median)")
    parser.add_argument("--only", choices=("postgresql", "sqlite"), help="one database only")
    args = parser.parse_args()
    args.overlap = int(args.rows * args.overlap)
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    start = time.perf_counter()
    roster_file = Path(tempfile.gettempdir()) / "bench_roster.csv"
    make_roster_file(roster_file, args.rows)
    print(f"generated a {roster_file.stat().st_size / 1e6:.0f} MB roster in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    results = [bench(kind, args, roster_file)
               for kind in ("postgresql", "sqlite") if args.only in (None, kind)]
    out = io.StringIO()
    out.write(f"\n{'db':<11}{'rows':>9}{'upload s':>10}{'peak MB':>9}{'collide s':>11}{'peak MB':>9}"
              f"{'floor s':>9}{'ratio':>7}{'floor1 s':>10}{'ratio1':>8}\n")
    for r in results:
        out.write(f"{r['db']:<11}{r['rows']:>9}{r['upload_s']:>10.1f}{r['upload_peak_mb']:>9.0f}"
                  f"{r['collision_s']:>11.2f}{r['collision_peak_mb']:>9.0f}{r['floor_both_s']:>9.2f}"
                  f"{r['collision_s'] / r['floor_both_s']:>7.2f}{r['floor_untested_s']:>10.2f}"
                  f"{r['collision_s'] / r['floor_untested_s']:>8.2f}\n")
    out.write("\nfloor = bare anti-joins (untested count + not-on-roster count); floor1 = untested count only.\n")
    for r in results:
        if r["floor_serial_s"]:
            out.write(f"{r['db']}: floor without parallel workers {r['floor_serial_s']:.2f} s, ratio "
                      f"{r['collision_s'] / r['floor_serial_s']:.2f} (INSERT ... SELECT runs serially)\n")
    for r in results:
        out.write(f"{r['db']}: tested {r['tested']}, untested {r['untested']}, not on roster {r['not_on_roster']}, "
                  f"name mismatch {r['name_mismatch']}\n")
    print(out.getvalue())
    roster_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
