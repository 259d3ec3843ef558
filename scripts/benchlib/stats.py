"""The statistics benchmark's checks: the city-level figures counted from scratch (its ceiling and
its exactness check), and the cost of one scan with and without the statistics triggers."""
import random
import time

from sqlalchemy import text

import benchlib

# the same figures from scratch: people at the site of their first sample in the round (as the
# aggregates count them), samples and supplementary samples, per district
NAIVE = """
SELECT d.code, sum(x.people), sum(x.n), sum(x.supp) FROM (
  SELECT f.site_id, count(*) AS people, 0 AS n, 0 AS supp FROM (
    SELECT DISTINCT ON (resident_id) resident_id, site_id FROM samples WHERE round_id = :r ORDER BY resident_id, id
  ) f GROUP BY f.site_id
  UNION ALL
  SELECT site_id, 0, count(*), sum(CASE WHEN supplementary THEN 1 ELSE 0 END) FROM samples WHERE round_id = :r
  GROUP BY site_id
) x JOIN sites si ON si.id = x.site_id JOIN regions c ON c.id = si.community_id
JOIN regions st ON st.id = c.parent_id JOIN regions d ON d.id = st.parent_id
GROUP BY d.code
"""
NAIVE_TUBES = """
SELECT d.code, count(*), sum(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END)
FROM tubes t JOIN sites si ON si.id = t.site_id JOIN regions c ON c.id = si.community_id
JOIN regions st ON st.id = c.parent_id JOIN regions d ON d.id = st.parent_id
WHERE t.round_id = :r GROUP BY d.code
"""


def scan_cost(app, round_id: int, report, n: int = 300) -> None:
    """Median time of one scan (INSERT sample + UPDATE tube), with the statistics triggers and
    without them (session_replication_role = replica), interleaved, in transactions rolled back."""
    from sampling.extensions import db
    with app.app_context():
        people = db.session.execute(text("SELECT min(id), max(id) FROM residents")).one()
        site = db.session.execute(text("SELECT min(id) FROM sites")).scalar()

        def scans(role):
            def run(_n):
                connection = db.session.connection()
                connection.exec_driver_sql(f"SET session_replication_role = {role}")
                tube = db.session.execute(text(
                    "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at) "
                    "VALUES (:c, :r, :s, 20, 0, 'open', now()) RETURNING id"),
                    {"c": f"COST-{time.time_ns()}", "r": round_id, "s": site}).scalar()
                times = []
                for _ in range(n // 3):
                    started = time.perf_counter()
                    db.session.execute(text(
                        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at) "
                        "VALUES (:t, :p, :r, :s, false, now()) ON CONFLICT DO NOTHING"),
                        {"t": tube, "p": random.randint(*people), "r": round_id, "s": site})
                    db.session.execute(text("UPDATE tubes SET sample_count = 0 WHERE id = :t"), {"t": tube})
                    times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
                return times
            return run

        rounds = benchlib.interleaved(3, {"with": scans("DEFAULT"), "without": scans("replica")})
    for key, label in (("with", "one scan (INSERT sample + UPDATE tube) with the statistics triggers"),
                       ("without", "the same scan without triggers")):
        values = [t for chunk in rounds[key] for t in chunk]
        report.figure(f"scan_{key}_triggers_ms", benchlib.median(values), "ms", f"{label}, median")


def exact(app, client, headers: dict, base: str, round_id: int, report) -> None:
    """With the scans stopped: the aggregated city figures equal the from-scratch counts."""
    from sampling.extensions import db
    rows = client.get(f"{base}&level=district", headers=headers).get_json()["rows"]
    kept = {r["code"]: (r["sampled"], r["samples"], r["supplementary"], r["tubes"], r["tubes_open"]) for r in rows
            if r["samples"] or r["tubes"]}
    with app.app_context():
        people = {c: (int(p), int(n), int(s)) for c, p, n, s in db.session.execute(text(NAIVE), {"r": round_id})}
        tubes = {c: (t, o) for c, t, o in db.session.execute(text(NAIVE_TUBES), {"r": round_id})}
        db.session.rollback()
    scratch = {c: people.get(c, (0, 0, 0)) + tubes.get(c, (0, 0)) for c in set(people) | set(tubes)}
    same = kept == scratch
    print(f"exact: aggregated city figures == counted from scratch: {'yes' if same else 'NO'}")
    report.check(same, "the aggregated city figures differ from the from-scratch count")
