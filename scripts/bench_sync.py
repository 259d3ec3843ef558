#!/usr/bin/env python
"""Benchmark of the batch sync endpoint (POST /api/v1/sync) under gunicorn, on PostgreSQL by default.

One server, the same client processes, three phases interleaved --repeat times (order rotated each
round, medians of the rounds), after a warm-up round that is not counted:
  * sync: each client sends batches of --batch add_sample items (tubes of 10 filled in the batch;
    the 10th scan seals) back to back on a keep-alive connection;
  * ceiling "sample rows": POST /_bench/sample_rows inserts a batch's rows into `samples` (the same
    table, foreign keys, indexes and statistics trigger; ids given) in one INSERT and commits: no
    auth, no tube locked or counted, nothing checked;
  * single scans: the same clients send scans one request each (POST /api/v1/tubes/<code>/samples),
    the rate a phone without batching gets from the same server.
Every answer is checked: a sync answer is 200 with one result per item, in order, each 201 with the
tube's count after it (sealed at 10); a single scan 201 likewise; a ceiling 201 with its row count.
Afterwards the database: no tube over capacity, counts equal samples, nothing lost or doubled.
Aim: sync items/s ≥ 10 × the single-scan rate of the same run. Exit 1 on an unexpected answer or
a failed check, 3 when only the aim was missed.

    .venv/bin/python scripts/bench_sync.py --clients 4 --batches 25 --repeat 5
"""
import argparse
import multiprocessing
import uuid

import benchlib
from bench_scan import expect_created, expect_scan, scan_requests

AIM_TIMES_SINGLE = 10


def expect_batch(status, payload, want):
    """200 and, per item in order, its client_id, 201 and the tube's count after it (sealed at 10)."""
    if status != 200 or not isinstance((payload or {}).get("results"), list):
        return f"status {status}, expected 200 with results", None
    results = payload["results"]
    if len(results) != len(want):
        return f"{len(results)} results for {len(want)} items", None
    for result, (client_id, position) in zip(results, want, strict=True):
        tube = (result.get("body") or {}).get("tube") or {}
        sealed = "sealed" if position == 10 else "open"
        if (result.get("client_id") != client_id or result.get("status") != 201 or tube.get("count") != position
                or tube.get("status") != sealed):
            return f"item {client_id}: {result}, expected 201 with tube count {position}, {sealed}", None
    return None, len(results)


def batches_for(data, clients, batches, batch, tube_offset, resident_offset):
    """Each client's batches of add_sample items, tubes of 10 filled in order; the ceiling's rows
    of the same shape come from data["ceiling_rows"]."""
    per_client, t, r = [], tube_offset, resident_offset
    for _c in range(clients):
        reqs = []
        for _b in range(batches):
            items, want = [], []
            for _i in range(batch // 10):
                code = data["tubes"][t]
                t += 1
                for k in range(10):
                    client_id = str(uuid.uuid4())
                    items.append({"client_id": client_id, "op": "add_sample", "tube_code": code, "qr": data["qrs"][r]})
                    want.append((client_id, k + 1))
                    r += 1
            reqs.append(("/api/v1/sync", {"items": items}, want))
        per_client.append(reqs)
    return per_client, t, r


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=25, help="batches per client per round")
    parser.add_argument("--batch", type=int, default=100, help="items per batch (a multiple of 10)")
    parser.add_argument("--single-tubes", type=int, default=10,
                        help="tubes of 10 each client fills by single scans per round")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (medians)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sites", type=int, default=1,
                        help="sites the clients work at (client c at site c mod SITES): 1 = every phone at one site")
    parser.add_argument("--history", type=int, default=200_000,
                        help="samples of an earlier round already in the database (then VACUUM ANALYZE)")
    benchlib.add_arguments(parser)
    args = parser.parse_args()
    report = benchlib.Report("bench_sync", args)
    kind, url = args.db, benchlib.database_url(args.db)
    per_round = args.clients * args.batches * args.batch
    rounds = args.repeat + 1  # the first is a warm-up (connections, prepared statements, caches), not counted
    sync_tubes = per_round // 10
    single_tubes = args.clients * args.single_tubes
    benchlib.fresh_database(url)
    sites = benchlib.DEMO_SITES[:args.sites]
    tubes_per_client = args.batches * args.batch // 10
    # tubes: the sync rounds' (client c's tubes at site c mod SITES), then the single scans' (same sites)

    def site_of(i):
        if i < sync_tubes * rounds:
            return sites[(i // tubes_per_client) % args.clients % len(sites)]
        return sites[((i - sync_tubes * rounds) // args.single_tubes) % args.clients % len(sites)]

    data = benchlib.populate(url, residents=(per_round + single_tubes * 10) * rounds + per_round * rounds,
                             tubes=(sync_tubes + single_tubes) * rounds, history=args.history, tube_sites=site_of,
                             ceiling_rows=per_round * rounds)
    port = benchlib.free_port()
    server = benchlib.start_server(url, port, args.workers, args.threads)
    token, state = data["token"], {"tube": 0, "single_tube": sync_tubes * rounds, "resident": 0}
    print(f"\n== {kind}: gunicorn {args.workers}x{args.threads}, {args.clients} clients, batches of {args.batch}, "
          f"{args.repeat} interleaved rounds after a warm-up", flush=True)

    def run(name, reqs, expect):
        phase = benchlib.run_phase(pool, port, token, reqs, expect)
        report.phase(f"{kind}: {name}", phase)
        return phase

    def sync(_n):
        reqs, state["tube"], state["resident"] = batches_for(data, args.clients, args.batches, args.batch,
                                                             state["tube"], state["resident"])
        return run("sync", reqs, expect_batch)

    def ceiling(n):
        rows = data["ceiling_rows"][n * per_round:(n + 1) * per_round]
        batches = [rows[i:i + args.batch] for i in range(0, len(rows), args.batch)]
        reqs = [[("/api/v1/_bench/sample_rows", {"rows": b}, {"inserted": len(b)}) for b in batches[c::args.clients]]
                for c in range(args.clients)]
        return run("ceiling: sample rows", reqs, expect_created)

    def single(_n):
        reqs, state["resident"] = scan_requests(data, args.clients, args.single_tubes, state["single_tube"],
                                                state["resident"])
        state["single_tube"] += single_tubes
        return run("single scans", reqs, expect_scan)

    try:
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            warm = benchlib.interleaved(1, {"sync": sync, "ceiling": ceiling, "single": single})
            measured = benchlib.interleaved(args.repeat, {"sync": lambda n: sync(n + 1),
                                                          "ceiling": lambda n: ceiling(n + 1),
                                                          "single": lambda n: single(n + 1)})
    finally:
        benchlib.stop_server(server)
    for i in range(args.repeat):
        print(measured["ceiling"][i].line(f"[{i + 1}] ceiling: sample rows", "batches"))
        print(measured["sync"][i].line(f"[{i + 1}] sync", "batches"))
        print(measured["single"][i].line(f"[{i + 1}] single scans", "scans"))
    med = benchlib.median
    bare = report.figure("ceiling_items_rate", med(p.rate for p in measured["ceiling"]) * args.batch, "/s",
                         f"ceiling: a batch's {args.batch} sample rows in one INSERT + commit, rows/s", kind)
    synced = report.figure("sync_items_rate", med(p.rate for p in measured["sync"]) * args.batch, "/s",
                           f"sync, batches of {args.batch} scans, items/s", kind)
    single_rate = report.figure("single_scan_rate", med(p.rate for p in measured["single"]), "/s",
                                "single scans (one per request), same server and clients, scans/s", kind)
    report.figure("sync_p50_ms", med(p.p50_ms for p in measured["sync"]), "ms", "sync batch p50", kind)
    report.figure("sync_p99_ms", med(p.p99_ms for p in measured["sync"]), "ms", "sync batch p99", kind)
    report.ratio("sync_share_ceiling", synced, bare, "sync / sample-rows ceiling", kind, "%")
    times = report.ratio("sync_times_single", synced, single_rate, "sync items/s ÷ single scans/s", kind)
    print(f"MEDIAN {kind}: sync {synced:.0f} items/s, ceiling {bare:.0f} rows/s (sync/ceiling = {synced / bare:.0%}), "
          f"single scans {single_rate:.0f}/s (sync = {times:.1f} × single)", flush=True)
    report.aim("sync_times_single", f"sync ≥ {AIM_TIMES_SINGLE} × the single-scan rate (same run)",
               times >= AIM_TIMES_SINGLE, f"{times:.1f} × ({synced:.0f} items/s vs {single_rate:.0f} scans/s)", kind)
    phases = [*warm["sync"], *measured["sync"]]
    admitted = sum(p.statuses.get(200, 0) for p in phases) * args.batch + sum(
        p.statuses.get(201, 0) for p in (*warm["single"], *measured["single"]))
    check = benchlib.check_database(url, expected_samples=admitted, all_sealed_full=True)
    print(f"database check: {check}")
    for key in ("tubes_over_capacity", "tubes_count_mismatch", "doubled_scans", "lost_or_extra",
                "tubes_not_sealed_full"):
        report.check(not check[key], f"{kind}: database {key} = {check[key]}")
    report.note(f"{kind}; {args.clients} clients, gunicorn {args.workers} × {args.threads}, batches of {args.batch} "
                f"scans (tubes of 10), {args.batches} batches per client per round, {args.single_tubes * 10} single "
                f"scans per client per round, a warm-up round then {args.repeat} interleaved rounds, on a database "
                f"holding an earlier round of {args.history:,} samples, phones at {args.sites} site(s)")
    raise SystemExit(report.finish())


if __name__ == "__main__":
    main()
