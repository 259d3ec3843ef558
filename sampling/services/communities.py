"""The community picker residents use: districts, then a district's streets, then a street's
communities."""
from sqlalchemy import select

from sampling.extensions import db
from sampling.models import Region, RegionLevel
from sampling.services.regions import get_region


def children(parent_code: str | None = None) -> list[dict]:
    """The districts (no parent), or the regions directly under ``parent_code`` (NotFound if unknown)."""
    query = select(Region.code, Region.name, Region.level).order_by(Region.code)
    if parent_code:
        parent = get_region(parent_code)
        query = query.where(Region.parent_id == parent.id)
    else:
        query = query.where(Region.level == RegionLevel.DISTRICT.value)
    return [{"code": code, "name": name, "level": level} for code, name, level in db.session.execute(query)]
