"""Administrative regions (district → street → community) and sampling sites."""
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampling.extensions import db


class RegionLevel(str, enum.Enum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"

    @property
    def parent_level(self) -> "RegionLevel | None":
        return {"street": RegionLevel.DISTRICT, "community": RegionLevel.STREET}.get(self.value)


class Region(db.Model):
    """A district, street/town or community, identified by its administrative division code.

    ``path`` is the chain of codes from the district down to this region ("/120101/120101001/"),
    so "everything under a region" is one indexed prefix match.
    """

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("level IN ('district', 'street', 'community')", name="level"),
        # pattern ops so that "path LIKE 'prefix%'" uses the index on PostgreSQL
        Index("ix_regions_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(200))

    parent: Mapped["Region | None"] = relationship(remote_side=[id])

    def contains(self, other: "Region") -> bool:
        """True when ``other`` is this region or lies under it."""
        return other.path.startswith(self.path)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Site(db.Model):
    """A sampling site (采样点); it belongs to one community."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)

    community: Mapped[Region] = relationship()

    def __repr__(self) -> str:
        return f"<Site {self.code} {self.name}>"
