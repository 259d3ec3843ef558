"""API bearer tokens for phones and hand-held scanners."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from sampling.extensions import db
from sampling.models import ApiToken, User
from sampling.models.base import utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, ttl_hours: int) -> tuple[str, datetime]:
    """A new random token for ``user`` and its expiry; the user's dead tokens are deleted. Commits."""
    purge_tokens(user.id)
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    db.session.add(ApiToken(token_hash=_digest(token), user=user, expires_at=expires_at))
    db.session.commit()
    return token, expires_at


def user_for_token(token: str) -> User | None:
    """The active user a live (unexpired, unrevoked) token belongs to, else None."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                            .where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


def revoke_token(token: str) -> bool:
    """Revoke a token; True when a live one was revoked."""
    result = db.session.execute(
        update(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    db.session.commit()
    return result.rowcount > 0


def revoke_user_tokens(user_id: int) -> int:
    """Revoke every live token of a user (their password was reset, or the account deactivated),
    so phones logged in with the old password must log in again. Does not commit."""
    now = utcnow()
    return db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount


def purge_tokens(user_id: int | None = None) -> int:
    """Delete expired and revoked tokens: one user's (cheap, by their index, on every login), or
    everyone's (``purge-tokens``). Their rows serve nothing: an unknown token is refused the same way.
    Does not commit."""
    query = delete(ApiToken).where(or_(ApiToken.expires_at <= utcnow(), ApiToken.revoked_at.is_not(None)))
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return db.session.execute(query.execution_options(synchronize_session=False)).rowcount
