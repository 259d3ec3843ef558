#!/usr/bin/env python
"""Benchmark of roster upload and data collision, on PostgreSQL and SQLite.

Generates residents with samples in one round and a roster CSV (GB18030, as Excel saves it) of
``--rows`` people, of whom ``--overlap`` were sampled; as many sampled people are not on the
roster, and 1 % of the roster's names differ from the register's. Then, per database:

  * upload: parse + validate + bulk load of the roster file (the service call the API makes),
    timed ``--upload-repeat`` times (a new roster each time; medians), each report checked
    (every row read and valid, no error reported);
  * collision: the full run (the untested, not-on-roster and name-mismatch lists stored, counts);
  * floor: the bare SQL anti-joins on the same tables, counting the untested and the
    not-on-roster (nothing stored, no name join), in a transaction with the run's settings;
  * on PostgreSQL also both again without parallel workers (a connection with
    max_parallel_workers_per_gather = 0): the serial collision against the serial floor;
  * register collision (issue 18): the residents registered in the street (all of the generated
    residents) against the same samples, no roster (untested and registered-elsewhere lists
    stored), against its own floor: the bare anti-join of the register and the registered-elsewhere
    count.

Collisions and floors are interleaved ``--repeat`` times (order rotated each round; medians),
so each ratio has both sides from the same rounds. Every run's counts are checked against the
floor's and against the generated data (tested, untested, not on roster, name mismatch). Peak
resident memory per phase (Linux VmHWM, reset before each phase). Aims: upload < 30 s per
million rows (scaled to ``--rows``, stated), collision ≤ 2 × the floor. Exit 1 on a wrong count
or upload report, 3 when only an aim was missed.

    .venv/bin/python scripts/bench_collisions.py --rows 1000000
    .venv/bin/python scripts/bench_collisions.py --rows 200000 --only sqlite
"""
import argparse
import csv
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402
from sqlalchemy import bindparam, text  # noqa: E402
from stdnum.cn import ric  # noqa: E402

AIM_UPLOAD_SECONDS_PER_MILLION = 30
AIM_TIMES_FLOOR = 2
FLOOR_UNTESTED = """SELECT count(*) FROM roster_entries e WHERE e.roster_id = :rid AND e.error IS NULL
AND NOT EXISTS (SELECT 1 FROM residents r CROSS JOIN samples s
                WHERE r.id_number = e.id_number AND s.resident_id = r.id AND s.round_id = :round_id)"""
# the register collision's floor (issue 18): the region's registered residents without a sample, and
# those sampled at the region's sites registered elsewhere — counted, nothing stored
FLOOR_REGISTER_UNTESTED = """SELECT count(*) FROM residents r WHERE r.community_id IN :community_ids AND NOT EXISTS (
  SELECT 1 FROM samples s WHERE s.resident_id = r.id AND s.round_id = :round_id)"""
FLOOR_REGISTER_ELSEWHERE = """SELECT count(DISTINCT s.resident_id)
FROM samples s JOIN residents r ON r.id = s.resident_id WHERE s.round_id = :round_id AND s.site_id IN :site_ids
  AND (r.community_id IS NULL OR r.community_id NOT IN :community_ids)"""
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


def timed(fn) -> tuple[float, float, object]:
    """(seconds, peak resident MB, result) of one call."""
    peak_reset()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, peak_mb(), result


def expected_counts(rows: int, overlap: int) -> dict:
    """What the generated data must give: the first ``overlap`` roster people sampled, as many
    sampled people off the roster, every 100th roster name different from the register's."""
    return {"tested": overlap, "untested": rows - overlap, "not_on_roster": rows - overlap,
            "name_mismatch": len(range(0, rows, 100))}


def bench(kind: str, args, roster_file: Path, report) -> None:
    from flask_migrate import upgrade

    from sampling import create_app
    from sampling.extensions import db
    from sampling.kernel.users import create_user
    from sampling.models import User
    from sampling.rosters import collisions, uploads
    url = benchlib.database_url(kind, "bench_e")
    benchlib.fresh_database(url)
    config = {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    app = create_app(config)
    serial_app = create_app({**config, "SQLALCHEMY_ENGINE_OPTIONS": {
        "connect_args": {"options": "-c max_parallel_workers_per_gather=0"}}}) if kind == "postgresql" else None
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "sampling" / "migrations"))
        start = time.perf_counter()
        round_id, residents = load_city(args.rows, args.overlap)
        user = create_user("bench", "coordinator", "bench-password", "120101")
        db.session.commit()
        user_id = user.id
        print(f"[{kind}] data: {residents} residents, {args.rows} samples loaded in "
              f"{time.perf_counter() - start:.1f} s", flush=True)

        def upload():
            with roster_file.open("rb") as stream:
                roster, errors = uploads.upload_roster(user, stream, roster_file.name, "bench", None)
            report.check(roster.rows_total == args.rows and roster.rows_valid == args.rows and not errors,
                         f"{kind}: upload read {roster.rows_total} rows, {roster.rows_valid} valid, errors "
                         f"{errors[:3]}; expected {args.rows} valid")
            return roster

        uploaded = [timed(upload) for _ in range(args.upload_repeat)]
        roster = uploaded[-1][2]
        roster_id, site_ids = roster.id, collisions.region_site_ids(roster.region)
        expected = expected_counts(args.rows, args.overlap)

        def collide(serial=False):
            def run():
                with (serial_app or app).app_context() if serial else nullcontext():
                    me = db.session.get(User, user_id)
                    c = collisions.run_collision(me, roster_id, round_id)
                    got = {k: getattr(c, k) for k in expected}
                    db.session.rollback()
                report.check(got == expected, f"{kind}: collision counted {got}, expected {expected}")
                return got
            return timed(run)

        def floor(serial=False):
            """The bare anti-joins, in a transaction with the run's settings."""
            def run():
                with (serial_app or app).app_context() if serial else nullcontext():
                    uploads.large_work_mem()
                    params = {"rid": roster_id, "round_id": round_id, "site_ids": site_ids}
                    untested = db.session.execute(text(FLOOR_UNTESTED), params).scalar()
                    off = db.session.execute(text(FLOOR_NOT_ON_ROSTER).bindparams(
                        bindparam("site_ids", expanding=True)), params).scalar()
                    db.session.rollback()
                report.check((untested, off) == (expected["untested"], expected["not_on_roster"]),
                             f"{kind}: floor counted untested {untested}, not on roster {off}; expected "
                             f"{expected['untested']}, {expected['not_on_roster']}")
                return untested, off
            return timed(run)

        from sampling.models import Region
        from sampling.rosters import register
        street = db.session.query(Region).filter_by(code="120101001").one()
        reg_params = {"round_id": round_id, "community_ids": register.community_ids(street),
                      "site_ids": collisions.region_site_ids(street)}
        reg_expected = {"roster_total": residents, "tested": args.rows, "untested": args.rows - args.overlap,
                        "not_on_roster": 0}

        def register_run():
            me = db.session.get(User, user_id)
            c = register.run_register_collision(me, "120101001", round_id)
            got = {k: getattr(c, k) for k in reg_expected}
            report.check(got == reg_expected, f"{kind}: register collision counted {got}, expected {reg_expected}")
            return got

        def register_floor():
            uploads.large_work_mem()
            untested = db.session.execute(text(FLOOR_REGISTER_UNTESTED).bindparams(
                bindparam("community_ids", expanding=True)), reg_params).scalar()
            elsewhere = db.session.execute(text(FLOOR_REGISTER_ELSEWHERE).bindparams(
                bindparam("community_ids", expanding=True), bindparam("site_ids", expanding=True)), reg_params).scalar()
            db.session.rollback()
            report.check((untested, elsewhere) == (reg_expected["untested"], 0),
                         f"{kind}: register floor counted untested {untested}, elsewhere {elsewhere}")
            return untested, elsewhere

        phases = {"collision": lambda _n: collide(), "floor": lambda _n: floor(),
                  "register": lambda _n: timed(register_run), "register_floor": lambda _n: timed(register_floor)}
        if serial_app:
            phases.update({"collision_serial": lambda _n: collide(True), "floor_serial": lambda _n: floor(True)})
        rounds = benchlib.interleaved(args.repeat, phases)
        db.session.remove()
        db.engine.dispose()
    figures(report, kind, args, uploaded, rounds)


def figures(report, kind, args, uploaded, rounds) -> None:
    med = benchlib.median
    rows = f"{args.rows:,}"
    up = report.figure("upload_s", med(t for t, _p, _r in uploaded), "s",
                       f"upload of a {rows}-row GB18030 roster (parse, check, load), median of {len(uploaded)}", kind)
    report.figure("upload_peak_mb", max(p for _t, p, _r in uploaded), "MB", "upload: peak resident memory", kind)
    col = report.figure("collision_s", med(t for t, _p, _r in rounds["collision"]), "s",
                        f"collision of the {rows}-row roster against {rows} samples (3 lists stored)", kind)
    report.figure("collision_peak_mb", max(p for _t, p, _r in rounds["collision"]), "MB",
                  "collision: peak resident memory", kind)
    flo = report.figure("floor_s", med(t for t, _p, _r in rounds["floor"]), "s",
                        "floor: the bare anti-joins (untested count + not-on-roster count)", kind)
    ratio = report.ratio("collision_times_floor", col, flo, "collision ÷ floor", kind)
    aim_upload = AIM_UPLOAD_SECONDS_PER_MILLION * args.rows / 1_000_000
    report.aim("upload", f"upload < {AIM_UPLOAD_SECONDS_PER_MILLION} s per million rows (< {aim_upload:.1f} s "
               f"for {rows})", up < aim_upload, f"{up:.1f} s", kind)
    report.aim("collision_times_floor", f"collision ≤ {AIM_TIMES_FLOOR} × the bare anti-joins",
               ratio <= AIM_TIMES_FLOOR, f"{ratio:.2f} × ({col:.2f} s vs {flo:.2f} s)", kind)
    reg = report.figure("register_s", med(t for t, _p, _r in rounds["register"]), "s",
                        f"register collision: the street's {rows}+ registered residents against {rows} samples "
                        "(2 lists stored)", kind)
    reg_floor = report.figure("register_floor_s", med(t for t, _p, _r in rounds["register_floor"]), "s",
                              "register floor: the bare anti-join of the register + the registered-elsewhere count",
                              kind)
    reg_ratio = report.ratio("register_times_floor", reg, reg_floor, "register collision ÷ its floor", kind)
    report.aim("register_times_floor", f"register collision ≤ {AIM_TIMES_FLOOR} × its bare anti-join",
               reg_ratio <= AIM_TIMES_FLOOR, f"{reg_ratio:.2f} × ({reg:.2f} s vs {reg_floor:.2f} s)", kind)
    if "collision_serial" in rounds:
        col1 = report.figure("collision_serial_s", med(t for t, _p, _r in rounds["collision_serial"]), "s",
                             "collision without parallel workers", kind)
        flo1 = report.figure("floor_serial_s", med(t for t, _p, _r in rounds["floor_serial"]), "s",
                             "floor without parallel workers", kind)
        report.ratio("collision_times_floor_serial", col1, flo1, "collision ÷ floor, both without parallel workers",
                     kind)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="roster rows = samples (default 200000)")
    parser.add_argument("--overlap", type=float, default=0.8, help="share of the roster that was sampled")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds of collision and floor (medians)")
    parser.add_argument("--upload-repeat", type=int, default=3, help="uploads timed (median)")
    parser.add_argument("--only", choices=("postgresql", "sqlite"), help="one database only")
    benchlib.add_arguments(parser)
    args = parser.parse_args()
    report = benchlib.Report("bench_collisions", args)
    args.overlap = int(args.rows * args.overlap)
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    start = time.perf_counter()
    roster_file = Path(tempfile.gettempdir()) / f"bench_roster_{os.getpid()}.csv"
    make_roster_file(roster_file, args.rows)
    print(f"generated a {roster_file.stat().st_size / 1e6:.0f} MB roster in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    try:
        for kind in ("postgresql", "sqlite"):
            if args.only in (None, kind):
                bench(kind, args, roster_file, report)
    finally:
        roster_file.unlink(missing_ok=True)
    report.note(f"{args.rows:,} roster rows (GB18030 CSV) and as many samples, {args.overlap:,} of the roster "
                f"sampled; {args.upload_repeat} uploads, {args.repeat} interleaved rounds of collision and floor")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
