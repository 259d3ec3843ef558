"""Collision against the system's own register (本系统登记居民): the residents registered here (by
themselves, for their family, from ID-card details, at a site) whose community lies in a region,
against who was sampled in a round at any site. No upload: the register is the roster.

A run stores the same counts and lists as a roster collision (:mod:`sampling.rosters.collisions`):
``roster_total`` is the region's registered residents, the untested are stored as rows (resident
ids) by one INSERT ... SELECT, an anti-join on the samples' (round, resident) index; "not on the
roster" are the people sampled at the region's sites who are registered elsewhere or in no
community; name mismatch and invalid rows cannot happen. While a round runs, the live lists
(:func:`unsampled_by_community`, :func:`live_untested_query`) answer without storing anything:
a snapshot is stored only when a coordinator asks for one (a run).

Lists are in door-knocking order: community, then building, unit and room as read from the
registered address (:mod:`sampling.residents.addresses`, computed by the database)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select

from sampling import audit
from sampling.errors import ValidationFailed
from sampling.extensions import db
from sampling.field.rounds import get_round
from sampling.kernel.access import require_region, require_role
from sampling.kernel.regions import get_region
from sampling.models import (
    Collision,
    CollisionCategory,
    CollisionRow,
    CollisionSource,
    Region,
    RegionLevel,
    Resident,
    Role,
    Sample,
    StatsCommunity,
    User,
)
from sampling.models.base import utcnow
from sampling.residents.addresses import shown, sql_part
from sampling.residents.identity import mask_document, mask_phone
from sampling.rosters.collisions import large_work_mem, parse_time, region_site_ids, run_collision, store_list

UNTESTED_SQL = """
INSERT INTO collision_rows (collision_id, category, entry_id, resident_id)
SELECT :cid AS collision_id, 1 AS category, 0 AS entry_id, r.id AS resident_id FROM residents r
WHERE r.community_id IN :community_ids AND NOT EXISTS (
  SELECT 1 FROM samples s WHERE s.resident_id = r.id AND s.round_id = :round_id{window})"""
NOT_REGISTERED_HERE_SQL = """
INSERT INTO collision_rows (collision_id, category, entry_id, resident_id)
SELECT DISTINCT :cid AS collision_id, 2 AS category, 0 AS entry_id, s.resident_id
FROM samples s JOIN residents r ON r.id = s.resident_id
WHERE s.round_id = :round_id{window} AND s.site_id IN :site_ids
  AND (r.community_id IS NULL OR r.community_id NOT IN :community_ids)"""

_STREAM = {"stream_results": True, "yield_per": 2000}
_R = Resident
_BUILDING, _UNIT, _ROOM = (sql_part(_R.address, part) for part in ("building", "unit", "room"))
# door-knocking order; parts not recognised come last in their community
_DOOR_ORDER = (Region.name, _BUILDING.is_(None), func.length(_BUILDING), _BUILDING, _UNIT.is_(None),
               func.length(_UNIT), _UNIT, _ROOM.is_(None), func.length(_ROOM), _ROOM, _R.id)
_COLUMNS = (Region.name, _BUILDING, _UNIT, _ROOM, _R.address, _R.name, _R.id_number, _R.phone)
HEADER = (_l("Community"), _l("Building"), _l("Unit"), _l("Room"), _l("Address"), _l("Name"),
          _l("Document number"), _l("Phone"))


def community_ids(region: Region) -> list[int]:
    """Ids of the communities in a region (the region itself when it is one): a few thousand at most."""
    return list(db.session.scalars(select(Region.id).where(
        Region.path.startswith(region.path, autoescape=True), Region.level == RegionLevel.COMMUNITY.value)))


def run_register_collision(user: User, region_code, round_id, sampled_from=None, sampled_to=None) -> Collision:
    """Compare the residents registered in a region with who was sampled in a round (optionally
    between two times), and store the result as a collision."""
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    if not isinstance(region_code, str) or not region_code.strip():
        raise ValidationFailed(fields={"region_code": _l("Choose a region.")})
    if isinstance(round_id, bool) or not isinstance(round_id, int):
        raise ValidationFailed(fields={"round_id": _l("Choose a round.")})
    region = get_region(region_code)
    require_region(user, region)
    rnd = get_round(round_id)
    start, end = parse_time(sampled_from, "from"), parse_time(sampled_to, "to")
    if start and end and start >= end:
        raise ValidationFailed(fields={"to": _l("The end must come after the start.")})
    communities = community_ids(region) or [0]
    collision = Collision(source=CollisionSource.REGISTER.value, region=region, round=rnd, sampled_from=start,
                          sampled_to=end, created_by_id=user.id, invalid=0, name_mismatch=0)
    db.session.add(collision)
    db.session.flush()
    large_work_mem()
    params = {"cid": collision.id, "round_id": rnd.id, "community_ids": communities,
              "site_ids": region_site_ids(region) or [0]}
    if start:
        params["sampled_from"] = start
    if end:
        params["sampled_to"] = end
    # the trigger-kept count of registered residents per community (exact, as every writer keeps it)
    collision.roster_total = int(db.session.scalar(
        select(func.coalesce(func.sum(StatsCommunity.registered), 0))
        .where(StatsCommunity.community_id.in_(communities))))
    collision.untested = store_list(UNTESTED_SQL, start, end, params)
    collision.not_on_roster = store_list(NOT_REGISTERED_HERE_SQL, start, end, params)
    collision.tested = collision.roster_total - collision.untested
    db.session.commit()
    return collision


def _residents_of(collision: Collision):
    return select(*_COLUMNS).join(Region, Region.id == _R.community_id).where(
        _R.community_id.in_(community_ids(collision.region) or [0]))


def _untested_here(collision: Collision):
    return and_(CollisionRow.collision_id == collision.id, CollisionRow.category == CollisionCategory.UNTESTED.value,
                CollisionRow.resident_id == _R.id)


def untested_query(collision: Collision, community: str | None = None, building: str | None = None):
    """The untested residents of a register collision in door-knocking order, optionally of one
    community / building ("" for addresses whose building was not recognised)."""
    stmt = _residents_of(collision).join(CollisionRow, _untested_here(collision)).order_by(*_DOOR_ORDER)
    return _narrowed(stmt, community, building)


def _narrowed(stmt, community: str | None, building: str | None):
    if community is not None:
        stmt = stmt.where(Region.name == community)
    if building is not None:
        stmt = stmt.where(_BUILDING.is_(None) if building == "" else _BUILDING == building)
    return stmt


def display_rows(stmt, phone_in_full: bool):
    """Rows of a resident list as shown: parts not recognised say so, numbers masked."""
    for community, building, unit, room, address, name, number, phone in db.session.execute(
            stmt, execution_options=_STREAM):
        yield (community, shown(building), shown(unit), shown(room), address or "", name, mask_document(number),
               (phone or "") if phone_in_full else mask_phone(phone))


def rows(collision: Collision, category: str):
    """The untested (phones in full: grid workers call ahead) or tested residents, streamed."""
    if category == "untested":
        yield from display_rows(untested_query(collision), phone_in_full=True)
    elif category == "tested":
        stmt = _residents_of(collision).where(~exists().where(_untested_here(collision))).order_by(*_DOOR_ORDER)
        yield from display_rows(stmt, phone_in_full=False)


def summary(collision: Collision, by_building: bool = False) -> list[dict]:
    """Registered and untested residents per community (and building), in door-knocking order."""
    keys = [Region.name] + ([_BUILDING] if by_building else [])
    base = select(*keys, func.count()).select_from(_R).join(Region, Region.id == _R.community_id)
    totals = db.session.execute(base.where(_R.community_id.in_(community_ids(collision.region) or [0]))
                                .group_by(*keys))
    untested = {tuple(row[:-1]): row[-1] for row in db.session.execute(
        base.join(CollisionRow, _untested_here(collision)).group_by(*keys))}
    result = []
    for row in totals:
        key, total = tuple(row[:-1]), row[-1]
        missing = untested.get(key, 0)
        item = {"community": key[0], "total": total, "tested": total - missing, "untested": missing}
        if by_building:
            item["building"] = key[1] or ""
        result.append(item)
    result.sort(key=lambda r: (r["community"], r.get("building", "") == "", len(r.get("building", "")),
                               r.get("building", "")))
    return result


def _not_sampled(round_id: int):
    return ~exists().where(Sample.resident_id == _R.id, Sample.round_id == round_id)


def unsampled_by_community(round_id: int, community_codes: list[str]) -> dict[str, int]:
    """Live, for a round still running: per community (by code), its registered residents not yet
    sampled in the round at any site (one indexed anti-join over these communities' residents)."""
    if not community_codes:
        return {}
    counts = dict.fromkeys(community_codes, 0)
    counts.update(db.session.execute(
        select(Region.code, func.count()).select_from(_R).join(Region, Region.id == _R.community_id)
        .where(Region.code.in_(community_codes), Region.level == RegionLevel.COMMUNITY.value,
               _not_sampled(round_id)).group_by(Region.code)).all())
    return counts


def live_untested_query(round_id: int, community: Region, building: str | None = None):
    """Live, without storing anything: a community's registered residents not yet sampled in the
    round, in door-knocking order."""
    stmt = (select(*_COLUMNS).join(Region, Region.id == _R.community_id)
            .where(_R.community_id == community.id, _not_sampled(round_id)).order_by(*_DOOR_ORDER))
    return _narrowed(stmt, None, building)


def live_community(user: User, community_code: str, round_id) -> tuple[Region, object]:
    """The community and round of a live list, checked against the user's scope."""
    require_role(user, (Role.ADMIN, Role.COORDINATOR))
    community = get_region(community_code)
    require_region(user, community)
    if community.level != RegionLevel.COMMUNITY.value:
        raise ValidationFailed(fields={"community": _l("Choose a community.")})
    return community, get_round(round_id)


def run_again(user: User, collision: Collision) -> Collision:
    """Run a collision again now, with the same roster or register, round and time window."""
    start = collision.sampled_from.isoformat() if collision.sampled_from else None
    end = collision.sampled_to.isoformat() if collision.sampled_to else None
    if collision.of_register:
        return run_register_collision(user, collision.region.code, collision.round_id, start, end)
    return run_collision(user, collision.roster_id, collision.round_id, start, end)


def door_groups(items, limit: int):
    """Rows (row number first) grouped by (community, building, unit) as they come, at most
    ``limit``: (groups, truncated)."""
    groups: list[dict] = []
    count = 0
    for item in items:
        count += 1
        if count > limit:
            return groups, True
        key = item[1:4]
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "rows": []})
        groups[-1]["rows"].append(item)
    return groups, False


def live_untested(user: User, community_code, round_id, building: str | None = None, limit: int = 5000) -> dict:
    """Live, while the round runs: a community's registered residents not yet sampled, in door
    groups, at most ``limit`` (nothing is stored)."""
    community, rnd = live_community(user, community_code, round_id)
    stmt = live_untested_query(rnd.id, community, building).limit(limit + 1)
    groups, truncated = door_groups((("", *row) for row in display_rows(stmt, phone_in_full=True)), limit)
    audit.record("register.untested", user=user, object_type="round", object_id=rnd.id, region=community,
                 people=sum(len(group["rows"]) for group in groups), commit=True)
    return {"community": community, "round": rnd, "groups": groups, "truncated": truncated,
            "count": unsampled_by_community(rnd.id, [community.code])[community.code], "now": utcnow()}
