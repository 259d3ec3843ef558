"""Benchmark the statistics API on a generated city (scripts/gen_city.py), on PostgreSQL, while
scans keep arriving (a writer thread inserts samples through the triggers at ``--scan-rate``).

    .venv/bin/python scripts/bench_stats.py --generate 0.05      # build bench_g at 5 % scale, then time
    .venv/bin/python scripts/bench_stats.py                      # time the city already in bench_g

Requests go through the whole Flask stack (token auth, JSON/CSV/XLSX) in-process. The ceiling
is the same city-level figures counted from scratch (GROUP BY over samples and tubes), measured in
the same run: the ratio says how much the trigger-kept aggregates save. Prints medians and p95.
"""
import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gen_city import BENCH_PASSWORD, generate, make_app, reset  # noqa: E402
from sqlalchemy import text  # noqa: E402

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


class Scanner(threading.Thread):
    """Phones scanning: new tubes of 10 at random sites, one committed scan at a time, ``rate`` per second."""

    def __init__(self, app, round_id: int, rate: float):
        super().__init__(daemon=True)
        self.app, self.round_id, self.rate = app, round_id, rate
        self.stop, self.scans, self.started = threading.Event(), 0, time.perf_counter()

    def run(self) -> None:
        from sampling.extensions import db
        with self.app.app_context():
            sites = db.session.execute(text("SELECT min(id), max(id) FROM sites")).one()
            people = db.session.execute(text("SELECT min(id), max(id) FROM residents")).one()
            started, n = time.perf_counter(), 0
            while not self.stop.is_set():
                site = random.randint(*sites)
                tube = db.session.execute(text(
                    "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at) "
                    "VALUES (:c, :r, :s, 10, 0, 'open', now()) RETURNING id"),
                    {"c": f"BENCH-{time.time_ns()}", "r": self.round_id, "s": site}).scalar()
                db.session.commit()
                for _ in range(10):
                    db.session.execute(text(
                        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at) "
                        "VALUES (:t, :p, :r, :s, false, now()) ON CONFLICT DO NOTHING"),
                        {"t": tube, "p": random.randint(*people), "r": self.round_id, "s": site})
                    db.session.execute(text("UPDATE tubes SET sample_count = sample_count + 1 WHERE id = :t"),
                                       {"t": tube})
                    db.session.commit()
                    n += 1
                    self.scans = n
                    delay = started + n / self.rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    if self.stop.is_set():
                        break
                db.session.execute(text("UPDATE tubes SET status = 'sealed', sealed_at = now() WHERE id = :t"),
                                   {"t": tube})
                db.session.commit()


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def concurrent(app, url: str, headers: dict, clients: int, seconds: float) -> float:
    """``clients`` coordinators refreshing at once for ``seconds``: requests per second and latency."""
    times, stop = [], time.perf_counter() + seconds

    def coordinator() -> None:
        client = app.test_client()
        while time.perf_counter() < stop:
            started = time.perf_counter()
            assert client.get(url, headers=headers).status_code == 200
            times.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=coordinator) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(times) / seconds
    report(f"{clients} district coordinators at once (one process)", times)
    print(f"  {'':<52} {rate:9.0f} requests/s", flush=True)
    return rate


def scan_cost(app, round_id: int, n: int = 300) -> None:
    """Median time of one scan (INSERT sample + UPDATE tube), with the statistics triggers and without
    them (session_replication_role = replica), each in a transaction that is rolled back."""
    from sampling.extensions import db
    with app.app_context():
        people = db.session.execute(text("SELECT min(id), max(id) FROM residents")).one()
        site = db.session.execute(text("SELECT min(id) FROM sites")).scalar()
        for label, role in (("scan with the statistics triggers", "DEFAULT"), ("scan without triggers", "replica")):
            connection = db.session.connection()
            connection.exec_driver_sql(f"SET session_replication_role = {role}")
            tube = db.session.execute(text(
                "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at) "
                "VALUES (:c, :r, :s, 20, 0, 'open', now()) RETURNING id"),
                {"c": f"COST-{time.time_ns()}", "r": round_id, "s": site}).scalar()
            times = []
            for _ in range(n):
                started = time.perf_counter()
                db.session.execute(text(
                    "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at) "
                    "VALUES (:t, :p, :r, :s, false, now()) ON CONFLICT DO NOTHING"),
                    {"t": tube, "p": random.randint(*people), "r": round_id, "s": site})
                db.session.execute(text("UPDATE tubes SET sample_count = 0 WHERE id = :t"), {"t": tube})
                times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
            report(label, times)


def exact(app, client, headers: dict, base: str, round_id: int) -> None:
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
    print(f"exact: aggregated city figures == counted from scratch: {'yes' if kept == scratch else 'NO'}")


def report(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    p95 = sorted(times)[max(int(len(times) * 0.95) - 1, 0)]
    print(f"  {name:<52} median {median:9.1f} ms   p95 {p95:9.1f} ms   (n={len(times)})", flush=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_g")
    parser.add_argument("--generate", type=float, metavar="SCALE",
                        help="wipe the database and generate a city at this scale first (1.0 = 14 M)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per measurement")
    parser.add_argument("--scan-rate", type=float, default=50, help="scans per second arriving meanwhile (0: none)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent coordinators in the throughput test")
    args = parser.parse_args()
    app = make_app(args.database_url)
    if args.generate:
        reset(app)
        generate(app, args.generate)
    from sampling.extensions import db
    with app.app_context():
        round_id = db.session.execute(text("SELECT max(id) FROM rounds")).scalar()
        counts = db.session.execute(text(
            "SELECT (SELECT count(*) FROM residents), (SELECT count(*) FROM samples), (SELECT count(*) FROM tubes), "
            "(SELECT count(*) FROM sites), (SELECT count(*) FROM regions)")).one()
    print(f"city: {counts[0]:,} residents, {counts[1]:,} samples, {counts[2]:,} tubes, {counts[3]:,} sites, "
          f"{counts[4]:,} regions; round {round_id}")
    client = app.test_client()

    def token(username: str) -> dict:
        body = client.post("/api/v1/auth/token", json={"username": username, "password": BENCH_PASSWORD}).get_json()
        return {"Authorization": f"Bearer {body['token']}"}

    admin, district, street = token("bench_admin"), token("bench_district"), token("bench_street")

    def get(url: str, headers: dict, fmt_check=None):
        def call():
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code, response.data[:300])
            return response
        return call

    base = f"/api/v1/stats?round_id={round_id}"
    scanner = Scanner(app, round_id, args.scan_rate) if args.scan_rate > 0 else None
    if scanner:
        scanner.start()
    print(f"timings ({args.scan_rate:g} scans/s arriving meanwhile):" if scanner else "timings (no scans arriving):")
    results = {}
    try:
        results["city"] = report("city level (16 districts), admin", timed(get(f"{base}&level=district", admin),
                                                                            args.repeat))
        report("city, 281 streets, admin", timed(get(f"{base}&level=street", admin), args.repeat))
        results["street"] = report("district coordinator: its streets", timed(get(f"{base}&level=street", district),
                                                                              args.repeat))
        report("street coordinator: its communities", timed(get(f"{base}&level=community", street), args.repeat))
        report("street coordinator: its sites", timed(get(f"{base}&level=site", street), args.repeat))
        report("city overview (hourly, site ranking, samplers)",
               timed(get(f"/api/v1/stats/overview?round_id={round_id}", admin), max(args.repeat // 2, 3)))
        report("district overview", timed(get(f"/api/v1/stats/overview?round_id={round_id}", district),
                                          max(args.repeat // 2, 3)))
        results["csv"] = report("download CSV, city, 6,127 communities",
                                timed(get(f"{base}&level=community&format=csv", admin), max(args.repeat // 4, 3)))
        results["xlsx_district"] = report("download XLSX, district coordinator (3 sheets)",
                                          timed(get(f"{base}&level=street&format=xlsx", district),
                                                max(args.repeat // 4, 3)))
        results["xlsx_city"] = report("download XLSX, city (4 sheets, ~11,400 rows)",
                                      timed(get(f"{base}&level=district&format=xlsx", admin), 3))
        results["concurrent"] = concurrent(app, f"{base}&level=street", district, args.clients, 10)
        with app.app_context():
            def naive():
                db.session.execute(text(NAIVE), {"r": round_id}).all()
                db.session.execute(text(NAIVE_TUBES), {"r": round_id}).all()
                db.session.rollback()
            results["naive"] = report("ceiling: city level counted from scratch (SQL only)", timed(naive, 3))
    finally:
        if scanner:
            scanner.stop.set()
            scanner.join(10)
    scan_cost(app, round_id)
    exact(app, client, admin, base, round_id)
    print(f"ratio ceiling / aggregated city request: {results['naive'] / results['city']:.0f}x")
    print(f"aims: city < 100 ms: {'met' if results['city'] < 100 else 'MISSED'}; "
          f"district download < 2 s: {'met' if results['xlsx_district'] < 2000 else 'MISSED'}; "
          f"city download < 2 s: {'met' if results['xlsx_city'] < 2000 else 'MISSED'}")
    if scanner:
        elapsed = time.perf_counter() - scanner.started
        print(f"scans committed during the run: {scanner.scans} ({scanner.scans / elapsed:.0f}/s achieved)")


if __name__ == "__main__":
    main()
