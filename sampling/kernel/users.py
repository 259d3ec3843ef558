"""Staff accounts: creating them one at a time or by the thousand, and checking passwords."""
from collections.abc import Mapping
from datetime import datetime
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from sampling import audit
from sampling.errors import BadRequest, Conflict, DomainError, NotFound, ValidationFailed, from_database_error
from sampling.extensions import db
from sampling.kernel import lockout, sessions, tokens
from sampling.kernel.regions import get_region, get_site
from sampling.kernel.tabular import read_records
from sampling.kernel.text import clean, clean_text, fits, shown
from sampling.models import Role, Site, User

MIN_PASSWORD_LENGTH = 8
_ROLES = {r.value for r in Role}
# A fixed hash to compare against when the user does not exist, so timing tells nothing.
_DUMMY_HASH = generate_password_hash("not a password")


def hash_password(password: str) -> str:
    """A slow, salted hash (scrypt unless PASSWORD_HASH_METHOD says otherwise)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(username: str, role: str, password: str, region_code: str | None = None,
                site_codes: list[str] | tuple[str, ...] = (), display_name: str | None = None,
                update: bool = False) -> User:
    """Create a staff account (or, with ``update``, reset an existing one). Does not commit."""
    username = (username or "").strip()
    role = (role or "").strip().lower()
    display_name = (display_name or "").strip() or None
    fields = {}
    if not fits(username, User.username) or any(c.isspace() for c in username):
        fields["username"] = _l("A user name of 1 to 64 characters without spaces is required.")
    if role not in _ROLES:
        fields["role"] = _l("Role must be one of admin, coordinator, sampler, lab.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        fields["password"] = _l("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    elif not clean(password):
        fields["password"] = _l("A password cannot contain control characters.")
    if display_name is not None and not fits(display_name, User.display_name):
        fields["display_name"] = _l("A display name has at most %(n)s characters, without control characters.",
                                    n=User.display_name.type.length)
    if role == Role.COORDINATOR.value and not region_code:
        fields["region"] = _l("A coordinator needs a region.")
    if role == Role.SAMPLER.value and not site_codes:
        fields["sites"] = _l("A sampler needs at least one site.")
    if region_code and role in _ROLES - {Role.COORDINATOR.value}:
        fields["region"] = _l("Only a coordinator has a region; a %(role)s account has none.", role=role)
    if site_codes and role in _ROLES - {Role.SAMPLER.value}:
        fields["sites"] = _l("Only samplers are assigned to sites; a %(role)s account has none.", role=role)
    if fields:
        raise ValidationFailed(fields=fields)
    region = get_region(region_code) if region_code else None
    sites: list[Site] = [get_site(code) for code in dict.fromkeys(site_codes)]
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None and not update:
        raise Conflict(_l("User %(name)s already exists.", name=username), code="user_exists")
    if user is None:
        user = User(username=username)
        db.session.add(user)
    else:  # a reset: tokens and web sessions begun under the old password stop working
        tokens.revoke_user_tokens(user.id)
        sessions.end_all(user.id)
        user.failed_logins, user.locked_until = 0, None
    created = user.id is None
    user.role, user.region, user.sites = role, region, sites
    user.display_name = display_name or user.display_name
    user.password_hash = hash_password(password)
    user.active = True
    db.session.flush()
    audit.record("user.create" if created else "user.update", object_type="user", object_id=user.id,
                 region=region, people=1, detail={"role": role, "username": username})
    return user


def get_user(username) -> User:
    """The account with this user name, or NotFound."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip())) \
        if isinstance(username, str) and clean(username) else None
    if user is None:
        raise NotFound(_l("Unknown user %(name)s.", name=shown(str(username))), code="unknown_user")
    return user


def deactivate_user(username: str) -> int:
    """Deactivate an account (it can no longer log in; ``create_user(update=True)`` activates it again
    with a new password), end its web sessions and revoke its live tokens; returns how many tokens.
    Does not commit."""
    user = get_user(username)
    user.active = False
    sessions.end_all(user.id)
    audit.record("user.deactivate", object_type="user", object_id=user.id, region=user.region, people=1,
                 detail={"username": user.username})
    return tokens.revoke_user_tokens(user.id)


def find_accounts(query: str = "", locked_only: bool = False, limit: int = 100) -> list[dict]:
    """Accounts for the admin page: user names starting with ``query`` (locked ones first), each
    with role, scope, whether it is active and locked (until when), and its live web sessions."""
    from sqlalchemy import func

    from sampling.models import UserSession
    from sampling.models.base import utcnow
    live = (select(func.count()).select_from(UserSession)
            .where(UserSession.user_id == User.id, UserSession.ended_at.is_(None)).scalar_subquery())
    locked = User.locked_until > utcnow()
    stmt = select(User, live, locked).order_by(locked.desc(), User.username).limit(limit)
    query = clean_text(query).strip()[:64]
    if query:
        stmt = stmt.where(User.username.startswith(query, autoescape=True))
    if locked_only:
        stmt = stmt.where(locked)
    return [{"user": user, "sessions": sessions_live, "locked": bool(is_locked)}
            for user, sessions_live, is_locked in db.session.execute(stmt)]


def unlock_user(username: str) -> User:
    """Lift a lockout at once (an admin's decision). Does not commit."""
    user = get_user(username)
    lockout.unlock(user)
    audit.record("user.unlock", object_type="user", object_id=user.id, region=user.region, people=1,
                 detail={"username": user.username})
    return user


def end_sessions(username: str) -> int:
    """End every web session and API token of an account (a lost phone); how many. Does not commit."""
    user = get_user(username)
    ended = sessions.end_all(user.id) + tokens.revoke_user_tokens(user.id)
    audit.record("user.end_sessions", object_type="user", object_id=user.id, region=user.region, people=1,
                 detail={"username": user.username, "ended": ended})
    return ended


def authenticate(username: str, password: str, trusted: Mapping[int, datetime] | None = None) -> User | None:
    """The active user with these credentials, or None; AccountLocked while the account is locked
    (see kernel.lockout), except on a device the account logged in on: ``trusted`` maps user ids to
    when this device last did (trusted unless all the account's sessions were ended since)."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    since = (trusted or {}).get(user.id)
    device_trusted = since is not None and (user.sessions_ended_at is None or since > user.sessions_ended_at)
    if not device_trusted:
        lockout.refuse_if_locked(user)
    if check_password_hash(user.password_hash, password or ""):
        if not device_trusted:
            lockout.succeeded(user)
        return user
    if not device_trusted:
        lockout.failed(user)
    return None


def import_users(stream: BinaryIO, filename: str = "users.csv", update: bool = False) -> dict:
    """Create accounts from ``username,role,password,region_code,site_codes,display_name`` rows
    (site codes separated by ``;`` or spaces). Good rows are kept; bad rows are reported."""
    created, errors = 0, []
    aliases = {"username": ("用户名",), "role": ("角色",), "password": ("密码",),
               "region_code": ("区域编码",), "site_codes": ("采样点编码",), "display_name": ("姓名",)}
    for number, row in read_records(stream, filename, aliases, required=("username", "role", "password")):
        sites = [s for s in row.get("site_codes", "").replace(";", " ").replace(",", " ").split() if s]
        try:
            with db.session.begin_nested():
                create_user(row["username"], row["role"], row["password"], row.get("region_code") or None,
                            sites, row.get("display_name") or None, update=update)
            created += 1
        except Exception as exc:  # a row the database refuses is that row's error too
            refusal = exc if isinstance(exc, DomainError) else from_database_error(exc)
            if refusal is None:
                raise
            detail = "; ".join(str(v) for v in refusal.fields.values()) or str(refusal.message)
            errors.append({"row": number, "username": shown(row.get("username", "")), "message": detail})
    db.session.commit()
    if created == 0 and errors and not update:
        raise BadRequest(_l("No account could be created: %(first)s", first=errors[0]["message"]),
                         code="import_failed")
    return {"created": created, "errors": errors}
