"""Who may do what: roles and region scope, decided here and nowhere else."""
from collections.abc import Iterable

from sqlalchemy import ColumnElement, literal, or_, select, true

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


def _paths_up(path: str) -> list[str]:
    """The path of a region and of every region above it: "/1/2/" -> ["/1/", "/1/2/"]."""
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1)]


def round_scope(user: User, round_region_id, region_path) -> ColumnElement[bool]:
    """A SQL condition on rounds (outer-joined to their region) limiting them to those that concern
    the user. Citywide rounds concern everyone; admins and labs (who test tubes from every district)
    see every round; a coordinator the rounds whose region holds theirs or lies inside it; a sampler
    the rounds whose region holds one of their sites."""
    if user.role in (Role.ADMIN.value, Role.LAB.value):
        return true()
    citywide = round_region_id.is_(None)
    if user.role == Role.COORDINATOR.value and user.region is not None:
        return or_(citywide, region_path.in_(_paths_up(user.region.path)),
                   region_path.startswith(user.region.path, autoescape=True))
    if user.role == Role.SAMPLER.value:
        paths = sorted({p for site in user.sites for p in _paths_up(site.community.path)})
        return or_(citywide, region_path.in_(paths)) if paths else citywide
    return citywide
