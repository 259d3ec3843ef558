"""Errors the service layer raises. Each carries a stable code and a localized message;
the web and API edges turn them into a status and a page or a JSON body."""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A request the domain refuses. Subclasses fix the HTTP status it maps to."""

    status = 400
    default_code = "bad_request"
    default_message = _l("The request could not be understood.")

    def __init__(self, message=None, code: str | None = None, fields: dict | None = None):
        self.message = message if message is not None else self.default_message
        self.code = code or self.default_code
        self.fields = fields or {}
        super().__init__(str(self.code))

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = {k: str(v) for k, v in self.fields.items()}
        return {"error": body}


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"
    default_message = _l("Please log in.")


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"
    default_message = _l("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    default_code = "not_found"
    default_message = _l("Not found.")


class Conflict(DomainError):
    status = 409
    default_code = "conflict"
    default_message = _l("This conflicts with existing data.")


class ValidationFailed(DomainError):
    status = 422
    default_code = "validation"
    default_message = _l("Some fields are not valid.")


class Busy(DomainError):
    """A moment of contention the client should simply retry (its queue sends the request again)."""

    status = 503
    default_code = "busy"
    default_message = _l("The server is busy; this will be sent again in a moment.")


class InvalidValue(ValidationFailed):
    """A value the database cannot hold (too long, out of range, a NUL character)."""

    default_code = "invalid_value"
    default_message = _l("A value in the request cannot be stored: it is too long, too large, "
                         "or contains characters that are not allowed.")


_RETRYABLE_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock not available


def from_database_error(exc: BaseException) -> DomainError | None:
    """The DomainError an unexpected database or conversion error stands for, if it is the
    caller's input (InvalidValue) or a moment of contention (Busy); None for a real fault. The
    edges use it as a safety net behind the services' own checks."""
    from sqlalchemy.exc import DataError, OperationalError
    if isinstance(exc, DataError | OverflowError):
        return InvalidValue()
    if isinstance(exc, OperationalError):
        orig = getattr(exc, "orig", None)
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(orig):
            return Busy()
    return None
