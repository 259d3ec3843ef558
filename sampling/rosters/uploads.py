"""Rosters (名单): who should be tested. Uploaded as XLSX or CSV, checked row by row as the file
streams in, bulk-loaded (COPY on PostgreSQL, batched inserts on SQLite), kept inside the
uploader's region and deleted after ``ROSTER_RETENTION_DAYS``. Uploaded for review, a roster
is pending: its check report is the preview, and it is usable only once accepted."""
from itertools import islice
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text, update

from sampling.errors import BadRequest, Conflict, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.input_guard import has_unstorable
from sampling.kernel.access import region_scope, require_region, require_role
from sampling.kernel.ids import db_id
from sampling.kernel.regions import get_region
from sampling.kernel.tabular import read_rows
from sampling.models import Region, Role, Roster, RosterEntry, RosterStatus, User
from sampling.rosters import entries
from sampling.rosters.retention import delete_rosters, expires_at, is_expired, purge_expired_rosters

MAX_REPORTED_ERRORS = 100
_BATCH = 5000
_COLUMNS = ("roster_id", "row_number", "name", "id_type", "id_number", "phone", "community",
            "building", "unit", "room", "address", "error", "error_column")
_STAFF = (Role.ADMIN, Role.COORDINATOR)
def inspect_file(user: User, stream: BinaryIO, filename: str) -> dict:
    """The header row, the columns guessed for each field and a few rows, for the mapping step."""
    require_role(user, _STAFF)
    rows = read_rows(stream, filename or "")
    header = next(rows, None)
    if header is None:
        raise BadRequest(_l("The file is empty."), code="empty_file")
    sample = [row for row in islice(rows, 5)]
    return {"headers": header, "mapping": entries.guess_mapping(header), "rows": sample}


def upload_roster(user: User, stream: BinaryIO, filename: str, name: str | None,
                  region_code: str | None, mapping=None, review: bool = False) -> tuple[Roster, list[dict]]:
    """Check and load a roster. Bad rows are kept, flagged, and never stop the good ones.
    With ``review`` the roster is pending until accepted (:func:`accept_roster`).
    Returns the roster and its first bad rows (``MAX_REPORTED_ERRORS``)."""
    require_role(user, _STAFF)
    region = _upload_region(user, region_code)
    filename = (filename or "").strip()[:200]
    name = (name if isinstance(name, str) else "").strip() or filename[:100]
    if not filename:
        raise ValidationFailed(fields={"file": _l("Choose a file.")})
    if has_unstorable(filename):
        raise ValidationFailed(fields={"file": _l("The file name contains characters that cannot be stored. "
                                                  "Rename the file and upload it again.")})
    if len(name) > 100 or has_unstorable(name):
        raise ValidationFailed(fields={"name": _l("A name of 1 to 100 characters is required.")})
    purge_expired_rosters()
    rows = read_rows(stream, filename)
    header = next(rows, None)
    if header is None:
        raise BadRequest(_l("The file is empty."), code="empty_file")
    columns = entries.resolve_columns(header, mapping)
    status = RosterStatus.PENDING if review else RosterStatus.ACCEPTED
    roster = Roster(name=name, filename=filename, region=region, uploaded_by_id=user.id, status=status.value)
    db.session.add(roster)
    db.session.flush()
    large_work_mem()
    counter = entries.Counter()
    try:
        _bulk_load(entries.parse(rows, columns, roster.id, counter))
        duplicates = _flag_duplicates(roster.id)
    except Exception:
        db.session.rollback()
        raise
    if counter.total == 0:
        db.session.rollback()
        raise BadRequest(_l("The file has no rows under its header."), code="empty_file")
    roster.rows_total = counter.total
    roster.rows_valid = counter.valid - duplicates
    db.session.commit()
    return roster, roster_errors(roster, MAX_REPORTED_ERRORS)


def _upload_region(user: User, region_code) -> Region:
    if isinstance(region_code, str) and has_unstorable(region_code):
        raise ValidationFailed(fields={"region_code": _l("Choose the region the roster belongs to.")})
    if region_code:
        region = get_region(region_code)
    elif user.region is not None:
        region = user.region
    else:
        raise ValidationFailed(fields={"region_code": _l("Choose the region the roster belongs to.")})
    require_region(user, region)
    return region


def _bulk_load(rows) -> None:
    """Stream rows into roster_entries: COPY on PostgreSQL, batches of inserts on SQLite."""
    connection = db.session.connection()
    names = ", ".join(_COLUMNS)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY roster_entries ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.exec_driver_sql("ANALYZE roster_entries")  # fresh statistics for the collision's plan
        return
    sql = f"INSERT INTO roster_entries ({names}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    while batch := list(islice(rows, _BATCH)):
        connection.exec_driver_sql(sql, batch)


def _flag_duplicates(roster_id: int) -> int:
    """Mark every repeat of a document number within the roster (the first row stays valid)."""
    result = db.session.execute(text(
        "UPDATE roster_entries SET error = 'duplicate', error_column = 'id_number' WHERE id IN ("
        " SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY id_number ORDER BY id) AS n"
        "  FROM roster_entries WHERE roster_id = :rid AND error IS NULL) AS ranked WHERE n > 1)"),
        {"rid": roster_id})
    return result.rowcount or 0


def roster_errors(roster: Roster, limit: int | None = None) -> list[dict]:
    """Bad rows in file order: ``{row, column, code, message}``."""
    stmt = (select(RosterEntry.row_number, RosterEntry.error_column, RosterEntry.error)
            .where(RosterEntry.roster_id == roster.id, RosterEntry.error.is_not(None))
            .order_by(RosterEntry.row_number))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [{"row": row, "column": column or "", "column_label": entries.column_label(column), "code": code,
             "message": entries.error_message(code)} for row, column, code in db.session.execute(stmt)]


def upload_regions(user: User) -> list[Region]:
    """The regions a user may upload a roster for (their own and every region under it), in tree order."""
    require_role(user, _STAFF)
    return list(db.session.scalars(select(Region).where(region_scope(user, Region.path)).order_by(Region.path)))


def list_rosters(user: User) -> list[Roster]:
    """The rosters of the user's region (after deleting expired ones), newest first."""
    require_role(user, _STAFF)
    purge_expired_rosters()
    return list(db.session.scalars(select(Roster).join(Roster.region)
                                   .where(region_scope(user, Region.path)).order_by(Roster.id.desc())))


def get_roster(user: User, roster_id) -> Roster:
    """A roster the user may see: NotFound when there is none, Forbidden outside their region."""
    require_role(user, _STAFF)
    roster = db.session.get(Roster, roster_id) if db_id(roster_id) else None
    if roster is None or is_expired(roster):
        raise NotFound(_l("Unknown roster."), code="unknown_roster")
    require_region(user, roster.region)
    return roster


def accept_roster(user: User, roster_id) -> Roster:
    """Accept a roster uploaded for review (its check report seen): from now on it can be compared.
    Accepting an accepted roster changes nothing."""
    roster = get_roster(user, roster_id)
    if roster.pending:  # one atomic UPDATE: a discard in another tab at the same moment wins cleanly
        db.session.execute(update(Roster).where(Roster.id == roster.id, Roster.status == RosterStatus.PENDING.value)
                           .values(status=RosterStatus.ACCEPTED.value),
                           execution_options={"synchronize_session": False})
        db.session.commit()
        roster = db.session.get(Roster, roster.id, populate_existing=True)
        if roster is None:
            raise NotFound(_l("Unknown roster."), code="unknown_roster")
    return roster


def accepted_roster(user: User, roster_id) -> Roster:
    """A roster that may be compared: Conflict (roster_pending) while it waits for review."""
    roster = get_roster(user, roster_id)
    if roster.pending:
        raise Conflict(_l("This roster is waiting for review: accept it before comparing it with a round."),
                       code="roster_pending")
    return roster


def delete_roster(user: User, roster_id) -> bool:
    """Delete (or, while it waits for review, discard) a roster with its rows and collisions.
    Returns whether it was a pending roster (discarded)."""
    roster = get_roster(user, roster_id)
    pending = roster.pending
    delete_rosters(Roster.id == roster.id)
    db.session.commit()
    return pending


def large_work_mem() -> None:
    """On PostgreSQL, let this transaction's hash joins and sorts over a million rows stay in
    memory (64 MB instead of the default 4 MB, for this transaction only)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def roster_to_dict(roster: Roster) -> dict:
    return {"id": roster.id, "name": roster.name, "filename": roster.filename,
            "region_code": roster.region.code, "region_name": roster.region.name,
            "rows_total": roster.rows_total, "rows_valid": roster.rows_valid,
            "rows_invalid": roster.rows_invalid, "status": roster.status, "created_at": roster.created_at.isoformat(),
            "expires_at": expires_at(roster).isoformat()}
