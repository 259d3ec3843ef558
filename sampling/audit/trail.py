"""Recording acts on personal data: :func:`record` is what the use cases call.

Who acted: the ``user`` a use case passes (a staff account); else, for work the application does on
its own (retention on its timer), the ``system`` name it passes; else, inside a request, a member of
the public; else the operator of a command (``flask ...``), by their account on the machine. The
edges bind every request's client address (:func:`bind_client`); a command records its host.

An event is added to the caller's session, so that a change and its record commit (or roll back)
together; ``commit=True`` commits at once, for acts that write nothing else (views, downloads).
"""
import getpass
import socket
from collections.abc import Iterable, Iterator
from functools import cache

from flask import g, has_request_context

from sampling.extensions import db
from sampling.models import AuditEvent, Region, User
from sampling.models.base import utcnow

PUBLIC, SYSTEM = "public", "system"
_DETAIL_TEXT = 64  # a detail value is a short plain value; longer text is cut


def bind_client(address: str | None) -> None:
    """The edges: the client address of the current request (as the trusted proxies give it)."""
    g.audit_client = (address or "")[:45] or None


@cache
def _operator() -> tuple[str, str]:
    """Who runs a command outside any request, and on which machine."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        name = "uid-unknown"
    return name[:64], socket.gethostname()[:45]


def _detail(detail: dict | None) -> dict | None:
    if not detail:
        return None
    plain = {}
    for key, value in detail.items():
        if value is None or isinstance(value, bool | int | float):
            plain[str(key)] = value
        else:
            plain[str(key)] = str(value)[:_DETAIL_TEXT]
    return plain


def _fields(user: User | None, system: str | None, region: Region | None, object_type: str | None,
            object_id, people: int | None, detail: dict | None) -> dict:
    """The event's columns, read now (a download records at its end, when the request's objects may
    be gone from the session)."""
    client = g.get("audit_client") if has_request_context() else _operator()[1]
    if user is not None:
        username, role = user.username, user.role
        region = region if region is not None else user.region
    elif system is not None:
        username, role = system, SYSTEM
    elif has_request_context():
        username, role = None, PUBLIC
    else:
        username, role = _operator()[0], SYSTEM
    return {"user_id": user.id if user is not None else None, "username": username, "role": role,
            "client": client, "object_type": object_type,
            "object_id": None if object_id is None else str(object_id)[:64],
            "region_code": region.code if region is not None else None,
            "region_path": region.path if region is not None else None,
            "people": people, "detail": _detail(detail)}


def _write(action: str, fields: dict, commit: bool) -> AuditEvent:
    event = AuditEvent(at=utcnow(), action=action, **fields)
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


def record(action: str, *, user: User | None = None, system: str | None = None, object_type: str | None = None,
           object_id=None, region: Region | None = None, people: int | None = None, detail: dict | None = None,
           commit: bool = False) -> AuditEvent:
    """Record one act: ``action`` (a stable name from sampling.audit.actions) done by ``user`` (else by
    the ``system`` work named, the public, or a command's operator) on ``object_type``/``object_id``, in
    ``region`` (by default a coordinator's own), concerning ``people`` people; ``detail`` holds a few
    plain values, never personal data. Added to the session; committed at once with ``commit``."""
    return _write(action, _fields(user, system, region, object_type, object_id, people, detail), commit)


def recorded_rows(rows: Iterable, action: str, *, people: int | None = None, user: User | None = None,
                  system: str | None = None, object_type: str | None = None, object_id=None,
                  region: Region | None = None, detail: dict | None = None) -> Iterable:
    """The rows of a download, with the download on record. When the number of people is known
    (``people``), the event is committed now, before the first row is sent (a download cut short is
    on record too), and the rows are returned untouched; otherwise they are counted on their way out
    and the event is committed when the last one is read or the download stops (its detail's
    ``complete`` says which)."""
    fields = _fields(user, system, region, object_type, object_id, people, detail)
    if people is not None:
        _write(action, fields, commit=True)
        return rows
    return _counted(rows, action, fields)


def _counted(rows: Iterable, action: str, fields: dict) -> Iterator:
    count, complete = 0, False
    try:
        for row in rows:
            count += 1
            yield row
        complete = True
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
        if not complete:
            db.session.rollback()  # a failed statement, or a stream given up: record on a clean transaction
        _write(action, {**fields, "people": count, "detail": {**(fields["detail"] or {}), "complete": complete}},
               commit=True)
