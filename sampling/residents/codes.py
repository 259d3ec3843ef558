"""Residents' personal codes: the QR payload and its PNG.

The payload carries no personal data. It is ``S1`` (format version 1), the resident's record id
(40 bits, base32) and an 80-bit HMAC-SHA256 tag keyed from ``CODE_SECRET`` (by default the
``SECRET_KEY``): 26 characters from the QR alphanumeric set (A-Z, 2-7), so the symbol is small
(version 2) and reads at once on a cheap camera. A forged, truncated or altered code fails the tag.
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
_ID_BYTES = 5
_TAG_BYTES = 10
TOKEN_PATTERN = re.compile(r"S1[A-Z2-7]{24}")  # what a well-formed code looks like (also used offline)


def _key() -> bytes:
    return _derived_key(current_app.config.get("CODE_SECRET") or current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=16)
def _derived_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"resident-code-v1", hashlib.sha256).digest()


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _tag(body: str) -> str:
    return _b32(hmac.new(_key(), body.encode(), hashlib.sha256).digest()[:_TAG_BYTES])


def token_for(resident_id: int) -> str:
    """The QR payload for a resident."""
    body = VERSION + _b32(resident_id.to_bytes(_ID_BYTES, "big"))
    return body + _tag(body)


class InvalidCode(ValidationFailed):
    default_code = "invalid_code"
    default_message = _l("This code is not valid. Ask the resident to show the code again or register.")


def resident_id_from_token(token) -> int:
    """The resident id a genuine code stands for; InvalidCode for anything else."""
    token = token.strip().upper() if isinstance(token, str) else ""
    if not TOKEN_PATTERN.fullmatch(token):
        raise InvalidCode()
    body, tag = token[:10], token[10:]
    if not hmac.compare_digest(tag, _tag(body)):
        raise InvalidCode()
    return int.from_bytes(base64.b32decode(body[2:]), "big")


def render_png(token: str, box_size: int = 10, border: int = 4) -> bytes:
    """A PNG of the code: medium error correction, a 4-module quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(token, optimize=0)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
