#!/usr/bin/env python
"""Benchmark of the batch sync endpoint (POST /api/v1/sync) under gunicorn, on PostgreSQL by default.

Each client sends batches of --batch add_sample items (tubes of 10, filled in the batch; the 10th
scan seals) back to back on a keep-alive connection. Interleaved with it, in the same run on the
same server, the bare batched insert (BENCH_CEILING=1: the same items inserted as rows in one
statement and committed). Prints items/s, p50/p99 batch latency, the ratio, and checks the
database afterwards (no tube over capacity, counts equal samples, nothing lost or doubled).

    .venv/bin/python scripts/bench_sync.py --clients 4 --batches 10 --repeat 3
"""
import argparse
import multiprocessing
import statistics
import uuid

import benchlib
from bench_scan import run_phase


def batches_for(data, clients, batches, batch, tube_offset, resident_offset):
    per_client, t, r = [], tube_offset, resident_offset
    for _c in range(clients):
        reqs = []
        for _b in range(batches):
            items = []
            for _i in range(batch // 10):
                code = data["tubes"][t]
                t += 1
                for _k in range(10):
                    items.append({"client_id": str(uuid.uuid4()), "op": "add_sample", "tube_code": code,
                                  "qr": data["qrs"][r]})
                    r += 1
            reqs.append(("/api/v1/sync", {"items": items}))
        per_client.append(reqs)
    return per_client, t, r


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=25, help="batches per client per round")
    parser.add_argument("--batch", type=int, default=100, help="items per batch (a multiple of 10)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (medians)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sites", type=int, default=1,
                        help="sites the clients work at (client c at site c mod SITES): 1 = every phone at one site")
    parser.add_argument("--history", type=int, default=200_000,
                        help="samples of an earlier round already in the database (then VACUUM ANALYZE)")
    args = parser.parse_args()
    url = benchlib.database_url(args.db)
    per_round = args.clients * args.batches * args.batch
    rounds = args.repeat + 1  # the first is a warm-up (connections, prepared statements, caches), not counted
    tubes = per_round // 10 * rounds
    benchlib.fresh_database(url)
    sites = benchlib.DEMO_SITES[:args.sites]
    tubes_per_client = args.batches * args.batch // 10
    data = benchlib.populate(url, residents=per_round * rounds, tubes=tubes, history=args.history,
                             tube_sites=lambda i: sites[(i // tubes_per_client) % args.clients % len(sites)])
    port = benchlib.free_port()
    server = benchlib.start_server(url, port, args.workers, args.threads)
    syncs, bares, t, r = [], [], 0, 0
    try:
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            for n in range(rounds):
                reqs, t, r = batches_for(data, args.clients, args.batches, args.batch, t, r)
                bare = [[("/api/v1/_bench/batch", body) for _path, body in client] for client in reqs]
                bare_result, sync_result = run_phase(pool, port, data["token"], bare), \
                    run_phase(pool, port, data["token"], reqs)
                if n:
                    bares.append(bare_result)
                    syncs.append(sync_result)
                else:
                    warm = sync_result["statuses"].get(200, 0) * args.batch
    finally:
        benchlib.stop_server(server)
    print(f"\n== {args.db}: gunicorn {args.workers}x{args.threads}, {args.clients} clients, "
          f"batches of {args.batch}")
    for i, (bare, sync) in enumerate(zip(bares, syncs, strict=True)):
        for name, res in ((f"[{i + 1}] bare batched insert", bare), (f"[{i + 1}] sync", sync)):
            print(f"{name:26s} {res['n']:5d} batches {res['rate'] * args.batch:8.0f} items/s  "
                  f"p50 {res['p50_ms']:6.1f} ms  p99 {res['p99_ms']:6.1f} ms  {res['statuses']}")
    bare_rate = statistics.median(b["rate"] for b in bares) * args.batch
    sync_rate = statistics.median(s["rate"] for s in syncs) * args.batch
    print(f"MEDIAN: sync {sync_rate:.0f} items/s, bare batched insert {bare_rate:.0f} items/s, "
          f"sync/bare = {sync_rate / bare_rate:.0%}")
    check = benchlib.check_database(url, expected_samples=warm + sum(s["statuses"].get(200, 0)
                                                                     for s in syncs) * args.batch)
    ok = not (check["tubes_over_capacity"] or check["tubes_count_mismatch"] or check["doubled_scans"]
              or check["lost_or_extra"])
    print(f"database check: {check} -> {'OK' if ok else 'FAILED'}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
