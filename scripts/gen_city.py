"""Generate a city at Tianjin's scale straight into a PostgreSQL database, for the statistics benchmark.

    .venv/bin/python scripts/gen_city.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_g \\
        --scale 0.05 --reset

Regions and sites are always full size (16 districts, 281 streets, 6,127 communities, 5,000 sites,
2 samplers per site); ``--scale`` scales residents, tubes and samples (1.0 = 14 million residents and
samples in 1.4 million tubes of 10, over one 24-hour round). Everything is set-based SQL inside
PostgreSQL (INSERT ... SELECT generate_series); the statistics triggers are bypassed for the load
(session_replication_role = replica) and the aggregates rebuilt afterwards (``rebuild-stats``).
Then rosters (``--roster-share`` of the communities, ``--street-roster-share`` of the streets,
each listing its residents and 3 % more people never sampled) collided with the round by the real
collision service, as coordinators do (:func:`add_rosters`).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

DISTRICTS = [("120101", "和平区"), ("120102", "河东区"), ("120103", "河西区"), ("120104", "南开区"),
             ("120105", "河北区"), ("120106", "红桥区"), ("120110", "东丽区"), ("120111", "西青区"),
             ("120112", "津南区"), ("120113", "北辰区"), ("120114", "武清区"), ("120115", "宝坻区"),
             ("120116", "滨海新区"), ("120117", "宁河区"), ("120118", "静海区"), ("120119", "蓟州区")]
STREETS, COMMUNITIES, SITES, PEOPLE = 281, 6127, 5000, 14_000_000
DAY = "2022-01-10 00:00:00+08"
BENCH_PASSWORD = "bench-password-1"


def _steps(n_people: int, has_results: bool) -> list[tuple[str, str]]:
    n_tubes = (n_people + 9) // 10
    result_sql = (", result = CASE WHEN status = 'resulted' THEN CASE WHEN id % 20011 = 0 THEN 'positive' "
                  "WHEN id % 5003 = 0 THEN 'invalid' ELSE 'negative' END END, "
                  "resulted_at = CASE WHEN status = 'resulted' THEN sealed_at + interval '5 hours' END"
                  if has_results else "")
    return [
        ("districts", "INSERT INTO regions (code, name, level, parent_id, path) SELECT code, name, 'district', "
         "NULL, '/' || code || '/' FROM (VALUES " + ", ".join(f"('{c}', '{n}')" for c, n in DISTRICTS) +
         ") v(code, name)"),
        ("streets", "INSERT INTO regions (code, name, level, parent_id, path) "
         "SELECT d.code || lpad((g / 16 + 1)::text, 3, '0'), d.name || '第' || (g / 16 + 1) || '街道', 'street', "
         "d.id, d.path || d.code || lpad((g / 16 + 1)::text, 3, '0') || '/' "
         f"FROM generate_series(0, {STREETS - 1}) g JOIN (SELECT id, code, name, path, "
         "row_number() OVER (ORDER BY code) - 1 AS k FROM regions WHERE level = 'district') d ON d.k = g % 16"),
        ("communities", "INSERT INTO regions (code, name, level, parent_id, path) "
         f"SELECT s.code || lpad((g / {STREETS} + 1)::text, 3, '0'), "
         f"'社区' || s.code || '-' || (g / {STREETS} + 1), 'community', s.id, "
         f"s.path || s.code || lpad((g / {STREETS} + 1)::text, 3, '0') || '/' "
         f"FROM generate_series(0, {COMMUNITIES - 1}) g JOIN (SELECT id, code, path, "
         f"row_number() OVER (ORDER BY code) - 1 AS k FROM regions WHERE level = 'street') s ON s.k = g % {STREETS}"),
        ("sites", "INSERT INTO sites (code, name, community_id) SELECT 'S' || lpad(g::text, 5, '0'), "
         f"'采样点' || g, c.id FROM generate_series(0, {SITES - 1}) g "
         "JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k "
         f"FROM regions WHERE level = 'community') c ON c.k = (g * {COMMUNITIES}) / {SITES}"),
        ("samplers", "INSERT INTO users (username, password_hash, role, display_name, active, created_at) "
         "SELECT 'sampler' || g, 'x', 'sampler', '采样员' || g, true, now() "
         f"FROM generate_series(0, {2 * SITES - 1}) g"),
        ("round", "INSERT INTO rounds (name, pool_size, status, starts_at, created_at) "
         f"VALUES ('基准轮次', 10, 'open', '{DAY}', now())"),
        ("residents", "INSERT INTO residents (name, id_type, id_number, phone, community_id, source, created_at) "
         "SELECT '居民' || g, 'other', 'B' || lpad(g::text, 9, '0'), NULL, c.id, 'self', now() "
         f"FROM generate_series(0, {n_people - 1}) g JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k "
         f"FROM regions WHERE level = 'community') c ON c.k = g % {COMMUNITIES}"),
        ("tubes", "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at, sealed_at) "
         "SELECT 'T' || lpad(t::text, 8, '0'), r.id, s.id, 10, 10, "
         "CASE WHEN t % 20 = 0 THEN 'open' WHEN t % 20 < 7 THEN 'sealed' WHEN t % 20 < 11 THEN 'boxed' "
         "WHEN t % 20 < 14 THEN 'received' ELSE 'resulted' END, "
         f"'{DAY}'::timestamptz + (t::float8 / {n_tubes} * 86400) * interval '1 second', "
         f"CASE WHEN t % 20 = 0 THEN NULL ELSE '{DAY}'::timestamptz + (t::float8 / {n_tubes} * 86400 + 600) "
         "* interval '1 second' END "
         f"FROM generate_series(0, {n_tubes - 1}) t JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k "
         f"FROM sites) s ON s.k = t % {SITES}, (SELECT max(id) AS id FROM rounds) r"),
        ("tube results", f"UPDATE tubes SET status = status{result_sql}" if has_results else "SELECT 1"),
        ("samples", "INSERT INTO samples "
         "(tube_id, resident_id, round_id, site_id, sampler_id, supplementary, sampled_at) "
         "SELECT t.id, p.first + g, t.round_id, t.site_id, u.id, g % 50 = 0, "
         "t.opened_at + (g % 10) * interval '30 seconds' "
         f"FROM generate_series(0, {n_people - 1}) g "
         "JOIN (SELECT id, round_id, site_id, opened_at, row_number() OVER (ORDER BY id) - 1 AS k FROM tubes) t "
         "ON t.k = g / 10 JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users "
         f"WHERE role = 'sampler') u ON u.k = (t.site_id * 2 + (g / 10) % 2) % {2 * SITES}, "
         "(SELECT min(id) AS first FROM residents) p"),
    ]


def generate(app, scale: float) -> dict:
    """Load the city into the (empty, migrated) database of ``app``; returns seconds per step."""
    from sampling.extensions import db
    from sampling.kernel.users import create_user
    from sampling.stats.triggers.rebuild import has_result_columns, rebuild_stats
    n_people = max(int(PEOPLE * scale), 1000)
    timings = {}
    with app.app_context():
        connection = db.session.connection()
        connection.exec_driver_sql("SET session_replication_role = replica")  # no triggers, no FK checks
        connection.exec_driver_sql("SET work_mem = '256MB'")
        connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for name, sql in _steps(n_people, has_result_columns(connection)):
            started = time.perf_counter()
            connection.exec_driver_sql(sql.replace("%", "%%"))
            db.session.commit()
            connection = db.session.connection()
            connection.exec_driver_sql("SET session_replication_role = replica")
            timings[name] = time.perf_counter() - started
            print(f"  {name:<14} {timings[name]:8.1f} s", flush=True)
        db.session.connection().exec_driver_sql("SET session_replication_role = DEFAULT")
        started = time.perf_counter()
        rebuild_stats()
        timings["rebuild-stats"] = time.perf_counter() - started
        print(f"  {'rebuild-stats':<14} {timings['rebuild-stats']:8.1f} s", flush=True)
        for statement in ("ANALYZE",):
            db.session.connection().exec_driver_sql(statement)
        db.session.commit()
        create_user("bench_admin", "admin", BENCH_PASSWORD, update=True)
        create_user("bench_district", "coordinator", BENCH_PASSWORD, "120101", update=True)
        create_user("bench_street", "coordinator", BENCH_PASSWORD, "120101001", update=True)
        db.session.commit()
    return {"people": n_people, "timings": timings}


def add_rosters(app, share: float = 0.1, street_share: float = 0.05) -> dict:
    """Rosters as coordinators upload them, then collided with the round by the real service:
    one for every 1/``share``-th community (its residents, plus 3 % never sampled) and one for
    every 1/``street_share``-th street (the residents of its communities, plus 3 %). Entries are
    written set-based; each roster is then collided (``run_collision``, as the API does). Returns
    counts and seconds."""
    from sqlalchemy import select

    from sampling.extensions import db
    from sampling.kernel.users import create_user
    from sampling.rosters.collisions import run_collision
    started = time.perf_counter()
    with app.app_context():
        admin = create_user("bench_admin", "admin", BENCH_PASSWORD, update=True)
        db.session.commit()
        round_id = db.session.execute(text("SELECT max(id) FROM rounds")).scalar()
        for level, every in (("community", max(1, round(1 / share))), ("street", max(1, round(1 / street_share)))):
            db.session.execute(text(
                "INSERT INTO rosters (name, filename, region_id, uploaded_by_id, rows_total, rows_valid, status, "
                "created_at) SELECT '名单 ' || code, 'roster.xlsx', id, :admin, 0, 0, 'accepted', now() FROM "
                "(SELECT id, code, row_number() OVER (ORDER BY code) AS k FROM regions WHERE level = :level) r "
                "WHERE k % :every = 0"), {"admin": admin.id, "level": level, "every": every})
        # a roster lists the residents of its region (a street's: of its communities) ...
        for community in ("c.id = g.id AND g.level = 'community'", "c.parent_id = g.id AND g.level = 'street'"):
            db.session.execute(text(
                "INSERT INTO roster_entries (roster_id, row_number, name, id_type, id_number, phone, community, "
                "building, unit, room, address) SELECT ro.id, row_number() OVER (PARTITION BY ro.id ORDER BY p.id), "
                "p.name, '其他', p.id_number, '', c.name, '', '', '', '' FROM rosters ro "
                f"JOIN regions g ON g.id = ro.region_id JOIN regions c ON {community} "
                "JOIN residents p ON p.community_id = c.id"))
        # ... and 3 % more people who were never sampled
        db.session.execute(text(
            "INSERT INTO roster_entries (roster_id, row_number, name, id_type, id_number, phone, community, building, "
            "unit, room, address) SELECT ro.id, n.k + x, '未检' || x, '其他', 'U' || ro.id || '-' || x, '', '', '', "
            "'', '', '' FROM rosters ro JOIN (SELECT roster_id, count(*) AS k FROM roster_entries GROUP BY roster_id) "
            "n ON n.roster_id = ro.id, generate_series(1, greatest(1, (n.k * 3 / 100)::int)) x"))
        db.session.execute(text(
            "UPDATE rosters SET rows_total = n.k, rows_valid = n.k FROM (SELECT roster_id, count(*) AS k "
            "FROM roster_entries GROUP BY roster_id) n WHERE n.roster_id = rosters.id"))
        db.session.execute(text("ANALYZE roster_entries"))
        db.session.commit()
        loaded = time.perf_counter() - started
        roster_ids = list(db.session.scalars(select(text("id")).select_from(text("rosters")).order_by(text("id"))))
        entries = db.session.execute(text("SELECT count(*) FROM roster_entries")).scalar()
        for roster_id in roster_ids:
            run_collision(admin, roster_id, round_id)
    seconds = time.perf_counter() - started
    print(f"  {'rosters':<14} {loaded:8.1f} s  ({len(roster_ids):,} rosters, {entries:,} entries)", flush=True)
    print(f"  {'collisions':<14} {seconds - loaded:8.1f} s", flush=True)
    return {"rosters": len(roster_ids), "entries": entries, "seconds": seconds}


def reset(app) -> None:
    """Drop everything in the database and build it with the migrations."""
    from flask_migrate import upgrade

    from sampling.extensions import db
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()


def make_app(database_url: str):
    from sampling import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_g")
    parser.add_argument("--scale", type=float, default=0.05, help="fraction of 14 million residents/samples")
    parser.add_argument("--reset", action="store_true", help="drop and re-create the schema first (wipes it!)")
    parser.add_argument("--roster-share", type=float, default=0.1, help="share of communities with a roster")
    parser.add_argument("--street-roster-share", type=float, default=0.05, help="share of streets with a roster")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the generator needs PostgreSQL")
    app = make_app(args.database_url)
    if args.reset:
        reset(app)
    started = time.perf_counter()
    result = generate(app, args.scale)
    add_rosters(app, args.roster_share, args.street_roster_share)
    print(f"city generated: {result['people']:,} residents and samples in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
