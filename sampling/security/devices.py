"""Devices an account has logged in on: a signed cookie listing (user id, when) pairs, set at every
successful log-in (web form and API). The lockout (kernel.lockout) never locks an account out on
such a device, so strangers' wrong passwords cannot keep staff out of their own phones and PCs.
Ending all of an account's sessions (a lost phone, a reset, a deactivation) ends this trust too."""
import time
from datetime import UTC, datetime

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "device"
_MAX_ACCOUNTS = 20  # a shared site tablet keeps the latest 20 accounts


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="trusted-device")


def _entries() -> list[list[int]]:
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return []
    try:
        entries = _serializer().loads(raw, max_age=current_app.config["TRUSTED_DEVICE_DAYS"] * 86400)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 2 and all(type(v) is int for v in e)]


def trusted() -> dict[int, datetime]:
    """User id → when this device last logged in as that user (a verified cookie; empty otherwise)."""
    return {user_id: datetime.fromtimestamp(at, UTC) for user_id, at in _entries()}


def remember(response, user) -> None:
    """Add (or refresh) the user on this device's cookie."""
    entries = [e for e in _entries() if e[0] != user.id][-(_MAX_ACCOUNTS - 1):] + [[user.id, int(time.time())]]
    response.set_cookie(COOKIE, _serializer().dumps(entries), max_age=current_app.config["TRUSTED_DEVICE_DAYS"] * 86400,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
