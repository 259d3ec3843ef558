"""The lab side: transport boxes (转运箱) and the audit trail of each tube's custody and result."""
import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.residents import BigId

RESULTS = ("negative", "positive", "invalid")


class BoxStatus(str, enum.Enum):
    OPEN = "open"                # at the site, tubes being scanned in
    HANDED_OVER = "handed_over"  # 送检: on its way to the lab
    RECEIVED = "received"        # 接收: scanned in by the lab


class Box(db.Model):
    """A transport box with its own barcode. ``tube_count`` is kept by the same atomic UPDATE
    that admits a tube and that also checks the box is still open, so a tube cannot slip into
    a box that is being handed over."""

    __tablename__ = "boxes"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'handed_over', 'received')", name="status"),
        CheckConstraint("tube_count >= 0", name="tube_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=BoxStatus.OPEN.value)
    tube_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User", foreign_keys=[created_by_id])
    handed_over_by = relationship("User", foreign_keys=[handed_over_by_id])
    received_by = relationship("User", foreign_keys=[received_by_id])


class TubeAction(str, enum.Enum):
    BOXED = "boxed"
    RECEIVED = "received"
    RESULTED = "resulted"
    CORRECTED = "corrected"  # a result replaced by another, on explicit request


class TubeEvent(db.Model):
    """Who did what to a tube, and when: the chain of custody and every result posted.
    A correction keeps the result it replaced in ``previous_result``."""

    __tablename__ = "tube_events"
    __table_args__ = (
        CheckConstraint("action IN ('boxed', 'received', 'resulted', 'corrected')", name="action"),
        Index("ix_tube_events_tube", "tube_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tube_id: Mapped[int] = mapped_column(ForeignKey("tubes.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    box_id: Mapped[int | None] = mapped_column(ForeignKey("boxes.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    result: Mapped[str | None] = mapped_column(String(10))
    previous_result: Mapped[str | None] = mapped_column(String(10))
