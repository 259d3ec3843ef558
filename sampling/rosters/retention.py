"""How long rosters are kept (personal data): an accepted roster ``ROSTER_RETENTION_DAYS`` after
upload, a roster still waiting for review a day at most. Expired rosters are gone for users at
once and deleted, with their entries and collisions, by :func:`purge_expired_rosters`: from
``flask purge-rosters`` (cron), on roster lists and uploads, and on a timer (:func:`purge_if_due`)."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sampling.extensions import db
from sampling.models import Collision, CollisionRow, CollisionSource, Roster, RosterStatus, TaskRun
from sampling.models.base import utcnow

PENDING_HOURS = 24  # a roster nobody accepted or discarded is deleted after this (or the retention)


def _retention() -> timedelta:
    return timedelta(days=current_app.config["ROSTER_RETENTION_DAYS"])


def _pending_retention() -> timedelta:
    return min(timedelta(hours=PENDING_HOURS), _retention())


def expires_at(roster: Roster) -> datetime:
    """When the roster is deleted automatically."""
    return roster.created_at + (_pending_retention() if roster.pending else _retention())


def is_expired(roster: Roster) -> bool:
    return expires_at(roster) <= utcnow()


def _expired_condition(now: datetime):
    return or_(Roster.created_at < now - _retention(),
               and_(Roster.status == RosterStatus.PENDING.value, Roster.created_at < now - _pending_retention()))


def delete_rosters(condition) -> None:
    """Delete rosters: first their collisions' rows (no foreign key there), then the rosters,
    whose entries and collisions go by ON DELETE CASCADE."""
    collision_ids = select(Collision.id).where(Collision.roster_id.in_(select(Roster.id).where(condition)))
    db.session.execute(delete(CollisionRow).where(CollisionRow.collision_id.in_(collision_ids)),
                       execution_options={"synchronize_session": False})
    db.session.execute(delete(Roster).where(condition), execution_options={"synchronize_session": "fetch"})


def purge_expired_rosters(now: datetime | None = None) -> int:
    """Delete expired rosters (entries and collisions go with them) and register collisions as old
    (their lists name residents as a roster does); returns how many rosters."""
    now = now or utcnow()
    condition = _expired_condition(now)
    expired = db.session.scalar(select(func.count()).select_from(Roster).where(condition))
    if expired:
        delete_rosters(condition)
    old_register = select(Collision.id).where(Collision.source == CollisionSource.REGISTER.value,
                                              Collision.created_at < now - _retention())
    db.session.execute(delete(CollisionRow).where(CollisionRow.collision_id.in_(old_register)),
                       execution_options={"synchronize_session": False})
    db.session.execute(delete(Collision).where(Collision.id.in_(old_register)),
                       execution_options={"synchronize_session": False})
    db.session.commit()
    return expired or 0


PURGE_TASK = "purge_rosters"


def purge_if_due() -> bool:
    """Purge expired rosters unless some app server did in the last ``ROSTER_PURGE_MINUTES``.
    Cheap when not due: nothing at all while this process knows the next purge is ahead, else
    one primary-key read. When due, the server whose conditional UPDATE (or first INSERT) wins
    purges; the others see the new time. Returns whether this call purged."""
    now, interval = utcnow(), timedelta(minutes=current_app.config["ROSTER_PURGE_MINUTES"])
    memo = current_app.extensions.setdefault("roster_purge", {})
    if memo.get("next") and now < memo["next"]:
        return False
    last = db.session.scalar(select(TaskRun.last_run_at).where(TaskRun.name == PURGE_TASK))
    if last is not None and now < last + interval:
        memo["next"] = last + interval
        return False
    table = TaskRun.__table__
    if last is None:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        claim = dialect.insert(table).values(name=PURGE_TASK, last_run_at=now).on_conflict_do_nothing()
    else:
        claim = (update(table).where(table.c.name == PURGE_TASK, table.c.last_run_at <= now - interval)
                 .values(last_run_at=now))
    # RETURNING, not rowcount: psycopg reports no rowcount for INSERT ... ON CONFLICT DO NOTHING
    claimed = db.session.execute(claim.returning(table.c.name)).first() is not None
    db.session.commit()
    memo["next"] = now + interval
    if claimed:
        purge_expired_rosters(now)
    return claimed
