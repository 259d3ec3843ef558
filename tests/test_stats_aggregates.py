"""The statistics aggregates, kept by database triggers, equal a from-scratch GROUP BY count after
ORM inserts, bulk SQL, undo (DELETE), plain UPDATEs of tubes and samples, and concurrent scans."""
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from sampling.errors import Busy, from_database_error
from sampling.extensions import db
from sampling.models import Resident, Sample, Site, StatsCommunity, StatsSite, StatsSiteHour, User
from sampling.stats.triggers.rebuild import rebuild_stats
from tests.stats_data import HOURLY, REGISTERED, SITES, build_known_round, post_results

TABLES = {"stats_site": 2, "stats_site_hour": 3, "stats_sampler_hour": 4, "stats_person": 2, "stats_community": 1}


def snapshot() -> dict:
    """Every aggregate row with a non-zero counter (rebuilds do not keep empty rows)."""
    out = {}
    for table, keys in TABLES.items():
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
        if table == "stats_person":
            out[table] = sorted(tuple(r) for r in rows)
        else:
            out[table] = sorted(tuple(r) for r in rows if any(v for v in tuple(r)[keys:]))
    db.session.rollback()
    return out


def assert_exact() -> None:
    """The trigger-kept aggregates equal a rebuild from scratch, and people = distinct residents."""
    before = snapshot()
    rebuild_stats()
    assert snapshot() == before
    distinct = dict(db.session.execute(select(Sample.round_id, func.count(func.distinct(Sample.resident_id)))
                                       .group_by(Sample.round_id)).all())
    people = dict(db.session.execute(select(StatsSite.round_id, func.sum(StatsSite.people))
                                     .group_by(StatsSite.round_id)).all())
    assert {k: v for k, v in people.items() if v} == distinct
    # and, independently of the shared contribution expressions, plain GROUP BY counts
    scratch = {(r, s): (n, int(sup or 0)) for r, s, n, sup in db.session.execute(text(
        "SELECT round_id, site_id, count(*), sum(CASE WHEN supplementary THEN 1 ELSE 0 END) FROM samples "
        "GROUP BY round_id, site_id"))}
    kept = {(r, s): (n, sup) for r, s, n, sup in db.session.execute(text(
        "SELECT round_id, site_id, samples, supplementary FROM stats_site WHERE samples <> 0"))}
    assert kept == scratch
    tubes = {tuple(r) for r in db.session.execute(text(
        "SELECT round_id, site_id, status, count(*) FROM tubes GROUP BY round_id, site_id, status"))}
    kept_tubes = set()
    for row in db.session.execute(text("SELECT * FROM stats_site")).mappings():
        for status in ("open", "sealed", "boxed", "received", "resulted"):
            if row[f"tubes_{status}"]:
                kept_tubes.add((row["round_id"], row["site_id"], status, row[f"tubes_{status}"]))
    assert kept_tubes == tubes
    registered = dict(db.session.execute(text(
        "SELECT community_id, count(*) FROM residents WHERE community_id IS NOT NULL GROUP BY community_id")).all())
    assert dict(db.session.execute(text(
        "SELECT community_id, registered FROM stats_community WHERE registered <> 0")).all()) == registered
    db.session.rollback()


def run_phones(phone, apps, errors) -> None:
    """Run ``phone(n, app)`` in a thread per app, wait for all, and fail on any error they hit."""
    threads = [threading.Thread(target=phone, args=(n, app)) for n, app in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    db.session.expire_all()


def known_round_for_phones(is_postgres) -> tuple[int, list[int], list[int]]:
    """The known round for a concurrency test (PostgreSQL only): its id, the site ids, the residents."""
    if not is_postgres:
        pytest.skip("concurrency is tested on PostgreSQL")
    data = build_known_round()
    sites = db.session.scalars(select(Site.id).order_by(Site.code)).all()
    return data["round"].id, sites, list(data["residents"].values())


def site_row(round_id, code) -> StatsSite | None:
    return db.session.scalar(select(StatsSite).join(Site, Site.id == StatsSite.site_id)
                             .where(StatsSite.round_id == round_id, Site.code == code))


def test_known_round_counters(demo_city, make_user):
    hp, hd = make_user("sampler", sites=("S-HP-001",)), make_user("sampler", sites=("S-HD-001",))
    data = build_known_round((hp.id, hd.id))
    rnd = data["round"]
    for code, expected in SITES.items():
        row = site_row(rnd.id, code)
        got = {k: 0 for k in expected} if row is None else {
            "samples": row.samples, "supplementary": row.supplementary, "sampled": row.people, "tubes": row.tubes,
            "tubes_open": row.tubes_open, "tubes_sealed": row.tubes_sealed, "tubes_boxed": row.tubes_boxed,
            "tubes_resulted": row.tubes_resulted}
        assert got == expected, code
    hours = db.session.execute(
        select(StatsSiteHour.hour, func.sum(StatsSiteHour.samples), func.sum(StatsSiteHour.people))
        .where(StatsSiteHour.round_id == rnd.id).group_by(StatsSiteHour.hour).order_by(StatsSiteHour.hour)).all()
    assert [tuple(h) for h in hours if h[1] or h[2]] == [h for h in HOURLY if h[1] or h[2]]
    registered = dict(db.session.execute(text(
        "SELECT r.code, s.registered FROM stats_community s JOIN regions r ON r.id = s.community_id")).all())
    assert registered == REGISTERED
    scans = dict(db.session.execute(text(
        "SELECT sampler_id, sum(samples) FROM stats_sampler_hour GROUP BY sampler_id")).all())
    assert scans == {hp.id: 9, hd.id: 2}
    assert_exact()


def test_bulk_sql_one_statement_many_rows(demo_city):
    """A backfill INSERT ... SELECT with the same resident twice in one statement counts them once."""
    data = build_known_round()
    rnd, tubes = data["round"], data["tubes"]
    db.session.execute(text(
        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at, resample) "
        "SELECT t.id, r.id, t.round_id, t.site_id, :supp, :ts, (t.id = :b OR EXISTS (SELECT 1 FROM samples s2 "
        "WHERE s2.round_id = t.round_id AND s2.resident_id = r.id)) FROM tubes t, residents r "
        "WHERE t.id IN (:a, :b) AND r.id_number IN ('T00009', 'T00010') "
        "AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.tube_id = t.id AND s.resident_id = r.id)"),
        {"a": tubes["T1"], "b": tubes["T4"], "supp": True, "ts": "2026-11-20 11:30:00"})
    db.session.commit()
    assert db.session.scalar(select(func.sum(StatsSite.people)).where(StatsSite.round_id == rnd.id)) == 12
    assert_exact()


def test_plain_updates_and_deletes(demo_city):
    data = build_known_round()
    rnd, tubes = data["round"], data["tubes"]
    s3 = db.session.scalar(select(Site.id).where(Site.code == "S-HP-003"))
    # a sample moved to another site and hour, a supplementary flag corrected, a tube moved
    db.session.execute(text("UPDATE samples SET site_id = :s, sampled_at = '2026-11-20 12:00:00' "
                            "WHERE tube_id = :t AND resident_id = :r"),
                       {"s": s3, "t": tubes["T1"], "r": data["residents"][2]})
    db.session.execute(text("UPDATE samples SET supplementary = :f WHERE tube_id = :t"),
                       {"t": tubes["T2"], "f": False})
    db.session.execute(text("UPDATE tubes SET site_id = :s WHERE id = :t"), {"s": s3, "t": tubes["T2"]})
    # a resident moves house, another is deleted with no samples
    db.session.execute(text("UPDATE residents SET community_id = (SELECT id FROM regions WHERE code = '120103001001') "
                            "WHERE id_number = 'T00001'"))
    db.session.execute(text("DELETE FROM residents WHERE id_number = 'T00005'"))
    db.session.commit()
    assert site_row(rnd.id, "S-HP-003").tubes == 2
    assert db.session.scalar(select(StatsCommunity.registered).join(
        Resident, Resident.community_id == StatsCommunity.community_id).where(Resident.id_number == "T00001")) == 1
    assert_exact()
    # a whole tube deleted: its samples go with it (ON DELETE CASCADE)
    db.session.execute(text("DELETE FROM tubes WHERE id = :t"), {"t": tubes["T1"]})
    db.session.commit()
    assert db.session.scalar(select(func.sum(StatsSite.people)).where(StatsSite.round_id == rnd.id)) == 8
    assert_exact()


def test_rebuild_cli_repairs_counters(demo_city):
    rnd = build_known_round()["round"]
    expected = snapshot()
    db.session.execute(text("UPDATE stats_site SET samples = 999, people = 0"))
    db.session.execute(text("DELETE FROM stats_person"))
    db.session.commit()
    result = demo_city.test_cli_runner().invoke(args=["rebuild-stats", "--round", str(rnd.id)])
    assert result.exit_code == 0, result.output
    assert snapshot() == expected
    db.session.execute(text("DELETE FROM stats_community"))
    db.session.commit()
    assert demo_city.test_cli_runner().invoke(args=["rebuild-stats"]).exit_code == 0
    assert snapshot() == expected


def test_lab_results_counted(demo_city):
    """Pools (tubes of more than one) and 1-in-1 tubes apart, turnaround; then a retest tube
    corrected to capacity 10 becomes a pool, and a pool's result withdrawn stops counting."""
    data = build_known_round()
    post_results(data)
    hp2, hd1 = site_row(data["round"].id, "S-HP-002"), site_row(data["round"].id, "S-HD-001")
    assert (hp2.pools_positive, hp2.positive_members, hp2.positive_individuals) == (1, 2, 1)
    assert (hp2.pools_invalid, hp2.invalid_members, hp2.invalid_individuals) == (0, 0, 1)
    assert (hp2.tubes_resulted, hp2.turnaround_count, hp2.turnaround_seconds) == (3, 3, 7 * 3600)
    assert (hd1.pools_negative, hd1.turnaround_count, hd1.turnaround_seconds) == (1, 1, 4 * 3600)
    hp3 = site_row(data["round"].id, "S-HP-003")
    assert (hp3.pools_invalid, hp3.invalid_members, hp3.invalid_individuals) == (1, 2, 0)
    assert site_row(data["round"].id, "S-HP-001").tubes_received == 1
    assert_exact()
    db.session.execute(text("UPDATE tubes SET capacity = 10 WHERE id = :id"), {"id": data["tubes"]["R6"]})
    db.session.execute(text("UPDATE tubes SET result = NULL, resulted_at = NULL, status = 'received' "
                            "WHERE id = :id"), {"id": data["tubes"]["T3"]})
    db.session.commit()
    db.session.expire_all()
    hp2 = site_row(data["round"].id, "S-HP-002")
    assert (hp2.pools_positive, hp2.positive_members, hp2.positive_individuals) == (1, 1, 0)
    assert (hp2.tubes_received, hp2.turnaround_count, hp2.turnaround_seconds) == (1, 2, 4 * 3600)
    assert_exact()


def test_concurrent_scans_of_the_same_residents(demo_city, make_app, is_postgres):
    """Phones scanning the same residents into different tubes at once, with undo: people stay exact."""
    round_id, sites, residents = known_round_for_phones(is_postgres)
    apps = [make_app() for _ in range(6)]
    errors = []

    def phone(n: int, app) -> None:
        try:
            with app.app_context():
                site = sites[n]
                tube_id = db.session.execute(text(
                    "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at) "
                    "VALUES (:c, :r, :s, 20, 0, 'open', now()) RETURNING id"),
                    {"c": f"C{n}", "r": round_id, "s": site}).scalar()
                db.session.commit()
                for resident in residents:  # as retests: the known round has sampled some of them already
                    db.session.execute(text(
                        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at, "
                        "resample) VALUES (:t, :p, :r, :s, false, now(), :again)"),
                        {"t": tube_id, "p": resident, "r": round_id, "s": site, "again": True})
                    db.session.commit()
                for resident in residents[n::6]:  # undo some
                    db.session.execute(text("DELETE FROM samples WHERE tube_id = :t AND resident_id = :p"),
                                       {"t": tube_id, "p": resident})
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    run_phones(phone, apps, errors)
    assert db.session.scalar(select(func.sum(StatsSite.people)).where(StatsSite.round_id == round_id)) == len(residents)
    assert_exact()


def test_sampler_is_not_required(demo_city):
    build_known_round()
    assert db.session.scalar(select(func.count()).select_from(User)) >= 1
    assert db.session.scalar(text("SELECT count(*) FROM stats_sampler_hour")) == 0


def test_concurrent_batches_of_the_same_residents(demo_city, make_app, is_postgres):
    """Batches of retests (one multi-row INSERT each) holding the same residents in different
    orders, at once, two of them at one site: every person is counted once. Retests of one person
    racing at two sites can make the database abort one batch as a deadlock victim (503 busy for a
    phone, which sends it again); retried, the counters are exact."""
    round_id, sites, residents = known_round_for_phones(is_postgres)
    extra = [db.session.execute(text(
        "INSERT INTO residents (name, id_type, id_number, phone, source, created_at) "
        "VALUES (:n, 'passport', :i, '13900000000', 'self', now()) RETURNING id"),
        {"n": f"批{i}", "i": f"B{i:07d}"}).scalar() for i in range(30)]
    db.session.commit()
    apps = [make_app() for _ in range(4)]
    barrier, errors = threading.Barrier(len(apps), timeout=30), []

    def phone(n: int, app) -> None:
        try:
            with app.app_context():
                site = sites[n // 2]
                tube_id = db.session.execute(text(
                    "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at) "
                    "VALUES (:c, :r, :s, 20, 0, 'open', now()) RETURNING id"),
                    {"c": f"B{n}", "r": round_id, "s": site}).scalar()
                db.session.commit()
                people = (residents + extra)[n::2] if n % 2 else list(reversed(residents + extra))
                barrier.wait()
                for _attempt in range(10):  # a writer the database picks as a deadlock's victim retries
                    try:
                        db.session.execute(text(
                            "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, "
                            "sampled_at, resample) SELECT :t, p, :r, :s, false, now(), true "
                            "FROM unnest(CAST(:people AS bigint[])) p"),
                            {"t": tube_id, "r": round_id, "s": site, "people": people})
                        db.session.commit()
                        break
                    except OperationalError as exc:
                        db.session.rollback()
                        assert isinstance(from_database_error(exc), Busy), exc
                else:
                    raise AssertionError("no attempt succeeded")
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    run_phones(phone, apps, errors)
    assert db.session.scalar(select(func.sum(StatsSite.people)).where(StatsSite.round_id == round_id)) == \
        len(residents) + len(extra)
    assert_exact()
