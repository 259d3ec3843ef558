"""Residents: the people who are sampled. One person, one record per document."""
import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.regions import Region
from sampling.models.users import User

BigId = BigInteger().with_variant(db.Integer, "sqlite")  # SQLite autoincrements INTEGER only


class IdType(str, enum.Enum):
    RESIDENT_ID_CARD = "resident_id_card"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"
    OTHER = "other"


class ResidentSource(str, enum.Enum):
    SELF = "self"                  # registered on their own phone
    STAFF = "staff"                # typed from an ID card by a volunteer
    BATCH = "batch"                # from an uploaded list
    SUPPLEMENTARY = "supplementary"  # registered at the site without a code (补充登记)


class Resident(db.Model):
    """A person, identified by document type and normalised document number."""

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("id_type", "id_number", name="uq_residents_document"),
        CheckConstraint("id_type IN ('resident_id_card', 'passport', 'hk_macao_permit', 'taiwan_permit', "
                        "'foreign_permanent_resident', 'other')", name="id_type"),
        Index("ix_residents_id_number", "id_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default=ResidentSource.SELF.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # raised by a re-bind at a site: every code issued under an earlier version stops scanning
    code_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    community: Mapped[Region | None] = relationship()

    def __repr__(self) -> str:
        return f"<Resident {self.id}>"


# Code sheets: lists of residents whose code cards are printed together (a nursing home,
# a building, a school class), made by staff from an uploaded list.

class CodeSheet(db.Model):
    """One print job of code cards, in the order of the uploaded list."""

    __tablename__ = "code_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    card_count: Mapped[int] = mapped_column(Integer, default=0)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<CodeSheet {self.id} {self.card_count}>"


class CodeSheetCard(db.Model):
    """A card on a sheet: the resident at this position."""

    __tablename__ = "code_sheet_cards"

    sheet_id: Mapped[int] = mapped_column(ForeignKey("code_sheets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"), index=True)
