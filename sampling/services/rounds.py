"""Screening rounds."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from sampling.errors import NotFound, ValidationFailed
from sampling.extensions import db
from sampling.models import Role, Round, User
from sampling.models.rounds import POOL_SIZES
from sampling.services.access import require_region, require_role
from sampling.services.ids import positive_id
from sampling.services.regions import get_region


def create_round(user: User, name: str, pool_size, region_code: str | None = None) -> Round:
    """Open a new round. A coordinator's round covers their region (or a region inside it)."""
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    fields = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        fields["name"] = _l("A name of 1 to 100 characters is required.")
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size not in POOL_SIZES:
        fields["pool_size"] = _l("Pool size must be 1, 5, 10 or 20.")
    if fields:
        raise ValidationFailed(fields=fields)
    region = get_region(region_code) if region_code else user.region
    if region is not None:
        require_region(user, region)
    rnd = Round(name=name, pool_size=pool_size, region=region, created_by_id=user.id)
    db.session.add(rnd)
    db.session.commit()
    return rnd


def list_rounds() -> list[Round]:
    """All rounds, newest first."""
    return list(db.session.scalars(select(Round).order_by(Round.id.desc())))


def get_round(round_id) -> Round:
    """The round with this id (an int or a string of digits), or NotFound."""
    number = positive_id(round_id)
    rnd = db.session.get(Round, number) if number is not None else None
    if rnd is None:
        raise NotFound(_l("Unknown round."), code="unknown_round")
    return rnd


def round_to_dict(rnd: Round) -> dict:
    return {"id": rnd.id, "name": rnd.name, "pool_size": rnd.pool_size, "status": rnd.status,
            "region_code": rnd.region.code if rnd.region else None,
            "starts_at": rnd.starts_at.isoformat(), "ends_at": rnd.ends_at.isoformat() if rnd.ends_at else None}
