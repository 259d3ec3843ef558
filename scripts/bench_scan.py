#!/usr/bin/env python
"""Benchmark of the scan endpoint (POST /api/v1/tubes/<code>/samples) under gunicorn.

For each database (PostgreSQL `bench_c`, re-created; an SQLite file) it starts gunicorn with the
bare ceiling endpoint (BENCH_CEILING=1: insert one row, commit), then drives from many concurrent
keep-alive clients (separate processes):
  1. the ceiling endpoint, unpaced;
  2. scans into realistic tubes of 10 (each client fills its own tubes; the 10th scan seals), unpaced;
  3. a paced scan run at --rate scans/s, for p99 latency at a field-like load.
It prints rates, p50/p99 latencies and the scan/ceiling ratio, then checks the database: no tube
over capacity, every tube's count equal to its samples, no scan lost or doubled.

    .venv/bin/python scripts/bench_scan.py --db postgresql --clients 16 --tubes 20
"""
import argparse
import multiprocessing
import statistics
import time
import uuid

import benchlib


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


def bench(kind, args):
    url = benchlib.database_url(kind)
    paced_scans = int(args.rate * args.paced_seconds)
    paced_tubes_per_client = max(1, -(-paced_scans // (10 * args.clients)))
    tubes = args.clients * (args.tubes + paced_tubes_per_client + 1)
    benchlib.fresh_database(url)
    data = benchlib.populate(url, residents=tubes * 10, tubes=tubes)
    port = benchlib.free_port()
    server = benchlib.start_server(url, port, args.workers, args.threads)
    print(f"\n== {kind}: gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients")
    try:
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            warm, res = scan_requests(data, args.clients, 1, 0, 0)
            run_phase(pool, port, data["token"], warm)
            ceiling_reqs = [[("/api/v1/_bench/ceiling", {})] * (args.tubes * 10)] * args.clients
            ceiling = run_phase(pool, port, data["token"], ceiling_reqs)
            scans, res = scan_requests(data, args.clients, args.tubes, args.clients, res)
            scan = run_phase(pool, port, data["token"], scans)
            paced_reqs, res = scan_requests(data, args.clients, paced_tubes_per_client,
                                            args.clients * (1 + args.tubes), res)
            paced = run_phase(pool, port, data["token"], paced_reqs, interval=args.clients / args.rate)
    finally:
        benchlib.stop_server(server)
    admitted = sum(p["statuses"].get(201, 0) for p in (scan, paced)) + args.clients * 10
    check = benchlib.check_database(url, expected_samples=admitted)
    for name, r in (("ceiling (insert 1 row + commit)", ceiling), ("scan (unpaced)", scan),
                    (f"scan paced at {args.rate}/s", paced)):
        print(f"{name:34s} {r['n']:6d} req  {r['rate']:8.0f}/s  p50 {r['p50_ms']:6.1f} ms  "
              f"p99 {r['p99_ms']:6.1f} ms  statuses {r['statuses']}")
    print(f"scan / ceiling = {scan['rate'] / ceiling['rate']:.0%}")
    print(f"database check: {check}")
    ok = (check["tubes_over_capacity"] == 0 and check["tubes_count_mismatch"] == 0
          and check["doubled_scans"] == 0 and check["lost_or_extra"] == 0)
    print("database check:", "OK" if ok else "FAILED")
    return {"ceiling": ceiling, "scan": scan, "paced": paced, "check": check, "ok": ok}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (processes)")
    parser.add_argument("--tubes", type=int, default=10, help="tubes of 10 each client fills, unpaced")
    parser.add_argument("--rate", type=float, default=725, help="scans/s of the paced run")
    parser.add_argument("--paced-seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--repeat", type=int, default=1, help="repeat and report medians")
    args = parser.parse_args()
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    for kind in kinds:
        runs = [bench(kind, args) for _ in range(args.repeat)]
        if args.repeat > 1:
            med = {k: statistics.median(r[k]["rate"] for r in runs) for k in ("ceiling", "scan", "paced")}
            p99 = statistics.median(r["paced"]["p99_ms"] for r in runs)
            print(f"\n{kind} medians of {args.repeat}: ceiling {med['ceiling']:.0f}/s, scan {med['scan']:.0f}/s "
                  f"({med['scan'] / med['ceiling']:.0%}), paced {med['paced']:.0f}/s p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
