"""Samples: a resident's swab scanned into a tube (by their code, or registered on the spot), and undo.

The rules hold in the database, whatever phones do at the same moment:
- one atomic ``UPDATE tubes ... WHERE status='open' AND sample_count < capacity`` admits the
  sample and seals the tube when it becomes full; the CHECK on sample_count backs it;
- UNIQUE(tube_id, resident_id): a resident is in a tube at most once;
- a partial unique index on (round_id, resident_id) for ordinary samples: a second sample of a
  resident in one round must be asked for with ``resample: true`` (a deliberate retest);
- UNIQUE(client_id): a retried scan lands once.
"""
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from sampling.errors import Conflict, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.field import admission, replay
from sampling.field.tubes import FIELD_ROLES, find_tube, unknown_tube
from sampling.kernel import ids
from sampling.kernel.access import require_role, require_site
from sampling.models import Resident, ResidentSource, Sample, Site, Tube, TubeStatus, User
from sampling.residents import codes, registration


class AlreadySampled(Conflict):
    """The resident has an ordinary sample in this round already; the body says where and when."""

    default_code = "already_sampled_this_round"
    default_message = _l("This resident has already been sampled in this round. "
                         "Send it again as a resample only if a retest is intended.")

    def __init__(self, previous: dict):
        super().__init__()
        self.previous = previous

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["previous"] = self.previous
        return body


def already_in_tube() -> Conflict:
    return Conflict(_l("This resident is already in this tube."), code="already_in_tube")


def tube_sealed() -> Conflict:
    return Conflict(_l("This tube is sealed; open a new tube."), code="tube_sealed")


def tube_full() -> Conflict:
    return Conflict(_l("This tube is full; open a new tube."), code="tube_full")


class Clash(Exception):
    """A unique constraint refused the sample; the transaction must be rolled back, then
    :meth:`explain` says why (a replay answer, or the DomainError to raise)."""

    def __init__(self, user: User, client_id: str, tube_code: str, resident_id: int | None):
        super().__init__(client_id)
        self.user, self.client_id, self.tube_code, self.resident_id = user, client_id, tube_code, resident_id

    def explain(self) -> replay.Outcome:
        earlier = replayed_add(self.user, self.client_id)
        if earlier is not None:
            return replay.Outcome(earlier, repeat=True)
        tube = find_tube(self.tube_code)
        if self.resident_id is not None:
            if db.session.scalar(select(Sample.id).where(Sample.tube_id == tube.id,
                                                          Sample.resident_id == self.resident_id)):
                raise already_in_tube()
            previous = previous_sample(tube.round_id, self.resident_id)
            if previous is not None:
                raise AlreadySampled(previous)
        raise Conflict(code="conflict")


def sample_body(sample_id: int, resident: Resident, position: int, capacity: int) -> dict:
    """The answer to an admitted sample: the tube as it was right after this sample went in."""
    status = TubeStatus.SEALED.value if position >= capacity else TubeStatus.OPEN.value
    return {"sample_id": sample_id, "resident": registration.masked(resident),
            "tube": {"count": position, "capacity": capacity, "status": status}}


def replayed_add(user: User, client_id: str) -> dict | None:
    """The first answer to the user's add with this client_id, if it was admitted (even if undone
    since); Conflict ``client_id_reused`` when the client_id is another user's."""
    row = db.session.execute(select(Sample, Tube.capacity).join(Tube, Sample.tube_id == Tube.id)
                             .where(Sample.client_id == client_id)).first()
    if row is not None:
        sample, capacity = row
        replay.check_owner(user, sample.sampler_id)
        return sample_body(sample.id, sample.resident, sample.position, capacity)
    earlier = replay.recorded(user, client_id)
    return earlier.body if earlier is not None else None


def previous_sample(round_id: int, resident_id: int) -> dict | None:
    """Where and when the resident's ordinary sample of this round was taken."""
    row = db.session.execute(
        select(Sample.sampled_at, Site.code, Site.name, Tube.code)
        .join(Site, Sample.site_id == Site.id).join(Tube, Sample.tube_id == Tube.id)
        .where(Sample.round_id == round_id, Sample.resident_id == resident_id, Sample.resample.is_(False))).first()
    if row is None:
        return None
    return {"sampled_at": row[0].isoformat(), "site_code": row[1], "site_name": row[2], "tube_code": row[3]}


def _flag(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValidationFailed(fields={name: _l("Must be true or false.")})
    return value


def _refusal(user: User, tube_code: str, client_id: str, resident_id: int, version: int) -> replay.Outcome:
    """Why the tube took no place: a replay (answered), or the refusal to raise."""
    earlier = replayed_add(user, client_id)
    if earlier is not None:
        return replay.Outcome(earlier, repeat=True)
    resident = db.session.get(Resident, resident_id)
    if resident is None:  # a genuine signature, but no such resident
        raise codes.InvalidCode()
    codes.check_version(version, resident.code_version)  # a code replaced by a re-bind
    tube = find_tube(tube_code)
    require_site(user, tube.site)
    if tube.status != TubeStatus.OPEN.value:
        raise tube_sealed()
    raise tube_full()


def apply_add(user: User, tube_code, data: dict) -> replay.Outcome:
    """Add a resident to an open tube in the current transaction, by scanned code (``qr``) or by
    supplementary registration (``resident``): the sample and its tube, or the first answer marked
    as a repeat.
    Raises a DomainError, or :class:`Clash` (roll back, then ``explain()``)."""
    require_role(user, FIELD_ROLES)
    client_id = replay.clean_client_id(data.get("client_id"))
    if not isinstance(tube_code, str):
        raise unknown_tube(tube_code)
    supplementary = data.get("resident") is not None
    if supplementary and data.get("qr") is not None:
        raise ValidationFailed(fields={"resident": _l("Send either qr (the scanned code) or resident (the details "
                                                      "of someone without a code), not both.")})
    if supplementary:
        resident = _register_on_site(user, tube_code, data.get("resident"), client_id)
        if isinstance(resident, dict):
            return replay.Outcome(resident, repeat=True)
        resident_id, version = resident.id, resident.code_version
    else:
        resident_id, version = codes.read(data.get("qr"))  # CPU only: the HMAC
    resample_of = (lambda round_id: previous_sample(round_id, resident_id) is not None) \
        if _flag(data, "resample") else None
    try:
        row = admission.admit(user, tube_code, client_id, resident_id, supplementary, resample_of, version)
    except IntegrityError:
        raise Clash(user, client_id, tube_code, resident_id) from None
    if row is None:
        return _refusal(user, tube_code, client_id, resident_id, version)
    sample_id, count, capacity, name, id_number = row
    return replay.Outcome(sample_body(sample_id, SimpleNamespace(name=name, id_number=id_number), count, capacity))


def _register_on_site(user: User, tube_code: str, details, client_id: str) -> Resident | dict:
    """补充登记: find or create the resident from their details (their community defaults to the
    site's; the phone is optional: this is for people without one). Returns the earlier answer
    instead when this client_id was admitted before."""
    earlier = replayed_add(user, client_id)
    if earlier is not None:
        return earlier
    if not isinstance(details, dict):
        raise ValidationFailed(fields={"resident": _l("Give the resident's details.")})
    tube = find_tube(tube_code)
    require_site(user, tube.site)
    resident, _created = registration.register(details, source=ResidentSource.SUPPLEMENTARY.value,
                                            phone_required=False, community_required=False,
                                            default_community=tube.site.community)
    return resident


def add_sample(user: User, tube_code, data: dict) -> replay.Outcome:
    """Add a sample and commit (see :func:`apply_add`)."""
    try:
        result = apply_add(user, tube_code, data)
        db.session.commit()
        return result
    except Clash as clash:
        db.session.rollback()
        return clash.explain()
    except BaseException:
        db.session.rollback()
        raise


def find_sample(sample_id=None, client_id: str | None = None) -> Sample:
    """The sample by its id or by the client_id of the scan that added it, or NotFound."""
    sample = None
    if isinstance(sample_id, int) and not isinstance(sample_id, bool):
        sample = db.session.get(Sample, sid) if (sid := ids.db_id(sample_id, big=True)) else None
    elif isinstance(client_id, str):
        sample = db.session.scalar(select(Sample).where(Sample.client_id == client_id))
    if sample is None:
        raise NotFound(_l("Unknown sample; it may have been undone already."), code="unknown_sample")
    return sample


def apply_undo(user: User, sample_id=None, sample_client_id: str | None = None,
               client_id: str | None = None) -> replay.Outcome:
    """Take a sample out of its tube while the tube is open (one atomic decrement). The add it
    undoes stays answered: repeating that add later changes nothing."""
    require_role(user, FIELD_ROLES)
    if replay.recorded(user, client_id) is not None:
        return replay.Outcome(None, repeat=True)
    sample = find_sample(sample_id, replay.clean_client_id(sample_client_id, required=False))
    tube = sample.tube
    require_site(user, tube.site)
    taken = db.session.scalar(
        update(Tube).where(Tube.id == tube.id, Tube.status == TubeStatus.OPEN.value, Tube.sample_count > 0)
        .values(sample_count=Tube.sample_count - 1).returning(Tube.id).execution_options(synchronize_session=False))
    if taken is None:
        raise Conflict(_l("This tube is sealed; a sample can no longer be taken out."), code="tube_sealed")
    if sample.client_id is not None:
        # the add stays answered to the sampler who sent it (whoever undoes it)
        replay.record(sample.client_id, "add_sample", sample.sampler_id,
                      sample_body(sample.id, sample.resident, sample.position, tube.capacity))
    db.session.delete(sample)
    db.session.flush()
    replay.record(client_id, "undo", user.id, None)
    return replay.Outcome(None)


def undo_sample(user: User, sample_id) -> None:
    """Undo a sample by id and commit."""
    from sampling.field.tubes import committed
    committed(apply_undo, user, sample_id)
