"""Accounts under attack: the lockout (web and API alike, bounded by trusted devices, admin unlock),
web sessions ended on the server (log-out, reset, deactivation, an admin), ``next`` kept on site."""
import pytest
from sqlalchemy import select

from sampling.extensions import db
from sampling.models import User
from tests.conftest import PASSWORD, csrf_from, login


def _web_login(client, username, password):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


def _api_login(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_ten_wrong_passwords_lock_the_account_on_web_and_api_alike(server, make_user):
    make_user("lab", username="guessed")
    attacker = server.test_client()
    for attempt in range(9):  # web and API count together
        answer = (_web_login if attempt % 2 else _api_login)(attacker, "guessed", f"wrong-{attempt}")
        assert answer.status_code in (200, 401)
    tenth = _api_login(attacker, "guessed", "wrong-9")
    assert tenth.status_code == 403 and tenth.get_json()["error"]["code"] == "account_locked"
    # the right password no longer opens it, on either door, and the message says until when
    assert _api_login(attacker, "guessed", PASSWORD).status_code == 403
    web = _web_login(server.test_client(), "guessed", PASSWORD)
    assert web.status_code == 403 and "锁定" in web.get_data(as_text=True)
    english = server.test_client().post("/api/v1/auth/token", json={"username": "guessed", "password": PASSWORD},
                                        headers={"Accept-Language": "en"})
    assert "locked until" in english.get_json()["error"]["message"]


def test_a_device_that_logged_in_before_is_never_locked_out(server, make_user):
    make_user("lab", username="staffer")
    own_phone = server.test_client()
    assert _api_login(own_phone, "staffer", PASSWORD).status_code == 200  # sets the device cookie
    stranger = server.test_client()
    for attempt in range(10):
        _api_login(stranger, "staffer", f"wrong-{attempt}")
    assert _api_login(stranger, "staffer", PASSWORD).status_code == 403
    assert _api_login(own_phone, "staffer", PASSWORD).status_code == 200
    assert _web_login(own_phone, "staffer", PASSWORD).status_code == 302


def test_the_lock_ends_by_itself_and_an_admin_can_lift_it(server, make_user, app):
    make_user("lab", username="locked")
    client = server.test_client()
    for attempt in range(10):
        _api_login(client, "locked", f"wrong-{attempt}")
    user = db.session.scalar(select(User).where(User.username == "locked"))
    db.session.refresh(user)
    assert user.locked_until is not None and user.failed_logins == 0
    result = app.test_cli_runner().invoke(args=["unlock-user", "locked"])
    assert result.exit_code == 0, result.output
    assert _api_login(client, "locked", PASSWORD).status_code == 200  # (this client is now a trusted device)
    from sampling.models import AuditEvent
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))
                                 .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["user.lock", "user.unlock"]
    stranger = server.test_client()
    for attempt in range(10):
        _api_login(stranger, "locked", f"wrong-{attempt}")
    from datetime import timedelta
    db.session.refresh(user)
    user.locked_until = user.locked_until - timedelta(minutes=16)  # LOGIN_LOCK_MINUTES = 15 have passed
    db.session.commit()
    assert _api_login(stranger, "locked", PASSWORD).status_code == 200


def test_a_right_password_resets_the_count(server, make_user):
    make_user("lab", username="careless")
    client = server.test_client()
    for _round in range(3):
        for attempt in range(9):
            assert _api_login(client, "careless", f"wrong-{attempt}").status_code == 401
        assert _api_login(client, "careless", PASSWORD).status_code == 200


def test_a_replayed_cookie_opens_nothing_after_logout(server, demo_city, make_user):
    coordinator = make_user("coordinator", region="120101")
    browser = server.test_client()
    login(browser, coordinator.username)
    saved = browser.get_cookie("session").value
    assert browser.get("/rosters").status_code == 200
    page = browser.get("/rosters").get_data(as_text=True)
    assert browser.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    replay = server.test_client()
    replay.set_cookie("session", saved)
    assert replay.get("/rosters").status_code == 302  # to the login page
    assert replay.get("/api/v1/rosters").status_code == 401


@pytest.mark.parametrize("how", ["reset", "deactivate", "admin_page", "cli"])
def test_reset_deactivation_and_admins_end_every_session(server, demo_city, make_user, app, how):
    from sampling.kernel.users import create_user, deactivate_user
    coordinator = make_user("coordinator", region="120101")
    admin = make_user("admin")
    phone, desk = server.test_client(), server.test_client()
    for browser in (phone, desk):
        login(browser, coordinator.username)
        assert browser.get("/api/v1/rosters").status_code == 200
    if how == "reset":
        create_user(coordinator.username, "coordinator", "a-new-password", "120101", update=True)
        db.session.commit()
    elif how == "deactivate":
        deactivate_user(coordinator.username)
        db.session.commit()
    elif how == "cli":
        assert app.test_cli_runner().invoke(args=["end-sessions", coordinator.username]).exit_code == 0
    else:
        admin_browser = server.test_client()
        login(admin_browser, admin.username)
        listing = admin_browser.get(f"/admin/users?q={coordinator.username}")
        assert listing.status_code == 200 and coordinator.username in listing.get_data(as_text=True)
        ended = admin_browser.post(f"/admin/users/{coordinator.username}/end-sessions",
                                   data={"csrf_token": csrf_from(listing.get_data(as_text=True))})
        assert ended.status_code == 303
    for browser in (phone, desk):
        assert browser.get("/api/v1/rosters").status_code == 401
        assert browser.get("/rosters").status_code == 302


def test_admin_page_unlocks_and_is_for_admins_only(server, make_user):
    make_user("lab", username="victim")
    coordinator = make_user("lab", username="not-admin")
    admin = make_user("admin")
    client = server.test_client()
    for attempt in range(10):
        _api_login(client, "victim", f"wrong-{attempt}")
    other = server.test_client()
    login(other, coordinator.username)
    assert other.get("/admin/users").status_code == 403
    browser = server.test_client()
    login(browser, admin.username)
    listing = browser.get("/admin/users?locked=1")
    html = listing.get_data(as_text=True)
    assert "victim" in html and "not-admin" not in html
    assert browser.post("/admin/users/victim/unlock", data={"csrf_token": csrf_from(html)}).status_code == 303
    assert _api_login(client, "victim", PASSWORD).status_code == 200


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/",
                                    "/%0d%0a/evil.example", "/%E3%80%80/evil.example", "javascript:alert(1)"])
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user("lab")
    page = client.get("/login")
    response = client.post(f"/login?next={target}", data={
        "username": user.username, "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_keeps_a_path_on_this_site(client, make_user):
    user = make_user("lab")
    page = client.get("/login")
    response = client.post("/login?next=/lab/receive%3Fbox%3D1", data={
        "username": user.username, "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/lab/receive?box=1"
