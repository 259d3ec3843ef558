"""The rows of the README's Figures table: what, the aim, and how the measured text is built from
a benchmark's figures (benchlib.figures.Lookup ``f``: ``f(key, db)`` is a formatted figure).
A new benchmark adds its row here (and its entry in benchlib.suite.BENCHMARKS)."""
from collections.abc import Callable
from dataclasses import dataclass

PG, LITE = "postgresql", "sqlite"


@dataclass
class Row:
    bench: str
    what: str
    aim: str
    aims: tuple  # keys of the benchmark's aims this row shows
    measured: Callable


def _per_db(f, text) -> str:
    return "; ".join(f"{name} {text(db)}" for db, name in ((PG, "PostgreSQL"), (LITE, "SQLite")) if f.has(db))


def _scan(f) -> str:
    return _per_db(f, lambda db: f"{f('scan_rate', db)} = **{f('scan_share_narrow', db)}** of the narrow-row "
                                 f"ceiling ({f('ceiling_narrow_rate', db)}), {f('scan_share_sample_row', db)} of the "
                                 f"sample-row ceiling ({f('ceiling_sample_row_rate', db)})")


def _paced(f) -> str:
    return _per_db(f, lambda db: f"p99 **{f('paced_p99_ms', db)}** from the scheduled send, {f('paced_rate', db)} "
                                 f"achieved of {f('paced_rate_asked', db)} asked")


def _sync(f) -> str:
    return (f"**{f('sync_times_single', PG)}** the single-scan rate of the same server and clients "
            f"({f('sync_items_rate', PG)} items vs {f('single_scan_rate', PG)} scans); "
            f"{f('sync_share_ceiling', PG)} of a bare insert of the same sample rows ({f('ceiling_items_rate', PG)})")


def _png(f) -> str:
    return f"**{f('phone_png_rate')}** ({f('phone_png_share')} the bare QR-matrix floor, {f('matrix_rate')})"


def _sheet(f) -> str:
    return (f"**{f('sheet_s', LITE)}** wall, {f('sheet_cpu_s', LITE)} CPU ({f('sheet_times_floor', LITE)} rendering "
            f"its PNGs alone), {f.arg('cards', 1000):,} cards")


def _upload(f) -> str:
    rows = f"{f.arg('rows', 0):,} rows: "
    return rows + _per_db(f, lambda db: f"**{f('upload_s', db)}** (peak {f('upload_peak_mb', db)})")


def _collision(f) -> str:
    rows = f"{f.arg('rows', 0):,} rows: "
    return rows + _per_db(f, lambda db: f"{f('collision_s', db)} = **{f('collision_times_floor', db)}** the anti-joins"
                          + (f" ({f('collision_times_floor_serial', db)} both without parallel workers)"
                             if f.raw('collision_times_floor_serial', db) else ""))


def _register(f) -> str:
    rows = f"{f.arg('rows', 0):,}+ registered residents: "
    return rows + _per_db(f, lambda db: f"{f('register_s', db)} = **{f('register_times_floor', db)}** its anti-join")


def _results(f) -> str:
    rows = f"{f.arg('tubes', 0):,} tubes: "
    return rows + _per_db(f, lambda db: f"{f('post_s', db)} = {f('post_times_floor', db)} the bare-UPDATE floor, "
                                        f"a per-row loop {f('naive_times_post', db)} slower")


def _scale(f) -> str:
    residents = f.raw("city_residents")
    return f"{residents / 1e6:.2g} M residents and samples" if residents else "?"


def _city(f) -> str:
    return (f"median **{f('city_ms')}** (p95 {f('city_p95_ms')}), {_scale(f)}, {f('city_rosters').strip()} rosters "
            f"collided, {f('scan_rate')} scans arriving; from scratch {f('naive_ms')} ({f('naive_times_city')})")


def _downloads(f) -> str:
    return (f"district coordinator: its streets {f('district_streets_ms')}; district XLSX **{f('xlsx_district_ms')}**;"
            f" whole-city XLSX **{f('xlsx_city_ms')}** ({_scale(f)})")


def _scanpage(f) -> str:
    return (f"{f('accepted_ms', LITE)} / {f('answered_ms', LITE)} ({f('answered_times_bare', LITE)} a bare fetch "
            f"of the same request)")


ROWS = [
    Row("bench_scan", "scans/s through the whole stack (gunicorn, token auth, rules) vs a bare insert-one-row-and-"
        "commit endpoint on the same server", "≥ 60 % of the narrow-row ceiling", ("scan_share_narrow",), _scan),
    Row("bench_scan", "scan p99 under a paced load of 725 scans/s (the city's peak)", "< 100 ms", ("paced_p99",),
        _paced),
    Row("bench_sync", "batch sync, batches of 100, PostgreSQL", "≥ 10 × the single-scan rate", ("sync_times_single",),
        _sync),
    Row("bench_residents", "QR PNG renders per second, one core", "≥ 200/s", ("png_rate",), _png),
    Row("bench_residents", "1,000-card print sheet", "< 10 s", ("sheet",), _sheet),
    Row("bench_collisions", "roster upload (parse, check, load)", "< 30 s per million rows", ("upload",), _upload),
    Row("bench_collisions", "collision of a roster against as many samples", "≤ 2 × the bare SQL anti-joins",
        ("collision_times_floor",), _collision),
    Row("bench_collisions", "collision of the system's own register (a street) against as many samples",
        "≤ 2 × the bare SQL anti-join", ("register_times_floor",), _register),
    Row("bench_results", "lab results posted", "—", (), _results),
    Row("bench_stats", "city-level stats (16 districts) with rosters collided, while scans arrive", "< 100 ms",
        ("city",), _city),
    Row("bench_stats", "district coordinator's streets / district XLSX / whole-city XLSX", "— / < 2 s / < 2 s",
        ("xlsx_district", "xlsx_city"), _downloads),
    Row("bench_scanpage", "scanning page: scan accepted on the phone / server answer shown", "well under 1 s",
        ("accepted", "answered"), _scanpage),
]
