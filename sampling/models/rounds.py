"""Screening rounds (轮次)."""
import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.regions import Region

POOL_SIZES = (1, 5, 10, 20)


class RoundStatus(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Round(db.Model):
    """One citywide or area-wide screening, with a start, an end and a default pool size."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("pool_size IN (1, 5, 10, 20)", name="pool_size"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    pool_size: Mapped[int] = mapped_column(default=10)
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.OPEN.value)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    region: Mapped[Region | None] = relationship()
