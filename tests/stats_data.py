"""A known small round in the demo city, written straight into the tables (ORM and bulk SQL),
as scanning, undo, sealing and the lab would leave it; the expected figures are listed below."""
from datetime import UTC, datetime

from sqlalchemy import bindparam, insert, select, text, update

from sampling.extensions import db
from sampling.models import Region, Resident, Round, Sample, Site, Tube
from sampling.models.base import UTCDateTime

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


# registered residents per community
REGISTERED = {"120101001001": 5, "120101001002": 3, "120101002001": 2, "120102001001": 2}
# per site: samples, supplementary, people, tubes, open, sealed, boxed, resulted
SITES = {
    "S-HP-001": dict(samples=7, supplementary=1, sampled=6, tubes=2, tubes_open=1, tubes_sealed=1, tubes_boxed=0,
                     tubes_resulted=0),
    "S-HP-002": dict(samples=2, supplementary=0, sampled=2, tubes=1, tubes_open=0, tubes_sealed=0, tubes_boxed=1,
                     tubes_resulted=0),
    "S-HP-003": dict(samples=0, supplementary=0, sampled=0, tubes=1, tubes_open=1, tubes_sealed=0, tubes_boxed=0,
                     tubes_resulted=0),
    "S-HD-001": dict(samples=2, supplementary=0, sampled=2, tubes=1, tubes_open=0, tubes_sealed=0, tubes_boxed=0,
                     tubes_resulted=1),
    "S-HD-002": dict(samples=0, supplementary=0, sampled=0, tubes=0, tubes_open=0, tubes_sealed=0, tubes_boxed=0,
                     tubes_resulted=0),
    "S-HX-001": dict(samples=0, supplementary=0, sampled=0, tubes=0, tubes_open=0, tubes_sealed=0, tubes_boxed=0,
                     tubes_resulted=0),
}
# (hour, samples, people first sampled) with the round from 08:00 to 12:00 (an empty last hour)
HOURLY = [(at(8), 5, 5), (at(9), 4, 3), (at(10), 2, 2), (at(11), 0, 0)]


def build_known_round(sampler_ids=(None, None)) -> dict:
    """Create the round; ``sampler_ids`` are the users who scan at 和平区 and 河东区 sites."""
    communities = {r.code: r.id for r in db.session.scalars(select(Region).where(Region.level == "community"))}
    sites = {s.code: s.id for s in db.session.scalars(select(Site))}
    rnd = Round(name="测试轮", pool_size=10, starts_at=at(8), ends_at=at(12))
    db.session.add(rnd)
    db.session.flush()
    residents = {}
    n = 0
    for code, count in REGISTERED.items():  # r1..r12, by ORM
        for _ in range(count):
            n += 1
            resident = Resident(name=f"居民{n}", id_type="other", id_number=f"T{n:05d}", community_id=communities[code])
            db.session.add(resident)
            residents[n] = resident
    db.session.flush()
    residents = {k: v.id for k, v in residents.items()}
    # r13: a visitor with no community, by bulk SQL
    db.session.execute(insert(Resident), [{"name": "访客", "id_type": "passport", "id_number": "E0000013",
                                           "source": "supplementary"}])
    residents[13] = db.session.scalar(select(Resident.id).where(Resident.id_number == "E0000013"))

    def tube(code, site):
        t = Tube(code=code, round_id=rnd.id, site_id=sites[site], capacity=10, status="open", opened_at=at(8))
        db.session.add(t)
        db.session.flush()
        return t

    t1, t2, t3 = tube("T1", "S-HP-001"), tube("T2", "S-HP-001"), tube("T3", "S-HP-002")
    tube("T5", "S-HP-003")
    t4 = tube("T4", "S-HD-001")
    hp, hd = sampler_ids

    def scan(t, r, when, supplementary=False, sampler=hp):
        again = db.session.scalar(select(Sample.id).where(Sample.round_id == rnd.id,
                                                          Sample.resident_id == residents[r]).limit(1))
        db.session.add(Sample(tube_id=t.id, resident_id=residents[r], round_id=rnd.id, site_id=t.site_id,
                              sampler_id=sampler, supplementary=supplementary, sampled_at=when,
                              resample=again is not None))
        db.session.execute(text("UPDATE tubes SET sample_count = sample_count + 1 WHERE id = :id"), {"id": t.id})
        db.session.flush()

    for r, m in ((1, 10), (2, 20), (3, 50)):
        scan(t1, r, at(8, m))
    scan(t3, 6, at(8, 30))
    scan(t3, 8, at(8, 35))   # r8 first sampled at S-HP-002 ... (undone below)
    scan(t3, 7, at(8, 30))
    scan(t2, 4, at(9, 5))
    scan(t2, 13, at(9, 10), supplementary=True)
    scan(t2, 1, at(9, 15))   # r1 resampled: one person, two samples
    scan(t2, 8, at(9, 20))   # ... and again at S-HP-001
    scan(t2, 5, at(9, 25))   # r5 scanned by mistake (undone below)
    scan(t4, 11, at(10, 0), sampler=hd)
    scan(t4, 12, at(10, 5), sampler=hd)
    # undo (as scanning does while the tube is open): plain DELETEs
    db.session.execute(text("DELETE FROM samples WHERE tube_id = :t AND resident_id = :r"),
                       {"t": t3.id, "r": residents[8]})
    db.session.execute(text("DELETE FROM samples WHERE tube_id = :t AND resident_id = :r"),
                       {"t": t2.id, "r": residents[5]})
    db.session.execute(text("UPDATE tubes SET sample_count = sample_count - 1 WHERE id IN (:a, :b)"),
                       {"a": t3.id, "b": t2.id})
    # sealing, boxing, the lab: plain UPDATEs
    db.session.execute(update(Tube).where(Tube.id == t1.id).values(status="sealed", sealed_at=at(9)))
    db.session.execute(update(Tube).where(Tube.id.in_([t3.id, t4.id])).values(status="sealed", sealed_at=at(10, 10)))
    db.session.execute(text("UPDATE tubes SET status = 'boxed' WHERE id = :id"), {"id": t3.id})
    db.session.execute(text("UPDATE tubes SET status = 'received' WHERE id = :id"), {"id": t4.id})
    db.session.execute(text("UPDATE tubes SET status = 'resulted' WHERE id = :id"), {"id": t4.id})
    db.session.commit()
    return {"round": rnd, "residents": residents, "tubes": {"T1": t1.id, "T2": t2.id, "T3": t3.id, "T4": t4.id}}


# per site after post_results: tubes by status and the lab's figures
LAB_SITES = {
    "S-HP-001": dict(tubes=2, tubes_open=1, tubes_sealed=0, tubes_received=1, tubes_resulted=0, positive_pools=0,
                     positive_members=0, positive_individuals=0, invalid_pools=0, invalid_members=0,
                     invalid_individuals=0, negative_pools=0, turnaround_minutes=None),
    "S-HP-002": dict(tubes=3, tubes_open=0, tubes_sealed=0, tubes_received=0, tubes_resulted=3, positive_pools=1,
                     positive_members=2, positive_individuals=1, invalid_pools=0, invalid_members=0,
                     invalid_individuals=1, negative_pools=0, turnaround_minutes=140.0),
    "S-HP-003": dict(tubes=1, tubes_open=0, tubes_sealed=0, tubes_received=0, tubes_resulted=1, positive_pools=0,
                     positive_members=0, positive_individuals=0, invalid_pools=1, invalid_members=2,
                     invalid_individuals=0, negative_pools=0, turnaround_minutes=240.0),
    "S-HD-001": dict(tubes=1, tubes_open=0, tubes_sealed=0, tubes_received=0, tubes_resulted=1, positive_pools=0,
                     positive_members=0, positive_individuals=0, invalid_pools=0, invalid_members=0,
                     invalid_individuals=0, negative_pools=1, turnaround_minutes=240.0),
}
# positives.followup_by_site after post_results: (positive pool members, resulted, invalid tube people, resulted)
LAB_FOLLOWUP = {"S-HP-002": (2, 1, 1, 0), "S-HP-003": (0, 0, 2, 0)}


def _fill_and_seal(data: dict, tube_id: int, people: list[tuple[int, datetime]]) -> int:
    """Scan residents (r, time) into a tube and seal it at the last one's time."""
    tube, rnd = db.session.get(Tube, tube_id), data["round"]
    for r, when in people:
        db.session.add(Sample(tube_id=tube.id, resident_id=data["residents"][r], round_id=rnd.id,
                              site_id=tube.site_id, sampled_at=when, resample=r in (6, 7)))
        db.session.execute(text("UPDATE tubes SET sample_count = sample_count + 1 WHERE id = :id"), {"id": tube.id})
        db.session.flush()
    db.session.execute(update(Tube).where(Tube.id == tube.id).values(status="sealed", sealed_at=people[-1][1]))
    return tube.id


def _single_tube(data: dict, code: str, site_code: str, when: datetime) -> int:
    tube = Tube(code=code, round_id=data["round"].id, site_id=db.session.scalar(
        select(Site.id).where(Site.code == site_code)), capacity=1, status="open", opened_at=when)
    db.session.add(tube)
    db.session.flush()
    return tube.id


def post_results(data: dict) -> None:
    """The lab's part, by plain UPDATEs (see LAB_SITES, LAB_FOLLOWUP). T1 (S-HP-001) received, no
    result yet; T3 (S-HP-002, r6 and r7) positive after 3 hours; T4 (S-HD-001) negative after 4 hours;
    T5 (S-HP-003) gets r9 and r10 and is invalid after 4 hours; r6 and r7 are retested alone
    (1-in-1 tubes R6, R7 at S-HP-002) after the positive pool: r6 positive, r7 invalid, 2 hours each."""
    tubes = data["tubes"]
    stamp = bindparam("t", type_=UTCDateTime())
    tubes["T5"] = _fill_and_seal(data, db.session.scalar(select(Tube.id).where(Tube.code == "T5")),
                                 [(9, at(11)), (10, at(11, 30))])
    for code, r, when in (("R6", 6, at(15)), ("R7", 7, at(15, 5))):
        tubes[code] = _fill_and_seal(data, _single_tube(data, code, "S-HP-002", when), [(r, when)])
    db.session.execute(text("UPDATE tubes SET status = 'received', received_at = :t WHERE id = :id").bindparams(
        stamp), {"id": tubes["T1"], "t": at(11)})
    for code, result, when in (("T3", "positive", at(13, 10)), ("T4", "negative", at(14, 10)),
                               ("T5", "invalid", at(15, 30)), ("R6", "positive", at(17)),
                               ("R7", "invalid", at(17, 5))):
        db.session.execute(text("UPDATE tubes SET status = 'resulted', result = :r, resulted_at = :t "
                                "WHERE id = :id").bindparams(stamp), {"id": tubes[code], "r": result, "t": when})
    db.session.commit()
