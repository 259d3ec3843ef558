"""A real Chromium logs in through the form, switches language and logs out."""
import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_login_through_the_form_and_switch_language(page, make_user):
    user = make_user("admin", username="zhang_admin")
    page.goto("/login")
    assert page.locator("h1").inner_text() == "工作人员登录"
    page.fill("#username", user.username)
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".flash-error").inner_text()
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert "zhang_admin" in page.locator(".who").inner_text()
    page.click("text=English")
    assert page.locator(".brand").inner_text() == "Mass testing"
    page.reload()
    assert page.locator(".brand").inner_text() == "Mass testing"
    page.click("text=Log out")
    assert page.locator("h1").inner_text() == "Staff login"


def test_login_page_fits_a_360px_phone(page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/login")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    box = page.locator("button[type=submit]").bounding_box()
    assert box["height"] >= 44
