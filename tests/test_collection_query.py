"""The public collection query: own records only, no hint whether a number is registered."""
import pytest

from sampling.errors import ValidationFailed
from sampling.field import samples, tubes
from sampling.lab import query
from tests.field import cid, current_round, make_residents, qr


@pytest.fixture
def sampled(demo_city, make_user):
    sampler = make_user("sampler", sites=("S-HP-001",))
    people = make_residents(3)
    tubes.open_tube(sampler, {"tube_code": "Q0001", "round_id": current_round().id, "site_code": "S-HP-001"})
    for person in people[:2]:
        samples.add_sample(sampler, "Q0001", {"qr": qr(person), "client_id": cid()})
    return people


def test_a_person_sees_their_own_collections(sampled):
    records = query.collections(sampled[0].id_number.lower(), f" {sampled[0].name} ")
    assert len(records) == 1
    record = records[0]
    assert record["site_name"] == "新华里社区广场采样点" and record["tube_status"] == "open"
    assert record["result"]["state"] == "pending" and record["round_name"] == current_round().name


def test_the_query_shows_the_lab_result(sampled, make_user):
    from sampling.lab import boxes, results
    sampler, lab = make_user("sampler", sites=("S-HP-001",)), make_user("lab")
    tubes.seal_tube(sampler, "Q0001")
    boxes.create_box(sampler, "QBOX")
    boxes.add_tube(sampler, "QBOX", "Q0001")
    boxes.hand_over(sampler, "QBOX")
    boxes.receive(lab, "QBOX")
    results.post_results(lab, [results.make_row(None, "Q0001", "positive")])
    record = query.collections(sampled[0].id_number, sampled[0].name)[0]
    # a pool result is not a diagnosis: the person is told to wait to be resampled alone
    assert record["tube_status"] == "resulted" and record["result"]["state"] == "retest_required"
    assert "社区" in record["result"]["message"] and record["result"]["individual_result"] is None


def test_unknown_number_and_wrong_name_get_the_same_answer(sampled):
    assert query.collections(sampled[0].id_number, "别人") == []
    assert query.collections("120101199001011234", sampled[0].name) == []
    assert query.collections(sampled[2].id_number, sampled[2].name) == []  # registered, never sampled
    with pytest.raises(ValidationFailed):
        query.collections("", "")


def test_a_number_too_long_to_be_one_is_not_valid_rather_than_missing(sampled):
    with pytest.raises(ValidationFailed) as too_long:
        query.collections("1" * 40, sampled[0].name)
    assert too_long.value.fields == {"id_number": "证件号码无效。"}
    with pytest.raises(ValidationFailed) as empty:
        query.collections(" ", sampled[0].name)
    assert empty.value.fields == {"id_number": "请填写证件号码。"}


def test_query_api_is_public_and_rate_limited(make_app, sampled):
    server = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PUBLIC="3 per minute")
    from tests.contract import ContractClient
    server.test_client_class = ContractClient
    client = server.test_client()
    ok = client.post("/api/v1/query", json={"id_number": sampled[1].id_number, "name": sampled[1].name})
    assert ok.status_code == 200 and len(ok.get_json()["records"]) == 1
    wrong = client.post("/api/v1/query", json={"id_number": sampled[1].id_number, "name": "别人"})
    unknown = client.post("/api/v1/query", json={"id_number": "120101199001011234", "name": sampled[1].name})
    assert wrong.get_json() == unknown.get_json() == {"records": []}
    assert client.post("/api/v1/query", json={"id_number": "1", "name": "x"}).status_code == 429


def test_query_api_refuses_empty_input(client):
    assert client.post("/api/v1/query", json={}).status_code == 422
    assert client.post("/api/v1/query", data="x").status_code == 400


def test_the_query_after_the_individual_retest_end_to_end(client, demo_city, make_user, token_for):
    """Scanned into a 10-in-1 pool, the pool positive, the person resampled alone and negative:
    all through the API, then the person's own query shows the individual result."""
    sampler, lab = token_for(make_user("sampler", sites=("S-HP-001",))), token_for(make_user("lab"))
    people, round_id = make_residents(10), current_round().id

    def post(path, body=None, headers=sampler):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def through_the_lab(box, tube, result):
        post("/api/v1/boxes", {"box_code": box})
        post(f"/api/v1/boxes/{box}/tubes", {"tube_code": tube})
        post(f"/api/v1/boxes/{box}/handover")
        post(f"/api/v1/boxes/{box}/receive", headers=lab)
        return post("/api/v1/results", {"results": [{"tube_code": tube, "result": result}]}, headers=lab)

    def query(person):
        response = client.post("/api/v1/query", json={"id_number": person.id_number, "name": person.name},
                               headers={"Accept-Language": "en"})
        assert response.status_code == 200
        return response.get_json()["records"]

    post("/api/v1/tubes", {"tube_code": "E2E-POOL", "round_id": round_id, "site_code": "S-HP-001"})
    for person in people:
        scanned = post("/api/v1/tubes/E2E-POOL/samples", {"qr": qr(person), "client_id": cid()})
    assert scanned["tube"]["status"] == "sealed"  # the tenth sample filled it
    assert query(people[0])[0]["result"]["state"] == "pending"
    assert len(through_the_lab("E2E-BOX-1", "E2E-POOL", "positive")["positives"][0]["residents"]) == 10
    told = query(people[0])[0]["result"]
    assert told["state"] == "retest_required" and told["individual_result"] is None

    post("/api/v1/tubes", {"tube_code": "E2E-SOLO", "round_id": round_id, "site_code": "S-HP-001", "capacity": 1})
    post("/api/v1/tubes/E2E-SOLO/samples", {"qr": qr(people[0]), "client_id": cid(), "resample": True})
    assert query(people[0])[1]["result"]["state"] == "retest_pending"
    through_the_lab("E2E-BOX-2", "E2E-SOLO", "negative")
    retest, pooled = query(people[0])  # newest first
    assert retest["result"]["state"] == "negative" and retest["tube_status"] == "resulted"
    assert pooled["result"] == {"state": "retest_negative", "message": "Your individual retest is negative.",
                                "individual_result": "negative", "resulted_at": pooled["result"]["resulted_at"]}
    assert pooled["result"]["resulted_at"] is not None
    assert query(people[1])[0]["result"]["state"] == "retest_required"  # not resampled yet


def test_query_page_says_a_too_long_number_is_not_valid(client, sampled):
    from tests.conftest import csrf_from
    page = client.get("/query").get_data(as_text=True)
    answer = client.post("/query", data={"csrf_token": csrf_from(page), "id_number": "1" * 40,
                                         "name": sampled[0].name}).get_data(as_text=True)
    assert '<p class="field-error">证件号码无效。</p>' in answer and "请填写证件号码" not in answer
