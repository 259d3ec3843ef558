"""Staff accounts, their roles and scope, and API tokens for phones and scanners."""
import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.regions import Region, Site


class Role(str, enum.Enum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    SAMPLER = "sampler"
    LAB = "lab"


user_sites = Table(
    "user_sites",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    """A staff account. Coordinators are scoped to one region; samplers to their sites."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'coordinator', 'sampler', 'lab')", name="role"),
        CheckConstraint("role != 'coordinator' OR region_id IS NOT NULL", name="coordinator_region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(100))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the newest Tube.flag_seq on the positives list when this user last opened it (None: never)
    positives_seen_seq: Mapped[int | None] = mapped_column(BigInteger)
    # wrong passwords in a row (from devices this account never logged in on) and the lock they led to
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when every session of the account was last ended: devices trusted before then are not any more
    sessions_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    region: Mapped[Region | None] = relationship()
    sites: Mapped[list[Site]] = relationship(secondary=user_sites, order_by=Site.code)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    session_key = None  # set by kernel.sessions.begin for the login being made

    def get_id(self) -> str:
        """The session's user id: the id and the key of its server-side session row
        (kernel.sessions), so that ending that row ends the web session wherever its cookie is."""
        return f"{self.id}:{self.session_key}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 digest is stored, so a database leak leaks no token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A web session, kept on the server: the cookie carries only its key, and a session whose row
    is ended (log-out, password reset, deactivation, an admin's "end all sessions") is refused even
    if the cookie is replayed. Only the key's SHA-256 digest is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
