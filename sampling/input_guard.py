"""Every request's text is checked once, before any view: a NUL character or an unpaired surrogate
(which no database column can hold, and which PostgreSQL refuses) gets a clear 400 instead of
failing deep inside a write. Query strings, JSON bodies and plain forms are checked; multipart
uploads are left to their views, which set their own size limits before the body is parsed."""
from flask import request
from flask_babel import lazy_gettext as _l

from sampling.errors import BadRequest
from sampling.kernel.text import UNSTORABLE


class InvalidCharacters(BadRequest):
    default_code = "invalid_characters"
    default_message = _l("The request contains characters that cannot be stored (a NUL character or a "
                         "broken character). Check what was typed or pasted.")


def has_unstorable(value) -> bool:
    """True when a string anywhere in ``value`` (nested lists and dicts included) holds a NUL or a
    lone surrogate."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unstorable(v) for v in value)
    return False


def check_request() -> None:
    """Raise InvalidCharacters for a request whose text cannot be stored."""
    if any(has_unstorable(k) or has_unstorable(v) for k, v in request.args.items(multi=True)):
        raise InvalidCharacters()
    if request.is_json and has_unstorable(request.get_json(silent=True)):
        raise InvalidCharacters()
    if request.mimetype == "application/x-www-form-urlencoded" and any(
            has_unstorable(k) or has_unstorable(v) for k, v in request.form.items(multi=True)):
        raise InvalidCharacters()
    if has_unstorable(request.path):
        raise InvalidCharacters()


def register(app) -> None:
    app.before_request(check_request)
