"""The statements of a set-based run of scans (:mod:`sampling.field.sync.runs`): a handful of reads
and two writes, whatever the run's length.

On PostgreSQL the run's keys travel as arrays (``= ANY(:ids)``, ``unnest(...)``), so every
statement has one fixed text whatever the run's length: the driver prepares it once per
connection, and neither side parses a statement of hundreds of placeholders per batch. Elsewhere
(SQLite) the same reads use IN lists and the writes executemany.
"""
from sqlalchemy import ARRAY, BigInteger, Integer, String, and_, any_, bindparam, insert, select, text, update

from sampling.extensions import db
from sampling.kernel.access import site_scope
from sampling.models import ClientOperation, Resident, Sample, Site, Tube, User


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def among(column, values, item_type=BigInteger):
    """``column`` is one of ``values``: ``= ANY(array)`` on PostgreSQL, ``IN (...)`` elsewhere."""
    values = list(values)
    if _postgres():
        return column == any_(bindparam(None, values, type_=ARRAY(item_type)))
    return column.in_(values)


def replays(client_ids: list[str]):
    """Rows (client_id, sample_id, position, capacity, name, id_number, sampler_id) of admitted
    adds, and rows (client_id, body, user_id) of recorded operations, with these client_ids.
    (Almost always there are none: one narrow query says so, and only a replay pays for the joins.)"""
    seen = db.session.scalars(
        select(Sample.client_id).where(among(Sample.client_id, client_ids, String))
        .union_all(select(ClientOperation.client_id).where(among(ClientOperation.client_id, client_ids, String))))
    seen = list(seen)
    if not seen:
        return [], []
    admitted = db.session.execute(
        select(Sample.client_id, Sample.id, Sample.position, Tube.capacity, Resident.name, Resident.id_number,
               Sample.sampler_id)
        .join(Tube, Sample.tube_id == Tube.id).join(Resident, Sample.resident_id == Resident.id)
        .where(among(Sample.client_id, seen, String)))
    recorded = db.session.execute(select(ClientOperation.client_id, ClientOperation.body, ClientOperation.user_id)
                                  .where(among(ClientOperation.client_id, seen, String)))
    return admitted.all(), recorded.all()


def lock_tubes(user: User, codes: list[str]):
    """The run's tubes, locked until commit (PostgreSQL: FOR UPDATE in id order; SQLite: the caller
    holds the write lock already), each with whether the user may work at its site."""
    query = (select(Tube.id, Tube.code, Tube.round_id, Tube.site_id, Tube.capacity, Tube.sample_count, Tube.status,
                    site_scope(user, Tube.site_id).label("allowed"))
             .where(among(Tube.code, codes, String)).order_by(Tube.id))
    if _postgres():
        query = query.with_for_update(of=Tube.__table__)
    return db.session.execute(query).all()


def people(resident_ids: set[int]):
    """Rows (id, name, id_number, code_version) of the residents that exist among ``resident_ids``."""
    return db.session.execute(select(Resident.id, Resident.name, Resident.id_number, Resident.code_version)
                              .where(among(Resident.id, resident_ids))).all()


def members(tube_ids: list[int]):
    """Rows (tube_id, resident_id) of the samples in these tubes."""
    return db.session.execute(select(Sample.tube_id, Sample.resident_id)
                              .where(among(Sample.tube_id, tube_ids))).all()


def previous(resident_ids: set[int], round_ids: set[int]):
    """Rows (round_id, resident_id, sampled_at, site code, site name, tube code) of these residents'
    ordinary samples in these rounds."""
    return db.session.execute(
        select(Sample.round_id, Sample.resident_id, Sample.sampled_at, Site.code, Site.name, Tube.code)
        .join(Site, Sample.site_id == Site.id).join(Tube, Sample.tube_id == Tube.id)
        # By resident only (a handful of samples each, one per round), the round as a plain filter
        # ("+ 0" keeps it out of the index): early in a round the statistics do not know its id
        # yet, and an index scan on the round would read all of the round's samples per batch.
        .where(among(Sample.resident_id, resident_ids), among(Sample.round_id + 0, round_ids, Integer),
               Sample.resample.is_(False))).all()


_PG_INSERT = text(
    "INSERT INTO samples (tube_id, resident_id, round_id, site_id, sampler_id, client_id, supplementary, "
    "resample, position, sampled_at) "
    "SELECT v.tube_id, v.resident_id, v.round_id, v.site_id, :sampler_id, v.client_id, false, false, v.position, "
    ":now FROM unnest(CAST(:tube_ids AS bigint[]), CAST(:resident_ids AS bigint[]), CAST(:round_ids AS int[]), "
    "CAST(:site_ids AS int[]), CAST(:client_ids AS varchar[]), CAST(:positions AS smallint[])) "
    "AS v(tube_id, resident_id, round_id, site_id, client_id, position) RETURNING id, client_id")

_PG_COUNTS = text(
    "UPDATE tubes AS t SET sample_count = v.count, status = v.status, "
    "sealed_at = CASE WHEN v.sealed THEN :now ELSE t.sealed_at END "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:starts AS int[]), CAST(:counts AS int[]), "
    "CAST(:statuses AS varchar[]), CAST(:sealed AS boolean[])) AS v(id, start, count, status, sealed) "
    "WHERE t.id = v.id AND t.sample_count = v.start")


def insert_samples(user: User, rows: list[dict], now) -> dict[str, int]:
    """Insert plain scans (dicts of tube_id, resident_id, round_id, site_id, client_id, position)
    in one statement; the new sample ids by client_id."""
    if _postgres():
        found = db.session.execute(_PG_INSERT, {
            "sampler_id": user.id, "now": now, **{f"{key}s": [row[key] for row in rows] for key in
                                                  ("tube_id", "resident_id", "round_id", "site_id", "client_id",
                                                   "position")}})
        return dict((client_id, sample_id) for sample_id, client_id in found)
    full = [{**row, "sampler_id": user.id, "supplementary": False, "resample": False, "sampled_at": now}
            for row in rows]
    ids = db.session.execute(insert(Sample).returning(Sample.id, sort_by_parameter_order=True), full).scalars()
    return {row["client_id"]: sample_id for row, sample_id in zip(rows, ids, strict=True)}


def set_counts(changed: list[dict], now) -> None:
    """Set the tubes' counts and statuses (dicts of id, start, count, status, sealed) in one
    statement; each only if its count is still the one read under the lock."""
    if _postgres():
        db.session.execute(_PG_COUNTS, {
            "now": now, "ids": [t["id"] for t in changed], "starts": [t["start"] for t in changed],
            "counts": [t["count"] for t in changed], "statuses": [t["status"] for t in changed],
            "sealed": [t["sealed"] for t in changed]})
        return
    table = Tube.__table__
    db.session.execute(
        update(table).where(and_(table.c.id == bindparam("t_id"), table.c.sample_count == bindparam("t_start")))
        .values(sample_count=bindparam("t_count"), status=bindparam("t_status"),
                sealed_at=bindparam("t_sealed_at")),
        [{"t_id": t["id"], "t_start": t["start"], "t_count": t["count"], "t_status": t["status"],
          "t_sealed_at": now if t["sealed"] else None} for t in changed])
