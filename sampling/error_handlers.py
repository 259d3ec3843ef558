"""The app-wide error handlers: JSON under /api/ (sampling.api.errors), a friendly page elsewhere
(sampling.web.errors). A DomainError is the service layer's refusal; a database error that is the
caller's value or a moment of contention becomes one too; anything else is logged (without the row
values a database error's text quotes) and answered 500."""
import traceback

from flask import current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from sampling.api import errors as api
from sampling.errors import DomainError, from_database_error
from sampling.web import errors as pages


def register(app) -> None:
    """Route errors under /api/ to JSON; leave the web pages' handlers alone."""

    @app.errorhandler(DomainError)
    def _domain(exc):
        if api.wants_api_error():
            return api.domain_error(exc)
        return pages.render_domain_error(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if api.wants_api_error():  # the API checks its session callers' CSRF itself; this is a safety net
            return api.error_response(400, "csrf", _("The page is out of date; reload it and try again."))
        return pages.csrf_expired()

    @app.errorhandler(HTTPException)
    def _http(exc):
        if api.wants_api_error():
            return api.http_error(exc)
        return pages.render_http_error(exc)

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
        if api.wants_api_error():
            return api.error_response(500, "internal", _(api.HTTP_CODES[500][1]))
        return pages.render_http_error(InternalServerError())
