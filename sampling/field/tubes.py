"""Pooled tubes (混采管): opened once by their barcode, filled, sealed, looked at.

A tube barcode is used once, ever: the ``code`` column is unique, so a second open of a code
is refused by the database whatever the phones do at the same moment.
"""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from sampling.errors import Conflict, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.field import replay
from sampling.kernel import ids
from sampling.kernel.access import region_scope, require_role, require_site
from sampling.models import Region, Role, Round, RoundStatus, Sample, Site, Tube, TubeStatus, User, user_sites
from sampling.models.base import utcnow
from sampling.models.field import POOL_SIZES
from sampling.residents import codes, identity

TUBE_CODE = re.compile(r"[\x21-\x7e]{4,64}")  # printable ASCII, as Code 128 labels carry
FIELD_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.SAMPLER)


def clean_tube_code(raw) -> str:
    """The tube barcode as scanned (trimmed), or ValidationFailed (also for a resident's code:
    scanned by mistake where the tube's label was expected, it must not become a tube)."""
    code = identity.normalize_text(raw)
    if not TUBE_CODE.fullmatch(code):
        raise ValidationFailed(fields={"tube_code": _l("A tube code is 4 to 64 printable characters.")},
                               code="invalid_tube_code")
    if codes.TOKEN_PATTERN.fullmatch(code.upper()):
        raise ValidationFailed(fields={"tube_code": _l("This is a resident's code, not a tube barcode: "
                                                       "scan the label on the tube.")}, code="invalid_tube_code")
    return code


def find_tube(code) -> Tube:
    """The tube with this barcode, or NotFound."""
    tube = db.session.scalar(select(Tube).where(Tube.code == code)) if isinstance(code, str) else None
    if tube is None:
        raise unknown_tube(code)
    return tube


def unknown_tube(code) -> NotFound:
    return NotFound(_l("Unknown tube %(code)s; open it first.", code=code), code="unknown_tube")


def tube_body(tube: Tube, site_code: str, count: int | None = None, status: str | None = None) -> dict:
    return {"tube_code": tube.code, "round_id": tube.round_id, "site_code": site_code, "capacity": tube.capacity,
            "count": tube.sample_count if count is None else count, "status": status or tube.status}


def _round_and_site(user: User, data: dict) -> tuple[Round, Site]:
    fields = {}
    round_id, site_code = data.get("round_id"), data.get("site_code")
    # FOR SHARE: a round being closed at this moment (close_round holds its row) is waited for and
    # then read closed, so no tube is opened in a round that has just sealed its tubes
    rnd = db.session.scalar(select(Round).where(Round.id == rid).with_for_update(read=True)
                            .execution_options(populate_existing=True)) if (rid := ids.db_id(round_id)) else None
    if rnd is None:
        fields["round_id"] = _l("Unknown round.")
    elif rnd.status != RoundStatus.OPEN.value:
        fields["round_id"] = _l("This round is closed.")
    site = db.session.scalar(select(Site).where(Site.code == site_code.strip())) if isinstance(site_code, str) else None
    if site is None:
        fields["site_code"] = _l("Unknown site.")
    if fields:
        raise ValidationFailed(fields=fields)
    require_site(user, site)
    if rnd.region is not None and not rnd.region.contains(site.community):
        raise ValidationFailed(fields={"site_code": _l("This site is outside the round's region.")},
                               code="site_outside_round")
    return rnd, site


def _capacity(raw, rnd: Round) -> int:
    if raw is None:
        return rnd.pool_size
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in POOL_SIZES:
        raise ValidationFailed(fields={"capacity": _l("Pool size must be 1, 5, 10 or 20.")})
    return raw


def _replayed_open(user: User, client_id: str | None) -> dict | None:
    """The first answer to the user's open with this client_id (a tube's opening answer is always
    count 0, open); Conflict ``client_id_reused`` when another user opened a tube with it."""
    if client_id is None:
        return None
    tube = db.session.scalar(select(Tube).where(Tube.client_id == client_id))
    if tube is None:
        return None
    replay.check_owner(user, tube.opened_by_id)
    return tube_body(tube, tube.site.code, count=0, status=TubeStatus.OPEN.value)


def apply_open(user: User, data: dict) -> replay.Outcome:
    """Open a tube in the current transaction: the tube's description, marked as a repeat for a
    repeat of an open with the same client_id. Conflict ``tube_code_used`` for a code seen before."""
    require_role(user, FIELD_ROLES)
    client_id = replay.clean_client_id(data.get("client_id"), required=False)
    earlier = _replayed_open(user, client_id)
    if earlier is not None:
        return replay.Outcome(earlier, repeat=True)
    code = clean_tube_code(data.get("tube_code"))
    rnd, site = _round_and_site(user, data)
    capacity = _capacity(data.get("capacity"), rnd)
    if db.session.scalar(select(Tube.id).where(Tube.code == code)) is not None:
        raise _code_used(code)
    tube = Tube(code=code, round_id=rnd.id, site_id=site.id, capacity=capacity, sample_count=0,
                status=TubeStatus.OPEN.value, opened_by_id=user.id, opened_at=utcnow(), client_id=client_id)
    try:
        with db.session.begin_nested():
            db.session.add(tube)
    except IntegrityError:  # opened at the same moment by another phone, or the same request twice
        earlier = _replayed_open(user, client_id)
        if earlier is not None:
            return replay.Outcome(earlier, repeat=True)
        raise _code_used(code) from None
    return replay.Outcome(tube_body(tube, site.code))


def _code_used(code: str) -> Conflict:
    return Conflict(_l("Tube %(code)s has been used before; take a new tube.", code=code), code="tube_code_used")


def open_tube(user: User, data: dict) -> replay.Outcome:
    """Open a tube and commit (see :func:`apply_open`)."""
    return committed(apply_open, user, data)


def apply_seal(user: User, tube_code, client_id: str | None = None) -> replay.Outcome:
    """Seal an open tube (封管) early: its status and count; sealing a sealed tube again answers the same."""
    require_role(user, FIELD_ROLES)
    earlier = replay.recorded(user, client_id)
    if earlier is not None:
        return replay.Outcome(earlier.body, repeat=True)
    tube = find_tube(tube_code)
    require_site(user, tube.site)
    count = db.session.scalar(
        update(Tube).where(Tube.id == tube.id, Tube.status == TubeStatus.OPEN.value)
        .values(status=TubeStatus.SEALED.value, sealed_at=utcnow(), sealed_by_id=user.id)
        .returning(Tube.sample_count).execution_options(synchronize_session=False))
    if count is None:
        status, count = db.session.execute(select(Tube.status, Tube.sample_count).where(Tube.id == tube.id)).one()
        if status != TubeStatus.SEALED.value:
            raise Conflict(_l("This tube has already left the site."), code="tube_shipped")
    body = {"status": TubeStatus.SEALED.value, "count": count}
    replay.record(client_id, "seal", user.id, body)
    return replay.Outcome(body)


def seal_tube(user: User, tube_code, client_id: str | None = None) -> replay.Outcome:
    """Seal a tube and commit (see :func:`apply_seal`)."""
    return committed(apply_seal, user, tube_code, replay.clean_client_id(client_id, required=False))


def committed(operation, *args):
    """Run ``operation`` and commit; roll back on any refusal. A clash on a client_id recorded
    by a concurrent repeat of the same operation is answered with that operation's answer."""
    try:
        result = operation(*args)
        db.session.commit()
        return result
    except IntegrityError:
        db.session.rollback()
        result = operation(*args)  # the concurrent twin has committed: this now replays it
        db.session.commit()
        return result
    except BaseException:
        db.session.rollback()
        raise


def describe_tube(user: User, tube_code) -> dict:
    """The tube and its residents (masked), for staff who may work at its site."""
    require_role(user, FIELD_ROLES)
    tube = find_tube(tube_code)
    require_site(user, tube.site)
    from sampling.residents.registration import masked
    samples = db.session.scalars(select(Sample).where(Sample.tube_id == tube.id).order_by(Sample.id))
    body = tube_body(tube, tube.site.code)
    body.update(opened_at=tube.opened_at.isoformat(),
                sealed_at=tube.sealed_at.isoformat() if tube.sealed_at else None,
                samples=[{"sample_id": s.id, "client_id": s.client_id, "sampled_at": s.sampled_at.isoformat(),
                          "supplementary": s.supplementary, "resample": s.resample, "resident": masked(s.resident)}
                         for s in samples])
    return body


def sites_for(user: User) -> list[dict]:
    """The sites the user may work at: a sampler's assigned sites, a coordinator's region, all for admins."""
    require_role(user, FIELD_ROLES)
    query = select(Site, Region).join(Region, Site.community_id == Region.id).order_by(Site.code)
    if user.role == Role.SAMPLER.value:
        query = query.join(user_sites, user_sites.c.site_id == Site.id).where(user_sites.c.user_id == user.id)
    else:
        query = query.where(region_scope(user, Region.path))
    return [{"code": site.code, "name": site.name, "community_code": community.code,
             "community_name": community.name} for site, community in db.session.execute(query)]
