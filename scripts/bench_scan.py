#!/usr/bin/env python
"""Benchmark of the scan endpoint (POST /api/v1/tubes/<code>/samples) under gunicorn.

For each database (PostgreSQL `bench_c`, re-created; an SQLite file) it starts gunicorn with the
bare ceiling endpoints (BENCH_CEILING=1: insert one row, commit — a narrow row into
client_operations, and the very row a scan inserts into samples, with its foreign keys and indexes,
unchecked and unauthenticated), then drives from many concurrent keep-alive clients (processes):
  1. the ceiling endpoints, unpaced, and
  2. scans into realistic tubes of 10 (each client fills its own tubes; the 10th scan seals), unpaced,
     interleaved --repeat times (the machine is shared: medians of interleaved rounds are fairer);
  3. a paced scan run at --rate scans/s, for p99 latency at a field-like load;
  4. contention: clients in pairs scan 12 residents each into the same tubes of 10 at once (exactly
     10 admitted per tube, the other 2 refused with 409);
  5. replay: the warm-up's scans sent again with the same client_ids (every answer 200, nothing
     written).
It prints rates, p50/p99 latencies and the scan/ceiling ratio, then checks the database: no tube
over capacity, every tube sealed at 10 with its count equal to its samples, no scan lost or
doubled. The run fails (exit 1) on any scan answered otherwise than expected (a 5xx, a 409 in the
scan phases ...) or any failed check.

    .venv/bin/python scripts/bench_scan.py --db postgresql --clients 16 --tubes 5 --repeat 3
"""
import argparse
import multiprocessing
import statistics
import time
import uuid

import benchlib

SHARED_TUBES_PER_PAIR = 2  # the contention phase: tubes each pair of clients fills together


def _drive(port, token, requests, interval, start_at):
    """Send ``requests`` [(path, body)] on one keep-alive connection, back to back or, with
    ``interval`` > 0, one every ``interval`` seconds. Returns [(status, seconds from send to answer)]."""
    client = benchlib.Client(port, token)
    while time.time() < start_at:
        time.sleep(0.001)
    out = []
    for i, (path, body) in enumerate(requests):
        if interval:
            delay = start_at + i * interval - time.time()
            if delay > 0:
                time.sleep(delay)
        sent = time.perf_counter()
        status, _ = client.post(path, body)
        out.append((status, time.perf_counter() - sent))
    return out


def run_phase(pool, port, token, per_client, interval=0.0):
    """Run one phase on all clients at once; rate, p50/p99 latency and the statuses seen."""
    start_at = time.time() + 0.5
    results = pool.starmap(_drive, [(port, token, reqs, interval, start_at) for reqs in per_client])
    wall = time.time() - start_at
    flat = [r for chunk in results for r in chunk]
    latencies = [lat for _status, lat in flat]
    statuses = {}
    for status, _lat in flat:
        statuses[status] = statuses.get(status, 0) + 1
    return {"n": len(flat), "rate": len(flat) / wall, "p50_ms": benchlib.percentile(latencies, 50) * 1000,
            "p99_ms": benchlib.percentile(latencies, 99) * 1000, "statuses": statuses}


def scan_requests(data, clients, tubes_per_client, offset_tube, offset_resident, capacity=10):
    per_client, r = [], offset_resident
    for c in range(clients):
        reqs = []
        for t in range(tubes_per_client):
            code = data["tubes"][offset_tube + c * tubes_per_client + t]
            for _ in range(capacity):
                reqs.append((f"/api/v1/tubes/{code}/samples", {"qr": data["qrs"][r], "client_id": str(uuid.uuid4())}))
                r += 1
        per_client.append(reqs)
    return per_client, r


def shared_requests(data, clients, tubes_per_pair, offset_tube, offset_resident, capacity=10, extra=2):
    """Clients in pairs on the same tubes: each sends (capacity + extra) / 2 scans per shared tube,
    both at once, so every tube gets ``extra`` scans more than it holds."""
    per_client, r, t = [[] for _ in range(clients)], offset_resident, offset_tube
    for pair in range(clients // 2):
        for _ in range(tubes_per_pair):
            code = data["tubes"][t]
            t += 1
            for member in (2 * pair, 2 * pair + 1):
                for _ in range((capacity + extra) // 2):
                    per_client[member].append((f"/api/v1/tubes/{code}/samples",
                                               {"qr": data["qrs"][r], "client_id": str(uuid.uuid4())}))
                    r += 1
    return per_client, r


def unexpected(name, phase, expected):
    """A line for each status the phase got beyond ``expected`` {status: count, or None for any}."""
    seen = dict(phase["statuses"])
    problems = []
    for status, count in expected.items():
        got = seen.pop(status, 0)
        if count is not None and got != count:
            problems.append(f"{name}: {got} answers {status}, expected {count}")
    problems += [f"{name}: {got} unexpected answers {status}" for status, got in sorted(seen.items())]
    return problems


def bench(kind, args):
    """Ceiling and scan phases interleaved --repeat times (medians), then one paced run, the
    contention and replay phases, and the checks; True when everything held."""
    url = benchlib.database_url(kind)
    paced_scans = int(args.rate * args.paced_seconds)
    paced_tubes_per_client = max(1, -(-paced_scans // (10 * args.clients)))
    shared_tubes = (args.clients // 2) * SHARED_TUBES_PER_PAIR
    tubes = args.clients * (args.tubes * args.repeat + paced_tubes_per_client + 1) + shared_tubes
    per_round = args.clients * args.tubes * 10
    benchlib.fresh_database(url)
    data = benchlib.populate(url, residents=tubes * 10 + shared_tubes * 2 + per_round * args.repeat, tubes=tubes,
                             ceiling_rows=per_round * args.repeat)
    port = benchlib.free_port()
    server = benchlib.start_server(url, port, args.workers, args.threads)
    print(f"\n== {kind}: gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, "
          f"{args.repeat} interleaved rounds")
    ceilings, rows, scans = [], [], []
    try:
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            warm_reqs, res = scan_requests(data, args.clients, 1, 0, 0)
            warm = run_phase(pool, port, data["token"], warm_reqs)
            next_tube = args.clients
            for _ in range(args.repeat):
                ceiling_reqs = [[("/api/v1/_bench/ceiling", {})] * (args.tubes * 10)] * args.clients
                ceilings.append(run_phase(pool, port, data["token"], ceiling_reqs))
                mine = data["ceiling_rows"][len(rows) * per_round:(len(rows) + 1) * per_round]
                row_reqs = [[("/api/v1/_bench/sample_row", row) for row in mine[c::args.clients]]
                            for c in range(args.clients)]
                rows.append(run_phase(pool, port, data["token"], row_reqs))
                reqs, res = scan_requests(data, args.clients, args.tubes, next_tube, res)
                next_tube += args.clients * args.tubes
                scans.append(run_phase(pool, port, data["token"], reqs))
            paced_reqs, res = scan_requests(data, args.clients, paced_tubes_per_client, next_tube, res)
            next_tube += args.clients * paced_tubes_per_client
            paced = run_phase(pool, port, data["token"], paced_reqs, interval=args.clients / args.rate)
            shared_reqs, res = shared_requests(data, args.clients, SHARED_TUBES_PER_PAIR, next_tube, res)
            shared = run_phase(pool, port, data["token"], shared_reqs)
            before_replay = benchlib.check_database(url)["samples"]
            replay = run_phase(pool, port, data["token"], warm_reqs)
            after_replay = benchlib.check_database(url)["samples"]
    finally:
        benchlib.stop_server(server)
    admitted = sum(p["statuses"].get(201, 0) for p in (warm, *scans, paced, shared))
    check = benchlib.check_database(url, expected_samples=admitted, all_sealed_full=True)
    for i, (ceiling, row, scan) in enumerate(zip(ceilings, rows, scans, strict=True)):
        for name, r in ((f"[{i + 1}] ceiling: 1 narrow row", ceiling), (f"[{i + 1}] ceiling: 1 sample row", row),
                        (f"[{i + 1}] scan", scan)):
            print(f"{name:30s} {r['n']:6d} req {r['rate']:7.0f}/s  p50 {r['p50_ms']:6.1f} ms  "
                  f"p99 {r['p99_ms']:6.1f} ms  {r['statuses']}")
    for name, r in (("paced at " + str(args.rate) + "/s", paced), ("two clients per tube", shared),
                    ("replayed scans", replay)):
        print(f"{name:30s} {r['n']:6d} req {r['rate']:7.0f}/s  p50 {r['p50_ms']:6.1f} ms  "
              f"p99 {r['p99_ms']:6.1f} ms  {r['statuses']}")
    ceiling_rate = statistics.median(r["rate"] for r in ceilings)
    row_rate = statistics.median(r["rate"] for r in rows)
    scan_rate = statistics.median(r["rate"] for r in scans)
    scan_p99 = statistics.median(r["p99_ms"] for r in scans)
    print(f"MEDIAN {kind}: ceiling {ceiling_rate:.0f}/s (narrow row), {row_rate:.0f}/s (sample row); "
          f"scan {scan_rate:.0f}/s (p99 {scan_p99:.1f} ms); scan/ceiling = {scan_rate / ceiling_rate:.0%} "
          f"(narrow), {scan_rate / row_rate:.0%} (sample row); paced {paced['rate']:.0f}/s "
          f"p99 {paced['p99_ms']:.1f} ms")
    problems = unexpected("warm-up", warm, {201: None})
    for i, scan in enumerate(scans):
        problems += unexpected(f"scan round {i + 1}", scan, {201: None})
    problems += unexpected("paced", paced, {201: None})
    problems += unexpected("two clients per tube", shared, {201: shared_tubes * 10, 409: shared_tubes * 2})
    problems += unexpected("replayed scans", replay, {200: None})
    if after_replay != before_replay:
        problems.append(f"replayed scans: {after_replay - before_replay} samples written")
    checked = ("tubes_over_capacity", "tubes_count_mismatch", "doubled_scans", "lost_or_extra", "tubes_not_sealed_full")
    problems += [f"database: {key} = {check[key]}" for key in checked if check[key]]
    print(f"database check: {check} -> {'OK' if not problems else 'FAILED'}")
    for problem in problems:
        print(f"  FAILED {problem}")
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (processes)")
    parser.add_argument("--tubes", type=int, default=5, help="tubes of 10 each client fills per round, unpaced")
    parser.add_argument("--rate", type=float, default=725, help="scans/s of the paced run")
    parser.add_argument("--paced-seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved ceiling/scan rounds (medians)")
    args = parser.parse_args()
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    results = [bench(kind, args) for kind in kinds]
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
