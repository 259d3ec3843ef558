"""Chromium under the Content-Security-Policy: the staff and residents' pages raise no policy
violation, the page behaviours that replaced inline handlers work (confirm, print, auto-submit),
the re-bind page issues a code slip, and the admin page unlocks an account."""
import pytest

from tests.conftest import PASSWORD
from tests.test_codes import decode_png
from tests.test_identity import VALID

pytestmark = pytest.mark.browser

OWNER = {"name": "张某三", "id_type": "resident_id_card", "id_number": VALID, "phone": "13812345678",
         "region_code": "120101001001"}


def _violations(page) -> list[str]:
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def _login(page, username):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_pages_load_without_a_policy_violation(page, demo_city, make_user):
    violations = _violations(page)
    admin = make_user("admin")
    for path in ("/", "/login", "/me/", "/me/register", "/me/recover", "/query"):
        page.goto(path)
        page.wait_for_load_state("load")
    _login(page, admin.username)
    for path in ("/scan/", "/stats", "/rosters", "/positives", "/lab/boxes", "/lab/receive", "/backfill",
                 "/staff/residents/new", "/staff/residents/rebind", "/staff/code-sheets/new", "/admin/users"):
        page.goto(path)
        page.wait_for_load_state("load")
    assert violations == []


def test_rebind_page_gives_the_card_holder_a_new_code(page, client, demo_city, make_user):
    violations = _violations(page)
    sampler = make_user("sampler", sites=("S-HP-001",))
    thief = client.post("/api/v1/residents", json={**OWNER, "name": "李四", "phone": "13900000000"}).get_json()
    _login(page, sampler.username)
    page.goto("/staff/residents/rebind")
    page.select_option("#site_code", "S-HP-001")
    page.fill("#name", OWNER["name"])
    page.fill("#id_number", VALID)
    page.fill("#phone", OWNER["phone"])
    page.click("main form button[type=submit]")
    slip = page.locator(".slip img.code-card-qr")
    page.wait_for_load_state("load")
    assert slip.count() == 1, page.locator("main").inner_text()
    new_qr = client.post("/api/v1/residents", json=OWNER).get_json()["qr"]
    assert decode_png(slip.screenshot()) == [new_qr] and new_qr != thief["qr"]
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.click("[data-print]")
    assert page.evaluate("document.body.dataset.printed") == "yes"
    assert violations == []


def test_admin_unlocks_and_ends_sessions_through_the_page(page, server, make_user):
    admin = make_user("admin")
    make_user("lab", username="victim")
    stranger = server.test_client()
    for attempt in range(10):
        stranger.post("/api/v1/auth/token", json={"username": "victim", "password": f"wrong-{attempt}"})
    _login(page, admin.username)
    page.goto("/admin/users?locked=1")
    row = page.locator("tr", has_text="victim")
    assert "锁定至" in row.inner_text()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    row.locator("text=结束全部登录").click()
    assert dialogs and "victim" in dialogs[0]  # asked first; dismissed: nothing sent
    assert page.url.endswith("/admin/users?locked=1")
    row.locator("text=解锁").click()
    page.wait_for_selector(".flash-success")
    assert "victim" in page.locator(".flash-success").inner_text()
    assert stranger.post("/api/v1/auth/token", json={"username": "victim", "password": PASSWORD}).status_code == 200
