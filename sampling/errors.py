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
