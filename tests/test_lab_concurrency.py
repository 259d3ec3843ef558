"""Concurrency rules held by the database: real concurrent clients (threads with their own
sessions) on PostgreSQL race for one tube, one box, one result."""
import threading

import pytest
from sqlalchemy import func, select

from sampling.errors import Conflict
from sampling.extensions import db
from sampling.lab import boxes, positives, results
from sampling.models import Box, Tube, TubeEvent, User
from tests import waits
from tests.lab_fixtures import at_the_lab, resident, sealed_tube


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("row locks and concurrent writers: PostgreSQL")


def race(app, work, n):
    """Run ``work(i)`` in n threads at once, each in its own app context; outcomes in order."""
    barrier, outcomes = threading.Barrier(n), [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[i] = work(i)
            except Conflict as exc:
                db.session.rollback()
                outcomes[i] = exc.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return outcomes


@pytest.fixture
def crew(demo_city, make_user, server):
    sampler, lab = make_user("sampler", sites=("S-HP-001", "S-HP-002")), make_user("lab")
    return server, sampler.id, lab.id


def test_one_tube_into_one_box_only(crew):
    server, sampler_id, _lab = crew
    sealed_tube("RACE-TUBE", "S-HP-001", [resident(1)])
    db.session.commit()
    for i in range(6):
        boxes.create_box(db.session.get(User, sampler_id), f"RACE-BOX-{i}")

    outcomes = race(server, lambda i: boxes.add_tube(db.session.get(User, sampler_id), f"RACE-BOX-{i}",
                                                     "RACE-TUBE").code, 6)
    assert outcomes.count("RACE-TUBE") == 1 and outcomes.count("tube_in_other_box") == 5
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(Box.tube_count))) == 1
    assert db.session.scalar(select(func.count()).select_from(TubeEvent)) == 1


def test_box_received_once_and_no_tube_slips_in_after_handover(crew):
    server, sampler_id, lab_id = crew
    for i in range(12):
        sealed_tube(f"LATE-{i:04d}", "S-HP-001", [resident(i)])
    db.session.commit()
    sampler = db.session.get(User, sampler_id)
    boxes.create_box(sampler, "RACE-BOX")
    boxes.add_tube(sampler, "RACE-BOX", "LATE-0000")

    def scan_or_hand_over(i):
        user = db.session.get(User, sampler_id)
        if i == 0:
            return boxes.hand_over(user, "RACE-BOX").status
        return boxes.add_tube(user, "RACE-BOX", f"LATE-{i:04d}").status

    outcomes = race(server, scan_or_hand_over, 12)
    assert outcomes[0] == "handed_over"
    assert set(outcomes[1:]) <= {"boxed", "box_handed_over"}
    db.session.expire_all()
    box = db.session.scalar(select(Box).where(Box.code == "RACE-BOX"))
    in_box = db.session.scalar(select(func.count()).select_from(Tube).where(Tube.box_id == box.id))
    assert box.tube_count == in_box == 1 + outcomes.count("boxed")

    received = race(server, lambda i: boxes.receive(db.session.get(User, lab_id), "RACE-BOX")[1], 5)
    assert received.count("box_already_received") == 4 and in_box in received


def test_one_result_per_tube_under_racing_uploads(crew):
    server, sampler_id, lab_id = crew
    sealed_tube("RACE-RESULT", "S-HP-001", [resident(1)])
    db.session.commit()
    sampler = db.session.get(User, sampler_id)
    boxes.create_box(sampler, "RACE-BOX-R")
    boxes.add_tube(sampler, "RACE-BOX-R", "RACE-RESULT")
    boxes.hand_over(sampler, "RACE-BOX-R")
    boxes.receive(db.session.get(User, lab_id), "RACE-BOX-R")
    words = ["positive", "negative", "positive", "negative", "invalid", "negative"]

    def post(i):
        row = results.make_row(None, "RACE-RESULT", words[i])
        return results.post_results(db.session.get(User, lab_id), [row])

    reports = race(server, post, len(words))
    assert sum(r["updated"] for r in reports) == 1
    db.session.expire_all()
    final = db.session.scalar(select(Tube.result).where(Tube.code == "RACE-RESULT"))
    for word, report in zip(words, reports, strict=True):
        if report["updated"] == 0:
            expected = {"unchanged": 1} if word == final else {"rejected": "result_conflict"}
            assert (report["unchanged"] == 1) if "unchanged" in expected else (
                report["rejected"][0]["code"] == "result_conflict")
    assert db.session.scalar(select(func.count()).select_from(TubeEvent).where(TubeEvent.action == "resulted")) == 1


def _two_sites_at_the_lab(sampler_id, lab_id, prefix):
    """<prefix>-0001 and -0002, one tube at each of two sites, received by the lab. Two sites: the
    statistics trigger keeps one counter row per site, and two tubes of one site would already be
    serialised on that row (no crossing, just a wait)."""
    codes = [f"{prefix}-0001", f"{prefix}-0002"]
    for code, site in zip(codes, ("S-HP-001", "S-HP-002"), strict=True):
        sealed_tube(code, site, [resident(int(code[-1]))])
    db.session.commit()
    at_the_lab(db.session.get(User, sampler_id), db.session.get(User, lab_id), f"{prefix}-BOX", codes)


def test_crossing_uploads_each_apply_once_without_a_500(crew, monkeypatch):
    server, sampler_id, lab_id = crew
    _two_sites_at_the_lab(sampler_id, lab_id, "CROSS")
    monkeypatch.setattr(results, "CHUNK", 1)
    both_hold_one, original = threading.Barrier(2), results._apply_chunk
    calls = threading.local()

    def apply_then_wait(*args):
        original(*args)
        if not getattr(calls, "done", False):
            calls.done = True
            both_hold_one.wait(60)  # each upload has written one tube the other wants next

    monkeypatch.setattr(results, "_apply_chunk", apply_then_wait)
    orders = (["CROSS-0001", "CROSS-0002"], ["CROSS-0002", "CROSS-0001"])

    def upload(i):
        rows = [results.make_row(None, code, "negative") for code in orders[i]]
        return results.post_results(db.session.get(User, lab_id), rows)["updated"]

    outcomes = race(server, upload, 2)
    # chunks commit one by one, so the crossing uploads do not deadlock: each writes one tube and
    # finds the other already holding the same result
    assert outcomes == [1, 1]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TubeEvent).where(
        TubeEvent.action == "resulted")) == 2
    assert set(db.session.scalars(select(Tube.result).where(Tube.code.like("CROSS-%")))) == {"negative"}


def test_notice_cursor_follows_the_commit_order(crew, make_user, monkeypatch, database_url):
    """Upload A has numbered its positive tube but not committed; upload B flags another tube
    meanwhile; the coordinator opens the list before A commits. Both pools must be announced:
    B's number may not be one that A's late commit lands at or below."""
    server, sampler_id, lab_id = crew
    coordinator = make_user("coordinator", region="120101")
    _two_sites_at_the_lab(sampler_id, lab_id, "FLAG")
    first_id = db.session.scalar(select(Tube.id).where(Tube.code == "FLAG-0001"))
    numbered, release, original = threading.Event(), threading.Event(), results._number_flagged

    def number_then_hold(tube_ids):
        original(tube_ids)
        if first_id in tube_ids:
            numbered.set()
            release.wait(60)  # A holds its uncommitted number

    monkeypatch.setattr(results, "_number_flagged", number_then_hold)

    def upload(code):
        with server.app_context():
            try:
                results.post_results(db.session.get(User, lab_id), [results.make_row(None, code, "positive")])
            finally:
                db.session.remove()

    a = threading.Thread(target=upload, args=("FLAG-0001",))
    a.start()
    assert numbered.wait(30)
    b = threading.Thread(target=upload, args=("FLAG-0002",), name="upload B")
    b.start()
    waits.lock_waiters(database_url, 1, "advisory", alive=[b])  # B numbers after A's commit, not before
    db.session.rollback()
    listed = {p["tube_code"] for p in positives.list_pools(db.session.get(User, coordinator.id), mark_seen=True)}
    release.set()
    a.join(60)
    b.join(60)
    assert "FLAG-0001" not in listed  # A had not committed
    db.session.expire_all()
    told = positives.notice(db.session.get(User, coordinator.id))
    assert {p["tube_code"] for p in told["pools"]} == {"FLAG-0001", "FLAG-0002"} - listed
    assert told["count"] == 2 - len(listed)
