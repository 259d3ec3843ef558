"""Every API error is JSON: {"error": {"code", "message"}}, never an HTML page."""
import traceback

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from sampling.errors import DomainError, from_database_error

_HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Please log in."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "This conflicts with existing data."),
    413: ("too_large", "The upload is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    422: ("validation", "Some fields are not valid."),
    429: ("rate_limited", "Too many requests. Please wait a moment and try again."),
    500: ("internal", "Something went wrong on the server. Please try again."),
    503: ("busy", "The server is busy; this will be sent again in a moment."),
}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify({"error": body}), status


def http_error(exc: HTTPException):
    code, message = _HTTP_CODES.get(exc.code or 500, ("error", "The request failed."))
    return error_response(exc.code or 500, code, _(message))


def domain_error(exc: DomainError):
    return jsonify(exc.to_dict()), exc.status


def wants_api_error() -> bool:
    return request.path.startswith("/api/")


def register(app) -> None:
    """Route errors under /api/ to JSON; leave the web pages' handlers alone."""

    @app.errorhandler(DomainError)
    def _domain(exc):
        if wants_api_error():
            return domain_error(exc)
        from sampling.web.errors import render_domain_error
        return render_domain_error(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if wants_api_error():  # the API checks its session callers' CSRF itself; this is a safety net
            return error_response(400, "csrf", _("The page is out of date; reload it and try again."))
        from sampling.web.errors import csrf_expired
        return csrf_expired()

    @app.errorhandler(HTTPException)
    def _http(exc):
        if wants_api_error():
            return http_error(exc)
        from sampling.web.errors import render_http_error
        return render_http_error(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        from sampling.extensions import db
        db.session.rollback()
        known = from_database_error(exc)
        if known is not None:  # the caller's value, or contention: a 4xx / 503, not a fault
            current_app.logger.warning("%s on %s %s: %s", known.code, request.method, request.path,
                                       type(exc).__name__)
            return _domain(known)
        if isinstance(exc, DBAPIError):
            # the driver's text can quote a row's values (an ID number in a unique key's DETAIL):
            # logged by kind, state, constraint and code path only (Personal Information Protection)
            orig = exc.orig
            current_app.logger.error(
                "unhandled database error on %s %s: %s sqlstate=%s constraint=%s\n%s", request.method, request.path,
                type(orig).__name__, getattr(orig, "sqlstate", None),
                getattr(getattr(orig, "diag", None), "constraint_name", None),
                "".join(traceback.format_tb(exc.__traceback__)))
        else:
            current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_api_error():
            return error_response(500, "internal", _(_HTTP_CODES[500][1]))
        from werkzeug.exceptions import InternalServerError

        from sampling.web.errors import render_http_error
        return render_http_error(InternalServerError())


# Keep the English source strings visible to the translation extractor.
def _messages_for_extraction():  # pragma: no cover
    _("The request could not be understood."), _("Please log in."), _("You are not allowed to do this.")
    _("Not found."), _("This method is not allowed here."), _("This conflicts with existing data.")
    _("The upload is too large."), _("Send JSON with Content-Type: application/json.")
    _("Some fields are not valid."), _("Too many requests. Please wait a moment and try again.")
    _("Something went wrong on the server. Please try again."), _("The request failed.")
