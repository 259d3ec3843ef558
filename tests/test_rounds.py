"""Rounds through the API."""


def test_admin_opens_and_lists_rounds(client, make_user, token_for):
    headers = token_for(make_user("admin"))
    created = client.post("/api/v1/rounds", json={"name": "第三轮", "pool_size": 20}, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "第三轮" and body["pool_size"] == 20 and body["status"] == "open"
    listed = client.get("/api/v1/rounds", headers=headers).get_json()["rounds"]
    assert [r["id"] for r in listed] == [body["id"]]


def test_pool_size_defaults_to_ten(client, make_user, token_for):
    body = client.post("/api/v1/rounds", json={"name": "R"}, headers=token_for(make_user("admin"))).get_json()
    assert body["pool_size"] == 10


def test_coordinator_round_covers_their_region(client, demo_city, make_user, token_for):
    body = client.post("/api/v1/rounds", json={"name": "R", "pool_size": 10},
                       headers=token_for(make_user("coordinator", region="120102"))).get_json()
    assert body["region_code"] == "120102"


def test_invalid_round_is_422_with_fields(client, make_user, token_for):
    headers = token_for(make_user("admin"))
    for payload, field in (({"name": "", "pool_size": 10}, "name"), ({"name": "R", "pool_size": 7}, "pool_size"),
                           ({"name": "R", "pool_size": "10"}, "pool_size"), ({"name": 5}, "name")):
        response = client.post("/api/v1/rounds", json=payload, headers=headers)
        assert response.status_code == 422, payload
        assert field in response.get_json()["error"]["fields"]


def test_unknown_region_is_404(client, make_user, token_for):
    response = client.post("/api/v1/rounds", json={"name": "R", "region_code": "999999"},
                           headers=token_for(make_user("admin")))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_region"
