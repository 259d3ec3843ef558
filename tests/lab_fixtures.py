"""Helpers for the lab tests: residents, and sealed tubes with their samples, made with the ORM
(the scanning service that fills tubes in the field is another feature)."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sampling.extensions import db
from sampling.lab import boxes
from sampling.models import Region, Resident, Round, Sample, Site, Tube

T0 = datetime(2026, 11, 22, 0, 30, tzinfo=UTC)


def the_round() -> Round:
    return db.session.scalars(select(Round).order_by(Round.id)).first()


def resident(n: int, community: str | None = "120101001001", **extra) -> Resident:
    region = db.session.scalar(select(Region).where(Region.code == community)) if community else None
    person = Resident(name=extra.pop("name", f"张{n:03d}"), id_type="resident_id_card",
                      id_number=f"1201011990{n:08d}", phone=extra.pop("phone", f"138{n:08d}"),
                      address=extra.pop("address", f"新华路{n}号"), community=region, **extra)
    db.session.add(person)
    db.session.flush()
    return person


def sealed_tube(code: str, site: str, people, capacity: int = 10, sampler=None, at: datetime = T0,
                rnd: Round | None = None, status: str = "sealed") -> Tube:
    """A tube sealed at ``at`` with one sample per person, a minute apart before it."""
    site_row = db.session.scalar(select(Site).where(Site.code == site))
    rnd = rnd or the_round()
    tube = Tube(code=code, round_id=rnd.id, site_id=site_row.id, capacity=capacity, sample_count=len(people),
                status=status, opened_at=at - timedelta(minutes=len(people) + 1),
                sealed_at=at if status != "open" else None)
    db.session.add(tube)
    db.session.flush()
    for i, person in enumerate(people):
        again = db.session.scalar(select(Sample.id).where(Sample.round_id == rnd.id,
                                                          Sample.resident_id == person.id).limit(1))
        db.session.add(Sample(tube_id=tube.id, resident_id=person.id, round_id=rnd.id, site_id=site_row.id,
                              sampler_id=sampler.id if sampler else None, resample=again is not None,
                              sampled_at=at - timedelta(minutes=len(people) - i)))
    db.session.flush()
    return tube


def sample_of(person: Resident, tube: Tube) -> Sample:
    return db.session.scalar(select(Sample).where(Sample.resident_id == person.id, Sample.tube_id == tube.id))


def at_the_lab(sampler, lab, box_code: str, tube_codes) -> None:
    """The sealed tubes boxed by ``sampler``, handed over, and received by ``lab``."""
    boxes.create_box(sampler, box_code)
    for code in tube_codes:
        boxes.add_tube(sampler, box_code, code)
    boxes.hand_over(sampler, box_code)
    boxes.receive(lab, box_code)
