"""Code sheets: lists of residents whose code cards are printed together (a nursing home,
a building, a school class), made by staff from an uploaded list."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db
from sampling.models.base import UTCDateTime, utcnow
from sampling.models.residents import BigId
from sampling.models.users import User


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
