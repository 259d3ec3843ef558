"""Turnaround per round: how long tubes take from sealing to receipt at the lab and to a
result, as medians and 90th percentiles (interpolated, as PostgreSQL's percentile_cont).

PostgreSQL computes every figure in one pass over the round's tubes (count and
percentile_cont per leg, as ordered-set aggregates). SQLite has no percentile aggregate: each
figure is read at its rank from the sorted durations (ORDER BY ... LIMIT 2 OFFSET rank)."""
from sqlalchemy import Float, cast, func, select

from sampling.extensions import db
from sampling.field.rounds import get_round
from sampling.models import Region, Site, Tube

LEGS = {"sealed_to_received": ("sealed_at", "received_at"),
        "received_to_resulted": ("received_at", "resulted_at"),
        "sealed_to_resulted": ("sealed_at", "resulted_at")}
FRACTIONS = (0.5, 0.9)


def turnaround(round_id: int, region: Region | None = None) -> dict:
    """For each leg (sealed→received, received→resulted, sealed→resulted): the number of tubes
    measured and the median and 90th percentile in minutes (None without tubes). ``region``
    limits it to tubes of sites in that region. 404 unknown_round for an unknown round."""
    rnd = get_round(round_id)
    base = select().select_from(Tube).where(Tube.round_id == rnd.id)
    if region is not None:
        base = (base.join(Site, Site.id == Tube.site_id).join(Region, Region.id == Site.community_id)
                .where(Region.path.startswith(region.path, autoescape=True)))
    figures = _postgresql(base) if db.engine.dialect.name == "postgresql" else _sqlite(base)
    answer = {"round_id": rnd.id, "region_code": region.code if region else None}
    for leg, (count, median, p90) in figures.items():
        answer[leg] = {"tubes": count, "median_minutes": _minutes(median), "p90_minutes": _minutes(p90)}
    return answer


def _minutes(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 60, 1)


def _seconds(leg: str):
    """The leg's duration in seconds; NULL while either end is missing (aggregates skip it)."""
    start, end = (getattr(Tube, name) for name in LEGS[leg])
    if db.engine.dialect.name == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _postgresql(base) -> dict[str, tuple]:
    columns = []
    for leg in LEGS:
        seconds = _seconds(leg)
        columns += [func.count(seconds), *(func.percentile_cont(f).within_group(seconds) for f in FRACTIONS)]
    row = db.session.execute(base.add_columns(*columns)).one()
    return {leg: tuple(row[3 * i:3 * i + 3]) for i, leg in enumerate(LEGS)}


def _sqlite(base) -> dict[str, tuple]:
    figures = {}
    for leg in LEGS:
        seconds = _seconds(leg)
        measured = base.where(seconds.is_not(None))
        count = db.session.scalar(measured.add_columns(func.count()))
        figures[leg] = (count, *(_at_rank(measured, seconds, count, f) for f in FRACTIONS))
    return figures


def _at_rank(measured, seconds, count: int, fraction: float) -> float | None:
    """The interpolated percentile from the two values around its rank (percentile_cont's rule)."""
    if count == 0:
        return None
    position = fraction * (count - 1)
    low = int(position)
    values = [float(v) for v in db.session.scalars(measured.add_columns(seconds).order_by(seconds)
                                                  .offset(low).limit(2))]
    if len(values) == 1 or position == low:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - low)
