"""A positive 10-in-1 pool expanded to its ten residents, scoped to the coordinators of the
regions they live in, followed to individual retests that close the pool; what residents see."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from sampling.extensions import db
from sampling.lab import boxes, positives, results
from sampling.lab.turnaround import turnaround
from sampling.models import Sample
from tests.lab_fixtures import T0, resident, sample_of, sealed_tube, the_round


@pytest.fixture
def city(demo_city, make_user):
    staff = {"sampler": make_user("sampler", sites=("S-HP-001", "S-HP-002")), "lab": make_user("lab"),
             "admin": make_user("admin"),
             "heping_street": make_user("coordinator", region="120101001"),
             "hedong": make_user("coordinator", region="120102"),
             "hexi": make_user("coordinator", region="120103")}
    # ten people sampled at a 和平区 site: eight live in 新华里, two in 河东区 六纬路
    people = [resident(i, "120101001001" if i < 8 else "120102001001") for i in range(10)]
    pool = sealed_tube("POOL-0001", "S-HP-001", people, sampler=staff["sampler"])
    clean = sealed_tube("POOL-0002", "S-HP-001", [resident(20 + i) for i in range(10)])
    spoilt = sealed_tube("POOL-0003", "S-HP-002", [resident(40 + i, "120101001002") for i in range(5)], capacity=5)
    db.session.commit()
    return staff, people, pool, clean, spoilt


def _through_the_lab(staff, box_code, tubes, outcomes, correct=False):
    boxes.create_box(staff["sampler"], box_code)
    for tube in tubes:
        boxes.add_tube(staff["sampler"], box_code, tube.code)
    boxes.hand_over(staff["sampler"], box_code)
    boxes.receive(staff["lab"], box_code)
    rows = [results.make_row(None, code, result) for code, result in outcomes]
    return results.post_results(staff["lab"], rows, correct=correct)


def test_positive_pool_is_found_followed_and_closed(city):
    staff, people, pool, clean, spoilt = city
    first = sample_of(people[0], pool)
    clean_sample = db.session.scalar(select(Sample).where(Sample.tube_id == clean.id).limit(1))
    assert results.results_for_samples([first.id])[first.id]["state"] == "pending"
    report = _through_the_lab(staff, "BOX-0001", [pool, clean, spoilt],
                              [("POOL-0001", "positive"), ("POOL-0002", "negative"), ("POOL-0003", "invalid")])
    assert report["updated"] == 3
    assert {p["tube_code"]: len(p["residents"]) for p in report["positives"]} == {"POOL-0001": 10, "POOL-0003": 5}

    admin_view = positives.list_pools(staff["admin"], the_round().id)
    assert [p["tube_code"] for p in admin_view] and {p["tube_code"] for p in admin_view} == {"POOL-0001", "POOL-0003"}
    full = next(p for p in admin_view if p["tube_code"] == "POOL-0001")
    assert full["member_count"] == 10 and len(full["members"]) == 10 and not full["closed"]
    member = full["members"][0]
    assert member["name"] == "张000" and member["phone"] == "13800000000"
    assert member["id_number"] == "120101199000000000"
    assert member["address"] == "新华路0号" and member["community_name"] == "新华里社区"
    assert member["site_name"] == "新华里社区广场采样点" and member["sampler"] == staff["sampler"].username
    assert member["state"] == "to_contact" and member["individual_result"] is None

    street = {p["tube_code"]: p for p in positives.list_pools(staff["heping_street"])}
    assert len(street["POOL-0001"]["members"]) == 8 and street["POOL-0001"]["member_count"] == 10
    assert len(street["POOL-0003"]["members"]) == 5
    hedong = positives.list_pools(staff["hedong"])
    assert [(p["tube_code"], len(p["members"])) for p in hedong] == [("POOL-0001", 2)]
    assert {m["community_name"] for m in hedong[0]["members"]} == {"六纬路社区"}
    assert positives.list_pools(staff["hexi"]) == []

    both = results.results_for_samples([first.id, clean_sample.id])
    assert both[clean_sample.id]["state"] == "negative"
    told = both[first.id]
    assert told["state"] == "retest_required" and "社区" in told["message"] and told["individual_result"] is None

    # each member is resampled alone (1-in-1), later than the pool
    later = T0 + timedelta(hours=3)
    retests = [sealed_tube(f"SOLO-{i:04d}", "S-HP-001", [person], capacity=1, at=later + timedelta(minutes=i))
               for i, person in enumerate(people)]
    db.session.commit()
    assert results.results_for_samples([first.id])[first.id]["state"] == "retest_pending"
    still_open = {p["tube_code"]: p for p in positives.list_pools(staff["admin"], status="open")}
    assert {m["state"] for m in still_open["POOL-0001"]["members"]} == {"resampled"}
    assert {m["state"] for m in still_open["POOL-0003"]["members"]} == {"to_contact"}
    _through_the_lab(staff, "BOX-0002", retests[:9],
                     [(t.code, "negative") for t in retests[:8]] + [(retests[8].code, "positive")])
    pool_view = next(p for p in positives.list_pools(staff["admin"]) if p["tube_code"] == "POOL-0001")
    assert pool_view["resolved_count"] == 9 and not pool_view["closed"]
    # the statistics' follow-up figures, per site: members of positive pools and how many have an
    # individual result, then the same for invalid tubes (S-HP-001: POOL-0001's 10 members, 9 resulted;
    # SOLO-0008, a positive 1-in-1 tube, is an individual result, not a pool; S-HP-002: invalid POOL-0003)
    assert positives.followup_by_site(the_round().id) == {"S-HP-001": (10, 9, 0, 0), "S-HP-002": (0, 0, 5, 0)}
    by_name = {m["name"]: m for m in pool_view["members"]}
    assert by_name["张008"]["individual_result"] == "positive" and by_name["张009"]["state"] == "resampled"
    assert by_name["张000"]["retest_tube_code"] == "SOLO-0000"
    told = results.results_for_samples([first.id])[first.id]
    assert told["state"] == "retest_negative" and told["individual_result"] == "negative"
    _through_the_lab(staff, "BOX-0003", retests[9:], [(retests[9].code, "negative")])
    closed = [p["tube_code"] for p in positives.list_pools(staff["admin"], status="closed")]
    assert "POOL-0001" in closed
    assert "POOL-0001" not in [p["tube_code"] for p in positives.list_pools(staff["admin"], status="open")]
    # the positive individual retest is itself a (closed) one-person pool, visible to 河东区 where that person lives
    solo = next(p for p in positives.list_pools(staff["hedong"]) if p["tube_code"] == "SOLO-0008")
    assert solo["closed"] and solo["members"][0]["individual_result"] == "positive"


def test_resident_views(city):
    staff, people, pool, clean, spoilt = city
    _through_the_lab(staff, "BOX-0009", [clean, spoilt], [("POOL-0002", "negative"), ("POOL-0003", "invalid")])
    clean_id = db.session.scalar(select(Sample.id).where(Sample.tube_id == clean.id).limit(1))
    spoilt_id = db.session.scalar(select(Sample.id).where(Sample.tube_id == spoilt.id).limit(1))
    pending_id = sample_of(people[0], pool).id
    told = results.results_for_samples([clean_id, spoilt_id, pending_id, 999999])
    assert set(told) == {clean_id, spoilt_id, pending_id}
    assert told[clean_id]["state"] == "negative" and told[clean_id]["message"] == "阴性。"
    assert told[spoilt_id]["state"] == "retest_required"
    assert told[pending_id]["state"] == "pending"


def test_notice_tells_the_right_coordinators(city):
    staff, people, pool, clean, spoilt = city
    # never opened the list: the notice counts the open pools of their area (none yet)
    assert positives.notice(staff["hedong"]) == {"basis": "open", "count": 0, "pools": []}
    for who in ("hedong", "hexi", "admin"):
        positives.list_pools(staff[who], mark_seen=True)
    assert positives.notice(staff["hedong"]) == {"basis": "new", "count": 0, "pools": []}
    _through_the_lab(staff, "BOX-0004", [pool, clean], [("POOL-0001", "positive"), ("POOL-0002", "negative")])
    hedong = positives.notice(staff["hedong"])
    assert hedong["basis"] == "new" and hedong["count"] == 1 and hedong["pools"][0]["tube_code"] == "POOL-0001"
    assert positives.notice(staff["hexi"])["count"] == 0
    assert positives.notice(staff["admin"])["count"] == 1
    # a filtered list is not the whole list: the pool stays announced
    positives.list_pools(staff["admin"], the_round().id, mark_seen=True)
    positives.list_pools(staff["admin"], status="open", mark_seen=True)
    assert positives.notice(staff["admin"])["count"] == 1
    positives.list_pools(staff["admin"], mark_seen=True)
    assert positives.notice(staff["admin"])["count"] == 0
    assert positives.notice(staff["hedong"])["count"] == 1  # seen per user


def test_notice_announces_results_tested_hours_ago(city):
    staff, people, pool, clean, spoilt = city
    positives.list_pools(staff["hedong"], mark_seen=True)
    boxes.create_box(staff["sampler"], "BOX-0006")
    boxes.add_tube(staff["sampler"], "BOX-0006", pool.code)
    boxes.hand_over(staff["sampler"], "BOX-0006")
    boxes.receive(staff["lab"], "BOX-0006")
    from sqlalchemy import update

    from sampling.models import Tube
    from sampling.models.base import utcnow
    # received this morning, tested three hours ago, the day's file uploaded only now
    db.session.execute(update(Tube).where(Tube.id == pool.id).values(received_at=utcnow() - timedelta(hours=5)))
    db.session.commit()
    tested = (utcnow() + timedelta(hours=8) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")  # Asia/Shanghai
    report = results.post_results(staff["lab"], [results.make_row(2, pool.code, "阳性", tested)])
    assert report["updated"] == 1
    told = positives.notice(staff["hedong"])
    assert told["count"] == 1 and told["pools"][0]["tube_code"] == "POOL-0001"


def test_notice_announces_a_chunk_committed_after_the_list_was_opened(city, monkeypatch):
    staff, people, pool, clean, spoilt = city
    positives.list_pools(staff["heping_street"], mark_seen=True)
    monkeypatch.setattr(results, "CHUNK", 1)
    original, calls = results._apply_chunk, []

    def apply(*args):
        if calls:  # between the two chunks of one upload, the coordinator opens the list
            listed = positives.list_pools(staff["heping_street"], mark_seen=True)
            assert [p["tube_code"] for p in listed] == ["POOL-0001"]
            assert positives.notice(staff["heping_street"])["count"] == 0
        calls.append(1)
        original(*args)

    monkeypatch.setattr(results, "_apply_chunk", apply)
    report = _through_the_lab(staff, "BOX-0007", [pool, spoilt], [("POOL-0001", "positive"), ("POOL-0003", "invalid")])
    assert report["updated"] == 2 and len(calls) == 2
    told = positives.notice(staff["heping_street"])
    assert told["count"] == 1 and told["pools"][0]["tube_code"] == "POOL-0003"


def test_first_visit_counts_the_open_pools_of_the_area(city):
    staff, people, pool, clean, spoilt = city
    _through_the_lab(staff, "BOX-0008", [pool, spoilt], [("POOL-0001", "positive"), ("POOL-0003", "invalid")])
    street = positives.notice(staff["heping_street"])
    assert street["basis"] == "open" and street["count"] == 2
    assert {p["tube_code"] for p in street["pools"]} == {"POOL-0001", "POOL-0003"}
    assert positives.notice(staff["hedong"])["count"] == 1 and positives.notice(staff["hexi"])["count"] == 0
    # every member of POOL-0001 resampled alone; nine negative, one retest still waiting
    later = T0 + timedelta(hours=3)
    retests = [sealed_tube(f"SOLO-{i:04d}", "S-HP-001", [person], capacity=1, at=later + timedelta(minutes=i))
               for i, person in enumerate(people)]
    db.session.commit()
    _through_the_lab(staff, "BOX-0010", retests, [(t.code, "negative") for t in retests[:9]])
    assert positives.notice(staff["heping_street"])["count"] == 2  # one member still without a result
    results.post_results(staff["lab"], [results.make_row(None, retests[9].code, "negative")])
    assert [p["tube_code"] for p in positives.notice(staff["heping_street"])["pools"]] == ["POOL-0003"]
    assert positives.notice(staff["hedong"])["count"] == 0  # their two members have individual results


def test_turnaround_medians_and_90th_percentile(city):
    staff, people, pool, clean, spoilt = city
    _through_the_lab(staff, "BOX-0005", [pool, clean, spoilt],
                     [("POOL-0001", "negative"), ("POOL-0002", "negative"), ("POOL-0003", "negative")])
    from sqlalchemy import update

    from sampling.models import Tube
    # pin the times: sealed at T0; received after 60, 120, 240 minutes; resulted 30 minutes later
    for tube, minutes in ((pool, 60), (clean, 120), (spoilt, 240)):
        db.session.execute(update(Tube).where(Tube.id == tube.id).values(
            sealed_at=T0, received_at=T0 + timedelta(minutes=minutes),
            resulted_at=T0 + timedelta(minutes=minutes + 30)))
    db.session.commit()
    figures = turnaround(the_round().id)
    assert figures["sealed_to_received"] == {"tubes": 3, "median_minutes": 120.0, "p90_minutes": 216.0}
    assert figures["received_to_resulted"]["median_minutes"] == 30.0
    assert figures["sealed_to_resulted"]["p90_minutes"] == 246.0
    from sampling.kernel.regions import get_region
    street = turnaround(the_round().id, get_region("120101001002"))
    assert street["sealed_to_received"] == {"tubes": 1, "median_minutes": 240.0, "p90_minutes": 240.0}
    empty = turnaround(the_round().id, get_region("120103"))
    assert empty["sealed_to_resulted"] == {"tubes": 0, "median_minutes": None, "p90_minutes": None}


def test_turnaround_percentiles_match_a_reference_in_one_query(city, is_postgres):
    import statistics

    from sqlalchemy import event, update

    from sampling.models import Tube
    staff, people, pool, clean, spoilt = city
    minutes = [7, 180, 35, 61, 90, 12, 300, 45]  # sealed → received; the first tube is still on its way
    tubes = [sealed_tube(f"TAT-{i:04d}", "S-HP-002", [resident(500 + i)]) for i in range(len(minutes))]
    db.session.commit()
    for i, (tube, wait) in enumerate(zip(tubes, minutes, strict=True)):
        received = T0 + timedelta(minutes=wait) if i else None
        db.session.execute(update(Tube).where(Tube.id == tube.id).values(
            status="received" if i else "sealed", sealed_at=T0, received_at=received))
    db.session.commit()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        figures = turnaround(the_round().id)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    measured = minutes[1:]
    leg = figures["sealed_to_received"]
    assert leg["tubes"] == len(measured)
    assert leg["median_minutes"] == round(statistics.median(measured), 1)
    assert leg["p90_minutes"] == round(statistics.quantiles(measured, n=10, method="inclusive")[8], 1)
    assert figures["received_to_resulted"] == {"tubes": 0, "median_minutes": None, "p90_minutes": None}
    if is_postgres:  # every figure of every leg in one pass over the round's tubes
        assert len([s for s in statements if "FROM tubes" in s]) == 1
