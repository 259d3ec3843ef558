"""Rosters and collisions at the edges of their input: ids no row can have, times at the edge of
the calendar, characters no column can hold. Each gets a 404 or a field error, on SQLite and on
PostgreSQL alike (32-bit ids there, 64-bit integers on SQLite), never a 500 or the generic 422."""
import io

import pytest

from sampling.rosters import collisions, uploads
from tests.collision_data import HEADER_ZH, csv_bytes, id_number, known_case
from tests.conftest import login

HUGE = (2**31, 2**63, 10**20)


@pytest.fixture
def ran(demo_city, make_user, client, token_for):
    case = known_case()
    user = make_user("coordinator", region="120101", username="edge_chief")
    roster, _ = uploads.upload_roster(user, io.BytesIO(csv_bytes(case["rows"])), "r.csv", "r", None)
    collision = collisions.run_collision(user, roster.id, case["round"].id)
    return {"case": case, "user": user, "roster": roster, "collision": collision, "headers": token_for(user)}


@pytest.mark.parametrize("big", HUGE)
def test_ids_no_row_can_have_are_404(ran, client, big):
    headers = ran["headers"]
    for path in (f"/api/v1/rosters/{big}", f"/api/v1/collisions/{big}", f"/api/v1/collisions/{big}/untested.csv",
                 f"/api/v1/collisions/{big}/name_mismatch.xlsx"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, (path, response.get_json())
    assert client.delete(f"/api/v1/rosters/{big}", headers=headers).status_code == 404
    round_id, roster_id = ran["case"]["round"].id, ran["roster"].id
    run = client.post("/api/v1/collisions", headers=headers, json={"roster_id": big, "round_id": round_id})
    assert run.status_code == 404 and run.get_json()["error"]["code"] == "unknown_roster"
    run = client.post("/api/v1/collisions", headers=headers, json={"roster_id": roster_id, "round_id": big})
    assert run.status_code == 404 and run.get_json()["error"]["code"] == "unknown_round"
    login(client, "edge_chief")
    for path in (f"/rosters/{big}", f"/rosters/{big}/errors.csv", f"/collisions/{big}", f"/collisions/{big}/print"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("field, value", [("from", "0001-01-01T00:00"), ("to", "9999-12-31T23:59-08:00"),
                                          ("from", "2022-02-30T08:00"), ("to", 20220110)])
def test_times_off_the_calendar_are_field_errors(ran, client, field, value):
    response = client.post("/api/v1/collisions", headers=ran["headers"], json={
        "roster_id": ran["roster"].id, "round_id": ran["case"]["round"].id, field: value})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation" and list(error["fields"]) == [field]
    assert "2022-01-10T08:00" in error["fields"][field]


@pytest.mark.parametrize("form, filename, field", [
    ({"name": "新华里\x00名单"}, "r.csv", "name"),
    ({"region_code": "12\x000101"}, "r.csv", "region_code"),
    ({}, "r\x00x.csv", "file"),
    ({"name": "x" * 101}, "r.csv", "name"),
])
def test_unstorable_multipart_fields_are_field_errors(demo_city, make_user, client, token_for, form, filename, field):
    headers = token_for(make_user("coordinator", region="120101"))
    data = csv_bytes([HEADER_ZH, ["张三", "", id_number(1), "", "", "", "", "", ""]])
    response = client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), filename), **form})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation" and list(error["fields"]) == [field]
    assert client.get("/api/v1/rosters", headers=headers).get_json()["rosters"] == []


def test_a_long_file_name_is_cut_to_a_roster_name(demo_city, make_user, client, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    data = csv_bytes([HEADER_ZH, ["张三", "", id_number(1), "", "", "", "", "", ""]])
    filename = "名" * 150 + ".csv"
    response = client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), filename)})
    assert response.status_code == 201, response.get_json()
    roster = client.get(f"/api/v1/rosters/{response.get_json()['roster_id']}", headers=headers).get_json()
    assert (roster["name"], roster["filename"]) == ("名" * 100, filename)
