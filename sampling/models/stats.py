"""Statistics aggregates (结果汇总统计). They are kept exact by database TRIGGERS on residents,
samples and tubes (migration 0006, 0007 for the lab's result columns), so every writer keeps
them right without knowing about them; ``flask rebuild-stats`` recomputes them from scratch.
The application only reads them."""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from sampling.extensions import db
from sampling.models.base import UTCDateTime
from sampling.models.residents import BigId

_zero = {"default": 0, "server_default": "0"}


class StatsSite(db.Model):
    """Per round × site: samples, people (first sample in the round), tubes by status, pools (tubes
    of more than one) by result, people in positive/invalid pools and in positive/invalid 1-in-1 tubes."""

    __tablename__ = "stats_site"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    samples: Mapped[int] = mapped_column(**_zero)
    supplementary: Mapped[int] = mapped_column(**_zero)
    people: Mapped[int] = mapped_column(**_zero)
    tubes: Mapped[int] = mapped_column(**_zero)
    tubes_open: Mapped[int] = mapped_column(**_zero)
    tubes_sealed: Mapped[int] = mapped_column(**_zero)
    tubes_boxed: Mapped[int] = mapped_column(**_zero)
    tubes_received: Mapped[int] = mapped_column(**_zero)
    tubes_resulted: Mapped[int] = mapped_column(**_zero)
    # maintained once the lab's tubes.result / resulted_at exist (migration 0007)
    pools_negative: Mapped[int] = mapped_column(**_zero)
    pools_positive: Mapped[int] = mapped_column(**_zero)
    pools_invalid: Mapped[int] = mapped_column(**_zero)
    positive_members: Mapped[int] = mapped_column(**_zero)
    invalid_members: Mapped[int] = mapped_column(**_zero)
    turnaround_count: Mapped[int] = mapped_column(**_zero)
    turnaround_seconds: Mapped[int] = mapped_column(BigInteger, **_zero)
    # people in 1-in-1 tubes (individual results, not pools), migration 0012
    positive_individuals: Mapped[int] = mapped_column(**_zero)
    invalid_individuals: Mapped[int] = mapped_column(**_zero)


class StatsSiteHour(db.Model):
    """Per round × site × UTC hour: samples, supplementary samples, people first sampled then."""

    __tablename__ = "stats_site_hour"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    samples: Mapped[int] = mapped_column(**_zero)
    supplementary: Mapped[int] = mapped_column(**_zero)
    people: Mapped[int] = mapped_column(**_zero)


class StatsSamplerHour(db.Model):
    """Per round × sampler × site × UTC hour: scans (samples with a sampler)."""

    __tablename__ = "stats_sampler_hour"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    sampler_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    samples: Mapped[int] = mapped_column(**_zero)


class StatsPerson(db.Model):
    """Which sample counts a resident as "sampled" in a round: the first one (lowest id).
    A resident sampled twice counts once, at the site and hour of that first sample; undoing it
    moves the person to their next sample, or removes them."""

    __tablename__ = "stats_person"

    # no foreign key: 14 million rows per city round are rebuilt in bulk, and checked by the triggers
    round_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sample_id: Mapped[int] = mapped_column(BigId)
    site_id: Mapped[int] = mapped_column(Integer)
    hour: Mapped[datetime] = mapped_column(UTCDateTime())


class StatsCommunity(db.Model):
    """Registered residents per community (not per round)."""

    __tablename__ = "stats_community"

    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    registered: Mapped[int] = mapped_column(**_zero)
