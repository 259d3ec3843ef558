"""Turnaround per round: how long tubes take from sealing to receipt at the lab and to a
result. Medians and 90th percentiles are computed in the database (sorted, read at the rank),
interpolated like PostgreSQL's percentile_cont, on SQLite and PostgreSQL alike."""
from sqlalchemy import func, select

from sampling.extensions import db
from sampling.models import Region, Site, Tube
from sampling.services.positives import known_round

LEGS = {"sealed_to_received": ("sealed_at", "received_at"),
        "received_to_resulted": ("received_at", "resulted_at"),
        "sealed_to_resulted": ("sealed_at", "resulted_at")}


def _seconds(start, end):
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _percentile(base, expr, count: int, fraction: float) -> float | None:
    if count == 0:
        return None
    position = fraction * (count - 1)
    low = int(position)
    values = list(db.session.scalars(base.add_columns(expr).order_by(expr).offset(low).limit(2)))
    if len(values) == 1 or position == low:
        return float(values[0])
    return float(values[0]) + (float(values[1]) - float(values[0])) * (position - low)


def turnaround(round_id: int, region: Region | None = None) -> dict:
    """For each leg (sealed→received, received→resulted, sealed→resulted): the number of tubes
    measured and the median and 90th percentile in minutes. ``region`` limits it to tubes of
    sites in that region."""
    rnd = known_round(round_id)
    answer = {"round_id": rnd.id, "region_code": region.code if region else None}
    for leg, (start_name, end_name) in LEGS.items():
        start, end = getattr(Tube, start_name), getattr(Tube, end_name)
        base = select().select_from(Tube).where(Tube.round_id == rnd.id, start.is_not(None), end.is_not(None))
        if region is not None:
            base = (base.join(Site, Site.id == Tube.site_id).join(Region, Region.id == Site.community_id)
                    .where(Region.path.startswith(region.path, autoescape=True)))
        count = db.session.scalar(base.add_columns(func.count()))
        seconds = _seconds(start, end)
        median, p90 = (_percentile(base, seconds, count, f) for f in (0.5, 0.9))
        answer[leg] = {"tubes": count, "median_minutes": None if median is None else round(median / 60, 1),
                       "p90_minutes": None if p90 is None else round(p90 / 60, 1)}
    return answer
