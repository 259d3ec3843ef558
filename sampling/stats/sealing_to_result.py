"""Median and 90th percentile from sealing to result, for the statistics dashboard.

A percentile is not a sum: the trigger-kept counters give the mean (``turnaround_minutes``), but a
median needs the area's tubes sorted (about 1.4 million for a city round), too slow for a request
that must answer in well under 100 ms and is refreshed by hundreds of coordinators every 30 s.
The dashboard therefore shows the figures of :func:`sampling.lab.turnaround.turnaround`
(the lab's, also served at ``GET /api/v1/turnaround``), computed at most once per round, area and
``STATS_TURNAROUND_SECONDS`` (300 s) in each server process, with the time they were computed."""
import time
from datetime import UTC, datetime

from flask import current_app

from sampling.lab.turnaround import turnaround

_MAX_ENTRIES = 5000  # more areas than a city has streets: a full cache is simply emptied


def sealing_to_result(round_id: int, region) -> dict:
    """``{tubes, median_minutes, p90_minutes, computed_at}`` for the tubes of ``region`` (None: the
    city) in the round, from the process's cache while it is fresh."""
    cache = current_app.extensions.setdefault("stats_turnaround", {})
    key, now = (round_id, region.code if region is not None else None), time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < current_app.config.get("STATS_TURNAROUND_SECONDS", 300):
        return hit[1]
    figures = dict(turnaround(round_id, region)["sealed_to_resulted"], computed_at=datetime.now(UTC))
    if len(cache) >= _MAX_ENTRIES:
        cache.clear()
    cache[key] = (now, figures)
    return figures
