"""Web sessions kept on the server. The session cookie (signed by Flask) carries the user id and a
random key; the key's digest is a row of ``user_sessions``. Logging out ends that row; a password
reset, a deactivation or an admin ends every row of the account. A cookie whose row is ended, or
missing, is refused, so a cookie saved before the log-out opens nothing when it is replayed."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from sampling.extensions import db
from sampling.models import User, UserSession
from sampling.models.base import utcnow


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def begin(user: User) -> str:
    """A new session for ``user``; sets ``user.session_key`` (what Flask-Login stores). The user's
    ended and expired sessions are deleted. Commits."""
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at.is_not(None), UserSession.created_at < _oldest_live()))
        .execution_options(synchronize_session=False))
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(key_hash=_digest(key), user_id=user.id))
    db.session.commit()
    user.session_key = key
    return key


def load(session_id: str) -> User | None:
    """The active user of a live session, from the cookie's ``"<user id>:<key>"``; None otherwise."""
    user_id, _, key = (session_id or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or not key or len(key) > 100:
        return None
    row = db.session.execute(select(UserSession.user_id, UserSession.ended_at, UserSession.created_at)
                             .where(UserSession.key_hash == _digest(key))).first()
    if row is None or row.ended_at is not None or str(row.user_id) != user_id or row.created_at < _oldest_live():
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    user.session_key = key
    return user


def end(user: User) -> None:
    """End the session this user object was loaded with (log-out). Commits."""
    if user.session_key:
        db.session.execute(update(UserSession).where(UserSession.key_hash == _digest(user.session_key),
                                                     UserSession.ended_at.is_(None)).values(ended_at=utcnow()))
        db.session.commit()


def end_all(user_id: int) -> int:
    """End every live web session of an account (and the trust of the devices it logged in on);
    how many. Does not commit."""
    db.session.execute(update(User).where(User.id == user_id).values(sessions_ended_at=utcnow())
                       .execution_options(synchronize_session=False))
    return db.session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def _oldest_live():
    return utcnow() - timedelta(hours=current_app.config["WEB_SESSION_HOURS"])
