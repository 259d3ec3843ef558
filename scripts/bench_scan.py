#!/usr/bin/env python
"""Benchmark of the scan endpoint (POST /api/v1/tubes/<code>/samples) under gunicorn.

For each database (PostgreSQL, re-created: $BENCH_PG_DATABASE or `bench_c`; an SQLite file) it
starts gunicorn with the bare ceiling endpoints (BENCH_CEILING=1, sampling/api/bench.py), then
drives it from many concurrent keep-alive clients (processes), interleaved --repeat times with the
order rotated each round (medians of the rounds):
  1. ceiling "narrow row": POST /_bench/ceiling inserts one narrow row (client_id, op, status,
     created_at) into `bench_rows`, a table nothing else reads, and commits; no auth, no checks;
  2. ceiling "sample row": POST /_bench/sample_row inserts the very row a scan inserts into
     `samples` (its foreign keys, indexes and statistics trigger), ids given, and commits; no auth,
     no tube counted, nothing checked;
  3. scans into realistic tubes of 10 (each client fills its own tubes; the 10th scan seals);
then, once each:
  4. a paced scan run at --rate scans/s; its latencies run from each scan's *scheduled* send, so
     waiting behind a slow answer counts (no coordinated omission);
  5. contention: clients in pairs scan 12 residents each into the same tubes of 10 at once (exactly
     10 admitted per tube, the other 2 refused with 409 tube_sealed / tube_full);
  6. replay: the warm-up's scans sent again with the same client_ids (every answer 200 with the
     first answer's sample id, nothing written).
Every answer is checked (status and body: the tube's count after the scan, sealed at 10, the
sample id of a replay); afterwards the database: no tube over capacity, every tube sealed at 10
with its count equal to its samples, no scan lost or doubled. Aims: scans ≥ 60 % of the narrow-row
ceiling; p99 < 100 ms at the paced rate (725/s: the city's peak). Exit 1 on any unexpected answer
or failed check, 3 when only an aim was missed.

    .venv/bin/python scripts/bench_scan.py --db postgresql --clients 16 --tubes 5 --repeat 3
"""
import argparse
import multiprocessing
import uuid

import benchlib
from benchlib.load import Phase

SHARED_TUBES_PER_PAIR = 2  # the contention phase: tubes each pair of clients fills together
AIM_SHARE_OF_CEILING = 0.60
AIM_P99_MS = 100


def expect_scan(status, payload, want):
    """A scan into a tube of its own: 201, the tube's count is the scan's place in it, sealed when full."""
    position, capacity = want
    if status != 201:
        return f"status {status}, expected 201", None
    tube = (payload or {}).get("tube") or {}
    sealed = "sealed" if position == capacity else "open"
    if not isinstance(payload.get("sample_id"), int) or tube.get("count") != position or tube.get("status") != sealed:
        return f"body {payload}, expected tube count {position}, {sealed}", None
    return None, payload["sample_id"]


def expect_shared(status, payload, want):
    """Two clients on one tube: 201 (counted), or 409 tube_sealed / tube_full once it holds 10."""
    if status == 201 and isinstance((payload or {}).get("sample_id"), int):
        return None, "admitted"
    code = ((payload or {}).get("error") or {}).get("code")
    if status == 409 and code in ("tube_sealed", "tube_full"):
        return None, "refused"
    return f"status {status} {code}, expected 201 or 409 tube_sealed/tube_full", None


def expect_replay(status, payload, want):
    """A scan sent again: 200 and the first answer's sample id."""
    if status != 200 or (payload or {}).get("sample_id") != want:
        return f"status {status} body {payload}, expected 200 with sample_id {want}", None
    return None, None


def expect_created(status, payload, want):
    """A ceiling: 201 and its small JSON answer."""
    if status != 201 or payload != want:
        return f"status {status} body {payload}, expected 201 {want}", None
    return None, None


def scan_requests(data, clients, tubes_per_client, offset_tube, offset_resident, capacity=10):
    """Each client fills ``tubes_per_client`` tubes of its own; returns (requests per client, next resident)."""
    per_client, r = [], offset_resident
    for c in range(clients):
        reqs = []
        for t in range(tubes_per_client):
            code = data["tubes"][offset_tube + c * tubes_per_client + t]
            for k in range(capacity):
                reqs.append((f"/api/v1/tubes/{code}/samples", {"qr": data["qrs"][r], "client_id": str(uuid.uuid4())},
                             (k + 1, capacity)))
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
                                               {"qr": data["qrs"][r], "client_id": str(uuid.uuid4())}, None))
                    r += 1
    return per_client, r


def bench(kind, args, report):
    """Ceiling and scan phases interleaved --repeat times (medians), then one paced run, the
    contention and replay phases, and the checks."""
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
          f"{args.repeat} interleaved rounds of {per_round} requests per phase", flush=True)
    token, state = data["token"], {"tube": args.clients, "resident": 0}
    try:
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            warm_reqs, state["resident"] = scan_requests(data, args.clients, 1, 0, 0)
            warm = run(report, kind + ": warm-up", pool, port, token, warm_reqs, expect_scan)

            def narrow(_n):
                reqs = [[("/api/v1/_bench/ceiling", {}, {"ok": True})] * (args.tubes * 10)] * args.clients
                return run(report, kind + ": ceiling: narrow row", pool, port, token, reqs, expect_created)

            def sample_row(n):
                mine = data["ceiling_rows"][n * per_round:(n + 1) * per_round]
                reqs = [[("/api/v1/_bench/sample_row", row, {"ok": True}) for row in mine[c::args.clients]]
                        for c in range(args.clients)]
                return run(report, kind + ": ceiling: sample row", pool, port, token, reqs, expect_created)

            def scan(_n):
                reqs, state["resident"] = scan_requests(data, args.clients, args.tubes, state["tube"],
                                                        state["resident"])
                state["tube"] += args.clients * args.tubes
                return run(report, kind + ": scan", pool, port, token, reqs, expect_scan)

            rounds = benchlib.interleaved(args.repeat, {"narrow": narrow, "row": sample_row, "scan": scan})
            paced_reqs, state["resident"] = scan_requests(data, args.clients, paced_tubes_per_client, state["tube"],
                                                          state["resident"])
            state["tube"] += args.clients * paced_tubes_per_client
            paced = run(report, kind + ": paced", pool, port, token, paced_reqs, expect_scan,
                        interval=args.clients / args.rate)
            shared_reqs, state["resident"] = shared_requests(data, args.clients, SHARED_TUBES_PER_PAIR, state["tube"],
                                                             state["resident"])
            shared = run(report, kind + ": two clients per tube", pool, port, token, shared_reqs, expect_shared)
            before_replay = benchlib.check_database(url)["samples"]
            replay_reqs = [[(path, body, sample_id) for (path, body, _want), sample_id in zip(reqs, ids, strict=True)]
                           for reqs, ids in zip(warm_reqs, chunks(warm.values, args.clients), strict=True)]
            replay = run(report, kind + ": replayed scans", pool, port, token, replay_reqs, expect_replay)
            after_replay = benchlib.check_database(url)["samples"]
    finally:
        benchlib.stop_server(server)
    for i, (ceiling, row, scanned) in enumerate(zip(rounds["narrow"], rounds["row"], rounds["scan"], strict=True)):
        print(ceiling.line(f"[{i + 1}] ceiling: 1 narrow row"))
        print(row.line(f"[{i + 1}] ceiling: 1 sample row"))
        print(scanned.line(f"[{i + 1}] scan"))
    print(paced.line(f"paced at {args.rate:g}/s (from schedule)"))
    print(shared.line("two clients per tube"))
    print(replay.line("replayed scans"))
    figures(report, kind, args, rounds, paced)
    for problem in benchlib.status_counts("two clients per tube", shared, {201: shared_tubes * 10,
                                                                           409: shared_tubes * 2}):
        report.problem(f"{kind}: {problem}")
    report.check(after_replay == before_replay, f"{kind}: replayed scans wrote {after_replay - before_replay} samples")
    admitted = sum(p.statuses.get(201, 0) for p in (warm, *rounds["scan"], paced, shared))
    check = benchlib.check_database(url, expected_samples=admitted, all_sealed_full=True)
    checked = ("tubes_over_capacity", "tubes_count_mismatch", "doubled_scans", "lost_or_extra", "tubes_not_sealed_full")
    print(f"database check: {check}")
    for key in checked:
        report.check(not check[key], f"{kind}: database {key} = {check[key]}")


def figures(report, kind, args, rounds, paced):
    """The medians, the ratios of this run and the aims."""
    med = benchlib.median
    narrow = report.figure("ceiling_narrow_rate", med(p.rate for p in rounds["narrow"]), "/s",
                           "ceiling: one narrow row into bench_rows + commit, requests/s", kind)
    row = report.figure("ceiling_sample_row_rate", med(p.rate for p in rounds["row"]), "/s",
                        "ceiling: the scan's own row into samples + commit, requests/s", kind)
    scan = report.figure("scan_rate", med(p.rate for p in rounds["scan"]), "/s",
                         "scans/s through the whole stack (token, rules, tube count, seal)", kind)
    report.figure("scan_p50_ms", med(p.p50_ms for p in rounds["scan"]), "ms", "scan p50, unpaced", kind)
    report.figure("scan_p99_ms", med(p.p99_ms for p in rounds["scan"]), "ms", "scan p99, unpaced", kind)
    share = report.ratio("scan_share_narrow", scan, narrow, "scans / narrow-row ceiling", kind, "%")
    report.ratio("scan_share_sample_row", scan, row, "scans / sample-row ceiling", kind, "%")
    report.figure("paced_rate_asked", args.rate, "/s", "paced run: scans/s asked", kind)
    report.figure("paced_rate", paced.rate, "/s", "paced run: scans/s achieved", kind)
    report.figure("paced_p50_ms", paced.p50_ms, "ms", "paced run: p50 from the scheduled send", kind)
    report.figure("paced_p99_ms", paced.p99_ms, "ms", "paced run: p99 from the scheduled send", kind)
    print(f"MEDIAN {kind}: ceiling {narrow:.0f}/s (narrow row), {row:.0f}/s (sample row); scan {scan:.0f}/s; "
          f"scan/ceiling = {share:.0%} (narrow), {scan / row:.0%} (sample row); paced {paced.rate:.0f}/s "
          f"p99 {paced.p99_ms:.1f} ms from the scheduled send", flush=True)
    report.aim("scan_share_narrow", f"scans ≥ {AIM_SHARE_OF_CEILING:.0%} of the narrow-row ceiling",
               share >= AIM_SHARE_OF_CEILING, f"{share:.0%} ({scan:.0f}/s of {narrow:.0f}/s)", kind)
    report.aim("paced_p99", f"scan p99 < {AIM_P99_MS} ms at {args.rate:g} scans/s", paced.p99_ms < AIM_P99_MS,
               f"p99 {paced.p99_ms:.0f} ms, {paced.rate:.0f}/s achieved", kind)


def run(report, name, pool, port, token, per_client, expect, interval=0.0) -> Phase:
    phase = benchlib.run_phase(pool, port, token, per_client, expect, interval)
    report.phase(name, phase)
    return phase


def chunks(values, clients):
    """Split a phase's values (client after client, as run_phase returns them) back per client."""
    size = len(values) // clients
    return [values[c * size:(c + 1) * size] for c in range(clients)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (processes)")
    parser.add_argument("--tubes", type=int, default=5, help="tubes of 10 each client fills per round, unpaced")
    parser.add_argument("--rate", type=float, default=725, help="scans/s of the paced run (725: the city's peak)")
    parser.add_argument("--paced-seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved ceiling/scan rounds (medians)")
    benchlib.add_arguments(parser)
    args = parser.parse_args()
    report = benchlib.Report("bench_scan", args)
    report.note(f"{args.clients} client processes with keep-alive connections, gunicorn {args.workers} workers × "
                f"{args.threads} threads, tubes of 10 at one site, {args.repeat} interleaved rounds of "
                f"{args.clients * args.tubes * 10} requests per phase, paced run {args.rate:g}/s for "
                f"{args.paced_seconds:g} s")
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        bench(kind, args, report)
    raise SystemExit(report.finish())


if __name__ == "__main__":
    main()
