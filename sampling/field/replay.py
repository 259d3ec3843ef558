"""Exactly-once for operations that phones send with their own ``client_id`` (a UUID).

A phone that loses its network (or its answer) sends the same operation again with the same
client_id; the first success is recorded with its answer, and every repeat gets that answer
(marked as a repeat) and changes nothing. Only successes consume a client_id: a refused
operation may be sent again with the same client_id once its cause is gone.

A client_id replays only to the user who sent it first: another user sending it gets 409
``client_id_reused``, never the first user's answer (which names a resident, masked) — the
repeats of a phone come from the sampler logged in on it.
"""
import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from sampling.errors import Conflict, ValidationFailed
from sampling.extensions import db
from sampling.models import ClientOperation, User


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an operation sent with a client_id did: its answer (``body``), and whether it was done
    before and is answered from the record (``repeat``) rather than done by this request."""

    body: dict | None
    repeat: bool = False


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


def reused() -> Conflict:
    return Conflict(_l("This client_id belongs to another user's operation; send yours with a new client_id."),
                    code="client_id_reused")


def is_owner(user: User, owner_id: int | None) -> bool:
    """Whether ``user`` is the one who sent the client_id first (``owner_id``)."""
    return owner_id is not None and owner_id == user.id


def check_owner(user: User, owner_id: int | None) -> None:
    """Conflict ``client_id_reused`` unless ``user`` is the one who sent the client_id first."""
    if not is_owner(user, owner_id):
        raise reused()


def recorded(user: User, client_id: str | None) -> ClientOperation | None:
    """The recorded outcome of this user's earlier operation with this client_id, if any;
    Conflict ``client_id_reused`` when another user recorded it."""
    if client_id is None:
        return None
    earlier = db.session.scalar(select(ClientOperation).where(ClientOperation.client_id == client_id))
    if earlier is not None:
        check_owner(user, earlier.user_id)
    return earlier


def record(client_id: str | None, op: str, user_id: int | None, body) -> None:
    """Record a successful outcome of ``user_id``'s operation in the current transaction
    (committed with the operation)."""
    if client_id is not None:
        db.session.add(ClientOperation(client_id=client_id, op=op, user_id=user_id, body=body))
