"""Chain of custody: sealed tubes go into a transport box (转运箱) at the site, the box is
handed over (送检) and the lab receives it (接收). Every step is one atomic conditional UPDATE,
so two phones, or two lab benches, cannot both win the same tube or box."""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from sampling.errors import Conflict, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.kernel.access import require_role, require_site
from sampling.models import Box, BoxStatus, Role, Tube, TubeAction, TubeEvent, TubeStatus, User
from sampling.models.base import UTCDateTime, utcnow
from sampling.residents import identity

CODE = re.compile(r"[\x21-\x7e]{4,64}")  # printable ASCII, as Code 128 labels carry
SITE_ROLES = (Role.ADMIN, Role.SAMPLER)
LAB_ROLES = (Role.ADMIN, Role.LAB)
TUBE_STATUS_LABELS = {"open": _l("open, not sealed"), "sealed": _l("sealed"), "boxed": _l("in a box"),
                      "received": _l("received"), "resulted": _l("resulted")}


def clean_code(raw, field: str = "box_code") -> str:
    """A box or tube barcode as scanned (NFKC, trimmed; case kept), or ValidationFailed."""
    code = identity.normalize_text(raw)
    if not CODE.fullmatch(code):
        message = (_l("A box code is 4 to 64 printable characters.") if field == "box_code"
                   else _l("A tube code is 4 to 64 printable characters."))
        raise ValidationFailed(fields={field: message}, code=f"invalid_{field}")
    return code


def get_box(code) -> Box:
    """The box with this barcode, or NotFound."""
    box = db.session.scalar(select(Box).where(Box.code == clean_code(code)))
    if box is None:
        raise NotFound(_l("Unknown box %(code)s.", code=code), code="unknown_box")
    return box


def create_box(user: User, code) -> Box:
    """Register a new transport box by its barcode (site staff)."""
    require_role(user, SITE_ROLES)
    code = clean_code(code)
    box = Box(code=code, status=BoxStatus.OPEN.value, created_by_id=user.id, created_at=utcnow())
    db.session.add(box)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_l("Box %(code)s is already registered; use a new box.", code=code),
                       code="box_exists") from None
    return box


def _box_state_error(box: Box) -> Conflict:
    if box.status == BoxStatus.HANDED_OVER.value:
        return Conflict(_l("Box %(code)s has already been handed over; it cannot be changed.", code=box.code),
                        code="box_handed_over")
    return Conflict(_l("Box %(code)s has already been received by the lab.", code=box.code),
                    code="box_received")


def add_tube(user: User, box_code, tube_code) -> Tube:
    """Scan a sealed tube into an open box. Scanning it again into the same box is harmless;
    a tube already in another box, or not sealed, is refused."""
    require_role(user, SITE_ROLES)
    box = get_box(box_code)
    code = clean_code(tube_code, "tube_code")
    tube = db.session.scalar(select(Tube).where(Tube.code == code))
    if tube is None:
        raise NotFound(_l("Unknown tube %(code)s.", code=code), code="unknown_tube")
    require_site(user, tube.site)
    if tube.box_id == box.id:
        return tube
    now = utcnow()
    # The box first: this conditional UPDATE checks the box is still open and locks its row
    # until commit, so a hand-over cannot slip between the check and the tube's UPDATE.
    counted = db.session.execute(update(Box).where(Box.id == box.id, Box.status == BoxStatus.OPEN.value)
                                 .values(tube_count=Box.tube_count + 1))
    if counted.rowcount != 1:
        db.session.rollback()
        raise _box_state_error(db.session.get(Box, box.id))
    moved = db.session.execute(
        update(Tube).where(Tube.id == tube.id, Tube.status == TubeStatus.SEALED.value, Tube.box_id.is_(None))
        .values(status=TubeStatus.BOXED.value, box_id=box.id, boxed_at=now))
    if moved.rowcount != 1:
        db.session.rollback()
        db.session.refresh(tube)
        raise _tube_state_error(tube, box)
    db.session.execute(insert(TubeEvent).values(tube_id=tube.id, action=TubeAction.BOXED.value, box_id=box.id,
                                                user_id=user.id, at=now))
    db.session.commit()
    db.session.refresh(tube)
    return tube


def _tube_state_error(tube: Tube, box: Box) -> Conflict:
    if tube.box_id == box.id:
        return Conflict(_l("Tube %(code)s is already in this box.", code=tube.code), code="tube_in_box")
    if tube.box_id is not None:
        other = db.session.get(Box, tube.box_id)
        return Conflict(_l("Tube %(code)s is already in box %(box)s; it cannot go into a second box.",
                           code=tube.code, box=other.code), code="tube_in_other_box")
    if tube.status == TubeStatus.OPEN.value:
        return Conflict(_l("Tube %(code)s is not sealed yet; seal it before boxing it.", code=tube.code),
                        code="tube_not_sealed")
    return Conflict(_l("Tube %(code)s cannot be boxed now (it is %(status)s).", code=tube.code,
                       status=TUBE_STATUS_LABELS[tube.status]), code="tube_not_sealed")


def hand_over(user: User, box_code) -> Box:
    """送检: the site hands the box over for transport; no tube can be added afterwards."""
    require_role(user, SITE_ROLES)
    box = get_box(box_code)
    done = db.session.execute(
        update(Box).where(Box.id == box.id, Box.status == BoxStatus.OPEN.value, Box.tube_count > 0)
        .values(status=BoxStatus.HANDED_OVER.value, handed_over_at=utcnow(), handed_over_by_id=user.id))
    if done.rowcount != 1:
        db.session.rollback()
        db.session.refresh(box)
        if box.status == BoxStatus.OPEN.value:
            raise Conflict(_l("Box %(code)s is empty; scan tubes into it first.", code=box.code), code="box_empty")
        raise _box_state_error(box)
    db.session.commit()
    db.session.refresh(box)
    return box


def receive(user: User, box_code) -> tuple[Box, int]:
    """接收: the lab scans a handed-over box; every tube in it is received. Returns the box and
    the number of tubes received."""
    require_role(user, LAB_ROLES)
    box = get_box(box_code)
    now = utcnow()
    done = db.session.execute(
        update(Box).where(Box.id == box.id, Box.status == BoxStatus.HANDED_OVER.value)
        .values(status=BoxStatus.RECEIVED.value, received_at=now, received_by_id=user.id))
    if done.rowcount != 1:
        db.session.rollback()
        db.session.refresh(box)
        if box.status == BoxStatus.RECEIVED.value:
            raise Conflict(_l("Box %(code)s has already been received.", code=box.code), code="box_already_received")
        raise Conflict(_l("Box %(code)s has not been handed over by the site yet.", code=box.code),
                       code="box_not_handed_over")
    received = db.session.execute(
        update(Tube).where(Tube.box_id == box.id, Tube.status == TubeStatus.BOXED.value)
        .values(status=TubeStatus.RECEIVED.value, received_at=now)).rowcount
    db.session.execute(insert(TubeEvent).from_select(
        ["tube_id", "action", "box_id", "user_id", "at"],
        select(Tube.id, literal(TubeAction.RECEIVED.value), literal(box.id), literal(user.id),
               literal(now, UTCDateTime())).where(Tube.box_id == box.id)))
    db.session.commit()
    db.session.refresh(box)
    return box, received


def box_to_dict(box: Box, with_tubes: bool = True) -> dict:
    """The box, its custody steps (who, when) and, optionally, its tubes."""
    def who(u):
        return (u.display_name or u.username) if u is not None else None

    def iso(t):
        return t.isoformat() if t else None

    body = {"code": box.code, "status": box.status, "tube_count": box.tube_count,
            "created_at": iso(box.created_at), "created_by": who(box.created_by),
            "handed_over_at": iso(box.handed_over_at), "handed_over_by": who(box.handed_over_by),
            "received_at": iso(box.received_at), "received_by": who(box.received_by)}
    if with_tubes:
        rows = db.session.execute(select(Tube.code, Tube.status, Tube.sample_count, Tube.boxed_at)
                                  .where(Tube.box_id == box.id).order_by(Tube.boxed_at, Tube.id))
        body["tubes"] = [{"code": c, "status": s, "sample_count": n, "boxed_at": iso(t)} for c, s, n, t in rows]
    return body
