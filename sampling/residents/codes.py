"""Residents' personal codes: the QR payload and its PNG.

The payload carries no personal data. It is ``S1`` (format version 1), the resident's record id
(40 bits, base32) and an 80-bit HMAC-SHA256 tag keyed from ``CODE_SECRET`` (by default the
``SECRET_KEY``): 26 characters from the QR alphanumeric set (A-Z, 2-7), so the symbol is small
(version 2) and reads at once on a cheap camera. A forged, truncated or altered code fails the tag.

A resident re-bound at a site (registration.rebind) gets a new code: ``S2``, the record id and
its code version (16 bits) in base32, and the tag: 30 characters, still a version-2 symbol. Codes
of version 0 keep the ``S1`` form, so every code issued before versions existed stays the same;
a code whose version is not the record's current one is refused where it is scanned.
"""
import base64
import functools
import hashlib
import hmac
import io
import re

import qrcode
from flask import current_app
from flask_babel import lazy_gettext as _l
from qrcode.constants import ERROR_CORRECT_M

from sampling.errors import ValidationFailed

VERSION = "S1"
VERSIONED = "S2"
_ID_BYTES = 5
_VERSION_BYTES = 2
MAX_CODE_VERSION = 2 ** (8 * _VERSION_BYTES) - 1
_TAG_BYTES = 10
# what a well-formed code looks like (also used offline: static/scan/codes.js, static/js/me.js)
TOKEN_PATTERN = re.compile(r"S1[A-Z2-7]{24}|S2[A-Z2-7]{28}")


def _key() -> bytes:
    return _derived_key(current_app.config.get("CODE_SECRET") or current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=16)
def _derived_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"resident-code-v1", hashlib.sha256).digest()


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _tag(body: str) -> str:
    return _b32(hmac.new(_key(), body.encode(), hashlib.sha256).digest()[:_TAG_BYTES])


def token_for(resident_id: int, code_version: int = 0) -> str:
    """The QR payload for a resident's code of this version."""
    if code_version:
        body = VERSIONED + _b32(resident_id.to_bytes(_ID_BYTES, "big") + code_version.to_bytes(_VERSION_BYTES, "big"))
    else:
        body = VERSION + _b32(resident_id.to_bytes(_ID_BYTES, "big"))
    return body + _tag(body)


class InvalidCode(ValidationFailed):
    default_code = "invalid_code"
    default_message = _l("This code is not valid. Ask the resident to show the code again or register.")


class ReplacedCode(InvalidCode):
    default_code = "code_replaced"
    default_message = _l("This code has been replaced by a newer one (the record was re-bound at a sampling "
                         "site). Ask the resident to show their new code.")


def read(token) -> tuple[int, int]:
    """(resident id, code version) of a genuine code; InvalidCode for anything else. Whether the
    version is still the record's is for the caller, who reads the record."""
    token = token.strip().upper() if isinstance(token, str) else ""
    if not TOKEN_PATTERN.fullmatch(token):
        raise InvalidCode()
    body, tag = token[:-16], token[-16:]
    if not hmac.compare_digest(tag, _tag(body)):
        raise InvalidCode()
    data = base64.b32decode(body[2:] + "=" * (-len(body[2:]) % 8))
    if token.startswith(VERSION):
        return int.from_bytes(data, "big"), 0
    return int.from_bytes(data[:_ID_BYTES], "big"), int.from_bytes(data[_ID_BYTES:], "big")


def refusal(scanned: int, current: int) -> InvalidCode:
    """The refusal of a code whose version is not the record's current one."""
    return ReplacedCode() if scanned < current else InvalidCode()


def check_version(scanned: int, current: int) -> None:
    """ReplacedCode when a code's version is not the record's current one."""
    if scanned != current:
        raise refusal(scanned, current)


def render_png(token: str, box_size: int = 10, border: int = 4) -> bytes:
    """A PNG of the code: medium error correction, a 4-module quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(token, optimize=0)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
