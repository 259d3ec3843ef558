"""Every API error is JSON: {"error": {"code", "message"}}, never an HTML page."""

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from sampling.errors import DomainError

HTTP_CODES = {
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
    code, message = HTTP_CODES.get(exc.code or 500, ("error", "The request failed."))
    return error_response(exc.code or 500, code, _(message))


def domain_error(exc: DomainError):
    return jsonify(exc.to_dict()), exc.status


def wants_api_error() -> bool:
    return request.path.startswith("/api/")


# Keep the English source strings visible to the translation extractor.
def _messages_for_extraction():  # pragma: no cover
    _("The request could not be understood."), _("Please log in."), _("You are not allowed to do this.")
    _("Not found."), _("This method is not allowed here."), _("This conflicts with existing data.")
    _("The upload is too large."), _("Send JSON with Content-Type: application/json.")
    _("Some fields are not valid."), _("Too many requests. Please wait a moment and try again.")
    _("Something went wrong on the server. Please try again."), _("The request failed.")
