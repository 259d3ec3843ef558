"""The lab's API end to end: boxes, results as JSON, GB18030 CSV and XLSX, positives scoped to
the coordinator's region, the notice, turnaround."""
import io

import pytest
from openpyxl import Workbook

from sampling.extensions import db
from tests.lab_fixtures import resident, sealed_tube, the_round


@pytest.fixture
def field(demo_city, make_user, token_for):
    sampler = make_user("sampler", sites=("S-HP-001",))
    people = [resident(i, "120101001001" if i % 2 else "120102001001") for i in range(10)]
    sealed_tube("API-POOL-1", "S-HP-001", people, sampler=sampler)
    sealed_tube("API-POOL-2", "S-HP-001", [resident(100 + i) for i in range(10)])
    sealed_tube("API-POOL-3", "S-HP-001", [resident(200 + i) for i in range(10)])
    sealed_tube("API-LOOSE", "S-HP-001", [resident(300)], capacity=1)
    db.session.commit()
    return {"sampler": token_for(sampler), "lab": token_for(make_user("lab")),
            "admin": token_for(make_user("admin")),
            "hedong": token_for(make_user("coordinator", region="120102")),
            "hexi": token_for(make_user("coordinator", region="120103"))}


def _boxed_and_received(client, field, box, tubes):
    assert client.post("/api/v1/boxes", json={"box_code": box}, headers=field["sampler"]).status_code == 201
    for code in tubes:
        response = client.post(f"/api/v1/boxes/{box}/tubes", json={"tube_code": code}, headers=field["sampler"])
        assert response.status_code == 200, response.get_json()
    assert client.post(f"/api/v1/boxes/{box}/handover", headers=field["sampler"]).status_code == 200
    received = client.post(f"/api/v1/boxes/{box}/receive", headers=field["lab"])
    assert received.status_code == 200
    return received.get_json()


def test_chain_over_the_api(client, field):
    received = _boxed_and_received(client, field, "API-BOX-1", ["API-POOL-1", "API-POOL-2"])
    assert received["status"] == "received" and received["tubes_received"] == 2 and received["received_by"]
    again = client.post("/api/v1/boxes/API-BOX-1/receive", headers=field["lab"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "box_already_received"
    second = client.post("/api/v1/boxes", json={"box_code": "API-BOX-2"}, headers=field["sampler"])
    assert second.status_code == 201
    moved = client.post("/api/v1/boxes/API-BOX-2/tubes", json={"tube_code": "API-POOL-1"}, headers=field["sampler"])
    assert moved.status_code == 409 and moved.get_json()["error"]["code"] == "tube_in_other_box"
    assert "API-BOX-1" in moved.get_json()["error"]["message"]
    assert client.post("/api/v1/boxes/NOPE-BOX/handover", headers=field["sampler"]).status_code == 404
    assert client.post("/api/v1/boxes", json={"box_code": "x"}, headers=field["sampler"]).status_code == 422
    assert client.post("/api/v1/boxes", json={"box_code": "LAB-BOX"}, headers=field["lab"]).status_code == 403
    listed = client.get("/api/v1/boxes/API-BOX-1", headers=field["lab"]).get_json()
    assert [t["code"] for t in listed["tubes"]] == ["API-POOL-1", "API-POOL-2"]

    posted = client.post("/api/v1/results", headers=field["lab"], json={"results": [
        {"tube_code": "API-POOL-1", "result": "positive"}, {"tube_code": "API-POOL-2", "result": "negative"},
        {"tube_code": "API-POOL-3", "result": "negative"}, {"tube_code": "NO-SUCH", "result": "negative"}]})
    assert posted.status_code == 200
    body = posted.get_json()
    assert body["updated"] == 2 and body["unknown"] == ["NO-SUCH"]
    assert body["rejected"] == [{"tube_code": "API-POOL-3", "code": "tube_not_received",
                                 "message": "采样管 API-POOL-3 尚未被检测机构接收（当前状态：已封管）。"}]
    assert body["positives"][0]["tube_code"] == "API-POOL-1" and len(body["positives"][0]["residents"]) == 10
    conflict = client.post("/api/v1/results", headers=field["lab"],
                           json={"results": [{"tube_code": "API-POOL-2", "result": "positive"}]}).get_json()
    assert conflict["rejected"][0]["code"] == "result_conflict"
    assert client.post("/api/v1/results", headers=field["sampler"],
                       json={"results": [{"tube_code": "API-POOL-2", "result": "negative"}]}).status_code == 403
    assert client.post("/api/v1/results", headers=field["lab"], json={"results": []}).status_code == 400

    rid = the_round().id
    pools = client.get(f"/api/v1/positives?round_id={rid}", headers=field["hedong"]).get_json()["pools"]
    assert len(pools) == 1 and pools[0]["member_count"] == 10 and len(pools[0]["members"]) == 5
    assert {m["community_code"] for m in pools[0]["members"]} == {"120102001001"}
    assert client.get("/api/v1/positives", headers=field["hexi"]).get_json() == {"pools": []}
    assert len(client.get("/api/v1/positives", headers=field["admin"]).get_json()["pools"][0]["members"]) == 10
    assert client.get("/api/v1/positives", headers=field["lab"]).status_code == 403
    assert client.get("/api/v1/positives?round_id=x", headers=field["admin"]).status_code == 400

    # hedong has only opened a filtered list so far: the notice counts the open pools of the area
    notice = client.get("/api/v1/positives/notice", headers=field["hedong"]).get_json()
    assert notice["basis"] == "open" and notice["count"] == 1 and notice["pools"][0]["tube_code"] == "API-POOL-1"
    assert client.get("/api/v1/positives", headers=field["hedong"]).status_code == 200
    assert client.get("/api/v1/positives/notice", headers=field["hedong"]).get_json() == {
        "basis": "new", "count": 0, "pools": []}
    assert client.get("/api/v1/positives/notice", headers=field["lab"]).status_code == 403

    figures = client.get(f"/api/v1/turnaround?round_id={rid}", headers=field["admin"]).get_json()
    assert figures["sealed_to_resulted"]["tubes"] == 2
    scoped = client.get(f"/api/v1/turnaround?round_id={rid}", headers=field["hedong"]).get_json()
    assert scoped["region_code"] == "120102" and scoped["sealed_to_resulted"]["tubes"] == 0
    assert client.get(f"/api/v1/turnaround?round_id={rid}&region_code=120101",
                      headers=field["hedong"]).status_code == 403
    assert client.get("/api/v1/turnaround?round_id=999", headers=field["admin"]).status_code == 404
    assert client.get("/api/v1/turnaround", headers=field["admin"]).status_code == 400


def test_result_files_gb18030_csv_and_xlsx(client, field):
    _boxed_and_received(client, field, "API-BOX-F", ["API-POOL-1", "API-POOL-2", "API-POOL-3"])
    csv_text = "管码,结果,检测时间\r\nAPI-POOL-1,阴性,\r\nAPI-POOL-2,阳性,\r\nAPI-NOPE,阴性,\r\nAPI-POOL-3,不知道,\r\n"
    response = client.post("/api/v1/results", headers=field["lab"], content_type="multipart/form-data",
                           data={"file": (io.BytesIO(csv_text.encode("gb18030")), "结果.csv")})
    body = response.get_json()
    assert response.status_code == 200 and body["updated"] == 2 and body["unknown"] == ["API-NOPE"]
    assert body["unknown_rows"] == [{"tube_code": "API-NOPE", "row": 4}]
    assert body["rejected"][0]["row"] == 5 and body["rejected"][0]["code"] == "invalid_result"
    assert body["positives"][0]["tube_code"] == "API-POOL-2"

    book = Workbook()
    sheet = book.active
    sheet.append(["tube_code", "result"])
    sheet.append(["API-POOL-3", "invalid"])
    sheet.append(["API-POOL-2", "negative"])
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    response = client.post("/api/v1/results", headers=field["lab"], content_type="multipart/form-data",
                           data={"file": (stream, "results.xlsx"), "correct": "true"})
    body = response.get_json()
    assert body["updated"] == 1 and body["corrected"] == 1 and body["rejected"] == []
    assert [p["tube_code"] for p in body["positives"]] == ["API-POOL-3"]

    broken = client.post("/api/v1/results", headers=field["lab"], content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"not a workbook"), "results.xlsx")})
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "unreadable_file"
    headless = client.post("/api/v1/results", headers=field["lab"], content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"a,b\r\n1,2\r\n"), "r.csv")})
    assert headless.status_code == 400 and headless.get_json()["error"]["code"] == "missing_columns"
    nofile = client.post("/api/v1/results", headers=field["lab"], content_type="multipart/form-data",
                         data={"other": "x"})
    assert nofile.status_code == 400 and nofile.get_json()["error"]["code"] == "no_file"


def test_out_of_range_times_and_round_ids_are_4xx(client, field):
    _boxed_and_received(client, field, "API-BOX-R", ["API-POOL-2"])
    body = client.post("/api/v1/results", headers=field["lab"], json={"results": [
        {"tube_code": "API-POOL-2", "result": "negative", "tested_at": "0001-01-01T00:00:00+14:00"},
        {"tube_code": "API-POOL-2", "result": "negative", "tested_at": "9999-12-31T23:59:59-12:00"},
        {"tube_code": "API-POOL-2", "result": "negative", "tested_at": "0001-01-01 00:00"}]}).get_json()
    assert body["updated"] == 0 and [r["code"] for r in body["rejected"]] == ["invalid_tested_at"] * 3
    for path in ("positives", "turnaround"):
        for round_id in ("99999999999999999999", "2147483648", "0", "999"):
            response = client.get(f"/api/v1/{path}?round_id={round_id}", headers=field["admin"])
            assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_round"
        arabic = client.get(f"/api/v1/{path}?round_id=١", headers=field["admin"])
        assert arabic.status_code == 400 and arabic.get_json()["error"]["code"] == "invalid_round_id"
    rid = the_round().id
    assert client.get(f"/api/v1/positives?round_id={rid}", headers=field["admin"]).get_json() == {"pools": []}


def test_results_refuse_values_that_are_not_text_and_read_excel_times(client, field):
    _boxed_and_received(client, field, "API-BOX-X", ["API-POOL-1", "API-POOL-2", "API-POOL-3"])
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    soon = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=2)  # after the receipt just now
    excel = f"{soon.year}/{soon.month}/{soon.day} {soon.hour}:{soon.minute:02d}"
    body = client.post("/api/v1/results", headers=field["lab"], json={"results": [
        {"tube_code": 12345678, "result": "negative"},
        {"tube_code": "API-POOL-1", "result": "negative", "tested_at": 123},
        {"tube_code": "API-POOL-2", "result": "negative", "tested_at": excel},
        {"tube_code": "NOPE-0001", "result": "negative"}]}).get_json()
    assert [(r["tube_code"], r["code"]) for r in body["rejected"]] == [
        ("12345678", "invalid_tube_code"), ("API-POOL-1", "invalid_tested_at")]
    assert "文本" in body["rejected"][1]["message"]
    assert body["updated"] == 1 and body["unknown"] == ["NOPE-0001"] and body["unknown_rows"] == [
        {"tube_code": "NOPE-0001"}]
    from sampling.models import Tube
    stored = db.session.execute(db.select(Tube.result, Tube.resulted_at).where(Tube.code == "API-POOL-2")).one()
    assert stored == ("negative", soon.replace(second=0, microsecond=0))

    dashed = excel.replace("/", "-")  # 2022-1-10 9:05
    csv_text = f"管码,结果,检测时间\r\nAPI-POOL-3,阳性,{dashed}\r\n"
    upload = client.post("/api/v1/results", headers=field["lab"], content_type="multipart/form-data",
                         data={"file": (io.BytesIO(csv_text.encode("gb18030")), "结果.csv")}).get_json()
    assert upload["updated"] == 1 and upload["rejected"] == []
