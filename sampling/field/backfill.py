"""Backfill (补录): coordinators enter people who were sampled on paper forms, after the fact.

Each entry is a person's details with the tube code and the time of sampling. The tube may not
exist yet (the whole tube was on paper): it is then created at the given site (in the
coordinator's region), **sealed** — the paper tube has left the site — with the round's pool size.
An existing tube of the round takes the entry whatever its state (a sealed or even a resulted tube:
a positive pool needs every member), but never beyond its capacity. An entry already recorded in
the tube is reported as such and changes nothing, so a file can be uploaded again safely. Someone
already sampled in the round elsewhere is recorded as a resample and reported.
"""
from datetime import UTC, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError

from sampling.errors import Conflict, DomainError, Forbidden, ValidationFailed
from sampling.extensions import db
from sampling.field import tubes
from sampling.field.rounds import list_rounds
from sampling.field.samples import previous_sample
from sampling.kernel import ids
from sampling.kernel.access import can_access_region, region_scope, require_role, require_site
from sampling.models import Region, ResidentSource, Role, Round, Sample, Site, Tube, TubeStatus, User
from sampling.models.base import utcnow
from sampling.residents import identity, registration

BEIJING = timezone(timedelta(hours=8))  # times on paper forms are local; China has no DST
STAFF = (Role.ADMIN, Role.COORDINATOR)
SLACK = timedelta(minutes=5)  # clocks differ: a time this close to the round's start or to now is taken
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M", "%Y.%m.%d %H:%M")
ALIASES = {"tube_code": ("管码", "试管编码", "试管条码"), "site_code": ("采样点编码",),
           "sampled_at": ("采样时间", "时间"),
           "name": ("姓名",), "id_type": ("证件类型",), "id_number": ("证件号码", "身份证号", "身份证号码"),
           "phone": ("手机号", "手机号码", "电话"), "address": ("地址", "住址"), "region_code": ("社区编码",)}
REQUIRED = ("tube_code", "sampled_at", "name", "id_number")
LABELS = {"round_id": _l("Round"), "tube_code": _l("Tube code"), "site_code": _l("Site code"),
          "sampled_at": _l("Time of sampling"), "name": _l("Name"), "id_type": _l("Document type"),
          "id_number": _l("Document number"), "phone": _l("Mobile number"), "address": _l("Address"),
          "region_code": _l("Community code")}
ID_TYPE_WORDS = {"身份证": "resident_id_card", "居民身份证": "resident_id_card", "护照": "passport",
                 "港澳居民来往内地通行证": "hk_macao_permit", "台湾居民来往大陆通行证": "taiwan_permit",
                 "外国人永久居留身份证": "foreign_permanent_resident", "其他": "other"}


def parse_time(raw) -> datetime:
    """A sampling time: ISO 8601, or 'YYYY-MM-DD HH:MM[:SS]' in Beijing time; not in the future."""
    text = raw.strip() if isinstance(raw, str) else ""
    value = None
    try:
        value = datetime.fromisoformat(text) if text else None
    except ValueError:
        for fmt in _FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    try:
        value = value.replace(tzinfo=value.tzinfo or BEIJING).astimezone(UTC) if value else None
    except OverflowError:  # a time at the very edge of the calendar (0001-01-01 in Beijing)
        value = None
    if value is None:
        raise ValidationFailed(fields={"sampled_at": _l("Give the time of sampling, e.g. 2022-01-10 08:30.")})
    if value > utcnow() + SLACK:
        raise ValidationFailed(fields={"sampled_at": _l("The time of sampling is in the future.")})
    return value


def _within_round(rnd: Round, at: datetime) -> None:
    """A sample of a round is taken while the round runs (give or take a few minutes of clocks)."""
    if at < rnd.starts_at - SLACK:
        raise ValidationFailed(fields={"sampled_at": _l("The time of sampling is before the round started (%(start)s).",
                                                        start=_local(rnd.starts_at))})
    if rnd.ends_at is not None and at > rnd.ends_at + SLACK:
        raise ValidationFailed(fields={"sampled_at": _l("The time of sampling is after the round ended (%(end)s).",
                                                        end=_local(rnd.ends_at))})


def _local(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _own_community(user: User, region_code) -> None:
    """A backfilled person's community (when given) must lie in the coordinator's region."""
    code = identity.normalize_text(region_code)
    community = db.session.scalar(select(Region).where(Region.code == code)) if code else None
    if community is not None and not can_access_region(user, community):
        raise Forbidden(fields={"region_code": _l("This community is outside your region.")},
                        code="forbidden_region")


def _tube_for(user: User, rnd: Round, code: str, site_code, at: datetime) -> Tube:
    tube = db.session.scalar(select(Tube).where(Tube.code == code))
    if tube is None:
        site = db.session.scalar(select(Site).where(Site.code == site_code.strip())) if isinstance(site_code, str) \
            else None
        if site is None:
            raise ValidationFailed(fields={"site_code": _l("A new tube needs the code of its site.")})
        require_site(user, site)
        if rnd.region is not None and not rnd.region.contains(site.community):
            raise ValidationFailed(fields={"site_code": _l("This site is outside the round's region.")},
                                   code="site_outside_round")
        tube = Tube(code=code, round_id=rnd.id, site_id=site.id, capacity=rnd.pool_size, sample_count=0,
                    status=TubeStatus.SEALED.value, opened_by_id=user.id, opened_at=at, sealed_at=at,
                    sealed_by_id=user.id)
        try:
            with db.session.begin_nested():
                db.session.add(tube)
        except IntegrityError:  # created at the same moment by another entry
            tube = db.session.scalar(select(Tube).where(Tube.code == code))
    require_site(user, tube.site)
    if tube.round_id != rnd.id:
        raise Conflict(_l("Tube %(code)s belongs to another round.", code=code), code="tube_other_round")
    return tube


def get_round(user: User, round_id) -> Round:
    """The round to backfill into (closed rounds too: forms arrive late), for coordinators and admins
    whose region it covers (or lies in)."""
    require_role(user, STAFF)
    number = round_id.strip() if isinstance(round_id, str) else round_id  # a form field may carry spaces
    rnd = db.session.get(Round, rid) if (rid := ids.db_id(number, text=True)) else None
    if rnd is None:
        raise ValidationFailed(fields={"round_id": _l("Unknown round.")})
    if not _shares_region(user, rnd):
        raise Forbidden(fields={"round_id": _l("This round does not cover your region.")}, code="forbidden_region")
    return rnd


def _shares_region(user: User, rnd: Round) -> bool:
    if user.role == Role.ADMIN.value or rnd.region is None:
        return True
    mine = user.region
    return mine is not None and (mine.contains(rnd.region) or rnd.region.contains(mine))


def page_choices(user: User) -> dict:
    """What the backfill page offers: the rounds that cover the user's region (newest first) and
    the sites in it, as (value, label) pairs."""
    require_role(user, STAFF)
    rounds = [(rnd.id, rnd.name) for rnd in list_rounds() if _shares_region(user, rnd)]
    sites = db.session.execute(select(Site.code, Site.name).join(Region, Site.community_id == Region.id)
                               .where(region_scope(user, Region.path)).order_by(Site.code)).all()
    return {"rounds": rounds, "sites": [(code, f"{code} {name}") for code, name in sites]}


def record(user: User, round_id, entry: dict) -> dict:
    """Backfill one entry in the current transaction: {outcome: added|exists, sample_id, flagged}."""
    rnd = get_round(user, round_id)
    code = tubes.clean_tube_code(entry.get("tube_code"))
    at = parse_time(entry.get("sampled_at"))
    _within_round(rnd, at)
    tube = _tube_for(user, rnd, code, entry.get("site_code"), at)
    details = {"id_type": "resident_id_card", **{k: v for k, v in entry.items() if v not in (None, "")}}
    details["id_type"] = ID_TYPE_WORDS.get(str(details["id_type"]).strip(), details["id_type"])
    _own_community(user, details.get("region_code"))
    resident, _created = registration.register(details, source=ResidentSource.SUPPLEMENTARY.value, phone_required=False,
                                            community_required=False, default_community=tube.site.community)
    if (earlier := _already_in(tube, resident)) is not None:
        return earlier
    flagged = previous_sample(rnd.id, resident.id) is not None
    count = db.session.scalar(
        update(Tube).where(Tube.id == tube.id, Tube.sample_count < Tube.capacity)
        .values(sample_count=Tube.sample_count + 1,
                status=case(((Tube.status == TubeStatus.OPEN.value) & (Tube.sample_count + 1 >= Tube.capacity),
                             TubeStatus.SEALED.value), else_=Tube.status))
        .returning(Tube.sample_count).execution_options(synchronize_session=False))
    if count is None:
        if (earlier := _already_in(tube, resident)) is not None:  # filled by this very entry meanwhile
            return earlier
        raise Conflict(_l("Tube %(code)s is full.", code=code), code="tube_full")
    sample_id = db.session.scalar(insert(Sample).values(
        tube_id=tube.id, resident_id=resident.id, round_id=rnd.id, site_id=tube.site_id, sampler_id=user.id,
        supplementary=True, resample=flagged, position=count, sampled_at=at).returning(Sample.id))
    return {"outcome": "added", "sample_id": sample_id, "flagged": flagged}


def _already_in(tube: Tube, resident) -> dict | None:
    existing = db.session.scalar(select(Sample.id).where(Sample.tube_id == tube.id, Sample.resident_id == resident.id))
    return None if existing is None else {"outcome": "exists", "sample_id": existing, "flagged": False}


def backfill_one(user: User, round_id, entry: dict) -> dict:
    """Backfill one entry and commit."""
    return tubes.committed(record, user, round_id, entry)


def outcome_message(outcome: dict) -> str:
    """What the report says about a recorded entry."""
    if outcome["outcome"] == "exists":
        return str(_l("Already recorded in this tube."))
    if outcome["flagged"]:
        return str(_l("Recorded; this person was already sampled in this round (marked as a resample)."))
    return str(_l("Recorded."))


def describe_refusal(exc: DomainError) -> str:
    """A refused entry as a coordinator reads it: each field's message after its localized label
    ("采样时间：…"), or the error's message."""
    return "; ".join(labelled(field, message) for field, message in exc.fields.items()) or str(exc.message)


def labelled(field: str, message) -> str:
    return str(_l("%(field)s: %(message)s", field=LABELS.get(field, field), message=message))


def column_name(field: str) -> str:
    """A column as the coordinator knows it: its label, and the Chinese header when that differs."""
    label, header = str(LABELS[field]), ALIASES[field][0]
    return label if label == header else str(_l("%(label)s (%(header)s)", label=label, header=header))
