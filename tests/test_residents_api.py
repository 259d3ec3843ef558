"""The residents' API end to end: register, repeat, conflict, field errors, recover, the code
image (decoded with zxing-cpp), the community picker, rate limits and the staff endpoints."""
import io

import pytest
from sqlalchemy import select

from sampling.extensions import db
from sampling.models import Resident
from tests.test_code_sheets import ROWS, gb18030_csv
from tests.test_codes import decode_png
from tests.test_identity import LEAP, VALID

LIST_HEADER = "姓名,证件类型,证件号码,联系电话,住址\r\n"
REGISTRATION = {"name": "张某三", "id_type": "resident_id_card", "id_number": VALID.lower()[:-1] + VALID[-1],
                "phone": "13812345678", "region_code": "120101001001", "address": "3号楼2单元301"}


def test_register_then_fetch_the_code_image(client, demo_city):
    response = client.post("/api/v1/residents", json=REGISTRATION)
    assert response.status_code == 201
    body = response.get_json()
    assert body["qr_png_url"] == f"/api/v1/codes/{body['qr']}.png"
    assert body["name_masked"] == "张*三" and body["id_masked"] == VALID[:6] + "********" + VALID[-4:]
    assert body["community"] == "新华里社区"
    image = client.get(body["qr_png_url"])
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "immutable" in image.headers["Cache-Control"]
    assert decode_png(image.data) == [body["qr"]]


def test_repeat_registration_returns_the_same_code(client, demo_city):
    first = client.post("/api/v1/residents", json=REGISTRATION).get_json()
    full_width = {**REGISTRATION, "id_number": "".join(chr(ord(c) + 0xFEE0) for c in VALID)}
    again = client.post("/api/v1/residents", json=full_width)
    assert again.status_code == 200 and again.get_json() == first


@pytest.mark.parametrize("changes", [{"name": "李四"}, {"phone": "13900000000"},
                                     {"name": "李四", "phone": "13900000000"}])
def test_a_registered_number_without_its_name_and_phone_is_one_409_without_a_code(client, demo_city, changes):
    client.post("/api/v1/residents", json=REGISTRATION)
    response = client.post("/api/v1/residents", json={**REGISTRATION, **changes}, headers={"Accept-Language": "en"})
    assert response.status_code == 409
    body = response.get_json()
    assert set(body) == {"error"} and "qr" not in response.get_data(as_text=True)
    assert body["error"]["code"] == "already_registered" and "fields" not in body["error"]
    assert body["error"]["message"].startswith("This document number is already registered.")


def test_every_mismatch_gets_the_same_bytes(client, demo_city):
    client.post("/api/v1/residents", json=REGISTRATION)
    answers = {client.post("/api/v1/residents", json={**REGISTRATION, **changes}).get_data()
               for changes in ({"name": "李四"}, {"phone": "13900000000"}, {"name": "王五", "phone": "13900000001"})}
    assert len(answers) == 1


def test_field_errors_are_422_localized(client, demo_city):
    bad = {**REGISTRATION, "id_number": VALID[:-1] + ("1" if VALID[-1] == "0" else "0"), "phone": "12345"}
    response = client.post("/api/v1/residents", json=bad)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation" and set(error["fields"]) == {"id_number", "phone"}
    assert error["fields"]["id_number"] == "身份证号码校验位不符，请核对。"
    english = client.post("/api/v1/residents", json=bad, headers={"Accept-Language": "en"}).get_json()
    assert english["error"]["fields"]["phone"] == "A mobile number has 11 digits and starts with 1."


@pytest.mark.parametrize("payload", [{}, {"name": 5, "id_type": None, "id_number": [], "phone": {}}])
def test_empty_or_wrongly_typed_fields_are_422_not_500(client, demo_city, payload):
    response = client.post("/api/v1/residents", json=payload)
    assert response.status_code == 422
    assert {"name", "id_type", "phone", "region_code"} <= set(response.get_json()["error"]["fields"])


def test_non_json_is_400(client):
    response = client.post("/api/v1/residents", data="name=x", content_type="text/plain")
    assert response.status_code == 400


def test_recover_returns_the_code_or_a_vague_404(client, demo_city):
    body = client.post("/api/v1/residents", json=REGISTRATION).get_json()
    response = client.post("/api/v1/residents/recover",
                           json={"id_number": VALID, "name": "张某三", "phone": "138 1234 5678"})
    assert response.status_code == 200 and response.get_json() == body
    wrong = client.post("/api/v1/residents/recover",
                        json={"id_number": VALID, "name": "张某三", "phone": "13900000000"})
    assert wrong.status_code == 404 and wrong.get_json()["error"]["code"] == "no_match"


@pytest.mark.parametrize("qr", ["S1" + "A" * 24, "nonsense", "S1AAAAAAAB" + "A" * 16])
def test_forged_code_image_is_refused(client, demo_city, qr):
    response = client.get(f"/api/v1/codes/{qr}.png")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_code"


def test_altered_code_image_url_is_refused(client, demo_city):
    qr = client.post("/api/v1/residents", json=REGISTRATION).get_json()["qr"]
    altered = qr[:-1] + ("A" if qr[-1] != "A" else "B")
    assert client.get(f"/api/v1/codes/{altered}.png").status_code == 422


def test_community_picker(client, demo_city):
    districts = client.get("/api/v1/regions").get_json()["regions"]
    assert [d["code"] for d in districts] == ["120101", "120102", "120103"]
    assert districts[0] == {"code": "120101", "name": "和平区", "level": "district"}
    streets = client.get("/api/v1/regions?parent=120101").get_json()["regions"]
    assert [s["code"] for s in streets] == ["120101001", "120101002"]
    communities = client.get("/api/v1/regions?parent=120101001").get_json()["regions"]
    assert {c["level"] for c in communities} == {"community"}
    assert client.get("/api/v1/regions?parent=999").status_code == 404


def test_public_endpoints_are_rate_limited(make_app, demo_city):
    from tests.contract import ContractClient
    server = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PUBLIC="2 per minute", RATELIMIT_PUBLIC_READ="3 per minute",
                      RATELIMIT_STORAGE_URI="memory://")
    server.test_client_class = ContractClient
    client = server.test_client()
    statuses = [client.post("/api/v1/residents", json={}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    limited = client.post("/api/v1/residents/recover", json={})
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    reads = [client.get("/api/v1/regions").status_code for _ in range(4)]
    assert reads == [200, 200, 200, 429]


def test_rate_limits_can_be_switched_off(make_app, demo_city):
    client = make_app(RATELIMIT_ENABLED=False, RATELIMIT_PUBLIC="1 per minute").test_client()
    assert [client.post("/api/v1/residents", json={}).status_code for _ in range(3)] == [422] * 3


def test_staff_entry_by_a_volunteer(client, demo_city, make_user, token_for):
    headers = token_for(make_user("sampler", sites=("S-HP-001",)))
    data = {"name": "王大爷", "id_type": "居民身份证", "id_number": LEAP, "region_code": "120101001001"}
    created = client.post("/api/v1/staff/residents", json=data, headers=headers)
    assert created.status_code == 201
    assert client.post("/api/v1/staff/residents", json=data, headers=headers).status_code == 200
    outside = client.post("/api/v1/staff/residents", json={**data, "region_code": "120102001001"}, headers=headers)
    assert outside.status_code == 403
    assert client.post("/api/v1/staff/residents", json=data).status_code == 401
    lab = token_for(make_user("lab"))
    assert client.post("/api/v1/staff/residents", json=data, headers=lab).status_code == 403
    missing = client.post("/api/v1/staff/residents", json={**data, "region_code": ""}, headers=headers)
    assert missing.status_code == 422 and set(missing.get_json()["error"]["fields"]) == {"region_code"}


def test_staff_list_upload(client, demo_city, make_user, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    response = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (gb18030_csv(ROWS), "养老院.csv"), "region_code": "120101001001", "title": "养老院"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["created"], body["existing"], body["rejected"]) == (3, 1, 4)
    assert body["sheet_url"] == f"/staff/code-sheets/{body['sheet_id']}"
    no_file = client.post("/api/v1/staff/code-sheets", headers=headers, data={"region_code": "120101001001"})
    assert no_file.status_code == 400
    bad_file = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv"), "region_code": "120101001001"})
    assert bad_file.status_code == 400 and bad_file.get_json()["error"]["code"] == "missing_columns"
    street = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (gb18030_csv(ROWS), "x.csv"), "region_code": "120101001"})
    assert street.status_code == 422
    unknown = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (gb18030_csv(ROWS), "x.csv"), "region_code": "999"})
    assert unknown.status_code == 404
    no_region = client.post("/api/v1/staff/code-sheets", headers=headers, data={"file": (gb18030_csv(ROWS), "x.csv")})
    assert no_region.status_code == 422
    db.session.rollback()


def test_list_upload_keeps_a_row_with_control_characters(client, demo_city, make_user, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    nul = (LIST_HEADER + f"赵六,,{VALID},,楼\x00301\x01\r\n").encode("gb18030")
    response = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (io.BytesIO(nul), "a.csv"), "region_code": "120101001001\x00", "title": "楼\x00栋"})
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["created"], response.get_json()["rejected"]) == (1, 0)
    resident = db.session.scalar(select(Resident).where(Resident.id_number == VALID))
    assert resident.address == "楼301" and resident.community.code == "120101001001"
    unknown = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (io.BytesIO(nul), "a.csv"), "region_code": "1\x00"})
    assert unknown.status_code == 404  # no such region, not a database error
    db.session.rollback()


def test_list_upload_refusals(client, demo_city, make_user, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    header_only = LIST_HEADER.encode("gb18030")
    empty = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (io.BytesIO(header_only), "a.csv"), "region_code": "120101001001"})
    assert empty.status_code == 422 and empty.get_json()["error"]["code"] == "empty_list"
    old = client.post("/api/v1/staff/code-sheets", headers=headers, data={
        "file": (io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)), "a.xls"), "region_code": "120101001001"})
    assert old.status_code == 400 and "xlsx" in old.get_json()["error"]["message"]
    for code, status in [("1" * 5000, 404), ("\x01", 422), (" ", 422)]:
        answer = client.post("/api/v1/staff/code-sheets?lang=en", headers=headers, data={
            "file": (io.BytesIO(header_only), "a.csv"), "region_code": code})
        assert answer.status_code == status, (code[:20], answer.get_json())
        if status == 422:
            assert answer.get_json()["error"]["fields"] == {"region_code": "Choose the community."}
    db.session.rollback()


def test_community_picker_cleans_the_parent_code(client, demo_city):
    streets = client.get("/api/v1/regions?parent=120101%01%09")
    assert streets.status_code == 200 and {r["level"] for r in streets.get_json()["regions"]} == {"street"}
    assert client.get("/api/v1/regions?parent=" + "1" * 300).status_code == 404
