"""Rounds through the API."""
import pytest

from sampling.errors import NotFound
from sampling.kernel.ids import db_id


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


@pytest.mark.parametrize("value, expected", [
    (1, 1), ("42", 42), ("007", 7), (2**31 - 1, 2**31 - 1), ("2147483647", 2**31 - 1), ("0002147483647", 2**31 - 1),
    (0, None), (-3, None), ("0", None), (2**31, None), ("2147483648", None), ("9" * 400, None), ("²", None),
    ("１２", None), ("٣", None), ("+5", None), ("-5", None), (" 5", None), ("5.0", None), ("", None),
    (5.0, None), (True, None), (None, None), ([5], None)])
def test_positive_id_accepts_only_plain_ids_in_range(value, expected):
    assert db_id(value, text=True) == expected


def test_get_round_by_id_and_out_of_range_ids_are_unknown(app, make_user):
    from sampling.field.rounds import create_round, get_round
    rnd = create_round(make_user("admin"), "第四轮", 10)
    assert get_round(rnd.id) is rnd and get_round(str(rnd.id)) is rnd
    for bad in (2**31, 2**40, str(2**63), "²", "１", -rnd.id, True, "abc"):
        with pytest.raises(NotFound) as caught:
            get_round(bad)
        assert caught.value.code == "unknown_round", bad


def test_each_role_lists_the_rounds_that_concern_it(client, demo_city, make_user, token_for):
    admin = token_for(make_user("admin"))
    for name, region in (("和平区", "120101"), ("劝业场街道", "120101001"), ("河东区", "120102"),
                         ("新兴里社区", "120103001001")):
        assert client.post("/api/v1/rounds", json={"name": name, "region_code": region},
                           headers=admin).status_code == 201

    def names(user):
        return {r["name"] for r in client.get("/api/v1/rounds", headers=token_for(user)).get_json()["rounds"]}

    citywide = "第二轮全员核酸检测"
    everything = {citywide, "和平区", "劝业场街道", "河东区", "新兴里社区"}
    assert names(make_user("admin")) == everything
    assert names(make_user("lab")) == everything  # labs test tubes from every district
    assert names(make_user("coordinator", region="120101")) == {citywide, "和平区", "劝业场街道"}
    assert names(make_user("coordinator", region="120101001")) == {citywide, "和平区", "劝业场街道"}
    assert names(make_user("coordinator", region="120101002")) == {citywide, "和平区"}
    assert names(make_user("coordinator", region="120102")) == {citywide, "河东区"}
    assert names(make_user("sampler", sites=("S-HD-001",))) == {citywide, "河东区"}
    two_sites = make_user("sampler", sites=("S-HP-001", "S-HX-001"))
    assert names(two_sites) == {citywide, "和平区", "劝业场街道", "新兴里社区"}
    assert names(make_user("sampler", sites=("S-HP-003",))) == {citywide, "和平区"}
