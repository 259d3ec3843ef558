"""A real Chromium: a coordinator uploads a GBK roster with unfamiliar headers (mapping step),
reads the check report (the preview), accepts the roster, runs the collision and downloads the
untested list by building."""
import pytest
from openpyxl import load_workbook

from tests.collision_data import csv_bytes, known_case
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_upload_roster_run_collision_and_download_untested(page, make_user, demo_city, tmp_path):
    user = make_user("coordinator", region="120101", username="xinhuali")
    case = known_case()
    # "户主姓名" and "身份证件" are not known headers: the user maps them
    rows = [["户主姓名", "身份证件", "手机", "社区", "楼栋", "单元", "门牌"]]
    rows += [[r[0], r[2], r[3], r[4], r[5], r[6], r[7]] for r in case["rows"][1:]]
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
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
