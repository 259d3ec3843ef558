"""A real Chromium: a resident registers on the phone (one field rejected first), adds a family
member, and the code page still shows both codes with no network; volunteers print codes."""
import io
import re
import time
from contextlib import contextmanager

import pytest
import zxingcpp
from PIL import Image

from tests.conftest import PASSWORD
from tests.failing_servers import answering_502, never_answering
from tests.scan_helpers import SwitchableServer
from tests.test_code_sheets import ROWS, gb18030_csv, xlsx
from tests.test_identity import LEAP, VALID, id_card

pytestmark = pytest.mark.browser


def decode_screenshot(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]


def fill_registration(page, name, number, phone="13812345678"):
    page.fill("#name", name)
    page.select_option("#id_type", "resident_id_card")
    page.fill("#id_number", number)
    page.fill("#phone", phone)
    page.select_option("#district", "120101")
    page.wait_for_selector("#street:not([disabled]) option[value='120101001']", state="attached")
    page.select_option("#street", "120101001")
    page.wait_for_selector("#region_code:not([disabled]) option[value='120101001001']", state="attached")
    page.select_option("#region_code", "120101001001")
    page.fill("#address", "3号楼2单元301")


def test_register_with_one_rejected_field_then_family_then_offline(page, demo_city):
    page.goto("/me/register")
    print("H1", page.url, page.locator("h1").inner_text(), page.content()[:300])
    assert page.locator("h1").inner_text() == "登记领取个人核酸码"
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    fill_registration(page, "张某三", wrong)
    page.click("button[type=submit]")
    error = page.locator("#id_number-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "身份证号码校验位不符，请核对。"
    assert page.locator("#id_number").get_attribute("aria-invalid") == "true"
    assert page.locator("#name-error").is_hidden()

    page.fill("#id_number", VALID.lower())
    page.click("button[type=submit]")
    page.wait_for_url("**/me/#S1*")
    card = page.locator(".code").first
    assert card.locator(".code-name").inner_text() == "张*三"
    assert card.locator(".code-id").inner_text() == VALID[:6] + "********" + VALID[-4:]
    assert card.locator(".code-community").inner_text() == "新华里社区"
    qr = page.url.split("#", 1)[1]
    page.wait_for_function("document.querySelector('.code-qr').naturalWidth > 0")
    assert decode_screenshot(card.locator(".code-qr").screenshot()) == [qr]
    stored = page.evaluate("localStorage.getItem('me.codes.v1')")
    assert qr in stored and VALID not in stored and "张某三" not in stored  # masked labels only

    page.click("#add-family")
    assert page.locator("h1").inner_text() == "添加家人"
    fill_registration(page, "张小宝", LEAP, phone="13900000000")
    page.click("button[type=submit]")
    page.wait_for_url("**/me/#S1*")
    assert page.locator(".code .code-name").all_inner_texts() == ["张*三", "张*宝"]

    page.wait_for_function("document.body.dataset.offline === 'ready'")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    page.reload()
    assert page.locator(".code .code-name").all_inner_texts() == ["张*三", "张*宝"]
    page.wait_for_function("[...document.querySelectorAll('.code-qr')].every(i => i.complete && i.naturalWidth > 0)")
    decoded = decode_screenshot(page.locator(".code").nth(1).locator(".code-qr").screenshot())
    assert len(decoded) == 1 and decoded[0].startswith("S1") and decoded[0] != qr
    page.context.set_offline(False)


def test_region_picker_says_when_it_cannot_load_and_tries_again(browser, live_server, demo_city):
    # service workers blocked so that Playwright sees (and can fail) every request of the page
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=live_server,
                                  service_workers="block")
    context.set_default_timeout(10_000)
    page = context.new_page()
    answer = {"now": "busy"}

    def regions(route):
        if answer["now"] == "busy":
            route.fulfill(status=429, content_type="application/json",
                          body='{"error": {"code": "rate_limited", "message": "slow down"}}')
        elif answer["now"] == "offline":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def said_then_retried(select, message, option):
        error = page.locator("#regions-error")
        error.wait_for(state="visible")
        assert error.locator(".regions-error-text").inner_text() == message
        assert page.locator(select).is_disabled()
        answer["now"] = "ok"
        page.click("#regions-retry")
        page.wait_for_selector(f"{select}:not([disabled]) option[value='{option}']", state="attached")
        assert error.is_hidden()

    page.route("**/api/v1/regions*", regions)
    page.goto("/me/register")
    said_then_retried("#district", "当前登记人数较多，请稍候再试。", "120101")
    answer["now"] = "offline"
    page.select_option("#district", "120101")
    said_then_retried("#street", "社区列表加载失败，请检查网络后重试。", "120101001")
    context.close()


@contextmanager
def switchable_page(browser, server):
    """A page on the app served on a port that the test can switch off (no network at all)."""
    http = SwitchableServer(server)
    http.start()
    context = browser.new_context(locale="zh-CN", base_url=http.url)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page(), http
    finally:
        context.close()
        http.stop()


def test_the_code_page_shows_with_a_failing_server(browser, server, demo_city):
    """A load balancer answering 502 while the servers restart, then a server that accepts and
    never answers: the code page shows the kept codes at once instead of an error or a blank wait."""
    with switchable_page(browser, server) as (page, http):
        page.goto("/me/register")
        fill_registration(page, "张某三", VALID)
        page.click("button[type=submit]")
        page.wait_for_url("**/me/#S1*")
        page.wait_for_function("document.body.dataset.offline === 'ready'")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        http.stop()
        with answering_502(http.port):
            page.reload()
            assert page.locator(".code .code-name").all_inner_texts() == ["张*三"]
            page.wait_for_function("document.querySelector('.code-qr').naturalWidth > 0")
        with never_answering(http.port):
            started = time.monotonic()
            page.reload()
            page.wait_for_selector(".code .code-name")
            shown_after = time.monotonic() - started
            assert page.locator(".code .code-name").all_inner_texts() == ["张*三"]
            assert page.evaluate("getComputedStyle(document.querySelector('.code-qr')).display") == "block"  # styled
        # the worker waits 3.5 s for the page, then the page and its files come from the phone
        assert 3 < shown_after < 6, shown_after


def test_each_registration_form_keeps_its_heading_without_network(browser, server, demo_city):
    """Only the "add a family member" form was opened while the worker was there; with the server
    gone, the plain registration form still says it registers you (the kept copy is the other one)."""
    with switchable_page(browser, server) as (page, http):
        page.goto("/me/")
        page.wait_for_function("document.body.dataset.offline === 'ready'")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.goto("/me/register?family=1")
        assert page.locator("h1").inner_text() == "添加家人"
        http.stop()
        page.goto("/me/register")
        assert page.locator("h1").inner_text() == "登记领取个人核酸码"
        assert page.locator("#register-form").is_visible()
        page.goto("/me/register?family=1")
        assert page.locator("h1").inner_text() == "添加家人"


def test_recover_a_lost_code_on_a_new_phone(page, demo_city, client):
    client.post("/api/v1/residents", json={"name": "李四", "id_type": "resident_id_card", "id_number": VALID,
                                           "phone": "13812345678", "region_code": "120101001001"})
    page.goto("/me/recover")
    page.fill("#id_number", VALID)
    page.fill("#name", "李四")
    page.fill("#phone", "13000000000")
    page.click("button[type=submit]")
    page.locator("#form-error").wait_for(state="visible")
    assert page.locator("#form-error").inner_text() == "没有找到与这些信息相符的登记。"
    page.fill("#phone", "138 1234 5678")
    page.click("button[type=submit]")
    page.wait_for_url("**/me/#S1*")
    assert page.locator(".code .code-name").all_inner_texts() == ["李*"]


def test_volunteer_prints_a_slip_and_a_sheet(page, demo_city, make_user, tmp_path):
    user = make_user("sampler", username="volunteer1", sites=("S-HP-001",))
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.click("text=录入身份证信息生成二维码")
    page.fill("#name", "王大爷")
    page.fill("#id_number", LEAP)
    page.click("main button[type=submit]")
    slip = page.locator(".slip .code-card")
    assert slip.locator(".code-card-name").inner_text() == "王大爷"
    assert len(decode_screenshot(slip.locator(".code-card-qr").screenshot())) == 1

    page.goto("/staff/code-sheets/new")
    path = tmp_path / "养老院.xlsx"
    path.write_bytes(xlsx(ROWS).getvalue())
    page.set_input_files("#file", str(path))
    page.click("main button[type=submit]")
    assert page.locator("tr.row-rejected").count() == 4
    with page.context.expect_page() as sheet_info:
        page.click("#print-sheet")
    sheet = sheet_info.value
    sheet.wait_for_load_state()
    assert sheet.locator(".code-card").count() == 4
    first = sheet.locator(".code-card").first
    assert first.locator(".code-card-name").inner_text() == "王大爷"
    assert len(decode_screenshot(first.locator(".code-card-qr").screenshot())) == 1
    pdf = sheet.pdf(format="A4")  # the print layout renders
    assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 1


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_a_sheet_prints_twelve_cards_per_a4_page(page, demo_city, make_user):
    from sqlalchemy import select

    from sampling.extensions import db
    from sampling.models import Region
    from sampling.residents import code_sheets
    user = make_user("admin", username="printer")
    rows = [[f"居民{i}", "", id_card(f"120101198003{i + 1:02d}00{i % 10}"), "", ""] for i in range(13)]
    community = db.session.scalar(select(Region).where(Region.code == "120101001001"))
    sheet = code_sheets.import_list(user, gb18030_csv(rows), "l.csv", community).sheet
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/")
    page.goto(f"/staff/code-sheets/{sheet.id}")
    assert page.locator(".code-card").count() == 13
    assert pdf_pages(page.pdf(format="A4")) == 2


def test_registration_in_english_and_on_a_360px_phone(page, demo_city):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/me/register?lang=en")
    assert page.locator("h1").inner_text() == "Register for your personal code"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.fill("#name", "Anna Smith")
    page.select_option("#id_type", "passport")
    page.fill("#id_number", "e1234567")
    page.fill("#phone", "2381234567")
    page.click("button[type=submit]")
    page.locator("#phone-error").wait_for(state="visible")
    assert page.locator("#phone-error").inner_text() == "A mobile number has 11 digits and starts with 1."
    assert page.locator("#region_code-error").inner_text() == "Choose your community."
    assert page.locator("#id_number-error").is_hidden()
    assert page.locator("button[type=submit]").bounding_box()["height"] >= 44
