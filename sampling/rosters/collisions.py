"""Data collision (数据碰撞比对): a roster against the samples of a round, in set-based SQL.

Matching is on the normalised document number (``roster_entries.id_number`` against
``residents.id_number``, both normalised by :mod:`sampling.residents.identity`). Three lists are
stored in ``collision_rows`` by ``INSERT ... SELECT`` (untested, not on roster, name mismatch; on
PostgreSQL selected in parallel into a temporary table first, see :func:`store_list`), so
downloads are a stable snapshot of the moment of the run; "tested" is the roster's valid rows
minus the untested ones, "invalid" the roster's flagged rows.
"""
from datetime import UTC, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, text

from sampling.errors import NotFound, ValidationFailed
from sampling.extensions import db
from sampling.field.rounds import get_round
from sampling.kernel.access import require_region, require_role
from sampling.kernel.ids import db_id
from sampling.models import Collision, CollisionCategory, CollisionRow, Region, Role, Roster, RosterEntry, Site, User
from sampling.models.base import UTCDateTime
from sampling.rosters.uploads import accepted_roster, get_roster, large_work_mem

FIELD_TZ = timezone(timedelta(hours=8))  # China Standard Time: a time given without a zone
CATEGORIES = ("tested", "untested", "not_on_roster", "name_mismatch", "invalid")

_WINDOW = {"from": " AND s.sampled_at >= :sampled_from", "to": " AND s.sampled_at < :sampled_to"}
# CROSS JOIN makes SQLite look residents up by number first, then their samples by (round, resident);
# PostgreSQL plans it as an ordinary join (a hash anti-join).
UNTESTED_SQL = """
INSERT INTO collision_rows (collision_id, category, entry_id, resident_id)
SELECT :cid AS collision_id, 1 AS category, e.id AS entry_id, 0 AS resident_id FROM roster_entries e
WHERE e.roster_id = :rid AND e.error IS NULL AND NOT EXISTS (
  SELECT 1 FROM residents r CROSS JOIN samples s
  WHERE r.id_number = e.id_number AND s.resident_id = r.id AND s.round_id = :round_id{window})"""
NOT_ON_ROSTER_SQL = """
INSERT INTO collision_rows (collision_id, category, entry_id, resident_id)
SELECT DISTINCT :cid AS collision_id, 2 AS category, 0 AS entry_id, s.resident_id
FROM samples s JOIN residents r ON r.id = s.resident_id
WHERE s.round_id = :round_id{window} AND s.site_id IN :site_ids AND NOT EXISTS (
  SELECT 1 FROM roster_entries e WHERE e.roster_id = :rid AND e.id_number = r.id_number AND e.error IS NULL)"""
NAME_MISMATCH_SQL = """
INSERT INTO collision_rows (collision_id, category, entry_id, resident_id)
SELECT :cid AS collision_id, 3 AS category, e.id AS entry_id, r.id AS resident_id
FROM roster_entries e JOIN residents r ON r.id_number = e.id_number
WHERE e.roster_id = :rid AND e.error IS NULL AND r.name <> e.name"""


def parse_time(value, field: str) -> datetime | None:
    """An ISO 8601 time (a time without a zone is China Standard Time), or None when empty."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=FIELD_TZ)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: a time at the very edge of the calendar
        pass
    raise ValidationFailed(fields={field: _l("Give a date and time such as 2022-01-10T08:00.")})


def _sql(template: str, sampled_from, sampled_to):
    window = (_WINDOW["from"] if sampled_from else "") + (_WINDOW["to"] if sampled_to else "")
    sql = template.format(window=window)
    stmt = text(sql)
    binds = [bindparam(n, type_=UTCDateTime()) for n in ("sampled_from", "sampled_to") if f":{n}" in sql]
    binds += [bindparam(n, expanding=True) for n in ("site_ids", "community_ids") if f":{n}" in sql]
    return stmt.bindparams(*binds) if binds else stmt


_INSERT = "INSERT INTO collision_rows (collision_id, category, entry_id, resident_id)"


def store_list(template: str, sampled_from, sampled_to, params: dict) -> int:
    """Run one list's INSERT ... SELECT; the number of rows stored. PostgreSQL runs an INSERT's
    SELECT without parallel workers, but a CREATE TABLE AS with them: there the list is selected
    into a temporary table first (the anti-join on all cores), then copied into collision_rows."""
    if db.session.get_bind().dialect.name != "postgresql":
        return db.session.execute(_sql(template, sampled_from, sampled_to), params).rowcount
    select_part = template.strip().removeprefix(_INSERT)
    db.session.execute(text("DROP TABLE IF EXISTS collision_run"))
    db.session.execute(_sql("CREATE TEMP TABLE collision_run ON COMMIT DROP AS " + select_part, sampled_from,
                            sampled_to), params)
    return db.session.execute(text(f"{_INSERT} SELECT * FROM collision_run")).rowcount


def region_site_ids(region) -> list[int]:
    """Ids of the sampling sites inside a region (a few hundred at most: not a row-sized list).
    Given to the query as a list, PostgreSQL estimates the samples they hold from its statistics."""
    return list(db.session.scalars(select(Site.id).join(Region, Region.id == Site.community_id)
                                   .where(Region.path.startswith(region.path, autoescape=True))))


def run_collision(user: User, roster_id, round_id, sampled_from=None, sampled_to=None) -> Collision:
    """Compare a roster with who was sampled in a round (optionally between two times)."""
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    if isinstance(roster_id, bool) or not isinstance(roster_id, int):
        raise ValidationFailed(fields={"roster_id": _l("Choose a roster.")})
    if isinstance(round_id, bool) or not isinstance(round_id, int):
        raise ValidationFailed(fields={"round_id": _l("Choose a round.")})
    roster = accepted_roster(user, roster_id)
    rnd = get_round(round_id)
    start, end = parse_time(sampled_from, "from"), parse_time(sampled_to, "to")
    if start and end and start >= end:
        raise ValidationFailed(fields={"to": _l("The end must come after the start.")})
    collision = Collision(roster=roster, round=rnd, sampled_from=start, sampled_to=end, created_by_id=user.id,
                          roster_total=roster.rows_total, invalid=roster.rows_invalid)
    db.session.add(collision)
    db.session.flush()
    large_work_mem()
    params = {"cid": collision.id, "rid": roster.id, "round_id": rnd.id, "site_ids": region_site_ids(roster.region)}
    if start:
        params["sampled_from"] = start
    if end:
        params["sampled_to"] = end
    run = lambda template: store_list(template, start, end, params)  # noqa: E731
    collision.untested = run(UNTESTED_SQL)
    collision.not_on_roster = run(NOT_ON_ROSTER_SQL)
    collision.name_mismatch = run(NAME_MISMATCH_SQL)
    collision.tested = roster.rows_valid - collision.untested
    db.session.commit()
    return collision


def get_collision(user: User, collision_id) -> Collision:
    """A collision whose roster the user may see."""
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    collision = db.session.get(Collision, collision_id) if db_id(collision_id) else None
    if collision is None:
        raise NotFound(_l("Unknown collision."), code="unknown_collision")
    require_region(user, collision.area)
    if not collision.of_register:
        get_roster(user, collision.roster_id)  # an expired roster takes its collisions with it
    return collision


def collisions_of(roster) -> list[Collision]:
    return list(db.session.scalars(select(Collision).where(Collision.roster_id == roster.id)
                                   .order_by(Collision.id.desc())))


def summary(collision: Collision, by_building: bool = False) -> list[dict]:
    """Valid roster rows and untested rows per community (and building), in grouping order."""
    keys = [RosterEntry.community] + ([RosterEntry.building] if by_building else [])
    totals = db.session.execute(
        select(*keys, func.count()).where(RosterEntry.roster_id == collision.roster_id,
                                          RosterEntry.error.is_(None)).group_by(*keys))
    untested = dict(
        ((tuple(row[:-1])), row[-1]) for row in db.session.execute(
            select(*keys, func.count()).select_from(CollisionRow)
            .join(RosterEntry, RosterEntry.id == CollisionRow.entry_id)
            .where(CollisionRow.collision_id == collision.id,
                   CollisionRow.category == CollisionCategory.UNTESTED.value)
            .group_by(*keys)))
    rows = []
    for row in totals:
        key, total = tuple(row[:-1]), row[-1]
        missing = untested.get(key, 0)
        item = {"community": key[0], "total": total, "tested": total - missing, "untested": missing}
        if by_building:
            item["building"] = key[1]
        rows.append(item)
    rows.sort(key=lambda r: (r["community"], len(r.get("building", "")), r.get("building", "")))
    return rows


def collision_to_dict(collision: Collision) -> dict:
    return {"collision_id": collision.id, "source": collision.source, "roster_id": collision.roster_id,
            "region_code": collision.area.code, "round_id": collision.round_id,
            "from": collision.sampled_from.isoformat() if collision.sampled_from else None,
            "to": collision.sampled_to.isoformat() if collision.sampled_to else None,
            "created_at": collision.created_at.isoformat(), "roster_total": collision.roster_total,
            "tested": collision.tested, "untested": collision.untested,
            "not_on_roster": collision.not_on_roster, "name_mismatch": collision.name_mismatch,
            "invalid": collision.invalid}


def completion_by_region(round_id: int, levels=("community", "street", "district")) -> dict[str, tuple[int, int]]:
    """For the statistics: per region, (roster total, tested) of the latest whole-round collision
    of a roster uploaded for that region (the statistics decide which region's figures an area
    shows: sampling.stats.completion)."""
    latest = (select(func.max(Collision.id)).join(Roster, Roster.id == Collision.roster_id)
              .join(Region, Region.id == Roster.region_id)
              .where(Collision.round_id == round_id, Collision.sampled_from.is_(None),
                     Collision.sampled_to.is_(None), Region.level.in_(levels))
              .group_by(Roster.region_id))
    rows = db.session.execute(select(Region.code, Collision.roster_total, Collision.tested)
                              .join(Roster, Roster.id == Collision.roster_id)
                              .join(Region, Region.id == Roster.region_id)
                              .where(Collision.id.in_(latest)))
    return {code: (total, tested) for code, total, tested in rows}


def completion_by_community(round_id: int) -> dict[str, tuple[int, int]]:
    """Per community, from rosters uploaded for a single community only."""
    return completion_by_region(round_id, ("community",))
