"""The batch sync endpoint: per-item answers, exactly once per client_id, conflicts per item."""
import pytest
from sqlalchemy import func, select

from sampling.extensions import db
from sampling.models import ClientOperation, Sample, Tube
from tests import waits
from tests.field import cid, current_round, forged, make_residents, outcome_of, qr


@pytest.fixture
def field(demo_city, make_user, token_for):
    sampler = make_user("sampler", sites=("S-HP-001",))
    return {"round": current_round().id, "h": token_for(sampler), "people": make_residents(30), "user": sampler}


def batch_for(field, people, tube_code="B0001", capacity=10):
    items = [{"client_id": cid(), "op": "open_tube", "tube_code": tube_code, "round_id": field["round"],
              "site_code": "S-HP-001", "capacity": capacity}]
    items += [{"client_id": cid(), "op": "add_sample", "tube_code": tube_code, "qr": qr(p)} for p in people]
    return items


def test_batch_applied_twice_changes_nothing_the_second_time(client, field):
    people = field["people"]
    items = batch_for(field, people[:4], "B0001", 5) + batch_for(field, people[4:9], "B0002", 5)
    undo = {"client_id": cid(), "op": "undo", "sample_client_id": items[2]["client_id"]}
    items += [undo, {"client_id": cid(), "op": "seal", "tube_code": "B0001"},
              {"client_id": cid(), "op": "add_sample", "tube_code": "B0001", "qr": qr(people[20])},
              {"client_id": cid(), "op": "fly"}, "junk"]
    first = client.post("/api/v1/sync", json={"items": items}, headers=field["h"])
    assert first.status_code == 200
    results = first.get_json()["results"]
    assert [r["status"] for r in results] == [201] * 5 + [201] * 6 + [204, 200, 409, 422, 422]
    assert results[10]["body"]["tube"] == {"count": 5, "capacity": 5, "status": "sealed"}
    assert results[12]["body"] == {"status": "sealed", "count": 3}
    assert results[13]["body"]["error"]["code"] == "tube_sealed"
    counts = (db.session.scalar(select(func.count()).select_from(Sample)),
              db.session.scalar(select(func.count()).select_from(ClientOperation)))
    second = client.post("/api/v1/sync", json={"items": items}, headers=field["h"]).get_json()["results"]
    assert [r["status"] for r in second] == [200] * 11 + [204, 200, 409, 422, 422]
    assert [r["body"] for r in second[:13]] == [r["body"] for r in results[:13]]
    db.session.expire_all()
    assert (db.session.scalar(select(func.count()).select_from(Sample)),
            db.session.scalar(select(func.count()).select_from(ClientOperation))) == counts
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "B0001")) == 3


def test_batch_needs_items(client, field):
    assert client.post("/api/v1/sync", json={"items": []}, headers=field["h"]).status_code == 422
    assert client.post("/api/v1/sync", json={}, headers=field["h"]).status_code == 422
    assert client.post("/api/v1/sync", json={"items": [{}]}).status_code == 401


def _scenario(field, prefix, people, stranger_tube):
    """Scans covering every answer a scan can get, in a batch of plain scans."""
    p = people
    fill = [{"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}001", "qr": qr(x)} for x in p[:5]]
    dup = dict(fill[1])
    return fill + [
        dup,                                                                        # same client_id: a repeat
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}001", "qr": qr(p[6])},   # sealed (cap 5)
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}002", "qr": qr(p[0])},   # sampled this round
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}002", "qr": qr(p[7])},
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}002", "qr": qr(p[7])},   # already in tube
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}002", "qr": forged(p[8])},  # forged
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}009", "qr": qr(p[8])},   # unknown tube
        {"client_id": cid(), "op": "add_sample", "tube_code": stranger_tube, "qr": qr(p[8])},  # not my site
        {"client_id": "nope", "op": "add_sample", "tube_code": f"{prefix}002", "qr": qr(p[8])},  # bad client_id
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}003", "qr": qr(p[9])},   # earlier batch
        {"client_id": cid(), "op": "add_sample", "tube_code": f"{prefix}002", "qr": qr(p[10])},
    ]


def _shape(result):
    status, body = result["status"], result["body"]
    if body and "error" in body:
        return status, body["error"]["code"], sorted(body["error"].get("previous", {}))
    return status, body["tube"] if body else None


def test_set_based_batch_answers_exactly_as_single_scans(client, field, make_user):
    from sampling.field import samples, tubes
    other = make_user("sampler", sites=("S-HD-001",))
    tubes.open_tube(other, {"tube_code": "XX001", "round_id": field["round"], "site_code": "S-HD-001"})
    answers = {}
    for prefix, people in (("BA", field["people"][:11]), ("SI", field["people"][11:22])):
        for n, capacity in ((1, 5), (2, 10), (3, 10)):
            tubes.open_tube(field["user"], {"tube_code": f"{prefix}00{n}", "round_id": field["round"],
                                            "site_code": "S-HP-001", "capacity": capacity})
        samples.add_sample(field["user"], f"{prefix}003", {"qr": qr(people[9]), "client_id": cid()})
        items = _scenario(field, prefix, people, "XX001")
        if prefix == "BA":
            results = client.post("/api/v1/sync", json={"items": items}, headers=field["h"]).get_json()["results"]
        else:
            results = [client.post("/api/v1/sync", json={"items": [item]}, headers=field["h"]).get_json()["results"][0]
                       for item in items]
        answers[prefix] = results
    assert [_shape(r) for r in answers["BA"]] == [_shape(r) for r in answers["SI"]]
    assert [r["status"] for r in answers["BA"]] == [201] * 5 + [200, 409, 409, 201, 409, 422, 404, 403, 422, 409, 201]
    assert answers["BA"][5]["body"] == answers["BA"][1]["body"]
    db.session.expire_all()
    counts = dict(db.session.execute(select(Tube.code, Tube.sample_count)).all())
    assert counts["BA001"] == counts["SI001"] == 5 and counts["BA002"] == counts["SI002"] == 2


def test_batch_while_another_phone_fills_the_same_tube(field, make_app):
    """Real concurrent sessions: a batch and single scans race for one tube; nothing is dropped."""
    import threading

    from sampling.field import samples, sync, tubes
    from sampling.models import User
    tubes.open_tube(field["user"], {"tube_code": "RACE", "round_id": field["round"], "site_code": "S-HP-001"})
    people = field["people"]
    batch = [{"client_id": cid(), "op": "add_sample", "tube_code": "RACE", "qr": qr(p)} for p in people[:10]]
    singles = [{"client_id": cid(), "qr": qr(p)} for p in people[10:20]]
    barrier, out, user_id = threading.Barrier(2, timeout=30), {}, field["user"].id
    db.session.commit()  # the test's own session holds nothing while the phones work

    def run(name, job):
        app = make_app()
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                out[name] = job(user)
            finally:
                db.session.remove()

    def batch_job(user):
        return [outcome_of(answer) for _item, answer in sync.sync(user, {"items": batch})]

    def single_job(user):
        statuses = []
        for body in singles:
            try:
                statuses.append(outcome_of(samples.add_sample(user, "RACE", body)))
            except Exception as exc:  # noqa: BLE001  (refusals are counted)
                statuses.append(getattr(exc, "code", repr(exc)))
        return statuses

    threads = [threading.Thread(target=run, args=("batch", batch_job)),
               threading.Thread(target=run, args=("single", single_job))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(out["batch"]) == 10 and len(out["single"]) == 10
    admitted = out["batch"].count("done") + out["single"].count("done")
    assert admitted == 10
    assert set(out["batch"]) <= {"done", "tube_sealed", "tube_full"}
    assert set(out["single"]) <= {"done", "tube_sealed", "tube_full"}
    db.session.expire_all()
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "RACE")) == 10
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 10


def test_items_the_single_endpoints_would_refuse_are_refused(client, field):
    """A non-string op, a resample flag that is not true/false, an open without client_id: each
    item gets its own 422, as its single endpoint would answer; the rest of the batch goes on."""
    people = field["people"]
    items = batch_for(field, people[:1], "BV001")
    items += [{"client_id": cid(), "op": [], "tube_code": "BV001"},
              {"client_id": cid(), "op": {"x": 1}},
              {"client_id": cid(), "op": "add_sample", "tube_code": "BV001", "qr": qr(people[1]), "resample": 0},
              {"client_id": cid(), "op": "add_sample", "tube_code": "BV001", "qr": qr(people[2]), "resample": None},
              {"op": "open_tube", "tube_code": "BV002", "round_id": field["round"], "site_code": "S-HP-001"},
              {"client_id": cid(), "op": "add_sample", "tube_code": "BV001", "qr": qr(people[3])}]
    results = client.post("/api/v1/sync", json={"items": items}, headers=field["h"]).get_json()["results"]
    assert [r["status"] for r in results] == [201, 201, 422, 422, 422, 422, 422, 201]
    assert [r["body"]["error"]["code"] for r in results[2:7]] == [
        "unknown_op", "unknown_op", "validation", "validation", "invalid_client_id"]
    assert results[7]["body"]["tube"]["count"] == 2
    assert db.session.scalar(select(Tube.id).where(Tube.code == "BV002")) is None


def test_a_client_id_replays_only_to_the_user_who_sent_it(client, field, make_user, token_for):
    """Another user sending the same client_ids (a copied queue, a buggy phone) gets 409
    client_id_reused for every one of them, never the first answers; nothing changes. An add undone
    by a coordinator still replays to its sampler."""
    people = field["people"]
    items = batch_for(field, people[:3], "X0001", 5)
    items += [{"client_id": cid(), "op": "undo", "sample_client_id": items[3]["client_id"]},
              {"client_id": cid(), "op": "add_sample", "tube_code": "X0001", "resident": {
                  "name": "赵六", "id_type": "passport", "id_number": "E76543210", "phone": "13900000001"}},
              {"client_id": cid(), "op": "seal", "tube_code": "X0001"}]
    first = client.post("/api/v1/sync", json={"items": items}, headers=field["h"]).get_json()["results"]
    assert [r["status"] for r in first] == [201, 201, 201, 201, 204, 201, 200]
    colleague = token_for(make_user("sampler", sites=("S-HP-001",)))  # same site: allowed to work there
    counts = (db.session.scalar(select(func.count()).select_from(Sample)),
              db.session.scalar(select(func.count()).select_from(ClientOperation)))
    other = client.post("/api/v1/sync", json={"items": items}, headers=colleague).get_json()["results"]
    assert [r["status"] for r in other] == [409] * len(items)
    assert {r["body"]["error"]["code"] for r in other} == {"client_id_reused"}
    assert all("resident" not in r["body"] for r in other)  # nobody else's resident shown
    db.session.expire_all()
    assert (db.session.scalar(select(func.count()).select_from(Sample)),
            db.session.scalar(select(func.count()).select_from(ClientOperation))) == counts
    # a coordinator undoes one of the sampler's scans; the sampler's phone resends the whole batch
    coordinator = token_for(make_user("coordinator", region="120101"))
    client.post("/api/v1/tubes", json={"tube_code": "X0002", "round_id": field["round"], "site_code": "S-HP-001",
                                       "capacity": 5}, headers=field["h"])
    scan = {"client_id": cid(), "op": "add_sample", "tube_code": "X0002", "qr": qr(people[10])}
    added = client.post("/api/v1/sync", json={"items": [scan]}, headers=field["h"]).get_json()["results"][0]
    undo = {"client_id": cid(), "op": "undo", "sample_client_id": scan["client_id"]}
    assert client.post("/api/v1/sync", json={"items": [undo]}, headers=coordinator).get_json()["results"][0][
        "status"] == 204
    again = client.post("/api/v1/sync", json={"items": items + [scan]}, headers=field["h"]).get_json()["results"]
    assert [r["status"] for r in again] == [200] * 4 + [204, 200, 200, 200]
    assert [r["body"] for r in again[:4]] == [r["body"] for r in first[:4]] and again[-1]["body"] == added["body"]
    db.session.expire_all()
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "X0002")) == 0


def test_a_resent_batch_still_in_flight_gets_the_first_answers(field, make_app, is_postgres, database_url):
    """The phone gave up waiting and sent the batch again while the first copy was still being
    applied: both copies answer as the single calls would (201s, then 200s with the same bodies)."""
    import threading

    from sampling.field import sync, tubes
    from sampling.models import User
    if not is_postgres:
        pytest.skip("row locks: PostgreSQL (SQLite writers queue on the database lock)")
    tubes.open_tube(field["user"], {"tube_code": "DUP1", "round_id": field["round"], "site_code": "S-HP-001"})
    batch = [{"client_id": cid(), "op": "add_sample", "tube_code": "DUP1", "qr": qr(p)} for p in field["people"][:5]]
    user_id, out = field["user"].id, {}
    db.session.commit()
    holder = make_app()
    with holder.app_context():  # a third session holds the tube, so both copies queue behind it
        db.session.execute(select(Tube).where(Tube.code == "DUP1").with_for_update())

        def copy(name):
            with make_app().app_context():
                try:
                    out[name] = sync.sync(db.session.get(User, user_id), {"items": batch})
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=copy, args=(name,), name=name) for name in ("first", "again")]
        for t in threads:
            t.start()
        waits.lock_waiters(database_url, 2, alive=threads)  # both copies queue behind the holder
        db.session.rollback()  # release the tube
        for t in threads:
            t.join(60)
    outcomes = sorted(outcome_of(answer) for copy in ("first", "again") for _item, answer in out[copy])
    assert outcomes == ["done"] * 5 + ["repeat"] * 5
    assert [a.body for _i, a in out["first"]] == [a.body for _i, a in out["again"]]
    db.session.expire_all()
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "DUP1")) == 5


def test_an_item_with_an_impossible_id_gets_its_own_answer(client, field):
    """A huge round_id or sample_id in one item: that item's 422 / 404, the rest of the batch goes on."""
    items = [{"client_id": cid(), "op": "open_tube", "tube_code": "BH001", "round_id": 10**30,
              "site_code": "S-HP-001"},
             {"client_id": cid(), "op": "undo", "sample_id": 10**30},
             {"client_id": cid(), "op": "undo", "sample_id": 2**63}] + batch_for(field, field["people"][:1], "BH002")
    results = client.post("/api/v1/sync", json={"items": items}, headers=field["h"]).get_json()["results"]
    assert [r["status"] for r in results] == [422, 404, 404, 201, 201]
    assert set(results[0]["body"]["error"]["fields"]) == {"round_id"}
    assert [r["body"]["error"]["code"] for r in results[1:3]] == ["unknown_sample", "unknown_sample"]
