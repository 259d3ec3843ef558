"""Benchmark the statistics API on a generated city (scripts/gen_city.py), on PostgreSQL, with
rosters collided and scans arriving meanwhile.

    .venv/bin/python scripts/bench_stats.py --generate 0.05   # build the city at 5 % scale, then time
    .venv/bin/python scripts/bench_stats.py                   # time the city already in the database

The database is $BENCH_PG_DATABASE or `bench_g` (``--database-url`` overrides). A city without a
collided roster gets rosters first, as coordinators upload them (gen_city.add_rosters: 10 % of
the communities, 5 % of the streets, each collided with the round by the real service), so the
completion figures (roster_figures) are computed on every request, as in real use. Separate
processes (``--scan-writers``) commit scans through the statistics triggers at ``--scan-rate`` per second (default the
city's average, 14 M scans in 24 h ≈ 162/s) while the requests run; the rate it achieved is
stated (and a run where it fell below 80 % of the asked rate fails: its figures were not measured
under the stated load).

Requests go through the whole Flask stack (token auth, JSON/CSV/XLSX) in-process; each answer is
checked (status, row counts, roster figures present, CSV lines, XLSX sheets). They run in
--rounds interleaved rounds (order rotated each round) together with their ceiling — the same
city-level figures counted from scratch (GROUP BY over samples and tubes) — and with the city
level asked with the roster provider switched off (what completion costs). Medians and p95.
Afterwards, with the scans stopped, the aggregated city figures must equal the from-scratch count.
Aims: city level < 100 ms; district and city XLSX downloads < 2 s. Exit 1 on an unexpected answer
or a failed check, 3 when only an aim was missed.
"""
import argparse
import multiprocessing
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402
from benchlib.stats import NAIVE, NAIVE_TUBES, exact, scan_cost  # noqa: E402
from gen_city import BENCH_PASSWORD, add_rosters, generate, make_app, reset  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

AIM_CITY_MS, AIM_DOWNLOAD_MS = 100, 2000
CITY_AVERAGE_SCAN_RATE = round(14_000_000 / 86_400)  # a city round: 14 M scans in 24 hours


def scanner(url: str, round_id: int, rate: float, stop, done) -> None:
    """Phones scanning (a process of its own): new tubes of 10 at random sites, one committed scan
    at a time (INSERT sample, UPDATE tube: through the statistics triggers), ``rate`` per second."""
    engine = create_engine(url)
    with engine.connect() as conn:
        sites = conn.execute(text("SELECT min(id), max(id) FROM sites")).one()
        people = conn.execute(text("SELECT min(id), max(id) FROM residents")).one()
        conn.commit()
        started, n = time.perf_counter(), 0
        while not stop.is_set():
            site = random.randint(*sites)
            tube = conn.execute(text(
                "INSERT INTO tubes (code, round_id, site_id, capacity, sample_count, status, opened_at) "
                "VALUES (:c, :r, :s, 10, 0, 'open', now()) RETURNING id"),
                {"c": f"BENCH-{time.time_ns()}", "r": round_id, "s": site}).scalar()
            conn.commit()
            for _ in range(10):
                conn.execute(text(
                    "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at) "
                    "VALUES (:t, :p, :r, :s, false, now()) ON CONFLICT DO NOTHING"),
                    {"t": tube, "p": random.randint(*people), "r": round_id, "s": site})
                conn.execute(text("UPDATE tubes SET sample_count = sample_count + 1 WHERE id = :t"), {"t": tube})
                conn.commit()
                n += 1
                done.value = n
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if stop.is_set():
                    break
            conn.execute(text("UPDATE tubes SET status = 'sealed', sealed_at = now() WHERE id = :t"), {"t": tube})
            conn.commit()
    engine.dispose()


def city_counts(app) -> dict:
    from sampling.extensions import db
    with app.app_context():
        row = db.session.execute(text(
            "SELECT (SELECT max(id) FROM rounds), (SELECT count(*) FROM residents), (SELECT count(*) FROM samples), "
            "(SELECT count(*) FROM tubes), (SELECT count(*) FROM sites), (SELECT count(*) FROM regions), "
            "(SELECT count(*) FROM rosters), (SELECT count(DISTINCT roster_id) FROM collisions), "
            "(SELECT count(*) FROM roster_entries), "
            "(SELECT count(*) FROM regions WHERE level = 'street' AND parent_id = "
            " (SELECT id FROM regions WHERE code = '120101')), "
            "(SELECT count(*) FROM regions WHERE level = 'community' AND parent_id = "
            " (SELECT id FROM regions WHERE code = '120101001')), "
            "(SELECT count(*) FROM sites s JOIN regions c ON c.id = s.community_id "
            " WHERE c.parent_id = (SELECT id FROM regions WHERE code = '120101001')), "
            "(SELECT count(*) FROM regions WHERE level = 'street'), "
            "(SELECT count(*) FROM regions WHERE level = 'community')")).one()
        db.session.rollback()
    keys = ("round_id", "residents", "samples", "tubes", "sites", "regions", "rosters", "collided", "entries",
            "district_streets", "street_communities", "street_sites", "streets", "communities")
    return dict(zip(keys, row, strict=True))


def requests(round_id: int, counts: dict) -> list[tuple]:
    """(key, label, user, url, check, share of --repeat) of every timed request."""
    base = f"/api/v1/stats?round_id={round_id}"
    streets, communities = counts["streets"], counts["communities"]
    return [
        ("city", "city level, 16 districts (admin)", "admin", f"{base}&level=district", rows(16, rosters=True), 1),
        ("city_streets", f"city, {streets} streets (admin)", "admin", f"{base}&level=street", rows(streets), 1),
        ("district_streets", "district coordinator: its streets", "district", f"{base}&level=street",
         rows(counts["district_streets"]), 1),
        ("street_communities", "street coordinator: its communities", "street", f"{base}&level=community",
         rows(counts["street_communities"]), 1),
        ("street_sites", "street coordinator: its sites", "street", f"{base}&level=site",
         rows(counts["street_sites"]), 1),
        ("overview_city", "city overview (hourly series, site ranking, samplers)", "admin",
         f"/api/v1/stats/overview?round_id={round_id}", is_json, 0.5),
        ("overview_district", "district overview", "district", f"/api/v1/stats/overview?round_id={round_id}",
         is_json, 0.5),
        ("csv_city", f"download CSV, city, {communities:,} communities", "admin",
         f"{base}&level=community&format=csv", csv_lines(communities + 2), 0.25),
        ("xlsx_district", "download XLSX, district coordinator (3 sheets)", "district",
         f"{base}&level=street&format=xlsx", xlsx, 0.25),
        ("xlsx_city", "download XLSX, whole city (4 sheets, ≈ 11,400 rows)", "admin",
         f"{base}&level=district&format=xlsx", xlsx, 0.15),
    ]


def rows(n: int, rosters: bool = False):
    def check(response) -> str | None:
        body = response.get_json(silent=True) or {}
        got = len(body.get("rows", []))
        if got != n:
            return f"{got} rows, expected {n}"
        if rosters and not any(r.get("roster_total") for r in body["rows"]):
            return "no roster figures: the completion branch was not taken"
        return None
    return check


def is_json(response) -> str | None:
    return None if isinstance(response.get_json(silent=True), dict) else "not a JSON object"


def csv_lines(n: int):
    def check(response) -> str | None:
        got = response.data.count(b"\n")
        return None if got == n else f"{got} CSV lines, expected {n}"
    return check


def xlsx(response) -> str | None:
    return None if response.data[:2] == b"PK" and "spreadsheet" in response.content_type else "not an XLSX file"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: $BENCH_PG_DATABASE or bench_g (WIPED "
                                                             "with --generate)")
    parser.add_argument("--generate", type=float, metavar="SCALE",
                        help="wipe the database and generate a city at this scale first (1.0 = 14 M)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per measurement (fewer for downloads)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (the ceiling runs once a round)")
    parser.add_argument("--scan-rate", type=float, default=CITY_AVERAGE_SCAN_RATE,
                        help=f"scans per second arriving meanwhile (default the city's average, "
                             f"{CITY_AVERAGE_SCAN_RATE}/s; 0: none)")
    parser.add_argument("--scan-writers", type=int, default=2, help="processes sharing the scan rate")
    parser.add_argument("--clients", type=int, default=8, help="concurrent coordinators in the throughput test")
    benchlib.add_arguments(parser)
    args = parser.parse_args()
    report = benchlib.Report("bench_stats", args)
    url = args.database_url or benchlib.pg_url("bench_g")
    app = make_app(url)
    if args.generate:
        reset(app)
        generate(app, args.generate)
    counts = city_counts(app)
    if counts["collided"] == 0:
        add_rosters(app)
        counts = city_counts(app)
    print(f"city: {counts['residents']:,} residents, {counts['samples']:,} samples, {counts['tubes']:,} tubes, "
          f"{counts['sites']:,} sites, {counts['regions']:,} regions, {counts['rosters']:,} rosters "
          f"({counts['entries']:,} entries, {counts['collided']:,} collided); round {counts['round_id']}", flush=True)
    round_id = counts["round_id"]
    client = app.test_client()
    tokens = {}
    for who in ("admin", "district", "street"):
        body = client.post("/api/v1/auth/token", json={"username": f"bench_{who}", "password": BENCH_PASSWORD})
        report.check(body.status_code == 200, f"no token for bench_{who}: {body.status_code}")
        tokens[who] = {"Authorization": f"Bearer {(body.get_json() or {}).get('token')}"}

    times = {}

    def timed_request(key, user, url, check):
        def call():
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url, headers=tokens[user])
            data = response.data  # the whole body, streamed or not
            elapsed = (time.perf_counter() - started) * 1000
            times.setdefault(f"{key}_cpu", []).append((time.process_time() - cpu) * 1000)
            problem = f"status {response.status_code}" if response.status_code != 200 else check(response)
            if problem:
                report.problem(f"{key}: {problem} ({data[:200]!r})")
            times.setdefault(key, []).append(elapsed)
        return call

    from sampling.extensions import db
    from sampling.stats import providers

    def naive(_n):
        with app.app_context():
            started = time.perf_counter()
            db.session.execute(text(NAIVE), {"r": round_id}).all()
            db.session.execute(text(NAIVE_TUBES), {"r": round_id}).all()
            db.session.rollback()
            times.setdefault("naive", []).append((time.perf_counter() - started) * 1000)

    def without_rosters(_n):
        saved = providers.roster_provider()
        providers.set_roster_provider(None)
        try:
            for _ in range(max(1, args.repeat // args.rounds)):
                timed_request("city_no_rosters", "admin", f"/api/v1/stats?round_id={round_id}&level=district",
                              rows(16))()
        finally:
            providers.set_roster_provider(saved)

    phases = {"naive": naive, "city_no_rosters": without_rosters}
    for key, _label, user, path, check, share in requests(round_id, counts):
        call = timed_request(key, user, path, check)
        n = max(1, round(args.repeat * share / args.rounds))
        phases[key] = lambda _n, call=call, n=n: [call() for _ in range(n)]

    context = multiprocessing.get_context("fork")
    stop, done = context.Event(), [context.Value("q", 0) for _ in range(args.scan_writers)]
    writers = [context.Process(target=scanner, args=(url, round_id, args.scan_rate / args.scan_writers, stop, d))
               for d in done] if args.scan_rate > 0 else []
    for writer in writers:
        writer.start()
    time.sleep(1 if writers else 0)  # the writers' first scans are in before the first request
    before, started = sum(d.value for d in done), time.perf_counter()
    try:
        benchlib.interleaved(args.rounds, phases)
        throughput = concurrent(app, f"/api/v1/stats?round_id={round_id}&level=street", tokens["district"],
                                args.clients, 10, report)
    finally:
        elapsed, arrived = time.perf_counter() - started, sum(d.value for d in done) - before
        stop.set()
        for writer in writers:
            writer.join(30)
    arrived = arrived / elapsed
    figures(report, args, counts, times, throughput, arrived)
    scan_cost(app, round_id, report)
    exact(app, client, tokens["admin"], f"/api/v1/stats?round_id={round_id}", round_id, report)
    raise SystemExit(report.finish())


def figures(report, args, counts, times, throughput, arrived) -> None:
    med = benchlib.median
    labels = {key: label for key, label, *_rest in requests(counts["round_id"], counts)}
    labels["city_no_rosters"] = "city level, 16 districts, with the roster provider switched off"
    labels["naive"] = "ceiling: the city-level figures counted from scratch (SQL only)"
    for key in ("city", "city_no_rosters", "city_streets", "district_streets", "street_communities", "street_sites",
                "overview_city", "overview_district", "csv_city", "xlsx_district", "xlsx_city", "naive"):
        values = times.get(key, [])
        report.figure(f"{key}_ms", med(values), "ms", f"{labels[key]}, median (n={len(values)})")
        report.figure(f"{key}_p95_ms", benchlib.percentile(values, 95), "ms", f"{labels[key]}, p95")
        print(f"  {labels[key]:<66} median {med(values):9.1f} ms   p95 {benchlib.percentile(values, 95):9.1f} ms  "
              f"(n={len(values)})")
    for key in ("city", "xlsx_district", "xlsx_city"):
        report.figure(f"{key}_cpu_ms", med(times[f"{key}_cpu"]), "ms",
                      f"{labels[key]}: CPU time of the app process, median")
    report.figure("concurrent_rate", throughput, "/s", f"{args.clients} district coordinators at once (one process), "
                                                       "requests/s")
    report.ratio("naive_times_city", med(times["naive"]), med(times["city"]),
                 "ceiling (from scratch) ÷ aggregated city level")
    report.ratio("rosters_cost", med(times["city"]), med(times["city_no_rosters"]),
                 "city level with rosters ÷ without the roster provider")
    report.figure("scan_rate_asked", args.scan_rate, "/s", "scans/s asked to arrive meanwhile")
    report.figure("scan_rate", arrived, "/s", "scans/s committed meanwhile (through the triggers)")
    for key in ("residents", "samples", "tubes", "rosters", "collided", "entries"):
        report.figure(f"city_{key}", counts[key], "", f"city: {key}")
    if args.scan_rate:
        report.check(arrived >= 0.8 * args.scan_rate, f"only {arrived:.0f} scans/s arrived of {args.scan_rate:g} "
                                                       "asked: the figures were not measured under the stated load")
    city, district, whole = (med(times[k]) for k in ("city", "xlsx_district", "xlsx_city"))
    report.aim("city", f"city level < {AIM_CITY_MS} ms with rosters collided", city < AIM_CITY_MS,
               f"median {city:.1f} ms")
    report.aim("xlsx_district", f"district XLSX < {AIM_DOWNLOAD_MS / 1000:g} s", district < AIM_DOWNLOAD_MS,
               f"median {district:,.0f} ms")
    report.aim("xlsx_city", f"whole-city XLSX < {AIM_DOWNLOAD_MS / 1000:g} s", whole < AIM_DOWNLOAD_MS,
               f"median {whole:,.0f} ms")
    report.note(f"{counts['residents']:,} residents and {counts['samples']:,} samples, {counts['tubes']:,} tubes, "
                f"{counts['rosters']:,} rosters ({counts['entries']:,} entries) collided; {arrived:.0f} scans/s "
                f"arriving meanwhile (asked {args.scan_rate:g}/s); {args.rounds} interleaved rounds")


def concurrent(app, url: str, headers: dict, clients: int, seconds: float, report) -> float:
    """``clients`` coordinators refreshing at once for ``seconds``: requests per second."""
    times, stop = [], time.perf_counter() + seconds

    def coordinator() -> None:
        client = app.test_client()
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status = client.get(url, headers=headers).status_code
            times.append((time.perf_counter() - started) * 1000)
            if status != 200:
                report.problem(f"concurrent coordinators: status {status}")
                return

    threads = [threading.Thread(target=coordinator) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.figure("concurrent_ms", benchlib.median(times), "ms", f"{clients} district coordinators at once, median")
    return len(times) / seconds


if __name__ == "__main__":
    main()
