"""Account lockout: LOGIN_MAX_FAILURES wrong passwords in a row lock an account for
LOGIN_LOCK_MINUTES, on the web form and the API alike (both call kernel.users.authenticate).

The count and the lock are kept by one atomic UPDATE, so every worker and app server sees the same
count. Bounded so that a stranger cannot keep a site's staff out: the lock ends by itself and never
grows; failures are counted only from devices the account never logged in on, and a device it did
log in on (a signed cookie, kernel callers pass its user ids as ``trusted``) is never locked out;
an admin unlocks at once (``flask unlock-user``, /admin/users)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, update

from sampling import audit
from sampling.errors import Forbidden
from sampling.extensions import db
from sampling.models import User
from sampling.models.base import utcnow


class AccountLocked(Forbidden):
    default_code = "account_locked"

    def __init__(self, until: datetime):
        local = until.astimezone(ZoneInfo(current_app.config["LOCAL_TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
        super().__init__(_l("Too many wrong passwords: this account is locked until %(time)s. Try again then "
                            "from this device, log in from a device you have used before, or ask an "
                            "administrator to unlock it.", time=local))
        self.until = until


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def refuse_if_locked(user: User) -> None:
    if is_locked(user):
        raise AccountLocked(user.locked_until)


def failed(user: User) -> None:
    """Count a wrong password; the one that reaches the limit locks the account (AccountLocked).
    Commits."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    until = utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    reached = User.failed_logins + 1 >= limit
    locked = db.session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=case((reached, 0), else_=User.failed_logins + 1),
                locked_until=case((reached, until), else_=User.locked_until))
        .returning(User.locked_until).execution_options(synchronize_session=False)).scalar()
    if locked is not None and locked > utcnow() and (user.locked_until is None or user.locked_until < utcnow()):
        audit.record("user.lock", system="lockout", object_type="user", object_id=user.id, region=user.region,
                     people=1, detail={"username": user.username, "until": locked.isoformat()})
    db.session.commit()
    if locked is not None and locked > utcnow():
        raise AccountLocked(locked)


def succeeded(user: User) -> None:
    """A right password: the count of wrong ones starts again. Commits only when there was one."""
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins, user.locked_until = 0, None
        db.session.commit()


def unlock(user: User) -> None:
    """An admin's unlock: the lock and the count are gone. Does not commit."""
    user.failed_logins, user.locked_until = 0, None
