"""Generate a city at Tianjin's scale straight into a PostgreSQL database, for the statistics benchmark.

    .venv/bin/python scripts/gen_city.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_g \\
        --scale 0.05 --reset

Regions and sites are always full size (16 districts, 281 streets, 6,127 communities, 5,000 sites,
2 samplers per site); ``--scale`` scales residents, tubes and samples (1.0 = 14 million residents and
samples in 1.4 million tubes of 10, over one 24-hour round). Everything is set-based SQL inside
PostgreSQL (INSERT ... SELECT generate_series); the statistics triggers are bypassed for the load
(session_replication_role = replica) and the aggregates rebuilt afterwards (``rebuild-stats``).
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
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the generator needs PostgreSQL")
    app = make_app(args.database_url)
    if args.reset:
        reset(app)
    started = time.perf_counter()
    result = generate(app, args.scale)
    print(f"city generated: {result['people']:,} residents and samples in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
