"""The field: screening rounds (轮次), pooled tubes and the samples scanned into them."""
import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.regions import Region, Site
from sampling.models.residents import BigId, Resident

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


class TubeStatus(str, enum.Enum):
    OPEN = "open"
    SEALED = "sealed"
    BOXED = "boxed"
    RECEIVED = "received"
    RESULTED = "resulted"


class Tube(db.Model):
    """A single-use pooled tube (混采管), identified by its pre-printed barcode.

    ``sample_count`` is kept by the same atomic UPDATE that admits a sample, and the database
    refuses a count above ``capacity``: two phones filling one tube cannot overfill it.
    """

    __tablename__ = "tubes"
    __table_args__ = (
        CheckConstraint("capacity IN (1, 5, 10, 20)", name="capacity"),
        CheckConstraint("sample_count >= 0 AND sample_count <= capacity", name="sample_count"),
        CheckConstraint("status IN ('open', 'sealed', 'boxed', 'received', 'resulted')", name="status"),
        Index("ix_tubes_round_site", "round_id", "site_id"),
        CheckConstraint("result IN ('negative', 'positive', 'invalid')", name="result"),
        # the lab's new positive and invalid pools, in the order they were flagged (the notice)
        Index("ix_tubes_flag_seq", "flag_seq", postgresql_where=text("flag_seq IS NOT NULL"),
              sqlite_where=text("flag_seq IS NOT NULL")),
        Index("ix_tubes_flagged_round", "round_id",
              postgresql_where=text("result IN ('positive', 'invalid')"),
              sqlite_where=text("result IN ('positive', 'invalid')")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    capacity: Mapped[int]
    sample_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default=TubeStatus.OPEN.value)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    # the lab's part (see sampling/models/lab.py): transport box, receipt and result
    box_id: Mapped[int | None] = mapped_column(ForeignKey("boxes.id"), index=True)
    boxed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(10))
    # when the tube became positive or invalid, in commit order (lab/results.py): the cursor
    # of the coordinators' new-positives notice
    flag_seq: Mapped[int | None] = mapped_column(BigInteger)

    round: Mapped[Round] = relationship()
    site: Mapped[Site] = relationship()


class Sample(db.Model):
    """One resident's swab in one tube. ``client_id`` (a UUID made by the phone) makes a
    retried scan land exactly once; ``round_id`` and ``site_id`` are copied from the tube for
    per-round look-ups and statistics without a join.

    A resident has at most one ordinary sample per round (a partial unique index); further
    samples in the round are deliberate resamples (retests), marked ``resample``. ``position``
    is the tube's count right after this sample went in (its slot), so a retried scan can be
    answered with exactly the body of the first answer."""

    __tablename__ = "samples"
    __table_args__ = (
        UniqueConstraint("tube_id", "resident_id", name="uq_samples_tube_resident"),
        Index("ix_samples_round_resident", "round_id", "resident_id"),
        Index("ix_samples_resident", "resident_id"),
        Index("uq_samples_round_resident_first", "round_id", "resident_id", unique=True,
              sqlite_where=text("NOT resample"), postgresql_where=text("NOT resample")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tube_id: Mapped[int] = mapped_column(ForeignKey("tubes.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    sampler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    supplementary: Mapped[bool] = mapped_column(Boolean, default=False)
    resample: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tube: Mapped[Tube] = relationship()
    resident: Mapped[Resident] = relationship()


class ClientOperation(db.Model):
    """An operation a phone sent with its own ``client_id`` (UUID), recorded with its answer body,
    so that a retried or replayed operation is applied exactly once and answered the same.
    Samples carry their client_id themselves; a row here records the other operations (open,
    seal, undo) and the adds whose sample was later undone."""

    __tablename__ = "client_operations"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    op: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
