"""A real Chromium: a district coordinator follows a round on a phone, sees new scans appear without
reloading, drills down, downloads the district's figures as an Excel file, and, once signed out,
is told so instead of seeing the login page inside the dashboard."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from sampling.extensions import db
from sampling.kernel.tabular import read_rows
from tests.conftest import PASSWORD
from tests.stats_data import at, build_known_round

pytestmark = pytest.mark.browser


def test_coordinator_follows_the_round_and_downloads(page, server, demo_city, make_user, tmp_path):
    server.config["STATS_REFRESH_SECONDS"] = 1
    data = build_known_round()
    make_user("coordinator", username="hp_coordinator", region="120101")
    page.clock.install()  # the page's timers, so that "no refresh any more" is checked over ticks, not waited for
    page.add_init_script("""(() => { const fetch = window.fetch; window.fetched = [];
        window.fetch = function (url) { window.fetched.push(String(url)); return fetch.apply(this, arguments); };
    })()""")
    page.goto("/login")
    page.fill("#username", "hp_coordinator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.click("text=统计")
    assert page.locator("h1").inner_text() == "统计"
    sampled = page.locator(".stat-value[data-key=sampled]")
    assert sampled.inner_text() == "8"
    assert page.locator("#stats-table tbody tr").count() == 2
    assert page.locator("svg.chart rect.bar").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone

    # a new scan arrives: the figure changes by itself
    tube = data["tubes"]["T2"]
    db.session.execute(text(
        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at, resample) "
        "SELECT id, :r, round_id, site_id, :f, :ts, EXISTS (SELECT 1 FROM samples s2 WHERE s2.round_id = "
        "tubes.round_id AND s2.resident_id = :r) FROM tubes WHERE id = :t"),
        {"t": tube, "r": data["residents"][9], "f": False, "ts": at(10, 30).strftime("%Y-%m-%d %H:%M:%S")})
    db.session.commit()
    page.wait_for_function("document.querySelector('.stat-value[data-key=sampled]').textContent.trim() === '9'")
    assert page.url.endswith("/stats")  # no reload

    with page.expect_download() as info:
        page.click("#download-xlsx")
    path = tmp_path / "stats.xlsx"
    info.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames == ["街道", "社区", "采样点"]
    streets = [[c.value for c in row][:4] for row in book["街道"].iter_rows(min_row=2)]
    assert streets == [["120101001", "劝业场街道", 8, 9], ["120101002", "小白楼街道", 2, 0], [None, "合计", 10, 9]]

    # the CSV holds exactly what the table shows, column for column (percentages and "—" aside)
    with page.expect_download() as info:
        page.click("#download-csv")
    path = tmp_path / "stats.csv"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    csv_rows = list(read_rows(io.BytesIO(path.read_bytes()), "stats.csv"))
    screen = [[cell.strip() for cell in row] for row in page.eval_on_selector_all(
        "#stats-table tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")]
    assert screen[0] == csv_rows[0] and {"已封管", "已装箱", "已接收", "封管至出结果（分钟）"} <= set(screen[0])
    completion = csv_rows[0].index("完成率")
    for row in csv_rows[1:]:  # the file has fractions where the screen shows percentages
        row[completion] = f"{float(row[completion]) * 100:.1f}%" if row[completion] else ""
    assert [[c.replace("—", "") for c in row] for row in screen[1:]] == csv_rows[1:]
    assert csv_rows[1][:4] == ["120101001", "劝业场街道", "8", "9"] and csv_rows[-1][1] == "合计"

    page.click("#stats-table a:text('劝业场街道')")
    page.wait_for_url("**parent=120101001**")
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert page.locator("#stats-table tbody tr").count() == 2  # its communities
    assert "新华里社区" in page.locator("#stats-table").inner_text()

    # the session ends (logged out in another tab): the next refresh shows a notice, keeps the
    # last figures (no login page inside the panel) and stops refreshing
    page.context.clear_cookies()
    notice = page.locator("#stats-signed-out")
    notice.wait_for()
    assert notice.inner_text().startswith("您已退出登录")
    assert page.locator("#stats-panel form").count() == 0
    assert page.locator("#stats-table tbody tr").count() == 2
    refreshed = page.get_attribute("#stats-panel", "data-refreshed")
    asked = "() => window.fetched.filter(u => u === document.getElementById('stats-panel').dataset.refreshUrl).length"
    before = page.evaluate(asked)
    assert before >= 1  # the refresh that found the session ended was counted
    page.clock.run_for(5000)  # five refresh periods go by: not one refresh is asked
    assert page.evaluate(asked) == before
    assert page.get_attribute("#stats-panel", "data-refreshed") == refreshed
    assert page.locator("#stats-signed-out").count() == 1
    page.click("#stats-signed-out a")
    page.wait_for_url("**/login?next=**")
    page.fill("#username", "hp_coordinator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/stats?**parent=120101001**")
    assert page.locator("#stats-table tbody tr").count() == 2
