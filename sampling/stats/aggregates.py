"""Summary statistics (结果汇总统计): a round's figures by district, street, community or site,
within the caller's region. Read from the trigger-maintained aggregates (models/stats.py), so a
city-level request groups a few thousand counter rows, never the samples themselves."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from sampling.errors import BadRequest, Forbidden, NotFound
from sampling.extensions import db
from sampling.kernel.access import require_region, require_role
from sampling.kernel.ids import db_id
from sampling.kernel.regions import get_region
from sampling.models import Region, Role, Round, Site, StatsCommunity, StatsSite, User
from sampling.stats import providers
from sampling.stats.completion import roster_figures

LEVELS = ("district", "street", "community", "site")
_DEPTH = {"district": 1, "street": 2, "community": 3, "site": 4}

# (row key, StatsSite column); summed over the sites of an area
SITE_COUNTS = [
    ("sampled", "people"), ("supplementary", "supplementary"), ("samples", "samples"), ("tubes", "tubes"),
    ("tubes_open", "tubes_open"), ("tubes_sealed", "tubes_sealed"), ("tubes_boxed", "tubes_boxed"),
    ("tubes_received", "tubes_received"), ("tubes_resulted", "tubes_resulted"),
    ("negative_pools", "pools_negative"), ("positive_pools", "pools_positive"), ("invalid_pools", "pools_invalid"),
    ("positive_members", "positive_members"), ("invalid_members", "invalid_members"),
    ("positive_individuals", "positive_individuals"), ("invalid_individuals", "invalid_individuals"),
]
_TURNAROUND = ("turnaround_count", "turnaround_seconds")
# figures plugged in by other features (providers); None until a provider is registered
ROSTER = ("roster_total", "roster_tested")
FOLLOWUP = ("followup_positive_total", "followup_positive_closed", "followup_invalid_total", "followup_invalid_closed")
HOOKED = ROSTER + FOLLOWUP
COUNT_KEYS = ["registered"] + [k for k, _ in SITE_COUNTS] + list(HOOKED)


def parse_round_id(value: str) -> int:
    """A round id from a query string: ASCII digits (not "²", which str.isdigit() accepts), else
    BadRequest; a number no round can have (0, or beyond a 32-bit id) is NotFound."""
    if not (value.isascii() and value.isdigit()):
        raise BadRequest(_l("round_id must be a round number."), code="bad_round")
    number = db_id(value, text=True)
    if number is None:
        raise NotFound(_l("Unknown round."), code="unknown_round")
    return number


@dataclass
class Scope:
    """What a stats request covers: the round, the level of the rows and the area they lie in."""

    round: Round
    level: str
    parent: Region | None  # None: the whole city
    path: str | None       # path prefix limiting the rows (parent's, or the coordinator's region)


def resolve_scope(user: User, round_id, level, parent_code: str | None = None) -> Scope:
    """Check the request: a known round and level, a parent above the level and inside the
    caller's region (Forbidden otherwise)."""
    from sampling.field.rounds import get_round
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    if level not in LEVELS:
        raise BadRequest(_l("Level must be district, street, community or site."), code="bad_level")
    rnd = get_round(round_id)
    own = user.region if user.role == Role.COORDINATOR.value else None
    if parent_code:
        parent = get_region(parent_code)
        require_region(user, parent)
        if _DEPTH[parent.level] >= _DEPTH[level]:
            raise BadRequest(_l("The parent region must lie above the level asked for."), code="bad_parent")
        return Scope(rnd, level, parent, parent.path)
    if own is not None and _DEPTH[own.level] > _DEPTH[level]:
        raise Forbidden(_l("Your region lies inside one of these areas; choose a lower level."),
                        code="forbidden_region")
    return Scope(rnd, level, own, own.path if own is not None else None)


def _area_columns(level: str):
    """(community alias, key column of the area at ``level``, joins from the community up to it)."""
    community, street, district = aliased(Region), aliased(Region), aliased(Region)
    if level == "community":
        return community, community.id, []
    if level == "street":
        return community, street.id, [(street, street.id == community.parent_id)]
    return community, district.id, [(street, street.id == community.parent_id),
                                     (district, district.id == street.parent_id)]


def _under(community, path: str | None):
    return [] if path is None else [community.path.startswith(path, autoescape=True)]


def _site_sums(scope: Scope) -> dict:
    """Counter sums per area (or per site) of the round."""
    cols = [func.sum(getattr(StatsSite, c)) for _, c in SITE_COUNTS] + \
        [func.sum(getattr(StatsSite, c)) for c in _TURNAROUND]
    if scope.level == "site":
        community = aliased(Region)
        key, joins = StatsSite.site_id, []
    else:
        community, key, joins = _area_columns(scope.level)
    query = (select(key, *cols).select_from(StatsSite).join(Site, Site.id == StatsSite.site_id)
             .join(community, community.id == Site.community_id))
    for alias, on in joins:
        query = query.join(alias, on)
    query = query.where(StatsSite.round_id == scope.round.id, *_under(community, scope.path)).group_by(key)
    return {row[0]: row[1:] for row in db.session.execute(query)}


def _registered(scope: Scope) -> dict:
    community, key, joins = _area_columns(scope.level)
    query = select(key, func.sum(StatsCommunity.registered)).select_from(StatsCommunity).join(
        community, community.id == StatsCommunity.community_id)
    for alias, on in joins:
        query = query.join(alias, on)
    return dict(db.session.execute(query.where(*_under(community, scope.path)).group_by(key)).all())


def _areas(scope: Scope) -> list[tuple]:
    """(key, code, name) of every area at the level, in code order, with or without figures."""
    if scope.level == "site":
        community = aliased(Region)
        query = select(Site.id, Site.code, Site.name).join(community, community.id == Site.community_id)
        return list(db.session.execute(query.where(*_under(community, scope.path)).order_by(Site.code)))
    query = select(Region.id, Region.code, Region.name).where(Region.level == scope.level)
    if scope.path is not None:
        query = query.where(Region.path.startswith(scope.path, autoescape=True))
    return list(db.session.execute(query.order_by(Region.code)))


def _derive(row: dict, turnaround: tuple[int, int]) -> dict:
    count, seconds = turnaround
    row["turnaround_minutes"] = round(seconds / count / 60, 1) if count else None
    total, tested = row.get("roster_total"), row.get("roster_tested")
    row["completion"] = round(tested / total, 4) if total and tested is not None else None
    positive, invalid = row.get("followup_positive_total"), row.get("followup_invalid_total")
    row["followup_total"] = None if positive is None else positive + invalid  # both kinds together
    row["followup_closed"] = None if positive is None else \
        row["followup_positive_closed"] + row["followup_invalid_closed"]
    return row


def area_stats(user: User, round_id, level, parent_code: str | None = None) -> dict:
    """``{round_id, level, parent, rows: [...], totals: {...}}``: one row per area (or site)."""
    scope = resolve_scope(user, round_id, level, parent_code)
    sums, registered = _site_sums(scope), ({} if level == "site" else _registered(scope))
    hooked, hooked_totals = _hooked(scope)
    zero = (0,) * (len(SITE_COUNTS) + len(_TURNAROUND))
    names = [k for k, _ in SITE_COUNTS]
    no_hooks = {k: None for k in HOOKED if k not in hooked}
    rows = []
    for key, code, name in _areas(scope):
        values = [int(v or 0) for v in sums.get(key, zero)]
        row = dict(zip(names, values, strict=False), code=code, name=name,
                   registered=None if level == "site" else int(registered.get(key) or 0), **no_hooks)
        for k, by_key in hooked.items():  # no pool to follow up is 0; no roster collision stays None
            row[k] = by_key.get(key, 0 if k in FOLLOWUP else None)
        row["_turnaround"] = values[-2:]
        rows.append(row)
    totals: dict = {k: sum(r[k] for r in rows if r[k] is not None) for k in COUNT_KEYS}
    totals.update({"registered": None if level == "site" else totals["registered"], **no_hooks, **hooked_totals})
    turnaround = [sum(r["_turnaround"][0] for r in rows), sum(r["_turnaround"][1] for r in rows)]
    for row in rows:
        _derive(row, row.pop("_turnaround"))
    return {"round_id": scope.round.id, "round_name": scope.round.name, "level": level,
            "parent": {"code": scope.parent.code, "name": scope.parent.name, "level": scope.parent.level}
            if scope.parent is not None else None, "rows": rows, "totals": _derive(totals, turnaround)}


def _site_keys(scope: Scope, codes: list[str]) -> dict:
    """Site code → key of the row it adds to, for the follow-up figures of these (few) sites."""
    if scope.level == "site":
        community = aliased(Region)
        query = select(Site.code, Site.id).join(community, community.id == Site.community_id)
    else:
        community, key, joins = _area_columns(scope.level)
        query = select(Site.code, key).select_from(community).join(Site, Site.community_id == community.id)
        for alias, on in joins:
            query = query.join(alias, on)
    return dict(db.session.execute(query.where(Site.code.in_(codes), *_under(community, scope.path))).all())


def _hooked(scope: Scope) -> tuple[dict, dict]:
    """({figure: {row key: value}}, {figure: value of the totals}) from the registered providers
    (see providers): roster figures by the rule of completion, follow-up summed by site."""
    out, totals = {}, {}
    roster = providers.roster_provider()
    if roster is not None:
        by_area, whole = roster_figures(scope, roster(scope.round.id) or {})
        for index, name in enumerate(ROSTER):
            out[name] = {key: figures[index] for key, figures in by_area.items()}
            totals[name] = None if whole is None else whole[index]
    followup = providers.followup_provider()
    if followup is not None:
        by_site = followup(scope.round.id) or {}
        keys, sums = _site_keys(scope, list(by_site)) if by_site else {}, {}
        for code, values in by_site.items():
            key = keys.get(code)
            if key is not None:
                sums[key] = [a + b for a, b in zip(sums.get(key, [0] * len(FOLLOWUP)), values, strict=True)]
        for index, name in enumerate(FOLLOWUP):
            out[name] = {key: values[index] for key, values in sums.items()}
    return out, totals


def breadcrumb(region: Region | None) -> list[dict]:
    """The chain of regions from the district down to ``region``."""
    chain = []
    while region is not None:
        chain.append({"code": region.code, "name": region.name, "level": region.level})
        region = region.parent
    return list(reversed(chain))


def child_level(level: str) -> str | None:
    """The level one below (the drill-down target), or None under sites."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def level_below(parent_code: str) -> str:
    """The level one below a region (a community's sites): the default when a parent is given
    without a level. An unknown code is NotFound."""
    return child_level(get_region(parent_code).level) or "site"
