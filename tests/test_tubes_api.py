"""Tubes and samples through the API: every status code the scanning page relies on."""
import pytest

from tests.field import cid, current_round, forged, make_residents, qr


@pytest.fixture
def field(demo_city, make_user, token_for):
    sampler = make_user("sampler", sites=("S-HP-001",))
    other = make_user("sampler", sites=("S-HD-001",))
    people = make_residents(12)
    return {"round": current_round().id, "h": token_for(sampler), "other": token_for(other), "people": people}


def open_tube(client, field, code="T0001", capacity=None, **extra):
    body = {"tube_code": code, "round_id": field["round"], "site_code": "S-HP-001", **extra}
    if capacity:
        body["capacity"] = capacity
    return client.post("/api/v1/tubes", json=body, headers=field["h"])


def test_open_tube_defaults_to_round_pool_and_refuses_a_used_code(client, field):
    response = open_tube(client, field)
    assert response.status_code == 201
    assert response.get_json() == {"tube_code": "T0001", "round_id": field["round"], "site_code": "S-HP-001",
                                   "capacity": 10, "count": 0, "status": "open"}
    again = open_tube(client, field)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "tube_code_used"


def test_open_tube_repeat_with_client_id_is_200_same_body(client, field):
    op = cid()
    first = open_tube(client, field, capacity=5, client_id=op)
    second = open_tube(client, field, capacity=5, client_id=op)
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json() == second.get_json()


def test_open_tube_refusals(client, field):
    assert client.post("/api/v1/tubes", json={"tube_code": "T1", "round_id": field["round"], "site_code": "S-HP-001"},
                       headers=field["h"]).status_code == 422
    assert open_tube(client, field, capacity=7).status_code == 422
    response = client.post("/api/v1/tubes", json={"tube_code": "T0009", "round_id": 999, "site_code": "NOPE"},
                           headers=field["h"])
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"round_id", "site_code"}
    forbidden = client.post("/api/v1/tubes", json={"tube_code": "T0009", "round_id": field["round"],
                                                   "site_code": "S-HP-001"}, headers=field["other"])
    assert forbidden.status_code == 403
    assert client.post("/api/v1/tubes", json={"tube_code": "T0009"}).status_code == 401
    assert client.post("/api/v1/tubes", data="x", headers=field["h"]).status_code == 400


def test_scan_fill_seal_undo(client, field):
    open_tube(client, field, capacity=5)
    people = field["people"]
    url = "/api/v1/tubes/T0001/samples"
    first = client.post(url, json={"qr": qr(people[0]), "client_id": (c0 := cid())}, headers=field["h"])
    assert first.status_code == 201
    body = first.get_json()
    assert body["tube"] == {"count": 1, "capacity": 5, "status": "open"}
    assert body["resident"]["name_masked"] != people[0].name and "*" in body["resident"]["id_masked"]
    repeat = client.post(url, json={"qr": qr(people[0]), "client_id": c0}, headers=field["h"])
    assert repeat.status_code == 200 and repeat.get_json() == body
    twice = client.post(url, json={"qr": qr(people[0]), "client_id": cid()}, headers=field["h"])
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_in_tube"
    bad = client.post(url, json={"qr": forged(people[1]), "client_id": cid()}, headers=field["h"])
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_code"
    assert client.post("/api/v1/tubes/NOPE1/samples", json={"qr": qr(people[1]), "client_id": cid()},
                       headers=field["h"]).status_code == 404
    assert client.post(url, json={"qr": qr(people[1]), "client_id": cid()}, headers=field["other"]).status_code == 403
    undo = client.delete(f"/api/v1/samples/{body['sample_id']}", headers=field["h"])
    assert undo.status_code == 204
    assert client.delete(f"/api/v1/samples/{body['sample_id']}", headers=field["h"]).status_code == 404
    for person in people[1:6]:
        last = client.post(url, json={"qr": qr(person), "client_id": cid()}, headers=field["h"])
        assert last.status_code == 201
    assert last.get_json()["tube"] == {"count": 5, "capacity": 5, "status": "sealed"}
    sealed = client.post(url, json={"qr": qr(people[7]), "client_id": cid()}, headers=field["h"])
    assert sealed.status_code == 409 and sealed.get_json()["error"]["code"] == "tube_sealed"
    too_late = client.delete(f"/api/v1/samples/{last.get_json()['sample_id']}", headers=field["h"])
    assert too_late.status_code == 409 and too_late.get_json()["error"]["code"] == "tube_sealed"
    seal = client.post("/api/v1/tubes/T0001/seal", headers=field["h"])
    assert seal.status_code == 200 and seal.get_json() == {"status": "sealed", "count": 5}
    tube = client.get("/api/v1/tubes/T0001", headers=field["h"]).get_json()
    assert tube["count"] == 5 and len(tube["samples"]) == 5 and tube["status"] == "sealed"
    assert client.get("/api/v1/tubes/T0001", headers=field["other"]).status_code == 403
    assert client.get("/api/v1/tubes/NOPE1", headers=field["h"]).status_code == 404


def test_early_seal_is_idempotent(client, field):
    open_tube(client, field)
    client.post("/api/v1/tubes/T0001/samples", json={"qr": qr(field["people"][0]), "client_id": cid()},
                headers=field["h"])
    first = client.post("/api/v1/tubes/T0001/seal", headers=field["h"])
    second = client.post("/api/v1/tubes/T0001/seal", json={"client_id": cid()}, headers=field["h"])
    assert first.get_json() == second.get_json() == {"status": "sealed", "count": 1}
    assert client.post("/api/v1/tubes/NOPE1/seal", headers=field["h"]).status_code == 404
    assert client.post("/api/v1/tubes/T0001/seal", headers=field["other"]).status_code == 403


def test_already_sampled_this_round_needs_resample(client, field):
    open_tube(client, field, code="T0001")
    open_tube(client, field, code="T0002", capacity=1)
    person = field["people"][0]
    client.post("/api/v1/tubes/T0001/samples", json={"qr": qr(person), "client_id": cid()}, headers=field["h"])
    refused = client.post("/api/v1/tubes/T0002/samples", json={"qr": qr(person), "client_id": cid()},
                          headers=field["h"])
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "already_sampled_this_round" and error["previous"]["tube_code"] == "T0001"
    retest = client.post("/api/v1/tubes/T0002/samples", json={"qr": qr(person), "client_id": cid(), "resample": True},
                         headers=field["h"])
    assert retest.status_code == 201 and retest.get_json()["tube"]["status"] == "sealed"


def test_supplementary_registration(client, field):
    open_tube(client, field)
    details = {"name": "王五", "id_type": "passport", "id_number": "E12345678", "phone": "13900000000"}
    response = client.post("/api/v1/tubes/T0001/samples", json={"resident": details, "client_id": cid()},
                           headers=field["h"])
    assert response.status_code == 201, response.get_json()
    bad = client.post("/api/v1/tubes/T0001/samples", json={"resident": {"name": "x"}, "client_id": cid()},
                      headers=field["h"])
    assert bad.status_code == 422 and "id_type" in bad.get_json()["error"]["fields"]
    other_name = client.post("/api/v1/tubes/T0001/samples",
                             json={"resident": {**details, "name": "赵六"}, "client_id": cid()}, headers=field["h"])
    assert other_name.status_code == 409
    assert client.post("/api/v1/tubes/T0001/samples", json={"qr": "x"}, headers=field["h"]).status_code == 422


def test_supplementary_registration_without_a_phone(client, field):
    """The people "no code" is for often have no phone (the elderly, paper forms, visitors)."""
    from sampling.extensions import db
    from sampling.models import Resident, Sample
    open_tube(client, field)
    url = "/api/v1/tubes/T0001/samples"
    no_phone = {"name": "老大爷", "id_type": "resident_id_card", "id_number": "110101194003070019"}
    first = client.post(url, json={"resident": no_phone, "client_id": cid()}, headers=field["h"])
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["tube"]["count"] == 1 and first.get_json()["resident"]["name_masked"] == "老*爷"
    as_the_page_sends = {"name": "老奶奶", "id_type": "passport", "id_number": "E77665544", "phone": None,
                         "address": None, "region_code": None}
    second = client.post(url, json={"resident": as_the_page_sends, "client_id": cid()}, headers=field["h"])
    assert second.status_code == 201, second.get_json()
    for body in (first.get_json(), second.get_json()):
        sample = db.session.get(Sample, body["sample_id"])
        assert sample.supplementary is True and sample.resident.phone is None
        assert sample.resident.source == "supplementary" and sample.resident.community.code == "120101001001"
    bad_phone = client.post(url, json={"resident": {**no_phone, "id_number": "E11223344", "id_type": "passport",
                                                    "phone": "12345"}, "client_id": cid()}, headers=field["h"])
    assert bad_phone.status_code == 422 and set(bad_phone.get_json()["error"]["fields"]) == {"phone"}
    assert db.session.query(Resident).filter_by(id_number="E11223344").count() == 0


def test_sites_for_the_caller(client, field, make_user, token_for):
    sites = client.get("/api/v1/sites", headers=field["h"]).get_json()["sites"]
    assert [s["code"] for s in sites] == ["S-HP-001"] and sites[0]["community_code"] == "120101001001"
    coordinator = token_for(make_user("coordinator", region="120101"))
    codes = [s["code"] for s in client.get("/api/v1/sites", headers=coordinator).get_json()["sites"]]
    assert codes == ["S-HP-001", "S-HP-002", "S-HP-003"]
    lab = token_for(make_user("lab"))
    assert client.get("/api/v1/sites", headers=lab).status_code == 403


def test_ids_that_cannot_exist_are_unknown_not_database_errors(client, field):
    """Numbers beyond what the id columns hold get the answer of any unknown id (a field error or
    404), not the generic invalid_value of the safety net."""
    for round_id in (10**30, 2**31, -1, 0):
        response = client.post("/api/v1/tubes", json={"tube_code": "T0009", "round_id": round_id,
                                                      "site_code": "S-HP-001"}, headers=field["h"])
        assert response.status_code == 422, round_id
        assert response.get_json()["error"]["code"] == "validation"
        assert set(response.get_json()["error"]["fields"]) == {"round_id"}
    for sample_id in ("9223372036854775808", "9223372036854775807", "9" * 30):
        response = client.delete(f"/api/v1/samples/{sample_id}", headers=field["h"])
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_sample", sample_id


def test_a_residents_code_is_not_a_tube_barcode(client, field):
    resident_code = qr(field["people"][0])
    for code in (resident_code, resident_code.lower()):
        response = open_tube(client, field, code=code)
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert error["code"] == "invalid_tube_code" and "居民" in error["fields"]["tube_code"]
    english = client.post("/api/v1/tubes", headers={**field["h"], "Accept-Language": "en"},
                          json={"tube_code": resident_code, "round_id": field["round"], "site_code": "S-HP-001"})
    assert english.get_json()["error"]["fields"]["tube_code"].startswith("This is a resident's code, not a tube")


def test_a_sample_is_either_a_code_or_a_person_not_both(client, field):
    open_tube(client, field)
    url = "/api/v1/tubes/T0001/samples"
    details = {"name": "王五", "id_type": "passport", "id_number": "E12345678"}
    both = client.post(url, json={"qr": qr(field["people"][0]), "resident": details, "client_id": cid()},
                       headers={**field["h"], "Accept-Language": "en"})
    assert both.status_code == 422
    assert "not both" in both.get_json()["error"]["fields"]["resident"]
    assert client.get("/api/v1/tubes/T0001", headers=field["h"]).get_json()["count"] == 0
    # a null on the side not used is no second value
    by_code = client.post(url, json={"qr": qr(field["people"][0]), "resident": None, "client_id": cid()},
                          headers=field["h"])
    by_details = client.post(url, json={"qr": None, "resident": details, "client_id": cid()}, headers=field["h"])
    assert (by_code.status_code, by_details.status_code) == (201, 201)


def test_a_client_id_of_another_user_is_refused_by_each_endpoint(client, field, make_user, token_for):
    colleague = token_for(make_user("sampler", sites=("S-HP-001",)))
    opened, scanned, sealed = cid(), cid(), cid()
    assert open_tube(client, field, client_id=opened).status_code == 201
    body = {"tube_code": "T0002", "round_id": field["round"], "site_code": "S-HP-001", "client_id": opened}
    reused = client.post("/api/v1/tubes", json=body, headers=colleague)
    assert reused.status_code == 409 and reused.get_json()["error"]["code"] == "client_id_reused"
    url = "/api/v1/tubes/T0001/samples"
    assert client.post(url, json={"qr": qr(field["people"][0]), "client_id": scanned},
                       headers=field["h"]).status_code == 201
    for person in field["people"][:2]:  # the same scan, or another resident under the same client_id
        other = client.post(url, json={"qr": qr(person), "client_id": scanned}, headers=colleague)
        assert other.status_code == 409 and other.get_json()["error"]["code"] == "client_id_reused"
    assert client.post("/api/v1/tubes/T0001/seal", json={"client_id": sealed}, headers=field["h"]).status_code == 200
    other_seal = client.post("/api/v1/tubes/T0001/seal", json={"client_id": sealed}, headers=colleague)
    assert other_seal.status_code == 409 and other_seal.get_json()["error"]["code"] == "client_id_reused"
    # the one who sent them still gets the first answers
    mine = client.post(url, json={"qr": qr(field["people"][0]), "client_id": scanned}, headers=field["h"])
    assert mine.status_code == 200 and mine.get_json()["tube"]["count"] == 1
    assert client.get("/api/v1/tubes/T0001", headers=field["h"]).get_json()["count"] == 1
