"""A real Chromium on a phone-sized screen: site staff box tubes and hand the box over, the lab
receives it and scans a positive result, and the coordinator is told without reloading."""
import re

import pytest

from sampling.extensions import db
from sampling.lab import boxes, results
from tests.conftest import PASSWORD
from tests.lab_fixtures import at_the_lab, resident, sealed_tube

pytestmark = pytest.mark.browser


def log_in(page, username):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def log_out(page):
    page.click("text=退出登录")


def test_box_hand_over_receive_and_scan_a_positive(page, demo_city, make_user):
    make_user("sampler", username="wang_sampler", sites=("S-HP-001",))
    make_user("lab", username="li_lab")
    sealed_tube("BRW-TUBE-1", "S-HP-001", [resident(i) for i in range(10)])
    sealed_tube("BRW-TUBE-2", "S-HP-001", [resident(20)], status="open")
    db.session.commit()

    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, "wang_sampler")
    page.click("text=转运箱：装箱与送检")
    page.fill("#box-code", "BRW-BOX-1")
    page.press("#box-code", "Enter")
    page.fill("#tube-code", "BRW-TUBE-1")
    page.press("#tube-code", "Enter")
    page.wait_for_selector("#box-tubes li")
    assert page.locator("#box-count").inner_text() == "1"
    page.fill("#tube-code", "BRW-TUBE-1")
    page.press("#tube-code", "Enter")  # scanned twice: still one tube
    # the answer to this second scan empties the field (the message is the first scan's already)
    page.wait_for_function("document.getElementById('tube-code').value === ''")
    assert page.locator("#box-tubes li").count() == 1
    page.fill("#tube-code", "BRW-TUBE-2")
    page.press("#tube-code", "Enter")
    page.wait_for_selector(".flash-error")
    assert "尚未封管" in page.locator("#lab-message").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#box-handover")
    page.wait_for_function("document.getElementById('lab-message').textContent.includes('已送检')")
    assert page.locator("#box-status").inner_text() == "已送检"
    assert page.locator("#tube-code").is_disabled()
    log_out(page)

    log_in(page, "li_lab")
    page.click("text=接收转运箱并录入结果")
    page.fill("#receive-code", "BRW-BOX-1")
    page.press("#receive-code", "Enter")
    page.wait_for_selector(".flash-success")
    assert "已接收：1 管" in page.locator("#lab-message").inner_text()
    page.fill("#receive-code", "BRW-BOX-1")
    page.press("#receive-code", "Enter")
    page.wait_for_selector(".flash-error")
    assert "已经接收过了" in page.locator("#lab-message").inner_text()
    page.check("input[value=positive]")
    page.fill("#result-tube", "BRW-TUBE-1")
    page.press("#result-tube", "Enter")
    page.wait_for_selector("#result-log li")
    assert "10 人已列入名单" in page.locator("#result-log li").first.inner_text()
    page.check("input[value=negative]")
    page.fill("#result-tube", "BRW-TUBE-1")
    page.press("#result-tube", "Enter")
    page.wait_for_function("document.querySelectorAll('#result-log li').length == 2")
    assert "更正" in page.locator("#result-log li").first.inner_text()


def _notice_checked(page, times: int = 1) -> None:
    """Until this page's notice script has handled ``times`` answers of the server (so that a
    banner's absence is an answer, not a poll not yet made)."""
    page.wait_for_function(f"Number(document.body.dataset.noticeChecks || 0) >= {times}")


def _pool_at_the_lab(server, make_user, prefix):
    """A 10-in-1 tube <prefix>-TUBE received by the lab, the notice polled every second; the lab user."""
    server.config["POSITIVES_NOTICE_SECONDS"] = 1
    sampler, lab = make_user("sampler", sites=("S-HP-001",)), make_user("lab")
    sealed_tube(f"{prefix}-TUBE", "S-HP-001", [resident(i) for i in range(10)], sampler=sampler)
    db.session.commit()
    at_the_lab(sampler, lab, f"{prefix}-BOX", [f"{prefix}-TUBE"])
    return lab


def test_coordinator_is_told_of_a_new_positive_without_reloading(page, server, demo_city, make_user):
    make_user("coordinator", username="zhou_coord", region="120101001")
    lab = _pool_at_the_lab(server, make_user, "NOTE")

    log_in(page, "zhou_coord")
    page.goto("/positives")  # the list as it is: nothing to find yet
    page.wait_for_selector("#no-pools")
    page.goto("/")
    _notice_checked(page)
    assert page.locator("#positives-notice").count() == 0
    results.post_results(lab, [results.make_row(None, "NOTE-TUBE", "positive")])
    page.wait_for_selector("#positives-notice", timeout=8000)
    assert "新增 1 个阳性或无效混管" in page.locator("#positives-notice").inner_text()
    page.click("#positives-notice a")
    page.wait_for_selector("section.pool")
    assert page.locator("section.pool h2").inner_text().endswith("NOTE-TUBE")
    assert page.locator("section.pool tbody tr").count() == 10
    assert page.locator("section.pool tbody tr").first.locator("td").nth(7).inner_text() == "待联系"
    _notice_checked(page)  # the list has been seen: no banner on it
    assert page.locator("#positives-notice").count() == 0
    page.click("#print-view")
    page.wait_for_selector(".pool-print")
    assert page.locator(".pool-print tbody tr").count() == 10


def test_lab_uploads_a_days_file_and_reads_the_report(page, demo_city, make_user, tmp_path):
    sampler, lab = make_user("sampler", sites=("S-HP-001",)), make_user("lab", username="sun_lab")
    for n in range(3):
        sealed_tube(f"FILE-{n:04d}", "S-HP-001", [resident(10 * n + i) for i in range(10)])
    db.session.commit()
    boxes.create_box(sampler, "FILE-BOX")
    for n in range(3):
        boxes.add_tube(sampler, "FILE-BOX", f"FILE-{n:04d}")
    boxes.hand_over(sampler, "FILE-BOX")
    boxes.receive(lab, "FILE-BOX")
    upload = tmp_path / "检测结果.csv"
    upload.write_bytes("管码,结果,检测时间\r\nFILE-0000,阴性,\r\nFILE-0001,阳性,\r\nFILE-0002,无效,\r\n"
                       "FILE-9999,阴性,\r\nFILE-0000,阳性,\r\n".encode("gb18030"))

    log_in(page, "sun_lab")
    page.click("text=上传结果文件")
    page.set_input_files("#file", str(upload))
    page.click("main button[type=submit]")
    page.wait_for_selector("#report")
    assert page.locator("#count-updated").inner_text() == "3"
    assert page.locator("#report-positives li").count() == 2
    unknown = page.locator("#report-unknown tbody tr")
    assert unknown.count() == 1 and [c.inner_text() for c in unknown.first.locator("td").all()] == ["5", "FILE-9999"]
    refused = page.locator("#report-rejected tbody tr")
    assert refused.count() == 1 and refused.first.locator("td").first.inner_text() == "6"


def test_a_coordinators_first_visit_shows_the_open_pools_of_their_area(page, server, demo_city, make_user):
    make_user("coordinator", username="wu_coord", region="120101")
    lab = _pool_at_the_lab(server, make_user, "OPEN")
    results.post_results(lab, [results.make_row(None, "OPEN-TUBE", "invalid")])  # before they ever log in

    log_in(page, "wu_coord")
    page.wait_for_selector("#positives-notice")
    assert "1 个阳性或无效混管仍有人员待跟进" in page.locator("#positives-notice").inner_text()
    page.click("#positives-notice a")
    page.wait_for_selector("section.pool")
    _notice_checked(page)  # opened: no banner any more, on the list or elsewhere
    assert page.locator("#positives-notice").count() == 0
    page.goto("/")
    _notice_checked(page)
    assert page.locator("#positives-notice").count() == 0
