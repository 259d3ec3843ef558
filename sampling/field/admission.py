"""The hot path of a scan: admitting a sample into a tube, in as few round trips as possible.

One atomic UPDATE takes a place in the tube — only if the tube is open and not full, at a site
where the caller may work, for a resident who exists with this code version, and for a client_id not seen before — and
seals the tube when this place fills it; the sample is INSERTed in the same transaction. On
PostgreSQL both are one statement (the UPDATE ... RETURNING is a CTE feeding the INSERT ... SELECT);
elsewhere two. The statements are built once per caller scope with bound parameters and kept, so
a scan costs no SQL construction, only execution.
"""
from sqlalchemy import bindparam, case, exists, false, select
from sqlalchemy.types import Boolean, Integer, String

from sampling.extensions import db
from sampling.kernel.access import site_scope
from sampling.models import ClientOperation, Resident, Role, Sample, Tube, TubeStatus, User
from sampling.models.base import UTCDateTime, utcnow

_tubes, _samples, _residents = Tube.__table__, Sample.__table__, Resident.__table__
_ops = ClientOperation.__table__
_CACHE: dict[tuple, object] = {}
_CACHE_LIMIT = 4096


def _params():
    return {"code": bindparam("p_code", type_=String()), "client_id": bindparam("p_client_id", type_=String()),
            "resident_id": bindparam("p_resident_id", type_=Integer()), "now": bindparam("p_now", type_=UTCDateTime()),
            "code_version": bindparam("p_code_version", type_=Integer())}


def _admit(user: User):
    p = _params()
    full = _tubes.c.sample_count + 1 >= _tubes.c.capacity
    return (_tubes.update()
            .where(_tubes.c.code == p["code"], _tubes.c.status == TubeStatus.OPEN.value,
                   _tubes.c.sample_count < _tubes.c.capacity, site_scope(user, _tubes.c.site_id),
                   exists().where(_residents.c.id == p["resident_id"],
                                  _residents.c.code_version == p["code_version"]),
                   ~exists().where(_samples.c.client_id == p["client_id"]),
                   ~exists().where(_ops.c.client_id == p["client_id"]))
            .values(sample_count=_tubes.c.sample_count + 1,
                    status=case((full, TubeStatus.SEALED.value), else_=_tubes.c.status),
                    sealed_at=case((full, p["now"]), else_=_tubes.c.sealed_at))
            .returning(_tubes.c.id, _tubes.c.site_id, _tubes.c.round_id, _tubes.c.capacity, _tubes.c.sample_count))


def _shown():
    rid = bindparam("p_resident_id", type_=Integer())
    return (select(_residents.c.name).where(_residents.c.id == rid).scalar_subquery(),
            select(_residents.c.id_number).where(_residents.c.id == rid).scalar_subquery())


def _admit_and_insert(user: User):
    """WITH admitted AS (UPDATE tubes ... RETURNING ...) INSERT INTO samples SELECT ... FROM admitted."""
    admitted = _admit(user).cte("admitted")
    p = _params()
    source = select(admitted.c.id, admitted.c.round_id, admitted.c.site_id, admitted.c.sample_count, false(),
                    p["resident_id"], bindparam("p_sampler_id", type_=Integer()), p["client_id"],
                    bindparam("p_supplementary", type_=Boolean()), p["now"])
    columns = ["tube_id", "round_id", "site_id", "position", "resample", "resident_id", "sampler_id", "client_id",
               "supplementary", "sampled_at"]
    return (_samples.insert().from_select(columns, source)
            .returning(_samples.c.id, _samples.c.position, select(admitted.c.capacity).scalar_subquery(), *_shown()))


def _insert():
    return _samples.insert().returning(_samples.c.id, *_shown())


def _statement(kind: str, user: User):
    """The statement of this kind for the user's scope, built once."""
    scope = (user.id if user.role == Role.SAMPLER.value
             else user.region.path if user.role == Role.COORDINATOR.value and user.region else None)
    key = (kind, db.session.get_bind().dialect.name, user.role, scope)
    statement = _CACHE.get(key)
    if statement is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        statement = _CACHE[key] = {"admit": _admit, "admit_insert": _admit_and_insert,
                                   "insert": lambda _user: _insert()}[kind](user)
    return statement


def admit(user: User, tube_code: str, client_id: str, resident_id: int, supplementary: bool,
          resample_of=None, code_version: int = 0) -> tuple | None:
    """Take a place in the tube and insert the sample. Returns (sample_id, count, capacity,
    resident name, resident document number), or None when the tube took no place (the caller
    finds out why). ``resample_of(round_id)`` — given for a requested resample — says whether the
    resident has an ordinary sample in the round (then the sample is stored as a resample).
    ``code_version`` is the scanned code's: a code replaced by a re-bind takes no place.
    Raises IntegrityError when a unique constraint refuses the sample (roll back)."""
    now = utcnow()
    params = {"p_code": tube_code, "p_client_id": client_id, "p_resident_id": resident_id, "p_now": now,
              "p_code_version": code_version}
    if db.session.get_bind().dialect.name == "postgresql" and resample_of is None:
        params.update(p_sampler_id=user.id, p_supplementary=supplementary)
        return db.session.execute(_statement("admit_insert", user), params).first()
    row = db.session.execute(_statement("admit", user), params).first()
    if row is None:
        return None
    tube_id, site_id, round_id, capacity, count = row
    inserted = db.session.execute(_statement("insert", user), {
        "tube_id": tube_id, "round_id": round_id, "site_id": site_id, "position": count, "resident_id": resident_id,
        "sampler_id": user.id, "client_id": client_id, "supplementary": supplementary, "sampled_at": now,
        "resample": bool(resample_of and resample_of(round_id)), "p_resident_id": resident_id}).one()
    return inserted[0], count, capacity, inserted[1], inserted[2]
