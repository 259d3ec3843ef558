"""The sampling rules at service level, including real concurrent phones on one tube."""
import threading

import pytest
from sqlalchemy import func, select

from sampling.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.field import replay, samples, tubes
from sampling.models import Resident, Sample, Tube, User
from tests.field import cid, current_round, forged, make_residents, outcome_of, qr


@pytest.fixture
def field(demo_city, make_user):
    return {"round": current_round().id, "sampler": make_user("sampler", sites=("S-HP-001",)),
            "stranger": make_user("sampler", sites=("S-HD-001",)), "people": make_residents(40)}


def open_tube(field, code="T0001", capacity=10, user=None):
    return tubes.open_tube(user or field["sampler"], {"tube_code": code, "round_id": field["round"],
                                                      "site_code": "S-HP-001", "capacity": capacity})


def scan(field, person, code="T0001", user=None, **extra):
    return samples.add_sample(user or field["sampler"], code, {"qr": qr(person), "client_id": cid(), **extra})


def test_a_tube_code_is_used_once_ever(field):
    open_tube(field)
    with pytest.raises(Conflict) as refused:
        open_tube(field, capacity=5)
    assert refused.value.code == "tube_code_used"


def test_full_tube_is_sealed_and_accepts_nothing_more(field):
    open_tube(field, capacity=5)
    answers = [scan(field, p).body for p in field["people"][:5]]
    assert [a["tube"]["count"] for a in answers] == [1, 2, 3, 4, 5]
    assert answers[-1]["tube"]["status"] == "sealed"
    tube = db.session.scalar(select(Tube).where(Tube.code == "T0001"))
    assert tube.status == "sealed" and tube.sealed_at is not None and tube.sample_count == 5
    with pytest.raises(Conflict) as refused:
        scan(field, field["people"][5])
    assert refused.value.code == "tube_sealed"


def test_resident_once_per_tube_and_flagged_once_per_round(field):
    open_tube(field)
    open_tube(field, "T0002")
    person = field["people"][0]
    scan(field, person)
    with pytest.raises(Conflict) as twice:
        scan(field, person)
    assert twice.value.code == "already_in_tube"
    with pytest.raises(samples.AlreadySampled) as again:
        scan(field, person, "T0002")
    assert again.value.previous["site_code"] == "S-HP-001" and again.value.previous["tube_code"] == "T0001"
    assert not scan(field, person, "T0002", resample=True).repeat
    flags = db.session.execute(select(Sample.resample).where(Sample.resident_id == person.id)
                               .order_by(Sample.id)).scalars().all()
    assert flags == [False, True]


def test_resample_without_an_earlier_sample_is_an_ordinary_sample(field):
    open_tube(field)
    scan(field, field["people"][0], resample=True)
    assert db.session.scalar(select(Sample.resample)) is False


def test_samplers_work_only_at_their_sites(field):
    with pytest.raises(Forbidden):
        open_tube(field, user=field["stranger"])
    open_tube(field)
    with pytest.raises(Forbidden):
        scan(field, field["people"][0], user=field["stranger"])
    with pytest.raises(Forbidden):
        tubes.seal_tube(field["stranger"], "T0001")
    assert db.session.scalar(select(Tube.sample_count)) == 0


def test_forged_and_unknown_codes_are_refused(field):
    open_tube(field)
    genuine = qr(field["people"][0])
    for code in ("", "hello", forged(field["people"][0]), genuine[:-3]):
        with pytest.raises(ValidationFailed) as refused:
            samples.add_sample(field["sampler"], "T0001", {"qr": code, "client_id": cid()})
        assert refused.value.code == "invalid_code"
    from sampling.residents import codes
    with pytest.raises(ValidationFailed):  # a genuine signature for a resident who does not exist
        samples.add_sample(field["sampler"], "T0001", {"qr": codes.token_for(999999), "client_id": cid()})
    with pytest.raises(NotFound):
        scan(field, field["people"][0], "NOTATUBE")


def test_undo_only_while_open_and_a_replayed_add_stays_undone(field):
    open_tube(field, capacity=5)
    op = cid()
    person = field["people"][0]
    first = samples.add_sample(field["sampler"], "T0001", {"qr": qr(person), "client_id": op}).body
    samples.undo_sample(field["sampler"], first["sample_id"])
    assert db.session.scalar(select(Tube.sample_count)) == 0
    again = samples.add_sample(field["sampler"], "T0001", {"qr": qr(person), "client_id": op})
    assert again.repeat and again.body == first
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 0
    for p in field["people"][1:6]:
        last = scan(field, p).body
    with pytest.raises(Conflict) as refused:
        samples.undo_sample(field["sampler"], last["sample_id"])
    assert refused.value.code == "tube_sealed"


def test_supplementary_registration_creates_or_finds_the_resident(field):
    open_tube(field)
    open_tube(field, "T0002")
    details = {"name": "李四", "id_type": "resident_id_card", "id_number": field["people"][0].id_number[:-1] + "0",
               "phone": "13800000000"}
    from tests.field import id_number
    details["id_number"] = id_number(7, "20000101")
    added = samples.add_sample(field["sampler"], "T0001", {"resident": details, "client_id": cid()})
    body = added.body
    resident = db.session.scalar(select(Resident).where(Resident.name == "李四"))
    assert not added.repeat and resident.source == "supplementary" and resident.community.code == "120101001001"
    sample = db.session.get(Sample, body["sample_id"])
    assert sample.supplementary is True
    samples.add_sample(field["sampler"], "T0002", {"resident": details, "client_id": cid(), "resample": True})
    assert db.session.scalar(select(func.count()).select_from(Resident).where(Resident.name == "李四")) == 1


def _concurrently(make_app, jobs):
    """Run each job(app) in its own thread with its own app context (its own DB session). The apps
    are built first, here (building apps is not meant to be done by threads at once); a job that
    cannot start lets the others go on after a while instead of hanging the run."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    outcomes = [None] * len(jobs)
    apps = [make_app() for _job in jobs]

    def run(i, job):
        app = apps[i]
        with app.app_context():
            try:
                barrier.wait()
                outcomes[i] = job()
            except Exception as exc:  # noqa: BLE001  (collected and asserted on)
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_two_phones_filling_one_tube_never_overfill_it(field, make_app):
    open_tube(field, capacity=10)
    people = [p.id for p in field["people"][:30]]
    user_id = field["sampler"].id
    halves = (people[0::2], people[1::2])

    def phone(ids):
        def job():
            user = db.session.get(User, user_id)
            answers = []
            for rid in ids:
                try:
                    answers.append(outcome_of(samples.add_sample(user, "T0001", {
                        "qr": qr(db.session.get(Resident, rid)), "client_id": cid()})))
                except Conflict as exc:
                    answers.append(exc.code)
            return answers
        return job

    outcomes = _concurrently(make_app, [phone(halves[0]), phone(halves[1])])
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
    admitted = sum(a == "done" for outcome in outcomes for a in outcome)
    refused = [a for outcome in outcomes for a in outcome if a != "done"]
    db.session.expire_all()
    tube = db.session.scalar(select(Tube).where(Tube.code == "T0001"))
    assert admitted == 10 and tube.sample_count == 10 and tube.status == "sealed"
    assert set(refused) <= {"tube_sealed", "tube_full"} and len(refused) == 20
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 10


def test_two_phones_opening_the_same_code_one_wins(field, make_app):
    user_id = field["sampler"].id

    def job():
        user = db.session.get(User, user_id)
        try:
            return outcome_of(tubes.open_tube(user, {"tube_code": "RACE1", "round_id": field["round"],
                                                     "site_code": "S-HP-001"}))
        except Conflict as exc:
            return exc.code

    assert sorted(map(str, _concurrently(make_app, [job, job, job]))) == ["done", "tube_code_used", "tube_code_used"]


def test_phones_scanning_sealing_and_undoing_at_one_site_never_deadlock(field, make_app, is_postgres):
    """Six phones at one site, each filling its own tubes of 5 (every fifth scan seals a tube) and
    undoing some scans, at once: every scan and undo succeeds (the statistics triggers take the
    site's counter row first, so they never wait on each other in a cycle) and the counters stay exact."""
    from tests.test_stats_aggregates import assert_exact
    if not is_postgres:
        pytest.skip("row locks: PostgreSQL")
    user_id, people = field["sampler"].id, [p.id for p in make_residents(120, start=100)]
    for n in range(6):
        for t in range(4):
            open_tube(field, f"DL{n}{t}", capacity=5)

    def phone(n):
        def job():
            user, answers = db.session.get(User, user_id), []
            for i, rid in enumerate(people[n * 20:(n + 1) * 20]):
                added = samples.add_sample(user, f"DL{n}{i // 5}", {"qr": qr(db.session.get(Resident, rid)),
                                                                   "client_id": cid()})
                answers.append(outcome_of(added))
                if i % 7 == 1:
                    samples.undo_sample(user, added.body["sample_id"])
                    answers.append("undone")
            return answers
        return job

    outcomes = _concurrently(make_app, [phone(n) for n in range(6)])
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
        assert set(outcome) == {"done", "undone"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 6 * (20 - 3)
    assert_exact()


def test_one_resident_scanned_into_two_tubes_at_once_is_admitted_once(field, make_app):
    """Two phones scan the same person at the same moment into two tubes: the partial unique index
    on (round, resident) lets one in; the other is told where the person was sampled."""
    user_id = field["sampler"].id
    for attempt in range(3):
        open_tube(field, f"TW{attempt}A")
        open_tube(field, f"TW{attempt}B")
        token = qr(field["people"][attempt])

        def phone(code, token=token):
            def job():
                try:
                    return samples.add_sample(db.session.get(User, user_id), code, {"qr": token, "client_id": cid()})
                except Conflict as exc:
                    return exc
            return job

        outcomes = _concurrently(make_app, [phone(f"TW{attempt}A"), phone(f"TW{attempt}B")])
        admitted = [o for o in outcomes if isinstance(o, replay.Outcome)]
        refused = [o for o in outcomes if isinstance(o, samples.AlreadySampled)]
        assert len(admitted) == 1 and not admitted[0].repeat and len(refused) == 1, outcomes
        db.session.expire_all()
        where = db.session.scalar(select(Tube.code).join(Sample, Sample.tube_id == Tube.id)
                                  .where(Sample.resident_id == field["people"][attempt].id))
        assert refused[0].previous["tube_code"] == where
        assert db.session.scalar(select(func.count()).select_from(Sample)
                                 .where(Sample.resident_id == field["people"][attempt].id)) == 1


def test_one_client_id_sent_twice_at_once_lands_once_with_one_answer(field, make_app):
    """A phone's retry overtakes its first request: both get the same body (done, then a repeat), one sample."""
    open_tube(field)
    user_id = field["sampler"].id
    for attempt in range(3):
        body = {"qr": qr(field["people"][attempt]), "client_id": cid()}

        def job(body=body):
            return samples.add_sample(db.session.get(User, user_id), "T0001", dict(body))

        outcomes = _concurrently(make_app, [job, job])
        assert all(isinstance(o, replay.Outcome) for o in outcomes), outcomes
        assert sorted(outcome_of(o) for o in outcomes) == ["done", "repeat"]
        assert outcomes[0].body == outcomes[1].body and outcomes[0].body["tube"]["count"] == attempt + 1
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Sample)
                                 .where(Sample.client_id == body["client_id"])) == 1
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "T0001")) == 3
