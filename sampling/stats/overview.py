"""Progress over the day for one area of a round: samples per hour (every hour, zeros included,
so a stall shows as a gap), the busiest and the slowest sites, scans per sampler per hour. All
read from the hourly aggregates, limited to the round and the area (a city has ~5,000 sites ×
~24 hours of counter rows), ranked and cut to top-N."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from sampling.extensions import db
from sampling.models import Region, Site, StatsSamplerHour, StatsSite, StatsSiteHour, User
from sampling.stats.aggregates import Scope, resolve_scope


def _in_area(query, table, scope: Scope):
    """Limit an aggregate query to the round and (through its site) to the scope's area."""
    query = query.where(table.round_id == scope.round.id)
    if scope.path is None:
        return query
    community = aliased(Region)
    return (query.join(Site, Site.id == table.site_id).join(community, community.id == Site.community_id)
            .where(community.path.startswith(scope.path, autoescape=True)))


HOURS_SHOWN = 168  # at most a week of hours: a round forgotten open does not grow the chart forever
_HOUR = timedelta(hours=1)


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def series_hours(rnd, first: datetime | None, last: datetime | None, now: datetime) -> tuple | None:
    """(first hour, last hour) of the hourly series: from the round's start (or its first samples,
    if earlier) to the current hour, not past the round's end (a closed round without an end: its
    last samples), never before the last hour with samples; at most ``HOURS_SHOWN`` hours, the
    latest kept. None when the round has not begun."""
    if rnd.ends_at is not None:
        end = _floor(min(now, rnd.ends_at - timedelta(microseconds=1)))
    else:
        end = _floor(now) if rnd.status == "open" or last is None else last
    start = _floor(rnd.starts_at)
    if first is not None:
        start, end = min(start, first), max(end, last)
    if start > end:
        return None
    return max(start, end - (HOURS_SHOWN - 1) * _HOUR), end


def hourly(scope: Scope, now: datetime) -> list[dict]:
    """Samples, people first sampled and supplementary samples per UTC hour, in time order, every
    hour of the series (see series_hours) present, with zeros where nothing was sampled."""
    query = _in_area(select(StatsSiteHour.hour, func.sum(StatsSiteHour.samples), func.sum(StatsSiteHour.people),
                            func.sum(StatsSiteHour.supplementary)).select_from(StatsSiteHour), StatsSiteHour, scope)
    found = {hour.astimezone(UTC): (int(n or 0), int(p or 0), int(s or 0))
             for hour, n, p, s in db.session.execute(query.group_by(StatsSiteHour.hour)) if n or p}
    bounds = series_hours(scope.round, min(found, default=None), max(found, default=None), now)
    if bounds is None:
        return []
    series, hour = [], bounds[0]
    while hour <= bounds[1]:
        n, p, s = found.get(hour, (0, 0, 0))
        series.append({"hour": hour, "samples": n, "people": p, "supplementary": s})
        hour += _HOUR
    return series


def site_ranking(scope: Scope, last_hour: datetime | None, top: int = 5) -> tuple[list[dict], list[dict]]:
    """(busiest, slowest) sites of the area by samples in the last two hours of the series (the
    current hour and the one before, or the round's last two). The busiest are sites that sampled
    then; the slowest are taken among all the area's sites, those with the fewest samples in the
    round first, so a site that has not sampled at all, or has stalled, shows up."""
    community = aliased(Region)
    totals = select(StatsSite.site_id, StatsSite.samples).where(StatsSite.round_id == scope.round.id).subquery()
    columns = [Site.code, Site.name, func.coalesce(totals.c.samples, 0)]
    query = select(*columns).join(community, community.id == Site.community_id).outerjoin(
        totals, totals.c.site_id == Site.id)
    if last_hour is not None:
        recent = _in_area(select(StatsSiteHour.site_id, func.sum(StatsSiteHour.samples).label("n"))
                          .select_from(StatsSiteHour), StatsSiteHour, scope)
        recent = recent.where(StatsSiteHour.hour >= last_hour - _HOUR, StatsSiteHour.hour <= last_hour)
        recent = recent.group_by(StatsSiteHour.site_id).subquery()
        query = query.add_columns(func.coalesce(recent.c.n, 0)).outerjoin(recent, recent.c.site_id == Site.id)
    if scope.path is not None:
        query = query.where(community.path.startswith(scope.path, autoescape=True))
    rows = [{"code": row[0], "name": row[1], "samples": int(row[2] or 0),
             "recent": int(row[3] or 0) if len(row) > 3 else 0} for row in db.session.execute(query)]
    busiest = sorted((r for r in rows if r["recent"]), key=lambda r: (-r["recent"], r["code"]))[:top]
    slowest = sorted(rows, key=lambda r: (r["recent"], r["samples"], r["code"]))[:top]
    return busiest, slowest


def sampler_rates(scope: Scope, top: int = 10) -> list[dict]:
    """The samplers with the most scans per active hour: scans, active hours, average and peak per hour."""
    per_hour = _in_area(select(StatsSamplerHour.sampler_id, StatsSamplerHour.hour,
                               func.sum(StatsSamplerHour.samples).label("n")).select_from(StatsSamplerHour),
                        StatsSamplerHour, scope)
    per_hour = per_hour.group_by(StatsSamplerHour.sampler_id, StatsSamplerHour.hour).subquery()
    rate = (func.sum(per_hour.c.n) * 1.0 / func.count()).label("rate")
    query = (select(per_hour.c.sampler_id, func.sum(per_hour.c.n), func.count(), func.max(per_hour.c.n), rate)
             .group_by(per_hour.c.sampler_id).having(func.sum(per_hour.c.n) > 0)
             .order_by(rate.desc(), per_hour.c.sampler_id).limit(top))
    rows = db.session.execute(query).all()
    names = dict(db.session.execute(select(User.id, func.coalesce(User.display_name, User.username))
                                    .where(User.id.in_([r[0] for r in rows]))).all()) if rows else {}
    return [{"sampler": names.get(sid, str(sid)), "samples": int(n), "hours": int(h), "peak": int(peak),
             "per_hour": round(float(r), 1)} for sid, n, h, peak, r in rows]


def overview(user: User, round_id, parent_code: str | None = None, top: int = 5,
             now: datetime | None = None) -> dict:
    """The dashboard's progress figures for the caller's area (or ``parent_code`` inside it), as of
    ``now`` (the current time by default)."""
    scope = resolve_scope(user, round_id, "site", parent_code)
    series = hourly(scope, now or datetime.now(UTC))
    busiest, slowest = site_ranking(scope, series[-1]["hour"] if series else None, top)
    return {"round_id": scope.round.id, "parent": scope.parent.code if scope.parent else None,
            "hourly": series, "busiest_sites": busiest, "slowest_sites": slowest,
            "samplers": sampler_rates(scope, top * 2)}
