"""Screening rounds."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from sampling.errors import Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.kernel.access import require_region, require_role, round_scope
from sampling.kernel.ids import db_id
from sampling.kernel.regions import get_region
from sampling.models import Region, Role, Round, RoundStatus, Tube, TubeStatus, User
from sampling.models.base import utcnow
from sampling.models.field import POOL_SIZES


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


def list_rounds(user: User | None = None) -> list[Round]:
    """Rounds newest first: those that concern ``user`` (see :func:`access.round_scope`), or all."""
    query = select(Round).order_by(Round.id.desc())
    if user is not None:
        query = query.outerjoin(Region, Round.region_id == Region.id).where(
            round_scope(user, Round.region_id, Region.path))
    return list(db.session.scalars(query))


def get_round(round_id) -> Round:
    """The round with this id (an int or a string of digits), or NotFound."""
    number = db_id(round_id, text=True)
    rnd = db.session.get(Round, number) if number is not None else None
    if rnd is None:
        raise NotFound(_l("Unknown round."), code="unknown_round")
    return rnd


def change_status(user: User, round_id, status) -> tuple[Round, int]:
    """Close a round (an admin, or a coordinator whose region holds the round's region) or reopen
    it (admins only). Returns the round and the number of open tubes the closing sealed."""
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    rnd = get_round(round_id)
    if status not in (RoundStatus.OPEN.value, RoundStatus.CLOSED.value):
        raise ValidationFailed(fields={"status": _l("Status must be open or closed.")})
    if user.role != Role.ADMIN.value:
        if status == RoundStatus.OPEN.value:
            raise Forbidden(_l("Only an administrator can reopen a round."), code="forbidden_role")
        if rnd.region is None:
            raise Forbidden(_l("Only an administrator can close a citywide round."), code="forbidden_region")
        require_region(user, rnd.region)
    if status == RoundStatus.CLOSED.value:
        return rnd, close_round(rnd, user)
    reopen_round(rnd)
    return rnd, 0


def _lock(rnd: Round) -> None:
    """Serialize status changes of one round. FOR NO KEY UPDATE (PostgreSQL) leaves the round's key
    free, so scans inserting samples of it (which take a key-share lock) go on meanwhile."""
    from sampling.field.sync import begin_writing
    begin_writing()  # SQLite: take the write lock before reading
    db.session.execute(select(Round.id).where(Round.id == rnd.id).with_for_update(key_share=True))
    db.session.refresh(rnd)


def close_round(rnd: Round, closed_by: User | None = None) -> int:
    """End the round now (status closed, ends_at set) and seal its open tubes, as at the end of the
    line, so no scan goes into it any more; no tube can be opened in it either. Closing a closed
    round changes nothing. Commits; returns the number of tubes sealed."""
    _lock(rnd)
    if rnd.status == RoundStatus.CLOSED.value:
        db.session.commit()
        return 0
    now = utcnow()
    open_tubes = (Tube.round_id == rnd.id, Tube.status == TubeStatus.OPEN.value)
    # the tubes first, in id order, as a sync run locks them: a scan filling one finishes first
    db.session.execute(select(Tube.id).where(*open_tubes).order_by(Tube.id).with_for_update())
    sealed = db.session.execute(
        update(Tube).where(*open_tubes).values(status=TubeStatus.SEALED.value, sealed_at=now,
                                               sealed_by_id=closed_by.id if closed_by else None)
        .execution_options(synchronize_session=False)).rowcount
    rnd.status, rnd.ends_at = RoundStatus.CLOSED.value, now
    db.session.commit()
    return sealed


def reopen_round(rnd: Round) -> None:
    """Open a closed round again (tubes sealed by its closing stay sealed). Commits."""
    _lock(rnd)
    rnd.status, rnd.ends_at = RoundStatus.OPEN.value, None
    db.session.commit()


def round_to_dict(rnd: Round) -> dict:
    return {"id": rnd.id, "name": rnd.name, "pool_size": rnd.pool_size, "status": rnd.status,
            "region_code": rnd.region.code if rnd.region else None,
            "starts_at": rnd.starts_at.isoformat(), "ends_at": rnd.ends_at.isoformat() if rnd.ends_at else None}
