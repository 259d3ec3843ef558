"""阳性信息: positive and invalid pools, expanded into the people to find, for the coordinators
of the regions the members live in (and for the admin). A member lives where their registered
community is, or, without one, in the community of the site where they were sampled."""
import functools
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import aliased

from sampling.errors import BadRequest
from sampling.extensions import db
from sampling.field.rounds import get_round
from sampling.kernel.access import region_scope, require_role
from sampling.lab.followups import FLAGGED, RESULTED, followup_state, is_open, with_retests
from sampling.lab.reports import RESULT_LABELS
from sampling.models import Region, Resident, Role, Sample, Site, Tube, User
from sampling.residents import identity

VIEWER_ROLES = (Role.ADMIN, Role.COORDINATOR)
STATE_LABELS = {"to_contact": _l("to contact"), "resampled": _l("resampled alone"),
                "resulted": _l("individual result")}
NOTICE_LIMIT = 20

_home, _site_community = aliased(Region), aliased(Region)
_member_path = func.coalesce(_home.path, _site_community.path)


def _members_query():
    """Samples of flagged tubes with everything a coordinator needs to find the person."""
    return (select(Sample.id.label("sample_id"), Tube.id.label("tube_id"), Tube.code.label("tube_code"),
                   Tube.result, Tube.capacity, Tube.round_id, Tube.sealed_at, Tube.resulted_at,
                   Site.code.label("site_code"), Site.name.label("site_name"),
                   Resident.name, Resident.id_type, Resident.id_number, Resident.phone, Resident.address,
                   func.coalesce(_home.code, _site_community.code).label("community_code"),
                   func.coalesce(_home.name, _site_community.name).label("community_name"),
                   _member_path.label("member_path"), Sample.sampled_at,
                   func.coalesce(User.display_name, User.username).label("sampler"))
            .join(Tube, Tube.id == Sample.tube_id)
            .join(Resident, Resident.id == Sample.resident_id)
            .join(Site, Site.id == Tube.site_id)
            .join(_site_community, _site_community.id == Site.community_id)
            .outerjoin(_home, _home.id == Resident.community_id)
            .outerjoin(User, User.id == Sample.sampler_id)
            .where(Tube.result.in_(FLAGGED)))


def _scoped_tube_ids(user: User, round_id: int | None):
    """Flagged tubes with at least one member in the user's scope."""
    query = (select(Tube.id).join(Sample, Sample.tube_id == Tube.id)
             .join(Resident, Resident.id == Sample.resident_id).join(Site, Site.id == Tube.site_id)
             .join(_site_community, _site_community.id == Site.community_id)
             .outerjoin(_home, _home.id == Resident.community_id)
             .where(Tube.result.in_(FLAGGED), region_scope(user, _member_path)).distinct())
    if round_id is not None:
        query = query.where(Tube.round_id == round_id)
    return query


def _iso(moment):
    return moment.isoformat() if moment else None


def list_pools(user: User, round_id: int | None = None, status: str | None = None,
               mark_seen: bool = False) -> list[dict]:
    """Flagged pools with their members in the user's scope and each member's follow-up state,
    newest result first. ``status`` open|closed filters on whether every member has an
    individual result. ``mark_seen``: the user is opening the list; when it is the whole list
    (no filter) the new-positives notice starts counting after what it shows."""
    require_role(user, VIEWER_ROLES)
    if status not in (None, "", "open", "closed"):
        raise BadRequest(_l("status must be open or closed."), code="invalid_status")
    if round_id is not None:
        get_round(round_id)
    # read before the list, so that a pool flagged meanwhile is listed and still announced
    seen = _newest_flag() if mark_seen and round_id is None and not status else None
    scope = region_scope(user, _member_path)
    query = with_retests(_members_query().add_columns(scope.label("in_scope"))
                         .where(Tube.id.in_(_scoped_tube_ids(user, round_id))), Sample)
    pools: dict[int, dict] = {}
    for row in db.session.execute(query):
        pool = pools.setdefault(row.tube_id, {
            "tube_code": row.tube_code, "result": row.result, "capacity": row.capacity, "round_id": row.round_id,
            "site_code": row.site_code, "site_name": row.site_name, "sealed_at": _iso(row.sealed_at),
            "resulted_at": _iso(row.resulted_at), "member_count": 0, "resolved_count": 0, "members": []})
        state, individual = followup_state(row.capacity, row.result, row.retest_id, row.retest_result)
        pool["member_count"] += 1
        pool["resolved_count"] += state == RESULTED
        if row.in_scope:
            pool["members"].append({
                "sample_id": row.sample_id, "name": row.name, "id_type": row.id_type, "id_number": row.id_number,
                "phone": row.phone, "address": row.address, "community_code": row.community_code,
                "community_name": row.community_name, "site_code": row.site_code, "site_name": row.site_name,
                "sampled_at": _iso(row.sampled_at), "sampler": row.sampler, "state": state,
                "individual_result": individual, "retest_tube_code": row.retest_tube,
                "retested_at": _iso(row.retested_at)})
    result = []
    for pool in pools.values():
        pool["closed"] = pool["resolved_count"] == pool["member_count"]
        pool["members"].sort(key=lambda m: (m["sampled_at"] or "", m["sample_id"]))
        if status == "open" and pool["closed"] or status == "closed" and not pool["closed"]:
            continue
        result.append(pool)
    result.sort(key=lambda p: (p["resulted_at"] or "", p["tube_code"]), reverse=True)
    if seen is not None:
        db.session.execute(update(User).where(User.id == user.id, or_(User.positives_seen_seq.is_(None),
                                                                     User.positives_seen_seq < seen))
                           .values(positives_seen_seq=seen).execution_options(synchronize_session=False))
        db.session.commit()
    return result


def _newest_flag() -> int:
    """The newest notice cursor (Tube.flag_seq) committed so far; 0 before the first flagged tube."""
    return db.session.scalar(select(func.coalesce(func.max(Tube.flag_seq), 0)).where(Tube.flag_seq.is_not(None)))


def notice(user: User) -> dict:
    """What the pages' banner tells the user: the flagged pools with members in their scope that
    were flagged after the whole list was last opened by this user (``basis`` "new"), or, if they
    have never opened it, every open pool of their area (``basis`` "open"); newest first.

    The cursor is the order in which the server flagged the tubes (Tube.flag_seq, handed out in
    commit order), not the lab's test time, so a file of results tested hours ago, or a chunk of
    an upload committed after the list was opened, is still announced."""
    require_role(user, VIEWER_ROLES)
    seen = db.session.scalar(select(User.positives_seen_seq).where(User.id == user.id))
    ids = _scoped_tube_ids(user, None)
    ids = ids.where(is_open(Tube)) if seen is None else ids.where(Tube.flag_seq > seen)
    ids = ids.subquery()
    count = db.session.scalar(select(func.count()).select_from(ids))
    rows = db.session.execute(select(Tube.code, Tube.result, Tube.resulted_at, Site.name)
                              .join(Site, Site.id == Tube.site_id).where(Tube.id.in_(select(ids.c.id)))
                              .order_by(Tube.flag_seq.desc(), Tube.id.desc()).limit(NOTICE_LIMIT))
    return {"basis": "open" if seen is None else "new", "count": count,
            "pools": [{"tube_code": c, "result": r, "resulted_at": _iso(t), "site_name": s} for c, r, t, s in rows]}


def lab_summary(tube_ids: list[int]) -> list[dict]:
    """For the lab's upload report: each newly flagged tube and its members, masked (the lab
    does not need to find them; the coordinators do)."""
    pools: dict[str, dict] = {}
    for start in range(0, len(tube_ids), 500):
        rows = db.session.execute(_members_query().where(Tube.id.in_(tube_ids[start:start + 500]))
                                  .order_by(Tube.code, Sample.sampled_at))
        for row in rows:
            pool = pools.setdefault(row.tube_code, {"tube_code": row.tube_code, "result": row.result,
                                                    "residents": []})
            pool["residents"].append({"name": identity.mask_name(row.name),
                                      "id_number": identity.mask_document(row.id_number),
                                      "community_name": row.community_name, "site_code": row.site_code})
    return list(pools.values())


EXPORT_HEADER = (_l("Tube"), _l("Pool result"), _l("Name"), _l("ID number"), _l("Phone"), _l("Address"),
                 _l("Community"), _l("Site"), _l("Sampled at"), _l("Sampler"), _l("Follow-up"),
                 _l("Individual result"), _l("Retest tube"))


def export_header() -> list[str]:
    """The columns of the downloadable list, localized."""
    return [str(h) for h in EXPORT_HEADER]


def export_rows(pools: list[dict]):
    """The list as spreadsheet rows, one per person, labels localized (sampling.kernel.exports makes
    the cells safe to open)."""
    for pool in pools:
        for m in pool["members"]:
            yield [pool["tube_code"], str(RESULT_LABELS[pool["result"]]), m["name"], m["id_number"], m["phone"],
                   m["address"], m["community_name"], m["site_name"], _local(m["sampled_at"]), m["sampler"],
                   str(STATE_LABELS[m["state"]]),
                   str(RESULT_LABELS[m["individual_result"]]) if m["individual_result"] else "",
                   m["retest_tube_code"]]


def _local(iso: str | None) -> str:
    """An ISO UTC time as local wall-clock time for people reading the sheet."""
    if not iso:
        return ""
    from zoneinfo import ZoneInfo

    from flask import current_app
    zone = ZoneInfo(current_app.config.get("LOCAL_TIMEZONE", "Asia/Shanghai"))
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")


@functools.cache
def _followup_statement():
    """followup_by_site's query, built once (the dashboard asks for it on every refresh)."""
    pooled = (select(Sample.id.label("sample_id"), Site.code.label("site_code"), Tube.capacity, Tube.result)
              .join(Tube, Tube.id == Sample.tube_id).join(Site, Site.id == Tube.site_id)
              .where(Tube.round_id == bindparam("followup_round"), Tube.result.in_(FLAGGED),
                     ~((Tube.result == "positive") & (Tube.capacity == 1))))
    return with_retests(pooled, Sample)


def followup_by_site(round_id: int) -> dict[str, tuple[int, int, int, int]]:
    """For the statistics, per site of the tube: (members of positive pools, how many of them have
    an individual result, people of invalid tubes, how many of them have an individual result).
    A positive 1-in-1 tube is an individual result already, not a pool to follow up; an invalid
    one is (the person is resampled). Bounded by the (few) flagged tubes of the round."""
    figures: dict[str, list[int]] = {}
    for row in db.session.execute(_followup_statement(), {"followup_round": round_id}):
        state, _individual = followup_state(row.capacity, row.result, row.retest_id, row.retest_result)
        counts = figures.setdefault(row.site_code, [0, 0, 0, 0])
        kind = 0 if row.result == "positive" else 2
        counts[kind] += 1
        counts[kind + 1] += state == RESULTED
    return {code: tuple(counts) for code, counts in figures.items()}
