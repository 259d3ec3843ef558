"""Roster upload: every accepted encoding, both header languages, bad rows, mapping, limits,
region scope and retention; the whole flow once through the API."""
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sampling.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.models import Collision, CollisionRow, Roster, RosterEntry
from sampling.rosters import uploads
from tests.collision_data import HEADER_EN, HEADER_ZH, csv_bytes, id_number, known_case, xlsx_bytes


def _rows(header):
    return [header,
            ["张三", "居民身份证" if header is HEADER_ZH else "resident_id_card", id_number(1), "138 0000 0001",
             "新华里社区", "1号楼", "1单元", "101", "新华里1号楼1单元101"],
            ["欧阳·娜娜", "" if header is HEADER_ZH else "ID card", id_number(2).lower(), "", "新华里社区", "1号楼",
             "1单元", "102", ""],
            ["Li Si", "护照" if header is HEADER_ZH else "passport", "E12345678", "", "新华里社区", "2号楼", "", "",
             ""]]


@pytest.mark.parametrize("header", [HEADER_ZH, HEADER_EN], ids=["zh", "en"])
@pytest.mark.parametrize("kind", ["utf-8", "utf-8-sig", "gb18030", "gbk", "xlsx"])
def test_every_encoding_and_header_language(demo_city, make_user, kind, header):
    user = make_user("coordinator", region="120101")
    rows = _rows(header)
    data = xlsx_bytes(rows) if kind == "xlsx" else csv_bytes(rows, kind)
    roster, errors = uploads.upload_roster(user, io.BytesIO(data), f"名单.{'xlsx' if kind == 'xlsx' else 'csv'}",
                                           "名单", None)
    assert (roster.rows_total, roster.rows_valid, errors) == (3, 3, [])
    entries = db.session.execute(select(RosterEntry.name, RosterEntry.id_type, RosterEntry.id_number,
                                        RosterEntry.phone, RosterEntry.building)
                                 .where(RosterEntry.roster_id == roster.id).order_by(RosterEntry.row_number)).all()
    assert entries == [("张三", "resident_id_card", id_number(1), "13800000001", "1号楼"),
                       ("欧阳·娜娜", "resident_id_card", id_number(2).upper(), "", "1号楼"),
                       ("Li Si", "passport", "E12345678", "", "2号楼")]
    assert roster.region.code == "120101"


def test_every_kind_of_bad_row_is_reported_and_good_rows_load(demo_city, make_user):
    user = make_user("coordinator", region="120101")
    good = id_number(5)
    rows = [HEADER_ZH,
            ["张三", "", good, "", "", "", "", "", ""],                      # 2 ok
            ["李四", "", good[:-1] + ("1" if good[-1] != "1" else "2"), "", "", "", "", "", ""],  # 3 check digit
            ["王五", "", "12345", "", "", "", "", "", ""],                   # 4 too short
            ["", "", id_number(6), "", "", "", "", "", ""],                   # 5 missing name
            ["赵六", "", "", "", "", "", "", "", ""],                         # 6 missing number
            ["张三", "", good, "", "", "", "", "", ""],                       # 7 duplicate of row 2
            ["钱七", "驾照", id_number(7), "", "", "", "", "", ""],           # 8 unknown document type
            ["孙\x07八", "", id_number(8), "", "", "", "", "", ""],           # 9 bad name
            ["周九", "", id_number(9), "not a phone", "", "", "", "", ""],    # 10 ok, phone kept as written
            ["吴\x00十", "", id_number(10), "", "社\x00区", "", "", "", ""]]  # 11 ok: NUL characters dropped
    roster, errors = uploads.upload_roster(user, io.BytesIO(csv_bytes(rows, "gb18030")), "r.csv", "r", None)
    assert (roster.rows_total, roster.rows_valid) == (10, 3)
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [
        (3, "id_number", "invalid_id_number"), (4, "id_number", "invalid_id_number"), (5, "name", "missing_name"),
        (6, "id_number", "missing_id_number"), (7, "id_number", "duplicate"), (8, "id_type", "invalid_id_type"),
        (9, "name", "invalid_name")]
    assert all(e["message"] for e in errors)


def test_unrecognised_headers_need_a_mapping(demo_city, make_user):
    user = make_user("coordinator", region="120101")
    rows = [["户主", "号码", "备注"], ["张三", id_number(1), "x"]]
    with pytest.raises(ValidationFailed) as info:
        uploads.upload_roster(user, io.BytesIO(csv_bytes(rows)), "r.csv", "r", None)
    assert info.value.code == "unmapped_columns" and set(info.value.fields) == {"name", "id_number"}
    inspected = uploads.inspect_file(user, io.BytesIO(csv_bytes(rows)), "r.csv")
    assert inspected["headers"] == ["户主", "号码", "备注"] and inspected["mapping"]["name"] is None
    roster, errors = uploads.upload_roster(user, io.BytesIO(csv_bytes(rows)), "r.csv", "r", None,
                                           json.dumps({"name": 0, "id_number": 1}))
    assert (roster.rows_valid, errors) == (1, [])
    with pytest.raises(ValidationFailed):
        uploads.upload_roster(user, io.BytesIO(csv_bytes(rows)), "r.csv", "r", None, '{"name": 7}')


def test_coordinator_of_another_region_is_refused(demo_city, make_user):
    owner = make_user("coordinator", region="120101")
    other = make_user("coordinator", region="120102")
    roster, _ = uploads.upload_roster(owner, io.BytesIO(csv_bytes(_rows(HEADER_ZH))), "r.csv", "r", None)
    with pytest.raises(Forbidden):
        uploads.get_roster(other, roster.id)
    with pytest.raises(Forbidden):
        uploads.upload_roster(other, io.BytesIO(csv_bytes(_rows(HEADER_ZH))), "r.csv", "r", "120101")
    assert uploads.list_rosters(other) == [] and [r.id for r in uploads.list_rosters(owner)] == [roster.id]


def test_expired_rosters_are_purged_with_their_collisions(demo_city, make_user, app):
    from sampling.rosters import collisions
    user = make_user("coordinator", region="120101")
    case = known_case()
    old, _ = uploads.upload_roster(user, io.BytesIO(csv_bytes(case["rows"])), "old.csv", "old", None)
    collisions.run_collision(user, old.id, case["round"].id)
    old.created_at = datetime.now(UTC) - timedelta(days=31)
    db.session.commit()
    new, _ = uploads.upload_roster(user, io.BytesIO(csv_bytes(case["rows"])), "new.csv", "new", None)
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 1
    assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 8
    assert db.session.scalar(select(func.count()).select_from(Collision)) == 0
    assert db.session.scalar(select(func.count()).select_from(CollisionRow)) == 0
    new.created_at = datetime.now(UTC) - timedelta(days=10)
    db.session.commit()
    app.config["ROSTER_RETENTION_DAYS"] = 7
    with pytest.raises(NotFound):  # expired: gone for users even before the purge runs
        uploads.get_roster(user, new.id)
    result = app.test_cli_runner().invoke(args=["purge-rosters"])
    assert result.exit_code == 0 and "已删除名单：1 份" in result.output


def test_api_end_to_end(demo_city, make_user, client, token_for):
    case = known_case()
    headers = token_for(make_user("coordinator", region="120101"))
    response = client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data", data={
        "file": (io.BytesIO(xlsx_bytes(case["rows"])), "名单.xlsx"), "name": "新华里", "region_code": "120101"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rows_total"], body["rows_valid"], len(body["errors"])) == (8, 5, 3)
    run = client.post("/api/v1/collisions", headers=headers,
                      json={"roster_id": body["roster_id"], "round_id": case["round"].id})
    assert run.status_code == 201
    counts = run.get_json()
    assert {k: counts[k] for k in ("roster_total", "tested", "untested", "not_on_roster", "name_mismatch",
                                   "invalid")} == {"roster_total": 8, "tested": 3, "untested": 2,
                                                   "not_on_roster": 1, "name_mismatch": 1, "invalid": 3}
    cid = counts["collision_id"]
    detail = client.get(f"/api/v1/collisions/{cid}", headers=headers).get_json()
    assert sum(r["untested"] for r in detail["by_building"]) == 2
    for category in ("untested", "tested", "not_on_roster", "name_mismatch", "invalid"):
        for fmt in ("csv", "xlsx"):
            assert client.get(f"/api/v1/collisions/{cid}/{category}.{fmt}", headers=headers).status_code == 200
    csv_text = client.get(f"/api/v1/collisions/{cid}/untested.csv", headers=headers).data.decode("utf-8-sig")
    assert "李四" in csv_text and "赵六" in csv_text and case["ids"]["B"] not in csv_text
    listed = client.get("/api/v1/rosters", headers=headers).get_json()["rosters"]
    assert [r["id"] for r in listed] == [body["roster_id"]]
    assert client.get(f"/api/v1/rosters/{body['roster_id']}", headers=headers).get_json()["collisions"][0][
        "collision_id"] == cid
    other = token_for(make_user("coordinator", region="120102"))
    assert client.get(f"/api/v1/collisions/{cid}/untested.csv", headers=other).status_code == 403
    assert client.get(f"/api/v1/rosters/{body['roster_id']}", headers=other).status_code == 403
    assert client.post("/api/v1/collisions", headers=other,
                       json={"roster_id": body["roster_id"], "round_id": case["round"].id}).status_code == 403
    assert client.delete(f"/api/v1/rosters/{body['roster_id']}", headers=other).status_code == 403
    assert client.delete(f"/api/v1/rosters/{body['roster_id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/collisions/{cid}", headers=headers).status_code == 404


def test_api_refuses_bad_requests(demo_city, make_user, client, token_for, server):
    headers = token_for(make_user("coordinator", region="120101"))
    assert client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                       data={"name": "x"}).status_code == 422
    empty = client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b""), "r.csv")})
    assert empty.status_code == 400 and empty.get_json()["error"]["code"] == "empty_file"
    broken = client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"not a zip"), "r.xlsx")})
    assert broken.status_code == 400
    assert client.post("/api/v1/collisions", headers=headers, json={"roster_id": "x", "round_id": 1}).status_code == 422
    assert client.post("/api/v1/collisions", headers=headers, json={"roster_id": 1, "round_id": 1}).status_code == 404
    sampler = token_for(make_user("sampler", sites=("S-HP-001",)))
    assert client.get("/api/v1/rosters", headers=sampler).status_code == 403
    server.config["ROSTER_MAX_UPLOAD_MB"] = 1
    big = client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(b"x" * (1024 * 1024 + 10)), "r.csv")})
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "too_large"
    assert "1 MB" in big.get_json()["error"]["message"]


def test_a_file_that_breaks_midway_leaves_nothing_behind(demo_city, make_user):
    user = make_user("coordinator", region="120101")
    rows = [HEADER_EN] + [[f"住户{i}", "", id_number(i % 1000), "", "", "", "", "", ""] for i in range(8000)]
    data = csv_bytes(rows) + b"\xff\xfe\xfa broken\n"  # valid UTF-8 for the first 256 KB, then not
    assert len(data) > 256 * 1024
    with pytest.raises(BadRequest) as info:
        uploads.upload_roster(user, io.BytesIO(data), "r.csv", "r", None)
    assert info.value.code == "unreadable_file"
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 0
    assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 0


def test_api_inspect_reads_the_header_for_the_mapping_step(demo_city, make_user, client, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    rows = [["序号", "户主", "身份证号", "楼号"], ["1", "张三", id_number(1), "3"]]
    for data, filename in ((csv_bytes(rows, "gb18030")[:40], "r.csv"), (xlsx_bytes(rows), "r.xlsx")):
        response = client.post("/api/v1/rosters/inspect", headers=headers, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(data), filename)})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["headers"] == ["序号", "户主", "身份证号", "楼号"]
        assert body["mapping"]["id_number"] == 2 and body["mapping"]["building"] == 3
        assert body["mapping"]["name"] is None


def test_a_damaged_workbook_is_a_400(demo_city, make_user):
    from tests.damaged import half_a_sheet
    user = make_user("coordinator", region="120101")
    damaged = io.BytesIO(half_a_sheet(xlsx_bytes(_rows(HEADER_ZH))))
    with pytest.raises(BadRequest) as info:
        uploads.upload_roster(user, damaged, "r.xlsx", "r", None)
    assert info.value.code == "unreadable_file"
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 0


def test_report_names_columns_and_unreadable_files_in_the_callers_language(demo_city, make_user, client, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    rows = [HEADER_ZH, ["张三", "", "12345", "", "", "", "", "", ""], ["", "", id_number(2), "", "", "", "", "", ""]]

    def upload(data, lang, filename="r.csv"):
        return client.post("/api/v1/rosters", headers={**headers, "Accept-Language": lang},
                           content_type="multipart/form-data", data={"file": (io.BytesIO(data), filename)})

    for lang, labels in (("zh", ("证件号码", "姓名")), ("en", ("Document number", "Name"))):
        body = upload(csv_bytes(rows), lang).get_json()
        assert [(e["column"], e["column_label"]) for e in body["errors"]] == [("id_number", labels[0]),
                                                                            ("name", labels[1])]
    unreadable = {"utf-16": "\n".join(",".join(r) for r in rows).encode("utf-16"),
                  "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 50}
    for data in unreadable.values():
        zh, en = upload(data, "zh").get_json()["error"], upload(data, "en").get_json()["error"]
        assert zh["code"] == en["code"] == "unreadable_file"
        assert ("UTF-8" in zh["message"] or ".xls" in zh["message"]) and "另存为" in zh["message"]
        assert "codec" not in zh["message"]
        assert en["message"].startswith(("The file is not valid UTF-8 or GB18030 text", "This is an old Excel")), \
            en["message"]
    too_long = upload(b'name,id_number\n"' + b"a" * 200000 + b'",1\n', "zh").get_json()["error"]
    assert too_long["code"] == "unreadable_file" and "field limit" not in too_long["message"]
