"""Batch sync of work a phone queued while offline (or just batched): open_tube, add_sample, seal, undo.

Each item gets the outcome its single use case would give (the API answers it as the single
endpoint would), in order. Every item carries the phone's client_id, and each operation is applied
exactly once per client_id: a batch sent twice (the answer was lost, the server died mid-request)
changes nothing the second time and gets the same answers, marked as repeats. Nothing is answered
before it is committed.

Runs of consecutive scans (add_sample by code) are applied set-based (see :mod:`sampling.field.sync.runs`);
everything else item by item, each in a savepoint.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from sampling.errors import Busy, DomainError, ValidationFailed, from_database_error
from sampling.extensions import db
from sampling.field import replay, samples, tubes
from sampling.field.sync import runs
from sampling.kernel.access import require_role
from sampling.models import User

MAX_ITEMS = 1000
OPS = ("open_tube", "add_sample", "seal", "undo")


def _open(user, item):
    replay.clean_client_id(item.get("client_id"))  # queued work always carries its client_id
    return tubes.apply_open(user, item)


def _add(user, item):
    return samples.apply_add(user, item.get("tube_code"), item)


def _seal(user, item):
    return tubes.apply_seal(user, item.get("tube_code"), replay.clean_client_id(item.get("client_id")))


def _undo(user, item):
    return samples.apply_undo(user, item.get("sample_id"), item.get("sample_client_id"),
                              replay.clean_client_id(item.get("client_id")))


_APPLY = {"open_tube": _open, "add_sample": _add, "seal": _seal, "undo": _undo}


def check_items(data: dict) -> list:
    """The batch's items, or ValidationFailed for a batch that is not a list of 1..MAX_ITEMS."""
    items = data.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise ValidationFailed(fields={"items": _l("Send a list of 1 to %(n)s items.", n=MAX_ITEMS)})
    return items


Answer = replay.Outcome | DomainError  # what became of one item: done (or done before), or refused


def apply_item(user: User, item) -> Answer:
    """Apply one item in a savepoint: its outcome, or the DomainError that refused it. Does not commit."""
    if not isinstance(item, dict):
        return ValidationFailed(_l("Each item must be an object."), code="invalid_item")
    op = item.get("op")
    apply = _APPLY.get(op) if isinstance(op, str) else None
    if apply is None:
        return ValidationFailed(fields={"op": _l("op must be one of: %(ops)s.", ops=", ".join(OPS))},
                                code="unknown_op")
    for _attempt in range(2):
        try:
            with db.session.begin_nested():
                return apply(user, item)
        except samples.Clash as clash:
            try:
                return clash.explain()
            except DomainError as exc:
                return exc
        except DomainError as exc:
            return exc
        except IntegrityError:
            continue  # a concurrent twin of this operation committed first: now it replays
        except (DataError, OperationalError, OverflowError) as exc:  # this item's value, or a deadlock
            known = from_database_error(exc)
            if known is None:
                raise
            return known
    return Busy()


def _apply_run(user: User, run: list[dict]) -> list[Answer]:
    """A run of plain scans, set-based, in a transaction of its own; one by one when the database
    refuses a row or a value of it, or chose this run as the victim of a deadlock (the whole run is
    rolled back first; one by one, each scan takes its locks alone)."""
    try:
        return runs.apply_run(user, run)
    except (IntegrityError, DataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and from_database_error(exc) is None:
            raise
        db.session.rollback()
        begin_writing()
        return [apply_item(user, item) for item in run]


def _segments(items: list):
    """Consecutive plain scans together (a run), every other item alone."""
    run = []
    for item in items:
        if runs.is_plain_scan(item):
            run.append(item)
            continue
        if run:
            yield run
            run = []
        yield item
    if run:
        yield run


def begin_writing() -> None:
    """Start the next transaction as a writer. On SQLite a transaction that has read and then
    writes fails at once ("database is locked") when another writer committed in between; taking
    the write lock first (BEGIN IMMEDIATE) makes it wait its turn instead. PostgreSQL: nothing to do."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()
        db.session.execute(text("BEGIN IMMEDIATE"))


def sync(user: User, data: dict) -> list[tuple[object, Answer]]:
    """Apply a batch in order: each item with what became of it. Each run of scans, and each other
    item, is committed before the next is applied (short row locks)."""
    require_role(user, tubes.FIELD_ROLES)
    items = check_items(data)
    answers = []
    try:
        for segment in _segments(items):
            begin_writing()
            if isinstance(segment, list):
                answers.extend(_apply_run(user, segment))
            else:
                answers.append(apply_item(user, segment))
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return list(zip(items, answers, strict=True))
