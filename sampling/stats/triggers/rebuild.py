"""Recomputing the statistics aggregates from scratch with set-based SQL (``flask rebuild-stats``):
after bulk loads that bypassed the triggers, or to check them. The same contribution expressions as
the triggers (sampling.stats.triggers.definitions) are summed with GROUP BY."""
from sqlalchemy import inspect

from sampling.extensions import db
from sampling.stats.triggers import definitions as st

_TABLES = ("stats_person", "stats_site_hour", "stats_sampler_hour", "stats_site")


def _where(round_id: int | None, alias: str = "") -> str:
    return "" if round_id is None else f" WHERE {alias}round_id = {int(round_id)}"


def rebuild_sql(dialect: str, round_id: int | None, revision: str = "0012") -> list[str]:
    """The statements that recompute the counters of one round (or all rounds and communities),
    with the tubes' contributions as of ``revision`` (see definitions.tube_parts)."""
    hour = st.hour_sql(dialect, "s.sampled_at")
    supp = "CASE WHEN s.supplementary THEN 1 ELSE 0 END"
    parts = st.tube_parts(dialect, revision)
    tube_cols = ", ".join(c for c, _ in parts)
    tube_sums = ", ".join(f"sum({e.format(r='t')})" for _, e in parts)
    w, ws = _where(round_id), _where(round_id, "s.")
    statements = [f"DELETE FROM {table}{w}" for table in _TABLES]
    statements += [
        "INSERT INTO stats_person (round_id, resident_id, sample_id, site_id, hour) " + (
            f"SELECT DISTINCT ON (s.round_id, s.resident_id) s.round_id, s.resident_id, s.id, s.site_id, {hour} "
            f"FROM samples s{ws} ORDER BY s.round_id, s.resident_id, s.id" if dialect == "postgresql" else
            f"SELECT s.round_id, s.resident_id, s.id, s.site_id, {hour} FROM samples s JOIN "
            f"(SELECT min(id) AS id FROM samples{w} GROUP BY round_id, resident_id) f ON f.id = s.id"),

        "INSERT INTO stats_site_hour (round_id, site_id, hour, samples, supplementary, people) "
        "SELECT round_id, site_id, hour, sum(n), sum(supp), sum(people) FROM ("
        f"SELECT s.round_id, s.site_id, {hour} AS hour, count(*) AS n, sum({supp}) AS supp, 0 AS people "
        f"FROM samples s{ws} GROUP BY s.round_id, s.site_id, {hour} "
        f"UNION ALL SELECT round_id, site_id, hour, 0, 0, count(*) FROM stats_person{w} "
        "GROUP BY round_id, site_id, hour) x GROUP BY round_id, site_id, hour",

        "INSERT INTO stats_sampler_hour (round_id, sampler_id, site_id, hour, samples) "
        f"SELECT s.round_id, s.sampler_id, s.site_id, {hour}, count(*) FROM samples s "
        f"WHERE s.sampler_id IS NOT NULL{'' if round_id is None else f' AND s.round_id = {int(round_id)}'} "
        f"GROUP BY s.round_id, s.sampler_id, s.site_id, {hour}",

        f"INSERT INTO stats_site (round_id, site_id, samples, supplementary, people, {tube_cols}) "
        f"SELECT round_id, site_id, sum(n), sum(supp), sum(people), {', '.join(f'sum({c})' for c, _ in parts)} "
        "FROM (SELECT round_id, site_id, sum(samples) AS n, sum(supplementary) AS supp, sum(people) AS people, "
        f"{', '.join(f'0 AS {c}' for c, _ in parts)} FROM stats_site_hour{w} GROUP BY round_id, site_id "
        f"UNION ALL SELECT t.round_id, t.site_id, 0, 0, 0, "
        f"{tube_sums} FROM tubes t{_where(round_id, 't.')} "
        "GROUP BY t.round_id, t.site_id) x GROUP BY round_id, site_id",
    ]
    if round_id is None:
        statements += [
            "DELETE FROM stats_community",
            "INSERT INTO stats_community (community_id, registered) SELECT community_id, count(*) "
            "FROM residents WHERE community_id IS NOT NULL GROUP BY community_id",
        ]
    return statements


def tube_counters_sql(parts) -> str:
    """One UPDATE that recomputes the tube counters of every existing ``stats_site`` row from the
    tubes (after a migration changed the contributions; counts only tubes, not samples)."""
    cols = ", ".join(c for c, _ in parts)
    sums = ", ".join(f"coalesce(sum({e.format(r='t')}), 0)" for _, e in parts)
    return (f"UPDATE stats_site SET ({cols}) = (SELECT {sums} FROM tubes t "
            "WHERE t.round_id = stats_site.round_id AND t.site_id = stats_site.site_id)")


def has_result_columns(connection) -> bool:
    """True once the lab's tubes.result and resulted_at columns exist (scripts/gen_city.py asks)."""
    columns = {c["name"] for c in inspect(connection).get_columns("tubes")}
    return {"result", "resulted_at"} <= columns


def rebuild_stats(round_id: int | None = None) -> None:
    """Recompute the aggregates of one round (or everything) in one transaction. On PostgreSQL the
    writers (scans, lab) wait while it runs, so the counters it leaves are exact."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("LOCK TABLE residents, tubes, samples IN SHARE MODE")
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    for statement in rebuild_sql(dialect, round_id):
        connection.exec_driver_sql(statement)
    db.session.commit()
