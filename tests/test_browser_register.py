"""A real Chromium: a coordinator compares the residents registered in the system with who was
sampled (no upload), reads the untested by building and prints a building's list; on the
statistics dashboard the live "registered, not yet sampled" count links to the door-knocking list."""
import pytest

from tests.collision_data import register_case
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, user) -> None:
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_register_collision_from_the_rosters_page(page, make_user, demo_city):
    case = register_case(make_user)
    _log_in(page, case["user"])
    page.goto("/rosters")
    # the register is the first choice on the page
    assert page.locator("section.card").first.get_attribute("id") == "register"
    assert "本系统登记居民" in page.locator("#register h2").inner_text()
    page.select_option("#region_code", value="120101001")
    page.select_option("#round_id", label=case["round"].name)
    page.click("#register-collide")
    page.wait_for_selector("#counts")
    assert page.locator('[data-count="roster_total"]').inner_text() == "5"
    assert page.locator('[data-count="untested"]').inner_text() == "3"
    assert page.locator('[data-count="not_on_roster"]').inner_text() == "2"
    assert page.locator('[data-count="name_mismatch"]').count() == 0
    building = page.locator("#by-building").inner_text()
    assert "12" in building and "（未识别）" in building
    assert page.locator("#dl-untested-xlsx").count() == 1 and page.locator("#dl-invalid-csv").count() == 0
    page.locator("#by-building tr", has_text="（未识别）").locator("a").click()
    page.wait_for_selector("#print-title")
    assert "赵六" in page.locator("main").inner_text() and "钱七" not in page.locator("main").inner_text()


def test_dashboard_links_the_live_list(page, make_user, demo_city):
    case = register_case(make_user)
    _log_in(page, case["user"])
    page.goto(f"/stats?round_id={case['round'].id}&level=community&parent=120101001")
    row = page.locator('#unsampled tr[data-code="120101001002"]')
    assert row.locator('[data-key="unsampled"]').inner_text() == "2"
    row.locator("a.unsampled-list").click()
    page.wait_for_selector("#live-title")
    assert "滨西社区" in page.locator("#live-title").inner_text()
    text = page.locator("main").inner_text()
    assert text.index("钱七") < text.index("赵六")  # building 2 first, the unrecognised address last
    assert "2 人尚未采样" in page.locator("#live-count").inner_text()
