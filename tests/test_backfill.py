"""Backfill of paper forms: one by one and from files, with a row-by-row report."""
import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from sampling.errors import BadRequest, Conflict, Forbidden, ValidationFailed
from sampling.extensions import db
from sampling.field import backfill, paper_forms, samples, tubes
from sampling.models import Resident, Sample, Tube, User
from tests.field import backdate_round, cid, current_round, id_number, make_residents, qr

HEADER = ["管码", "采样点编码", "采样时间", "姓名", "证件类型", "证件号码", "手机号", "地址"]


@pytest.fixture
def coordinator(demo_city, make_user):
    backdate_round()
    return make_user("coordinator", region="120101")


def entry(n, tube="P0001", site="S-HP-001", at="2022-01-10 08:30"):
    return {"tube_code": tube, "site_code": site, "sampled_at": at, "name": f"纸质{n}",
            "id_number": id_number(n, "19700101"), "phone": ""}


def test_backfill_creates_a_sealed_tube_and_is_idempotent(coordinator):
    rnd = current_round()
    first = backfill.backfill_one(coordinator, rnd.id, entry(1))
    assert first["outcome"] == "added" and first["flagged"] is False
    tube = db.session.scalar(select(Tube).where(Tube.code == "P0001"))
    assert tube.status == "sealed" and tube.sample_count == 1 and tube.capacity == rnd.pool_size
    sample = db.session.get(Sample, first["sample_id"])
    assert sample.supplementary and sample.sampled_at.isoformat() == "2022-01-10T00:30:00+00:00"
    again = backfill.backfill_one(coordinator, rnd.id, entry(1))
    assert again == {"outcome": "exists", "sample_id": first["sample_id"], "flagged": False}
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "P0001")) == 1


def test_backfill_respects_capacity_region_and_time(coordinator, make_user):
    rnd = current_round()
    for n in range(rnd.pool_size):
        backfill.backfill_one(coordinator, rnd.id, entry(n))
    with pytest.raises(Conflict) as full:
        backfill.backfill_one(coordinator, rnd.id, entry(99))
    assert full.value.code == "tube_full"
    with pytest.raises(Forbidden):
        backfill.backfill_one(coordinator, rnd.id, entry(1, tube="P0002", site="S-HD-001"))
    with pytest.raises(ValidationFailed):
        backfill.backfill_one(coordinator, rnd.id, entry(1, tube="P0003", at="2999-01-01 08:00"))
    with pytest.raises(ValidationFailed):
        backfill.backfill_one(coordinator, rnd.id, entry(1, tube="P0003", at="yesterday"))
    with pytest.raises(ValidationFailed):
        backfill.backfill_one(coordinator, rnd.id, entry(1, tube="P0003", site=""))
    with pytest.raises(ValidationFailed) as resident_code:  # a resident's code copied into the tube column
        backfill.backfill_one(coordinator, rnd.id, entry(1, tube=qr(make_residents(1, start=50)[0])))
    assert resident_code.value.code == "invalid_tube_code"
    with pytest.raises(Forbidden):
        backfill.backfill_one(make_user("sampler", sites=("S-HP-001",)), rnd.id, entry(1, tube="P0004"))


def test_backfill_flags_someone_already_scanned(coordinator, make_user):
    rnd = current_round()
    sampler = make_user("sampler", sites=("S-HP-001",))
    person = make_residents(1)[0]
    tubes.open_tube(sampler, {"tube_code": "S0001", "round_id": rnd.id, "site_code": "S-HP-001"})
    samples.add_sample(sampler, "S0001", {"qr": qr(person), "client_id": cid()})
    outcome = backfill.backfill_one(coordinator, rnd.id, {
        "tube_code": "P0001", "site_code": "S-HP-001", "sampled_at": "2022-01-10T09:00:00+08:00",
        "name": person.name, "id_number": person.id_number})
    assert outcome["outcome"] == "added" and outcome["flagged"] is True


def gb18030_csv(rows) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("gb18030")


def test_backfill_file_reports_row_by_row(coordinator):
    rows = [["P0001", "S-HP-001", "2022-01-10 08:30", "纸质一", "身份证", id_number(1, "19700101"), "", "和平路1号"],
            ["P0001", "S-HP-001", "2022-01-10 08:31", "纸质二", "居民身份证", id_number(2, "19700101"), "", ""],
            ["P0001", "S-HP-001", "2022-01-10 08:31", "纸质二", "居民身份证", id_number(2, "19700101"), "", ""],
            ["P0002", "S-HP-001", "2022-01-10 08:32", "纸质三", "身份证", "120101197001010000", "", ""]]
    report = paper_forms.backfill_file(coordinator, current_round().id, io.BytesIO(gb18030_csv(rows)), "纸质.csv")
    assert (report["added"], report["exists"], report["failed"]) == (2, 1, 1)
    assert [r["outcome"] for r in report["rows"]] == ["added", "added", "exists", "failed"]
    assert report["rows"][3]["row"] == 5 and report["rows"][3]["message"].startswith("证件号码：")
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 2


def test_backfill_upload_api_with_xlsx(client, coordinator, token_for):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["P0009", "S-HP-002", "2022-01-10 10:00", "纸质九", "身份证", id_number(9, "19700101"), "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    headers = token_for(coordinator)
    response = client.post("/api/v1/backfill/upload", headers=headers, content_type="multipart/form-data",
                           data={"round_id": str(current_round().id), "file": (buffer, "纸质.xlsx")})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["added"] == 1
    assert client.post("/api/v1/backfill/upload", headers=headers, data={"round_id": "1"}).status_code == 400


def test_backfill_api_one_entry(client, coordinator, token_for, make_user):
    headers = token_for(coordinator)
    body = {"round_id": current_round().id, "entry": entry(3)}
    assert client.post("/api/v1/backfill", json=body, headers=headers).status_code == 201
    assert client.post("/api/v1/backfill", json=body, headers=headers).status_code == 200
    unknown_round = {"round_id": 999, "entry": entry(3)}
    assert client.post("/api/v1/backfill", json=unknown_round, headers=headers).status_code == 422
    assert client.post("/api/v1/backfill", json={"round_id": 1}, headers=headers).status_code == 400
    other = {"round_id": current_round().id, "entry": entry(4, tube="P0005", site="S-HD-001")}
    assert client.post("/api/v1/backfill", json=other, headers=headers).status_code == 403
    sampler = token_for(make_user("sampler", sites=("S-HP-001",)))
    assert client.post("/api/v1/backfill", json=body, headers=sampler).status_code == 403
    assert client.post("/api/v1/backfill", json=body).status_code == 401
    for n in range(4, 4 + current_round().pool_size):
        client.post("/api/v1/backfill", json={"round_id": current_round().id, "entry": entry(n)}, headers=headers)
    full = client.post("/api/v1/backfill", json={"round_id": current_round().id, "entry": entry(50)}, headers=headers)
    assert full.status_code == 409


def test_a_file_that_cannot_be_read_to_the_end_writes_nothing(coordinator):
    """Good rows, then (after the first 256 KiB the encoding is guessed from) a byte that is not
    UTF-8: the upload is refused as a whole, not half-written."""
    lines = [",".join(HEADER)] + [f"M{i // 10:04d},S-HP-001,2022-01-10 08:30,纸质{i},身份证,"
                                  f"{id_number(i, '19700101')},," for i in range(260)]
    body = ("\n".join(lines) + "\n").encode("utf-8") + b"\n" * (300 * 1024)
    body += "M9999,S-HP-001,2022-01-10 08:30,坏,身份证,".encode() + b"\xff\xfe\n"
    before = {model: db.session.scalar(select(func.count()).select_from(model)) for model in (Sample, Tube, Resident)}
    with pytest.raises(BadRequest) as refused:
        paper_forms.backfill_file(coordinator, current_round().id, io.BytesIO(body), "纸质.csv")
    assert refused.value.code == "unreadable_file"
    bad_byte = body.index(b"\xff\xfe") + 1  # counting from 1, well past the first 256 KiB
    assert f"第 {bad_byte} 个字节" in str(refused.value.message)
    db.session.rollback()
    after = {model: db.session.scalar(select(func.count()).select_from(model)) for model in (Sample, Tube, Resident)}
    assert after == before
    # the same rows without the broken line are all recorded
    good = paper_forms.backfill_file(coordinator, current_round().id, io.BytesIO(body[:body.rindex(b"M9999")]),
                                        "a.csv")
    assert (good["added"], good["failed"]) == (260, 0)
    assert db.session.scalar(select(func.count()).select_from(Sample)) == before[Sample] + 260


def test_two_uploads_of_one_file_at_once_record_each_row_once(coordinator, make_app, is_postgres):
    """The second upload waits on the first one's rows, then clashes with them (a unique index)
    or finds the tube full of them: either way the row is reported as already recorded."""
    from tests.test_sampling_rules import _concurrently
    if not is_postgres:
        pytest.skip("row locks: PostgreSQL (SQLite uploads queue on the database lock)")
    rnd, people = current_round(), make_residents(14)
    for n, code in enumerate(("PC001", "PC002")):  # the tubes exist (room for 9 more each), as do the people
        backfill.backfill_one(coordinator, rnd.id, entry(n, tube=code))
    text = io.StringIO()
    csv.writer(text).writerows([HEADER] + [["PC001" if i < 5 else "PC002", "S-HP-001", "2022-01-10 08:40", p.name,
                                            "身份证", p.id_number, "", ""] for i, p in enumerate(people)])
    data, user_id, round_id = text.getvalue().encode("gb18030"), coordinator.id, rnd.id

    def upload():
        return paper_forms.backfill_file(db.session.get(User, user_id), round_id, io.BytesIO(data), "a.csv")

    reports = _concurrently(make_app, [upload, upload])
    for report in reports:
        assert isinstance(report, dict), report
        assert report["failed"] == 0, report["rows"]
    assert sorted(r["added"] for r in reports) == [0, 14] and sorted(r["exists"] for r in reports) == [0, 14]
    db.session.expire_all()
    counts = dict(db.session.execute(select(Tube.code, Tube.sample_count).where(Tube.code.like("PC%"))).all())
    assert counts == {"PC001": 6, "PC002": 10}
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 16


def test_backfill_odd_round_ids_and_times_are_field_errors(client, coordinator, token_for):
    headers = token_for(coordinator)
    for round_id in (10**30, "9" * 30, 2**31, "-1", "１"):
        response = client.post("/api/v1/backfill", json={"round_id": round_id, "entry": entry(3)}, headers=headers)
        assert response.status_code == 422, round_id
        assert set(response.get_json()["error"]["fields"]) == {"round_id"}
    upload = client.post("/api/v1/backfill/upload", headers=headers, content_type="multipart/form-data",
                         data={"round_id": "9" * 30, "file": (io.BytesIO(gb18030_csv([])), "a.csv")})
    assert upload.status_code == 422 and set(upload.get_json()["error"]["fields"]) == {"round_id"}
    for at in ("0001-01-01T00:00:00", "0001-01-01 00:00", "9999-12-31T23:59:59-14:00"):
        response = client.post("/api/v1/backfill", json={"round_id": current_round().id, "entry": entry(3, at=at)},
                               headers=headers)
        assert response.status_code == 422, at
        assert set(response.get_json()["error"]["fields"]) == {"sampled_at"}
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 0


def test_messages_name_columns_and_places_as_coordinators_know_them(client, coordinator, token_for):
    """Row errors and missing columns by their localized labels (not internal field names); an
    undecodable file says where, in the user's language, without Python's own text."""
    rows = [["P0001", "S-HP-001", "昨天", "纸质一", "身份证", id_number(1, "19700101"), "", ""],
            ["P0001", "S-HP-001", "2022-01-10 08:31", "纸质二", "身份证", "120101197001010000", "", ""]]
    report = paper_forms.backfill_file(coordinator, current_round().id, io.BytesIO(gb18030_csv(rows)), "a.csv")
    assert [r["message"] for r in report["rows"]] == ["采样时间：请填写采样时间，例如 2022-01-10 08:30。",
                                                      "证件号码：身份证号码校验位不符，请核对。"]
    headers = token_for(coordinator)

    def upload(data: bytes, lang: str):
        response = client.post("/api/v1/backfill/upload", headers={**headers, "Accept-Language": lang},
                               content_type="multipart/form-data",
                               data={"round_id": str(current_round().id), "file": (io.BytesIO(data), "a.csv")})
        assert response.status_code == 400
        return response.get_json()["error"]

    no_time = "管码,姓名,身份证号\nP0002,张三,120101197001010011\n".encode("gb18030")
    assert upload(no_time, "zh-CN") == {"code": "missing_columns", "message": "缺少列：采样时间"}
    assert upload(no_time, "en")["message"] == "Missing columns: Time of sampling (采样时间)"
    assert upload(b"name\n", "zh-CN")["message"] == "缺少列：采样管编码（管码）, 采样时间, 证件号码"
    good = gb18030_csv(rows)  # Excel's Chinese CSV; then a byte that is neither GB18030 nor UTF-8
    broken = good + b"P0003,S-HP-001,2022-01-10 08:31," + b"\xff\n"
    at = len(good) + len(b"P0003,S-HP-001,2022-01-10 08:31,") + 1
    zh, en = upload(broken, "zh-CN"), upload(broken, "en")
    assert zh == {"code": "unreadable_file", "message": f"文件不是有效的 UTF-8 或 GB18030 文本（第 {at} 个字节处）。"
                                                         "请另存为 CSV（UTF-8 或 GBK）或 Excel 工作簿后重新上传。"}
    assert en["message"].startswith(f"The file is not valid UTF-8 or GB18030 text (at byte {at}).")
    assert "codec" not in en["message"] and "position" not in en["message"]


def test_backfill_times_belong_to_the_round(coordinator):
    """A paper form's time lies within the round (a few minutes of clock difference allowed)."""
    rnd = current_round()  # started 2022-01-10 06:00 Beijing time
    with pytest.raises(ValidationFailed) as early:
        backfill.backfill_one(coordinator, rnd.id, entry(1, at="2022-01-10 05:50"))
    assert early.value.fields["sampled_at"] == "采样时间早于本轮开始时间（2022-01-10 06:00）。"
    with pytest.raises(ValidationFailed):
        backfill.backfill_one(coordinator, rnd.id, entry(1, at="1900-01-01 00:00"))
    assert backfill.backfill_one(coordinator, rnd.id, entry(1, at="2022-01-10 05:57"))["outcome"] == "added"
    rnd.ends_at = datetime(2022, 1, 11, 6, 0, tzinfo=backfill.BEIJING)
    db.session.commit()
    with pytest.raises(ValidationFailed) as late:
        backfill.backfill_one(coordinator, rnd.id, entry(2, at="2022-01-11 07:00"))
    assert late.value.fields["sampled_at"] == "采样时间晚于本轮结束时间（2022-01-11 06:00）。"
    assert backfill.backfill_one(coordinator, rnd.id, entry(2, at="2022-01-11 05:59"))["outcome"] == "added"
    soon = (datetime.now(backfill.BEIJING) + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    rnd.ends_at = None
    db.session.commit()
    with pytest.raises(ValidationFailed) as future:
        backfill.backfill_one(coordinator, rnd.id, entry(3, at=soon))
    assert future.value.fields["sampled_at"] == "采样时间晚于当前时间。"
    assert db.session.scalar(select(func.count()).select_from(Sample)) == 2


def test_backfilled_people_stay_in_the_coordinators_region(coordinator, make_user):
    rnd = current_round()
    with pytest.raises(Forbidden) as outside:  # 六纬路社区 is in 河东区; the coordinator has 和平区
        backfill.backfill_one(coordinator, rnd.id, {**entry(1), "region_code": "120102001001"})
    assert outside.value.code == "forbidden_region" and set(outside.value.fields) == {"region_code"}
    inside = backfill.backfill_one(coordinator, rnd.id, {**entry(2), "region_code": "120101001002"})
    assert db.session.get(Sample, inside["sample_id"]).resident.community.code == "120101001002"
    rows = [["P0003", "S-HP-001", "2022-01-10 08:30", "纸质三", "身份证", id_number(3, "19700101"), "", ""]]
    data = gb18030_csv(rows).replace(b"\r\n", b",120102001001\r\n").replace(
        "地址,120102001001".encode("gb18030"), "地址,社区编码".encode("gb18030"))
    report = paper_forms.backfill_file(coordinator, rnd.id, io.BytesIO(data), "a.csv")
    assert report["rows"] == [{"row": 2, "outcome": "failed", "code": "forbidden_region",
                               "message": "社区编码：该社区不在您的管辖范围内。"}]
    # a round of one district takes no new tube at a site of another (admins may work anywhere)
    from sampling.field.rounds import create_round
    admin = make_user("admin")
    district_round = create_round(admin, "和平区加测", 10, "120101")
    district_round.starts_at = rnd.starts_at
    db.session.commit()
    with pytest.raises(ValidationFailed) as other_district:
        backfill.backfill_one(admin, district_round.id, entry(4, tube="P0004", site="S-HD-001"))
    assert other_district.value.code == "site_outside_round"
    assert db.session.scalar(select(Tube.id).where(Tube.code == "P0004")) is None


def test_a_workbook_that_breaks_while_read_writes_nothing(coordinator):
    """An XLSX that opens but whose sheet stops half-way is refused as a whole (400), nothing written."""
    from tests.damaged import half_a_sheet
    book = Workbook()
    book.active.append(HEADER)
    for i in range(300):
        book.active.append([f"M{i // 10:04d}", "S-HP-001", "2022-01-10 08:30", f"纸质{i}", "身份证",
                            id_number(i, "19700101"), "", ""])
    data = io.BytesIO()
    book.save(data)
    before = db.session.scalar(select(func.count()).select_from(Sample))
    with pytest.raises(BadRequest) as refused:
        paper_forms.backfill_file(coordinator, current_round().id, io.BytesIO(half_a_sheet(data.getvalue())),
                                     "纸质.xlsx")
    assert refused.value.code == "unreadable_file"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Sample)) == before
