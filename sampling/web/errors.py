"""Friendly, localized error pages."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from sampling.errors import DomainError

_TITLES = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You are not allowed to see this page.",
    404: "This page does not exist.",
    405: "This method is not allowed here.",
    413: "The upload is too large.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on the server. Please try again.",
}


def render_http_error(exc):
    status = exc.code or 500
    if isinstance(exc, CSRFError):  # a form from an earlier session (logged out and in since, another tab)
        return render_template("error.html", status=status,
                               message=_("The page is out of date; reload it and try again.")), status
    message = _(_TITLES.get(status, "The request failed."))
    return render_template("error.html", status=status, message=message), status


def render_domain_error(exc: DomainError):
    return render_template("error.html", status=exc.status, message=str(exc.message)), exc.status


def csrf_expired():
    """A form sent with a missing or stale CSRF token (the session expired, the page was open for
    days): nothing is done; back to the page, with a note to send it again."""
    flash(_("The page had expired; please try again."), "error")
    return redirect(_form_page(), code=303)


def _form_page() -> str:
    """The page the form was on: this URL when it answers GET, else the referring page of this
    site, else the home page."""
    here = request.full_path if request.query_string else request.path
    if current_app.url_map.bind_to_environ(request.environ).test(request.path, method="GET"):
        return here
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and not referrer.path.startswith("//"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("web.index")


def _messages_for_extraction():  # pragma: no cover
    _("The request could not be understood."), _("Please log in."), _("You are not allowed to see this page.")
    _("This page does not exist."), _("This method is not allowed here."), _("The upload is too large.")
    _("Too many requests. Please wait a moment and try again.")
    _("Something went wrong on the server. Please try again."), _("The request failed.")
