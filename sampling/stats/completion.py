"""Completion against roster collisions, per area of the statistics: which roster's figures an
area shows.

The roster provider (providers) gives, per region — community, street or district — the latest
whole-round collision of a roster uploaded for that region. An area shows **its own roster** when it
has one: the most specific roster that covers the whole area. Otherwise it shows the sum of the
areas just below it, each by the same rule: a district without a roster of its own adds up its
streets, and each street is its own street roster or, without one, the sum of its communities'
rosters. A community shows only a roster of its own: a street's or a district's roster is not split
by community (its rows name communities only as free text). The figures of an area are therefore
never a mix of a roster and the rosters of its parts, and are never counted twice."""
from collections import defaultdict

from sqlalchemy import ARRAY, String, any_, bindparam, or_, select

from sampling.extensions import db
from sampling.models import Region

Figures = tuple[int, int]  # (roster_total, tested)


def _add(parts: list[Figures]) -> Figures | None:
    return (sum(p[0] for p in parts), sum(p[1] for p in parts)) if parts else None


def roster_figures(scope, data: dict[str, Figures]) -> tuple[dict[int, Figures], Figures | None]:
    """({region id: figures} for the areas of ``scope`` with figures, the figures of the whole
    scope — its parent region, or the city — or None). ``data``: the provider's answer."""
    if not data:  # no roster collided in this round yet: nothing to place in the region tree
        return {}, None
    # A community without figures of its own never adds anything: only the streets and districts
    # (a few hundred) and the communities with figures are read, not the whole tree.
    codes = list(data)
    named = Region.code == any_(bindparam("codes", codes, type_=ARRAY(String))) \
        if db.session.get_bind().dialect.name == "postgresql" else Region.code.in_(codes)
    query = select(Region.id, Region.code, Region.level, Region.parent_id).where(
        or_(Region.level != "community", named))
    if scope.path is not None:
        query = query.where(Region.path.startswith(scope.path, autoescape=True))
    regions = db.session.execute(query).all()
    children: dict[int | None, list[int]] = defaultdict(list)
    for region_id, _code, _level, parent_id in regions:
        children[parent_id].append(region_id)
    figures: dict[int, Figures] = {}
    for level in ("community", "street", "district"):  # bottom up
        for region_id, code, region_level, _parent in regions:
            if region_level != level:
                continue
            own = data.get(code)
            found = tuple(own) if own is not None else None if level == "community" else \
                _add([figures[c] for c in children[region_id] if c in figures])
            if found is not None:
                figures[region_id] = found
    if scope.parent is not None:
        whole = figures.get(scope.parent.id)
    else:
        whole = _add([figures[r[0]] for r in regions if r[2] == "district" and r[0] in figures])
    return ({} if scope.level == "site" else figures), whole
