"""The chain of custody and results at service level: box, hand over, receive, result, and
every refusal on the way."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from sampling.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.lab import boxes, results
from sampling.models import Box, Tube, TubeEvent
from sampling.models.base import utcnow
from tests.lab_fixtures import resident, sealed_tube


@pytest.fixture
def staff(demo_city, make_user):
    return {"sampler": make_user("sampler", sites=("S-HP-001", "S-HP-002")),
            "other_sampler": make_user("sampler", sites=("S-HD-001",)),
            "lab": make_user("lab")}


def _rows(*pairs):
    return [results.make_row(None, code, result) for code, result in pairs]


def _received(staff, box_code, *tubes):
    boxes.create_box(staff["sampler"], box_code)
    for tube in tubes:
        boxes.add_tube(staff["sampler"], box_code, tube.code)
    boxes.hand_over(staff["sampler"], box_code)
    return boxes.receive(staff["lab"], box_code)


def test_tube_goes_sealed_boxed_received_resulted_with_who_and_when(staff):
    people = [resident(i) for i in range(3)]
    tube = sealed_tube("T-0001", "S-HP-001", people, capacity=5)
    db.session.commit()
    box = boxes.create_box(staff["sampler"], " B-0001 ")
    assert box.code == "B-0001" and box.status == "open"
    boxes.add_tube(staff["sampler"], "B-0001", "T-0001")
    boxes.add_tube(staff["sampler"], "B-0001", "T-0001")  # a second scan into the same box is harmless
    db.session.refresh(tube)
    assert tube.status == "boxed" and tube.box_id == box.id and tube.boxed_at is not None
    assert db.session.get(Box, box.id).tube_count == 1
    handed = boxes.hand_over(staff["sampler"], "B-0001")
    assert handed.status == "handed_over" and handed.handed_over_by_id == staff["sampler"].id
    received, count = boxes.receive(staff["lab"], "B-0001")
    assert count == 1 and received.status == "received" and received.received_by_id == staff["lab"].id
    db.session.refresh(tube)
    assert tube.status == "received" and tube.received_at >= tube.boxed_at >= tube.sealed_at
    report = results.post_results(staff["lab"], _rows(("T-0001", "阴性")))
    assert report["updated"] == 1 and report["positives"] == [] and report["rejected"] == []
    db.session.refresh(tube)
    assert tube.status == "resulted" and tube.result == "negative" and tube.resulted_at >= tube.received_at
    events = db.session.execute(select(TubeEvent.action, TubeEvent.user_id).where(TubeEvent.tube_id == tube.id)
                                .order_by(TubeEvent.id)).all()
    assert events == [("boxed", staff["sampler"].id), ("received", staff["lab"].id),
                      ("resulted", staff["lab"].id)]
    body = boxes.box_to_dict(received)
    assert body["received_by"] == staff["lab"].username and body["tubes"][0]["status"] == "resulted"


def test_box_refusals(staff):
    sealed_tube("TB-A", "S-HP-001", [resident(1)])
    sealed_tube("TB-B", "S-HP-001", [resident(2)])
    sealed_tube("T-OPEN", "S-HP-001", [resident(3)], status="open")
    sealed_tube("T-HD", "S-HD-001", [resident(4)])
    db.session.commit()
    boxes.create_box(staff["sampler"], "BX-1")
    boxes.create_box(staff["sampler"], "BX-2")
    with pytest.raises(Conflict) as exc:
        boxes.create_box(staff["sampler"], "BX-1")
    assert exc.value.code == "box_exists"
    with pytest.raises(ValidationFailed):
        boxes.create_box(staff["sampler"], "b")
    with pytest.raises(Conflict) as exc:
        boxes.hand_over(staff["sampler"], "BX-1")
    assert exc.value.code == "box_empty"
    with pytest.raises(Conflict) as exc:
        boxes.add_tube(staff["sampler"], "BX-1", "T-OPEN")
    assert exc.value.code == "tube_not_sealed"
    with pytest.raises(NotFound) as exc:
        boxes.add_tube(staff["sampler"], "BX-1", "T-NONE")
    assert exc.value.code == "unknown_tube"
    with pytest.raises(NotFound):
        boxes.add_tube(staff["sampler"], "B-NONE", "TB-A")
    with pytest.raises(Forbidden):  # the sampler works at other sites
        boxes.add_tube(staff["sampler"], "BX-1", "T-HD")
    with pytest.raises(Forbidden):
        boxes.create_box(staff["lab"], "B-LAB")
    boxes.add_tube(staff["sampler"], "BX-1", "TB-A")
    with pytest.raises(Conflict) as exc:
        boxes.add_tube(staff["sampler"], "BX-2", "TB-A")
    assert exc.value.code == "tube_in_other_box" and "BX-1" in str(exc.value.message)
    assert db.session.get(Box, db.session.scalar(select(Box.id).where(Box.code == "BX-2"))).tube_count == 0
    with pytest.raises(Conflict) as exc:
        boxes.receive(staff["lab"], "BX-1")
    assert exc.value.code == "box_not_handed_over"
    boxes.hand_over(staff["sampler"], "BX-1")
    with pytest.raises(Conflict) as exc:
        boxes.hand_over(staff["sampler"], "BX-1")
    assert exc.value.code == "box_handed_over"
    with pytest.raises(Conflict) as exc:
        boxes.add_tube(staff["sampler"], "BX-1", "TB-B")
    assert exc.value.code == "box_handed_over"
    with pytest.raises(Forbidden):
        boxes.receive(staff["sampler"], "BX-1")
    boxes.receive(staff["lab"], "BX-1")
    with pytest.raises(Conflict) as exc:
        boxes.receive(staff["lab"], "BX-1")
    assert exc.value.code == "box_already_received"
    assert str(exc.value.message) == "转运箱 BX-1 已经接收过了。"


def test_result_refusals_and_audited_correction(staff):
    tubes = [sealed_tube(f"TB-{i}", "S-HP-001", [resident(i)], capacity=1) for i in range(4)]
    sealed_tube("T-SEALED", "S-HP-001", [resident(9)])
    db.session.commit()
    _received(staff, "BX-R", *tubes)
    report = results.post_results(staff["lab"], _rows(
        ("TB-0", "negative"), ("TB-1", "阳性"), ("TB-2", "bogus"), ("T-NOPE", "negative"), ("T-SEALED", "negative"),
        ("TB-3", "negative"), ("TB-3", "positive"), ("TB-0", "negative"), ("", "negative")))
    assert report["updated"] == 3 and report["unchanged"] == 1 and report["unknown"] == ["T-NOPE"]
    codes = {(r["tube_code"], r["code"]) for r in report["rejected"]}
    assert codes == {("TB-2", "invalid_result"), ("T-SEALED", "tube_not_received"), ("TB-3", "duplicate_conflict"),
                     ("", "invalid_tube_code")}
    assert [p["tube_code"] for p in report["positives"]] == ["TB-1"]
    assert report["positives"][0]["residents"][0]["name"] == "张**1"  # the lab sees masked data
    # the same again changes nothing; a different value is refused unless it is a correction
    again = results.post_results(staff["lab"], _rows(("TB-0", "negative"), ("TB-1", "negative")))
    assert again["updated"] == 0 and again["unchanged"] == 1
    assert again["rejected"][0]["code"] == "result_conflict"
    assert db.session.scalar(select(Tube.result).where(Tube.code == "TB-1")) == "positive"
    fixed = results.post_results(staff["lab"], _rows(("TB-1", "negative"), ("TB-0", "invalid")), correct=True)
    assert fixed["corrected"] == 2 and fixed["positives"][0]["tube_code"] == "TB-0"
    audit = db.session.execute(select(Tube.code, TubeEvent.previous_result, TubeEvent.result, TubeEvent.user_id)
                               .join(Tube, Tube.id == TubeEvent.tube_id)
                               .where(TubeEvent.action == "corrected").order_by(Tube.code)).all()
    lab = staff["lab"].id
    assert audit == [("TB-0", "negative", "invalid", lab), ("TB-1", "positive", "negative", lab)]


def test_tested_at_is_local_time_and_checked(staff):
    tube = sealed_tube("T-TIME", "S-HP-001", [resident(1)])
    late = sealed_tube("T-LATE", "S-HP-001", [resident(2)])
    db.session.commit()
    _received(staff, "BX-T", tube, late)
    received_at = db.session.get(Tube, tube.id).received_at
    local = (received_at + timedelta(hours=8, minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    report = results.post_results(staff["lab"], [
        results.make_row(2, "T-TIME", "negative", local),
        results.make_row(3, "T-LATE", "negative", "2020-01-01 08:00"),
        results.make_row(4, "TB-X", "negative", "yesterday"),
        results.make_row(5, "TB-Y", "negative", (utcnow() + timedelta(days=1)).isoformat())])
    assert report["updated"] == 1
    assert [(r["row"], r["code"]) for r in report["rejected"]] == [
        (4, "invalid_tested_at"), (5, "invalid_tested_at"), (3, "invalid_tested_at")]
    db.session.expire_all()
    delta = db.session.get(Tube, tube.id).resulted_at - received_at
    assert timedelta(minutes=4) < delta < timedelta(minutes=6)
