"""The audit trail (审计日志): who viewed, downloaded or revealed personal data, and who changed a
resident, a user or a result. Rows are only ever inserted (see sampling.audit.guard)."""
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.residents import BigId


class AuditEvent(db.Model):
    """One recorded act. Who acted is copied (user id, user name, role, client address) rather than
    referenced, and so is the region (its code and path), so that the record outlives what it names
    and never changes when they do."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        # pattern ops so that a coordinator's "region_path LIKE 'prefix%'" uses the index on PostgreSQL
        Index("ix_audit_events_region_path", "region_path", postgresql_ops={"region_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # who: a staff account (no foreign key: the record outlives any change to the account), or a
    # member of the public (role "public") or the system itself (role "system": timers, commands)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    client: Mapped[str | None] = mapped_column(String(45))  # an IPv6 address in text is at most 45 characters
    # what: a stable action name ("positives.view"), the object it concerns, the region it lies in
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(12))
    region_path: Mapped[str | None] = mapped_column(String(200))
    # how many people the act showed, exported or changed
    people: Mapped[int | None] = mapped_column(Integer)
    # a few plain values (format, filters, list, counts): never a name, a document number or a phone
    detail: Mapped[dict | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"
