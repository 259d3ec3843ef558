"""Exactly-once for operations that phones send with their own ``client_id`` (a UUID).

A phone that loses its network (or its answer) sends the same operation again with the same
client_id; the first success is recorded with its answer, and every repeat gets that answer
(status 200 instead of 201) and changes nothing. Only successes consume a client_id: a refused
operation (4xx) may be sent again with the same client_id once its cause is gone.
"""
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from sampling.errors import ValidationFailed
from sampling.extensions import db
from sampling.models import ClientOperation, User


def clean_client_id(raw, required: bool = True) -> str | None:
    """The canonical (lower-case, hyphenated) UUID, or ValidationFailed."""
    if raw is None or raw == "":
        if required:
            raise ValidationFailed(fields={"client_id": _l("A client_id (UUID made by the phone) is required.")},
                                   code="invalid_client_id")
        return None
    try:
        return str(uuid.UUID(raw)) if isinstance(raw, str) and len(raw) <= 40 else _bad()
    except ValueError:
        return _bad()


def _bad():
    raise ValidationFailed(fields={"client_id": _l("client_id must be a UUID.")}, code="invalid_client_id")


def recorded(client_id: str | None) -> ClientOperation | None:
    """The recorded outcome of an earlier operation with this client_id, if any."""
    if client_id is None:
        return None
    return db.session.scalar(select(ClientOperation).where(ClientOperation.client_id == client_id))


def record(client_id: str | None, op: str, user: User | None, status: int, body) -> None:
    """Record a successful outcome in the current transaction (committed with the operation)."""
    if client_id is not None:
        db.session.add(ClientOperation(client_id=client_id, op=op, user_id=user.id if user else None,
                                       status=status, body=body))
