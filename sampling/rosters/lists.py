"""The lists of a collision, row by row from a streaming query: untested (by community, building,
unit and room, for door knocking), tested, not on roster, name mismatch and invalid rows.

Personal data is masked where the list's work does not need it: document numbers always; phone
numbers are shown in full only on the untested list (grid workers call ahead); on the name-mismatch
list, the registered name of a resident registered outside the viewer's region (the roster's
number may be anyone's: a coordinator must not learn a stranger's name from it)."""
from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal, select

from sampling.extensions import db
from sampling.kernel.access import region_scope
from sampling.models import Collision, CollisionCategory, CollisionRow, Region, Resident, RosterEntry, User
from sampling.residents.identity import mask_document, mask_name, mask_phone
from sampling.rosters import collisions, register
from sampling.rosters.entries import column_label, error_message

_STREAM = {"stream_results": True, "yield_per": 2000}
_E = RosterEntry
_DOOR_ORDER = (_E.community, func.length(_E.building), _E.building, func.length(_E.unit), _E.unit,
               func.length(_E.room), _E.room, _E.row_number)
_ROSTER_COLUMNS = (_E.row_number, _E.community, _E.building, _E.unit, _E.room, _E.address, _E.name,
                   _E.id_number, _E.phone)
HEADERS = {
    "untested": (_l("Row"), _l("Community"), _l("Building"), _l("Unit"), _l("Room"), _l("Address"), _l("Name"),
                 _l("Document number"), _l("Phone")),
    "tested": (_l("Row"), _l("Community"), _l("Building"), _l("Unit"), _l("Room"), _l("Address"), _l("Name"),
               _l("Document number"), _l("Phone")),
    "not_on_roster": (_l("Name"), _l("Document number"), _l("Phone"), _l("Registered community"), _l("Address")),
    "name_mismatch": (_l("Row"), _l("Name on roster"), _l("Registered name"), _l("Document number"),
                      _l("Community"), _l("Building"), _l("Unit"), _l("Room")),
    "invalid": (_l("Row"), _l("Column"), _l("Problem"), _l("Name"), _l("Document number")),
}
TITLES = {
    "untested": _l("Untested"), "tested": _l("Tested"), "not_on_roster": _l("Sampled, not on roster"),
    "name_mismatch": _l("Same document number, different name"), "invalid": _l("Invalid roster rows"),
}


def _entries_in(collision: Collision, category: CollisionCategory):
    return (select(CollisionRow.entry_id).where(CollisionRow.collision_id == collision.id,
                                                CollisionRow.category == category.value))


def untested_query(collision: Collision, community: str | None = None, building: str | None = None):
    """Untested roster rows in door-knocking order, optionally one community / building."""
    stmt = (select(*_ROSTER_COLUMNS).join(CollisionRow, and_(
        CollisionRow.entry_id == _E.id, CollisionRow.collision_id == collision.id,
        CollisionRow.category == CollisionCategory.UNTESTED.value)).order_by(*_DOOR_ORDER))
    if community is not None:
        stmt = stmt.where(_E.community == community)
    if building is not None:
        stmt = stmt.where(_E.building == building)
    return stmt


def _roster_rows(stmt, phone_in_full: bool) -> Iterator[tuple]:
    for row, community, building, unit, room, address, name, number, phone in db.session.execute(
            stmt, execution_options=_STREAM):
        yield (row, community, building, unit, room, address, name, mask_document(number),
               phone if phone_in_full else mask_phone(phone))


def rows(collision: Collision, category: str, viewer: User | None = None) -> Iterator[tuple]:
    """The rows of one list, as displayed values, streamed. ``viewer`` decides which registered
    names the name-mismatch list shows in full (none without a viewer)."""
    if collision.of_register and category in ("untested", "tested"):
        yield from register.rows(collision, category)
    elif collision.of_register and category in ("name_mismatch", "invalid"):
        return  # a register has neither: every resident's number was checked when they registered
    elif category == "untested":
        yield from _roster_rows(untested_query(collision), phone_in_full=True)
    elif category == "tested":
        stmt = (select(*_ROSTER_COLUMNS).where(
            _E.roster_id == collision.roster_id, _E.error.is_(None),
            _E.id.not_in(_entries_in(collision, CollisionCategory.UNTESTED))).order_by(*_DOOR_ORDER))
        yield from _roster_rows(stmt, phone_in_full=False)
    elif category == "not_on_roster":
        stmt = (select(Resident.name, Resident.id_number, Resident.phone, Region.name, Resident.address)
                .join(CollisionRow, CollisionRow.resident_id == Resident.id)
                .outerjoin(Region, Region.id == Resident.community_id)
                .where(CollisionRow.collision_id == collision.id,
                       CollisionRow.category == CollisionCategory.NOT_ON_ROSTER.value)
                .order_by(Region.name, Resident.address, Resident.id))
        for name, number, phone, community, address in db.session.execute(stmt, execution_options=_STREAM):
            yield name, mask_document(number), mask_phone(phone), community or "", address or ""
    elif category == "name_mismatch":
        yield from _name_mismatch_rows(collision, viewer)
    elif category == "invalid":
        yield from invalid_rows(collision.roster_id)


def _name_mismatch_rows(collision: Collision, viewer: User | None) -> Iterator[tuple]:
    """Roster rows whose number is registered under another name. The registered name is shown
    in full only for residents registered inside the viewer's region, masked (张*三) otherwise:
    the coordinator still sees that the row needs fixing."""
    in_scope = region_scope(viewer, Region.path) if viewer is not None else literal(False)
    stmt = (select(_E.row_number, _E.name, Resident.name, _E.id_number, _E.community, _E.building, _E.unit,
                   _E.room, in_scope.label("in_scope"))
            .join(CollisionRow, CollisionRow.entry_id == _E.id)
            .join(Resident, Resident.id == CollisionRow.resident_id)
            .outerjoin(Region, Region.id == Resident.community_id)
            .where(CollisionRow.collision_id == collision.id,
                   CollisionRow.category == CollisionCategory.NAME_MISMATCH.value)
            .order_by(_E.row_number))
    for row, name, registered, number, community, building, unit, room, visible in db.session.execute(
            stmt, execution_options=_STREAM):
        yield (row, name, registered if visible else mask_name(registered), mask_document(number),
               community, building, unit, room)


def invalid_rows(roster_id: int) -> Iterator[tuple]:
    """A roster's bad rows in file order."""
    stmt = (select(_E.row_number, _E.error_column, _E.error, _E.name, _E.id_number)
            .where(_E.roster_id == roster_id, _E.error.is_not(None)).order_by(_E.row_number))
    for row, column, code, name, number in db.session.execute(stmt, execution_options=_STREAM):
        yield row, column_label(column), error_message(code), name, mask_document(number)


def header(category: str, collision: Collision | None = None) -> list[str]:
    """The columns of a list (a register collision's resident lists have no roster row number)."""
    if collision is not None and collision.of_register and category in ("untested", "tested"):
        return [str(h) for h in register.HEADER]
    return [str(h) for h in HEADERS[category]]


def categories(collision: Collision) -> list[tuple[str, object]]:
    """The lists a collision has, with their titles."""
    if collision.of_register:
        return [("untested", TITLES["untested"]), ("tested", TITLES["tested"]),
                ("not_on_roster", _l("Sampled here, registered elsewhere or nowhere"))]
    return [(category, TITLES[category]) for category in collisions.CATEGORIES]


def summary(collision: Collision, by_building: bool = False) -> list[dict]:
    """Roster (or registered) and untested people per community (and building)."""
    if collision.of_register:
        return register.summary(collision, by_building)
    return collisions.summary(collision, by_building)


def untested_count(collision: Collision, community: str | None = None, building: str | None = None) -> int:
    """How many are untested (in one community / building)."""
    if community is None and building is None:
        return collision.untested
    stmt = (register.untested_query if collision.of_register else untested_query)(collision, community, building)
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def print_groups(collision: Collision, community: str | None, building: str | None, limit: int):
    """Untested rows for the print page, grouped by (community, building, unit); at most ``limit``
    rows. Returns (groups, truncated)."""
    if collision.of_register:
        stmt = register.untested_query(collision, community, building).limit(limit + 1)
        items = (("", *row) for row in register.display_rows(stmt, phone_in_full=True))
    else:
        stmt = untested_query(collision, community, building).limit(limit + 1)
        items = _roster_rows(stmt, phone_in_full=True)
    return register.door_groups(items, limit)
