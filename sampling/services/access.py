"""Who may do what: roles and region scope, decided here and nowhere else."""
from collections.abc import Iterable

from sqlalchemy import ColumnElement, literal, select, true

from sampling.errors import Forbidden
from sampling.models import Region, Role, Site, User, user_sites


def require_role(user: User, roles: Iterable[str | Role]) -> None:
    """Forbidden unless the user has one of ``roles``."""
    allowed = {r.value if isinstance(r, Role) else r for r in roles}
    if user.role not in allowed:
        raise Forbidden(code="forbidden_role")


def can_access_region(user: User, region: Region) -> bool:
    """Admins see everything; a coordinator sees their region and everything under it."""
    if user.role == Role.ADMIN.value:
        return True
    if user.role == Role.COORDINATOR.value and user.region is not None:
        return user.region.contains(region)
    return False


def require_region(user: User, region: Region) -> None:
    """Forbidden unless ``region`` lies in the user's scope."""
    if not can_access_region(user, region):
        raise Forbidden(code="forbidden_region")


def require_site(user: User, site: Site) -> None:
    """Samplers work only at their assigned sites; coordinators at sites in their region."""
    if user.role == Role.SAMPLER.value:
        if not any(s.id == site.id for s in user.sites):
            raise Forbidden(code="forbidden_site")
        return
    require_region(user, site.community)


def region_scope(user: User, path_column) -> ColumnElement[bool]:
    """A SQL condition limiting rows (by their region ``path`` column) to the user's scope."""
    if user.role == Role.ADMIN.value:
        return true()
    if user.role == Role.COORDINATOR.value and user.region is not None:
        return path_column.startswith(user.region.path, autoescape=True)
    return literal(False)


def site_scope(user: User, site_id_column) -> ColumnElement[bool]:
    """A SQL condition limiting rows (by their site id column) to the sites the user may work at:
    the rule of :func:`require_site`, for use inside one statement."""
    if user.role == Role.SAMPLER.value:
        return site_id_column.in_(select(user_sites.c.site_id).where(user_sites.c.user_id == user.id))
    if user.role == Role.ADMIN.value:
        return true()
    return site_id_column.in_(select(Site.id).join(Region, Site.community_id == Region.id)
                              .where(region_scope(user, Region.path)))
