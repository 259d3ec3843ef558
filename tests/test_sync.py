"""The batch sync endpoint: per-item answers, exactly once per client_id, conflicts per item."""
import pytest
from sqlalchemy import func, select

from sampling.extensions import db
from sampling.models import ClientOperation, Sample, Tube
from tests.field import cid, current_round, make_residents, qr


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
