"""Progress over the day for one area of a round: samples per hour, the busiest and the slowest
sites, scans per sampler per hour. All read from the hourly aggregates, limited to the round and
the area (a city has ~5,000 sites × ~24 hours of counter rows), ranked and cut to top-N."""
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from sampling.extensions import db
from sampling.models import Region, Site, StatsSamplerHour, StatsSite, StatsSiteHour, User
from sampling.services.stats import Scope, resolve_scope


def _in_area(query, table, scope: Scope):
    """Limit an aggregate query to the round and (through its site) to the scope's area."""
    query = query.where(table.round_id == scope.round.id)
    if scope.path is None:
        return query
    community = aliased(Region)
    return (query.join(Site, Site.id == table.site_id).join(community, community.id == Site.community_id)
            .where(community.path.startswith(scope.path, autoescape=True)))


def hourly(scope: Scope) -> list[dict]:
    """Samples, people first sampled and supplementary samples per UTC hour, in time order."""
    query = _in_area(select(StatsSiteHour.hour, func.sum(StatsSiteHour.samples), func.sum(StatsSiteHour.people),
                            func.sum(StatsSiteHour.supplementary)).select_from(StatsSiteHour), StatsSiteHour, scope)
    rows = db.session.execute(query.group_by(StatsSiteHour.hour).order_by(StatsSiteHour.hour)).all()
    return [{"hour": hour, "samples": int(n or 0), "people": int(p or 0), "supplementary": int(s or 0)}
            for hour, n, p, s in rows if n or p]


def site_ranking(scope: Scope, latest_hour, top: int = 5) -> tuple[list[dict], list[dict]]:
    """(busiest, slowest) sites by samples in the last two hours with data (the latest and the one
    before); the slowest are taken among sites that sampled in this round, so a stalled line shows."""
    if latest_hour is None:
        return [], []
    since = latest_hour - timedelta(hours=1)
    recent = _in_area(select(StatsSiteHour.site_id, func.sum(StatsSiteHour.samples).label("n"))
                      .select_from(StatsSiteHour), StatsSiteHour, scope)
    recent = recent.where(StatsSiteHour.hour >= since).group_by(StatsSiteHour.site_id).subquery()
    sites = aliased(Site)
    query = (select(sites.code, sites.name, StatsSite.samples, func.coalesce(recent.c.n, 0))
             .select_from(StatsSite).join(sites, sites.id == StatsSite.site_id)
             .outerjoin(recent, recent.c.site_id == StatsSite.site_id))
    query = _in_area(query, StatsSite, scope).where(StatsSite.samples > 0)
    rows = [{"code": c, "name": n, "samples": int(total), "recent": int(r or 0)}
            for c, n, total, r in db.session.execute(query)]
    busiest = sorted(rows, key=lambda r: (-r["recent"], r["code"]))[:top]
    slowest = sorted(rows, key=lambda r: (r["recent"], r["code"]))[:top]
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


def overview(user: User, round_id, parent_code: str | None = None, top: int = 5) -> dict:
    """The dashboard's progress figures for the caller's area (or ``parent_code`` inside it)."""
    scope = resolve_scope(user, round_id, "site", parent_code)
    series = hourly(scope)
    busiest, slowest = site_ranking(scope, series[-1]["hour"] if series else None, top)
    return {"round_id": scope.round.id, "parent": scope.parent.code if scope.parent else None,
            "hourly": series, "busiest_sites": busiest, "slowest_sites": slowest,
            "samplers": sampler_rates(scope, top * 2)}
