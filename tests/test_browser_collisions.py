"""A real Chromium: a coordinator uploads a GBK roster with unfamiliar headers (mapping step),
reads the check report (the preview), accepts the roster, runs the collision and downloads the
untested list by building."""
import pytest
from openpyxl import load_workbook

from tests.collision_data import HEADER_ZH, csv_bytes, id_number, known_case, xlsx_bytes
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, user) -> None:
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_upload_roster_run_collision_and_download_untested(page, make_user, demo_city, tmp_path):
    user = make_user("coordinator", region="120101", username="xinhuali")
    case = known_case()
    # "户主姓名" and "身份证件" are not known headers: the user maps them
    rows = [["户主姓名", "身份证件", "手机", "社区", "楼栋", "单元", "门牌"]]
    rows += [[r[0], r[2], r[3], r[4], r[5], r[6], r[7]] for r in case["rows"][1:]]
    _log_in(page, user)
    page.click("text=名单与数据碰撞")
    page.wait_for_url("**/rosters")
    page.set_input_files("#roster-file", files=[{"name": "新华里名单.csv", "mimeType": "text/csv",
                                                 "buffer": csv_bytes(rows, "gbk")}])
    page.wait_for_selector("#mapping:not([hidden])")
    assert page.input_value("#map-name") == ""  # not recognised: the user picks the columns
    assert page.input_value("#map-phone") == "2" and page.input_value("#map-building") == "4"
    page.select_option("#map-name", label="户主姓名")
    page.select_option("#map-id_number", label="身份证件")
    assert "张三" in page.locator("#preview").inner_text()
    page.click("#roster-upload")
    page.wait_for_selector("#report:not([hidden])")
    assert "共读取 8 行：有效 5 行，有问题 3 行。" in page.locator("#report-counts").inner_text()
    assert page.locator("#report-errors tbody tr").count() == 3
    assert "重复" in page.locator("#report-errors").inner_text()
    assert "证件号码" in page.locator("#report-errors").inner_text()
    assert "id_number" not in page.locator("#report-errors").inner_text()
    assert page.get_attribute("#report-errors-csv", "href").endswith("/errors.csv")
    page.click("#report-accept")
    page.wait_for_selector("#collide")
    page.select_option("#round_id", label=case["round"].name)
    page.click("#collide")
    page.wait_for_selector("#counts")
    assert page.locator('[data-count="untested"]').inner_text() == "2"
    assert page.locator('[data-count="tested"]').inner_text() == "3"
    assert "10号楼" in page.locator("#by-building").inner_text()
    with page.expect_download() as info:
        page.click("#dl-untested-xlsx")
    path = tmp_path / "untested.xlsx"
    info.value.save_as(path)
    sheet = load_workbook(path).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0][:3] == ["行号", "社区", "楼栋"]
    assert [(r[2], r[6]) for r in table[1:]] == [("1号楼", "李四"), ("10号楼", "赵六")]
    page.click("#print-untested")
    page.wait_for_selector(".door-group")
    assert page.locator(".door-group").count() == 2


_WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  var box = document.getElementById("progress"), text = document.getElementById("progress-text");
  new MutationObserver(function () {
    if (!box.hidden) window.progressSeen.push(text.textContent);
  }).observe(box, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


def _roster_file(rows: int) -> bytes:
    return csv_bytes([HEADER_ZH] + [[f"住户{i}", "", id_number(i % 1000), "", "新华里社区", f"{i % 9}号楼", "", "", ""]
                                    for i in range(rows)], "gbk")


def _choose(page, data: bytes) -> None:
    page.set_input_files("#roster-file", files=[{"name": "名单.csv", "mimeType": "text/csv", "buffer": data}])


def test_upload_progress_discard_and_size_limits(page, make_user, demo_city, server):
    _log_in(page, make_user("coordinator", region="120101", username="xinhuali2"))
    page.goto("/rosters")
    workbook = xlsx_bytes([HEADER_ZH] + [[f"住户{i}", "", id_number(i % 1000), "", "", "", "", "", ""]
                                         for i in range(6000)])
    assert len(workbook) > 64 * 1024  # more than the first part a CSV's header is read from
    page.set_input_files("#roster-file", files=[{"name": "名单.xlsm", "mimeType": "application/vnd.ms-excel.sheet."
                                                 "macroEnabled.12", "buffer": workbook}])
    page.wait_for_selector("#mapping:not([hidden])")  # a macro-enabled workbook is sent whole, as a workbook
    assert page.input_value("#map-name") == "0" and "住户0" in page.locator("#preview").inner_text()
    page.evaluate(_WATCH_PROGRESS)
    _choose(page, _roster_file(20000))  # ~1 MB: upload progress events, then the server's check
    page.wait_for_selector("#roster-upload:not([disabled])")
    page.click("#roster-upload")
    page.wait_for_selector("#report:not([hidden])")
    seen = page.evaluate("window.progressSeen")
    assert any(text.startswith("正在上传") and text.endswith("%") for text in seen), seen
    assert "正在校验并导入……" in seen, seen
    assert page.locator("#progress").is_hidden()
    assert "共读取 20000 行" in page.locator("#report-counts").inner_text()
    page.click("#report-discard")  # the preview was enough: nothing is kept
    page.wait_for_selector("#report-discarded:not([hidden])")
    assert page.request.get("/api/v1/rosters").json()["rosters"] == []

    server.config["ROSTER_MAX_UPLOAD_MB"] = 1
    page.goto("/rosters")  # the page knows the limit: an oversized file is refused before it is sent
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/api/" in request.url else None)
    _choose(page, _roster_file(30000))
    page.wait_for_selector("#upload-error:not([hidden])")
    assert page.locator("#upload-error").inner_text() == "文件超过 1 MB，请将名单拆分为多个较小的文件。"
    assert page.locator("#roster-upload").is_disabled() and sent == []

    server.config["ROSTER_MAX_UPLOAD_MB"] = 2
    page.goto("/rosters")  # the page allows 2 MB; the server has been set to 1 MB since: its 413 is shown
    server.config["ROSTER_MAX_UPLOAD_MB"] = 1
    _choose(page, _roster_file(30000))
    page.wait_for_selector("#roster-upload:not([disabled])")  # the header (first 64 KB) was read
    page.click("#roster-upload")
    page.wait_for_selector("#upload-error:not([hidden])")
    assert page.locator("#upload-error").inner_text().startswith("文件超过 1 MB")
    assert page.locator("#report").is_hidden()
