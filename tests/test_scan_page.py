"""The scanning page in a real Chromium (issue 4): a camera that is a fake video of printed
codes, a hand-held scanner typing like a keyboard, undo, seal, a person without a code."""
import pytest
from playwright.sync_api import expect

from sampling.extensions import db
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.fake_camera import code128_image, qr_image, write_y4m
from tests.field import current_round, id_number, make_residents, qr
from tests.scan_helpers import SLOW, counter, open_scan_page, tube_contents, wait_all_sent, wedge

pytestmark = pytest.mark.browser


@pytest.fixture
def crew(demo_city, make_user):
    sampler = make_user("sampler", username="li_sampler", sites=("S-HP-001",))
    people = make_residents(8)
    return {"user": sampler, "round": current_round(), "people": people, "codes": [qr(p) for p in people]}


def test_hand_scanner_fill_undo_no_code_and_seal(page, crew):
    people, codes = crew["people"], crew["codes"]
    open_scan_page(page, "li_sampler")
    # round and site are chosen (the only ones) and remembered; capacity defaults to the round's pool size
    assert page.locator("#round").input_value() == str(crew["round"].id)
    assert page.locator("#site").input_value() == "S-HP-001"
    assert page.locator("input[name=capacity]:checked").get_attribute("value") == "10"
    page.click("label.cap:has(input[value='5'])")
    wedge(page, "T-KB-0001")
    page.wait_for_function("document.querySelector('#tube-code').textContent === 'T-KB-0001'")
    assert counter(page) == "0/5"

    wedge(page, codes[0])
    page.wait_for_function("document.querySelector('#message').textContent.includes('居*0')")
    assert counter(page) == "1/5"
    assert "message-ok" in page.locator("#message").get_attribute("class")
    assert "120101" in page.locator("#message").inner_text() and "*" in page.locator("#message").inner_text()

    wedge(page, codes[0])  # the same resident again: refused on the phone
    expect(page.locator("#message")).to_contain_text("该居民已在")
    expect(page.locator("#message")).to_have_class("message message-error")
    wedge(page, "NOT-A-RESIDENT!")
    expect(page.locator("#message")).to_contain_text("不是居民")
    assert counter(page) == "1/5"

    # typed into the field by hand works the same
    page.fill("#code-input", codes[1].lower())
    page.press("#code-input", "Enter")
    page.wait_for_function("document.querySelector('#counter').textContent === '2/5'")
    page.click("#undo")
    page.wait_for_function("document.querySelector('#counter').textContent === '1/5'")
    expect(page.locator("#tube-list .scan-undone")).to_have_count(1)

    page.click("#no-code")
    page.fill("#p-name", "赵小明")
    page.select_option("#p-id-type", "resident_id_card")
    page.fill("#p-id-number", id_number(901, "19900101"))
    page.fill("#p-phone", "13900001111")
    page.fill("#p-address", "和平路1号")
    page.click("#person button[type=submit]")
    page.wait_for_function("document.querySelector('#counter').textContent === '2/5'")
    page.wait_for_function("document.querySelector('#message').textContent.includes('赵*明')")
    # someone with no phone at all (the people this form is for): the phone is optional
    page.click("#no-code")
    assert page.locator("#p-phone").get_attribute("required") is None
    expect(page.locator("label[for=p-phone]")).to_have_text("手机号码（选填）")
    page.fill("#p-name", "钱老伯")
    page.fill("#p-id-number", id_number(902, "19400101"))
    page.click("#person button[type=submit]")
    page.wait_for_function("document.querySelector('#counter').textContent === '3/5'")
    page.wait_for_function("document.querySelector('#message').textContent.includes('钱*伯')")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#seal")
    page.wait_for_function("document.querySelector('#tube-code').textContent === ''")
    wait_all_sent(page)
    played = page.evaluate("import('/static/scan/feedback.js').then((m) => m.played)")
    assert played.count("error") >= 2 and "sealed" in played and "ok" in played

    tube, residents = tube_contents("T-KB-0001")
    assert tube.status == "sealed" and tube.capacity == 5 and tube.sample_count == 3
    assert residents[0] == people[0].id and len(residents) == 3
    from sampling.models import Resident
    extra = db.session.get(Resident, residents[1])
    assert extra.name == "赵小明" and extra.source == "supplementary" and extra.phone == "13900001111"
    no_phone = db.session.get(Resident, residents[2])
    assert no_phone.name == "钱老伯" and no_phone.source == "supplementary" and no_phone.phone is None
    # the personal details typed in are not kept on the phone once the server has them
    kept = page.evaluate("""import('/static/scan/store.js').then(async (m) => {
        const store = await m.Store.open(); const all = await store.all('actions'); store.close();
        return JSON.stringify(all); })""")
    assert id_number(901, "19900101") not in kept and "13900001111" not in kept


def test_page_is_for_field_staff_and_on_their_menu(page, crew, make_user):
    open_scan_page(page, "li_sampler")
    page.goto("/")
    assert page.locator("a[href='/scan/']").count() == 1
    make_user("lab", username="lab_user")
    page.click("text=退出登录")
    page.goto("/login")
    page.fill("#username", "lab_user")
    page.fill("#password", "test-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("a[href='/scan/']").count() == 0
    assert page.goto("/scan/").status == 403


@pytest.fixture
def camera_browser(playwright_instance, tmp_path):
    """Launch Chromium whose camera plays a video made by the test (call with the video's path)."""
    browsers = []

    def launch(video):
        browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


def test_camera_opens_a_tube_by_its_code128_label_and_fills_it_until_sealed(camera_browser, live_server, crew,
                                                                            tmp_path):
    people, codes = crew["people"][:5], crew["codes"][:5]
    video = write_y4m(tmp_path / "camera.y4m", [code128_image("TUBE-CAM-01")] + [qr_image(c) for c in codes],
                      seconds_each=1.2)
    browser = camera_browser(video)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        open_scan_page(page, "li_sampler")
        page.click("label.cap:has(input[value='5'])")
        page.click("#camera-toggle")
        page.wait_for_function("document.body.classList.contains('camera-running')")
        # the camera keeps reading: the tube opens from its label, then each resident goes in once
        page.wait_for_selector("#recent li[data-code='TUBE-CAM-01'].recent-sealed", timeout=SLOW)
        wait_all_sent(page)
        expect(page.locator("#recent li[data-code='TUBE-CAM-01']")).to_contain_text("TUBE-CAM-01 5/5")
        expect(page.locator("#prompt")).to_have_text("扫描或输入采样管条码")
        assert page.evaluate("window.scanApp.camera.detector.name") in ("zxing-wasm", "native")
        # the camera saw each code in many frames: no duplicate errors, one sample each
        tube, residents = tube_contents("TUBE-CAM-01")
        assert tube.status == "sealed" and tube.sample_count == 5
        assert sorted(residents) == sorted(p.id for p in people)
    finally:
        context.close()
