"""Benchmark: posting a day's lab results, and listing positive pools, on SQLite and PostgreSQL.

    .venv/bin/python scripts/bench_results.py --help
    .venv/bin/python scripts/bench_results.py --tubes 2000 --db both

Per database (SQLite in a temporary folder; PostgreSQL $BENCH_PG_DATABASE or `bench_r`, WIPED) it
builds a round of N received 10-in-1 tubes (N*10 residents and samples, 1 % of the results
positive), then times, interleaved --repeat times (order rotated each round; medians; the tubes
reset to "received" before each run):

- post:   results.post_results for all N tubes (the real path: lock and read the tubes, classify,
          conditional UPDATE ... RETURNING per chunk, audit rows, positive summary);
- floor:  the least any implementation must write: one bare ``UPDATE tubes SET status, result,
          resulted_at WHERE code IN (...)`` per result value and chunk of 500 tubes, committed per
          chunk as post commits (on PostgreSQL the statistics trigger makes one long transaction
          slower than chunks: it updates the same counter rows again and again); nothing read,
          checked or audited;
- naive:  a per-row ORM loop (SELECT the tube, set fields, flush) on --naive-tubes rows,
          scaled to N — what set-based code avoids;

then, once the results are posted, interleaved likewise:

- list:       positives.list_pools for an admin (the flagged pools with members and follow-up);
- list floor: one SELECT of the same member rows without the follow-up look-ups.

Every run is checked: post reports N updated and nothing rejected, and after post and floor the
database holds N resulted tubes of which N/100 positive; the list has every positive pool with its
10 members. Exit 1 on a failed check (or when the floor is slower than post: then it is no floor).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402
from sqlalchemy import delete, func, insert, select, update  # noqa: E402

from sampling import create_app  # noqa: E402
from sampling.extensions import db  # noqa: E402
from sampling.models.base import utcnow  # noqa: E402


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


def counts() -> tuple[int, int]:
    """(resulted tubes, positive tubes)."""
    from sampling.models import Tube
    return tuple(db.session.execute(select(func.count(Tube.id).filter(Tube.status == "resulted"),
                                           func.count(Tube.id).filter(Tube.result == "positive"))).one())


def bench(kind: str, args, report) -> None:
    url = benchlib.database_url(kind, "bench_r")
    benchlib.fresh_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context(), app.test_request_context():
        from sampling.lab import positives, results
        from sampling.models import Tube
        lab, admin, round_id = build(args.tubes)
        codes = [f"BT{i:08d}" for i in range(args.tubes)]
        words = ["positive" if i % 100 == 0 else "negative" for i in range(args.tubes)]
        positive = words.count("positive")

        def post():
            rows = (results.make_row(None, c, w) for c, w in zip(codes, words, strict=True))
            outcome = results.post_results(lab, rows)
            report.check(outcome["updated"] == args.tubes and not outcome["rejected"],
                         f"{kind}: post updated {outcome['updated']}, rejected {outcome['rejected'][:3]}")

        def floor():
            now = utcnow()
            for start in range(0, args.tubes, results.CHUNK):  # committed per chunk, as post commits
                for word in ("positive", "negative"):
                    chosen = [c for c, w in zip(codes[start:start + results.CHUNK], words[start:start + results.CHUNK],
                                                strict=True) if w == word]
                    db.session.execute(update(Tube).where(Tube.code.in_(chosen))
                                       .values(status="resulted", result=word, resulted_at=now)
                                       .execution_options(synchronize_session=False))
                db.session.commit()

        def naive():
            for code, word in zip(codes[:args.naive_tubes], words, strict=False):
                tube = db.session.scalar(select(Tube).where(Tube.code == code))
                if tube.status == "received":
                    tube.status, tube.result, tube.resulted_at = "resulted", word, utcnow()
                    db.session.flush()
            db.session.commit()

        def run(fn, expected, scale=1.0):
            def go(_n):
                reset()
                seconds, _ = benchlib.timed(fn)
                got = counts()
                report.check(got == expected, f"{kind}: {fn.__name__}: {got} (resulted, positive), expected {expected}")
                return seconds * scale
            return go

        naive_n = min(args.naive_tubes, args.tubes)
        writes = benchlib.interleaved(args.repeat, {
            "post": run(post, (args.tubes, positive)), "floor": run(floor, (args.tubes, positive)),
            "naive": run(naive, (naive_n, len([w for w in words[:naive_n] if w == "positive"])),
                         args.tubes / max(1, naive_n))})
        reset()
        post()
        members = positives._members_query().where(Tube.round_id == round_id)

        def listed(_n):
            seconds, pools = benchlib.timed(lambda: positives.list_pools(admin, round_id))
            people = sum(len(p["members"]) for p in pools)
            report.check((len(pools), people) == (positive, positive * 10),
                         f"{kind}: list_pools gave {len(pools)} pools, {people} members; expected {positive}, "
                         f"{positive * 10}")
            return seconds

        def list_floor(_n):
            seconds, rows = benchlib.timed(lambda: db.session.execute(members).all())
            report.check(len(rows) == positive * 10, f"{kind}: list floor read {len(rows)} rows")
            return seconds

        lists = benchlib.interleaved(args.repeat, {"list": listed, "list floor": list_floor})
    figures(report, kind, args, writes, lists, positive)


def figures(report, kind, args, writes, lists, positive) -> None:
    med = benchlib.median
    n = f"{args.tubes:,}"
    post = report.figure("post_s", med(writes["post"]), "s", f"post {n} results (check, update, audit)", kind)
    report.figure("post_rate", args.tubes / post, "/s", "post: tubes/s", kind)
    flo = report.figure("floor_s", med(writes["floor"]), "s",
                        f"floor: bare UPDATE of the {n} tubes by code, one per result value and chunk", kind)
    naive = report.figure("naive_s", med(writes["naive"]), "s",
                          f"naive per-row ORM loop, {args.naive_tubes} rows scaled to {n}", kind)
    report.ratio("post_times_floor", post, flo, "post ÷ floor", kind)
    report.ratio("naive_times_post", naive, post, "naive loop ÷ post", kind)
    report.check(post >= flo, f"{kind}: the floor ({flo:.3f} s) is slower than post ({post:.3f} s): not a floor")
    listed = report.figure("list_ms", med(lists["list"]) * 1000, "ms",
                           f"list {positive} positive pools ({positive * 10} people, follow-up state)", kind)
    list_floor = report.figure("list_floor_ms", med(lists["list floor"]) * 1000, "ms",
                               "list floor: one SELECT of the member rows", kind)
    report.ratio("list_times_floor", listed, list_floor, "list ÷ list floor", kind)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tubes", type=int, default=2000, help="received 10-in-1 tubes (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3; medians)")
    parser.add_argument("--naive-tubes", type=int, default=300, help="rows for the per-row loop (default 300)")
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    benchlib.add_arguments(parser)
    args = parser.parse_args()
    report = benchlib.Report("bench_results", args)
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        bench(kind, args, report)
    report.note(f"{args.tubes:,} received 10-in-1 tubes ({args.tubes * 10:,} samples), 1 % positive; "
                f"{args.repeat} interleaved rounds")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
