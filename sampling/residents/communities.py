"""The community picker residents use: districts, then a district's streets, then a street's
communities."""
from sqlalchemy import select

from sampling.extensions import db
from sampling.kernel.access import region_scope
from sampling.kernel.regions import get_region
from sampling.models import Region, RegionLevel, Role
from sampling.residents.identity import clean_text


def children(parent_code: str | None = None) -> list[dict]:
    """The districts (no parent), or the regions directly under ``parent_code`` (NotFound if unknown)."""
    query = select(Region.code, Region.name, Region.level).order_by(Region.code)
    parent_code = clean_text(parent_code)  # typed or pasted by the public: control characters dropped
    if parent_code:
        parent = get_region(parent_code)
        query = query.where(Region.parent_id == parent.id)
    else:
        query = query.where(Region.level == RegionLevel.DISTRICT.value)
    return [{"code": code, "name": name, "level": level} for code, name, level in db.session.execute(query)]


def for_staff(user) -> list[Region]:
    """The communities a staff member may register residents in (see residents.require_community)."""
    query = select(Region).where(Region.level == RegionLevel.COMMUNITY.value).order_by(Region.path)
    if user.role == Role.SAMPLER.value:
        query = query.where(Region.id.in_([site.community_id for site in user.sites]))
    else:
        query = query.where(region_scope(user, Region.path))
    return list(db.session.scalars(query))
