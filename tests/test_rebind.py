"""Re-binding a record at a sampling site: the person who shows the ID card gets a new code, every
earlier code stops scanning (single scans, sync runs, the code image), printed sheets carry the new
code, the owner recovers it with the new phone, and the event is on the audit trail."""
import base64
import re

from sqlalchemy import select

from sampling.extensions import db
from sampling.models import AuditEvent
from sampling.residents import code_sheets, codes
from tests.conftest import csrf_from, login
from tests.field import cid, current_round
from tests.test_codes import decode_png
from tests.test_identity import VALID

OWNER = {"name": "张某三", "id_type": "resident_id_card", "id_number": VALID, "phone": "13812345678",
         "region_code": "120101001001", "address": "3号楼2单元301"}


def _setup(client, make_user, token_for):
    sampler = make_user("sampler", sites=("S-HP-001",))
    thief = client.post("/api/v1/residents", json={**OWNER, "name": "李四", "phone": "13900000000"})
    assert thief.status_code == 201
    return sampler, token_for(sampler), thief.get_json()["qr"]


def _rebind(client, headers, **extra):
    return client.post("/api/v1/staff/residents/rebind", headers=headers,
                       json={**OWNER, "site_code": "S-HP-001", **extra})


def test_the_owner_is_refused_until_staff_rebind_then_gets_a_new_code(client, demo_city, make_user, token_for):
    sampler, headers, old_qr = _setup(client, make_user, token_for)
    refused = client.post("/api/v1/residents", json=OWNER)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_registered"

    response = _rebind(client, headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["code_version"] == 1 and body["qr"] != old_qr and body["qr"].startswith("S2") and len(body["qr"]) == 30
    assert codes.read(body["qr"]) == (body["resident_id"], 1)
    assert body["name_masked"] == "张*三"
    image = client.get(body["qr_png_url"])
    assert image.status_code == 200 and decode_png(image.data) == [body["qr"]]
    old_image = client.get(f"/api/v1/codes/{old_qr}.png")
    assert old_image.status_code == 422 and old_image.get_json()["error"]["code"] == "code_replaced"

    # the owner's own phone now gets the code; the thief's details get nothing
    assert client.post("/api/v1/residents", json=OWNER).get_json()["qr"] == body["qr"]
    recovered = client.post("/api/v1/residents/recover", json={k: OWNER[k] for k in ("id_number", "name", "phone")})
    assert recovered.status_code == 200 and recovered.get_json()["qr"] == body["qr"]
    assert client.post("/api/v1/residents/recover", json={"id_number": VALID, "name": "李四",
                                                           "phone": "13900000000"}).status_code == 404

    record = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "resident.rebind")).one()
    assert (record.object_id, record.user_id, record.people) == (str(body["resident_id"]), sampler.id, 1)
    assert record.detail == {"site_code": "S-HP-001", "code_version": 1, "changed": "name,phone"}
    assert record.region_code == "120101001001"  # the site's community


def test_an_old_code_stops_scanning_one_by_one_and_in_a_sync_run(client, demo_city, make_user, token_for):
    _sampler, headers, old_qr = _setup(client, make_user, token_for)
    new_qr = _rebind(client, headers).get_json()["qr"]
    rnd = current_round().id
    assert client.post("/api/v1/tubes", headers=headers, json={"tube_code": "RB-0001", "round_id": rnd,
                                                                "site_code": "S-HP-001"}).status_code == 201
    old = client.post("/api/v1/tubes/RB-0001/samples", headers=headers, json={"qr": old_qr, "client_id": cid()})
    assert old.status_code == 422 and old.get_json()["error"]["code"] == "code_replaced"
    items = [{"client_id": cid(), "op": "add_sample", "tube_code": "RB-0001", "qr": q} for q in (old_qr, new_qr)]
    results = client.post("/api/v1/sync", headers=headers, json={"items": items}).get_json()["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert results[0]["body"]["error"]["code"] == "code_replaced"
    assert results[1]["body"]["resident"]["name_masked"] == "张*三"


def test_a_second_rebind_retires_the_first_new_code_too(client, demo_city, make_user, token_for):
    _sampler, headers, old_qr = _setup(client, make_user, token_for)
    first = _rebind(client, headers).get_json()
    second = _rebind(client, headers, phone="").get_json()
    assert second["code_version"] == 2
    for stale in (old_qr, first["qr"]):
        assert client.get(f"/api/v1/codes/{stale}.png").get_json()["error"]["code"] == "code_replaced"
    card = code_sheets.print_card(second["resident_id"], "张某三", VALID, None, 2)
    assert card["qr"] == second["qr"]


def test_rebind_needs_a_site_of_the_caller_and_a_registered_number(client, demo_city, make_user, token_for):
    _sampler, headers, _old = _setup(client, make_user, token_for)
    elsewhere = token_for(make_user("sampler", sites=("S-HD-001",)))
    assert _rebind(client, elsewhere).status_code == 403
    assert _rebind(client, token_for(make_user("lab"))).status_code == 403
    missing_site = client.post("/api/v1/staff/residents/rebind", headers=headers, json=OWNER)
    assert missing_site.status_code == 422 and "site_code" in missing_site.get_json()["error"]["fields"]
    from tests.field import id_number
    unknown = _rebind(client, headers, id_number=id_number(7))
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_registered"
    assert client.post("/api/v1/staff/residents/rebind", json={**OWNER, "site_code": "S-HP-001"}).status_code == 401


def test_rebind_page_issues_a_printable_code(client, demo_city, make_user):
    sampler = make_user("sampler", sites=("S-HP-001",))
    client.post("/api/v1/residents", json={**OWNER, "name": "李四", "phone": "13900000000"})
    login(client, sampler.username)
    page = client.get("/staff/residents/rebind")
    assert page.status_code == 200 and "S-HP-001" in page.get_data(as_text=True)
    done = client.post("/staff/residents/rebind", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "site_code": "S-HP-001", "name": "张某三",
        "id_type": "resident_id_card", "id_number": VALID, "phone": "13812345678"})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "data-print" in html and "onclick" not in html
    qr = client.post("/api/v1/residents", json=OWNER).get_json()["qr"]
    png = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert qr.startswith("S2") and decode_png(base64.b64decode(png)) == [qr]
