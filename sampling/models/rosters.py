"""Rosters of who should be tested, and collisions of a roster against a round (数据碰撞比对).

Rosters are personal data: they are kept only inside the uploader's region and deleted after
``ROSTER_RETENTION_DAYS``. Deleting a roster deletes its entries, collisions and their rows
(foreign keys ON DELETE CASCADE).
"""
import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.field import Round
from sampling.models.regions import Region
from sampling.models.residents import BigId


class RosterStatus(str, enum.Enum):
    PENDING = "pending"    # uploaded for review: its check report is the preview; not usable yet
    ACCEPTED = "accepted"  # usable for collisions


class Roster(db.Model):
    """One uploaded list of the people who should be tested (household register, grid list...)."""

    __tablename__ = "rosters"
    __table_args__ = (CheckConstraint("status IN ('pending', 'accepted')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_valid: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=RosterStatus.ACCEPTED.value,
                                        server_default=RosterStatus.ACCEPTED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    region: Mapped[Region] = relationship()

    @property
    def pending(self) -> bool:
        return self.status == RosterStatus.PENDING.value

    @property
    def rows_invalid(self) -> int:
        return self.rows_total - self.rows_valid


class RosterEntry(db.Model):
    """One row of a roster. ``error`` is NULL for a valid row, else the code of what is wrong;
    ``id_number`` is normalised (as at registration) when valid, the raw text otherwise."""

    __tablename__ = "roster_entries"
    __table_args__ = (
        Index("ix_roster_entries_roster_number", "roster_id", "id_number"),
        Index("ix_roster_entries_roster_row", "roster_id", "row_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), default="")
    id_type: Mapped[str] = mapped_column(String(32), default="")
    id_number: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    community: Mapped[str] = mapped_column(String(100), default="")
    building: Mapped[str] = mapped_column(String(50), default="")
    unit: Mapped[str] = mapped_column(String(50), default="")
    room: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(String(32))
    error_column: Mapped[str | None] = mapped_column(String(32))


class CollisionCategory(int, enum.Enum):
    """What a stored collision row says. Tested and invalid rows are derived, not stored."""

    UNTESTED = 1        # on the roster, not sampled in the round (window)
    NOT_ON_ROSTER = 2   # sampled at a site in the roster's region, not on the roster
    NAME_MISMATCH = 3   # roster ID number registered under another name


class CollisionSource(str, enum.Enum):
    ROSTER = "roster"      # an uploaded roster
    REGISTER = "register"  # the residents registered in this system in a region (本系统登记居民)


class Collision(db.Model):
    """One run of a roster — an uploaded one, or the system's own register of a region — against
    a round (optionally a time window of it), with its counts."""

    __tablename__ = "collisions"
    __table_args__ = (
        CheckConstraint("(source = 'roster' AND roster_id IS NOT NULL) OR "
                        "(source = 'register' AND region_id IS NOT NULL)", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default=CollisionSource.ROSTER.value,
                                        server_default=CollisionSource.ROSTER.value)
    roster_id: Mapped[int | None] = mapped_column(ForeignKey("rosters.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    sampled_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sampled_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    roster_total: Mapped[int] = mapped_column(default=0)
    tested: Mapped[int] = mapped_column(default=0)
    untested: Mapped[int] = mapped_column(default=0)
    not_on_roster: Mapped[int] = mapped_column(default=0)
    name_mismatch: Mapped[int] = mapped_column(default=0)
    invalid: Mapped[int] = mapped_column(default=0)

    roster: Mapped[Roster | None] = relationship()
    region: Mapped[Region | None] = relationship()
    round: Mapped[Round] = relationship()

    @property
    def of_register(self) -> bool:
        return self.source == CollisionSource.REGISTER.value

    @property
    def area(self) -> Region:
        """The region the collision is about: the roster's, or the register's."""
        return self.region if self.of_register else self.roster.region


class TaskRun(db.Model):
    """When a periodic chore (the roster purge) last ran: one row per chore, shared by every app
    server, claimed with a conditional UPDATE so that one server at a time does it."""

    __tablename__ = "task_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CollisionRow(db.Model):
    """One listed person of a collision: a roster entry (untested, name mismatch) and/or a
    resident (not on roster, name mismatch); 0 where there is none. Stored so that downloads are
    a stable snapshot. The primary key is the only index (and on SQLite the table itself)."""

    __tablename__ = "collision_rows"
    __table_args__ = (
        CheckConstraint("category IN (1, 2, 3)", name="category"),
        {"sqlite_with_rowid": False},
    )

    # No foreign keys here: a check per inserted row costs as much as the anti-join itself. The
    # rows are deleted with their roster by rosters.uploads (and only written by a run).
    collision_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=0)
    resident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=0)
