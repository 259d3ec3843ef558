"""Tokens, sessions, roles and region scope."""
from datetime import timedelta

from sqlalchemy import select

from sampling.extensions import db
from sampling.models import ApiToken
from tests.conftest import PASSWORD, csrf_from, login


def test_token_login_returns_token_expiry_and_role(client, demo_city, make_user):
    user = make_user("sampler", sites=("S-HP-001",))
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "sampler" and len(body["token"]) >= 40 and body["expires_at"]
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash != body["token"]  # only a digest is kept


def test_bad_credentials_are_json_401(client, make_user):
    user = make_user("lab")
    for payload in ({"username": user.username, "password": "wrong-password"},
                    {"username": "nobody", "password": PASSWORD},
                    {"username": user.username}):
        response = client.post("/api/v1/auth/token", json=payload)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_non_json_login_is_json_400(client):
    response = client.post("/api/v1/auth/token", data="username=a", content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_staff_endpoint_needs_a_token(client):
    response = client.get("/api/v1/rounds")
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"]["code"] == "unauthorized" and body["error"]["message"] == "请先登录。"


def test_error_messages_follow_accept_language(client):
    response = client.get("/api/v1/rounds", headers={"Accept-Language": "en"})
    assert response.get_json()["error"]["message"] == "Please log in."


def test_garbage_token_is_401(client):
    response = client.get("/api/v1/rounds", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_expired_token_is_refused(client, make_user, token_for):
    headers = token_for(make_user("lab"))
    assert client.get("/api/v1/rounds", headers=headers).status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    token.expires_at = token.expires_at - timedelta(days=2)
    db.session.commit()
    response = client.get("/api/v1/rounds", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_token"


def test_revoked_token_is_refused(client, make_user, token_for):
    headers = token_for(make_user("lab"))
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/rounds", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401


def test_deactivated_user_token_stops_working(client, make_user, token_for):
    user = make_user("lab")
    headers = token_for(user)
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/rounds", headers=headers).status_code == 401


def test_me_reports_role_and_scope(client, demo_city, make_user, token_for):
    user = make_user("sampler", sites=("S-HP-002", "S-HP-001"))
    body = client.get("/api/v1/auth/me", headers=token_for(user)).get_json()
    assert body["role"] == "sampler" and body["site_codes"] == ["S-HP-001", "S-HP-002"]


def test_role_is_enforced_with_json_403(client, demo_city, make_user, token_for):
    headers = token_for(make_user("sampler", sites=("S-HP-001",)))
    response = client.post("/api/v1/rounds", json={"name": "R", "pool_size": 10}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden_role"


def test_coordinator_cannot_act_in_another_district(client, demo_city, make_user, token_for):
    headers = token_for(make_user("coordinator", region="120101"))
    response = client.post("/api/v1/rounds", json={"name": "河东区加测", "pool_size": 10, "region_code": "120102"},
                           headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden_region"
    inside = client.post("/api/v1/rounds", json={"name": "劝业场加测", "pool_size": 5,
                                                 "region_code": "120101001"}, headers=headers)
    assert inside.status_code == 201 and inside.get_json()["region_code"] == "120101001"


def test_street_coordinator_cannot_reach_up_to_the_district(client, demo_city, make_user, token_for):
    headers = token_for(make_user("coordinator", region="120101001"))
    response = client.post("/api/v1/rounds", json={"name": "x", "region_code": "120101"}, headers=headers)
    assert response.status_code == 403


def test_scope_rules_at_service_level(demo_city, make_user):
    from sampling.kernel.access import can_access_region
    from sampling.kernel.regions import get_region
    coordinator = make_user("coordinator", region="120101001")
    assert can_access_region(coordinator, get_region("120101001002"))
    assert not can_access_region(coordinator, get_region("120101002001"))
    assert not can_access_region(coordinator, get_region("120101"))
    assert can_access_region(make_user("admin"), get_region("120103001001"))
    assert not can_access_region(make_user("lab"), get_region("120101"))


def test_web_login_logout_through_the_form(client, make_user):
    user = make_user("admin")
    page = login(client, user.username)
    assert "退出登录" in page.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(home)}, follow_redirects=True)
    assert "工作人员登录" in client.get("/").get_data(as_text=True)


def test_web_login_wrong_password_is_refused(client, make_user):
    user = make_user("admin")
    page = login(client, user.username, "wrong-password")
    assert "用户名或密码错误" in page.get_data(as_text=True)


def test_login_form_without_csrf_is_refused_and_sent_back_with_a_note(client, make_user):
    user = make_user("admin")
    for token in (None, "stale-token"):
        data = {"username": user.username, "password": PASSWORD, **({"csrf_token": token} if token else {})}
        response = client.post("/login?next=/scan/", data=data)
        assert response.status_code == 303 and response.headers["Location"] == "/login?next=/scan/"
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "页面已过期，请重试。" in page and "退出登录" not in page
    english = client.post("/login?lang=en", data={"username": user.username, "password": PASSWORD},
                          follow_redirects=True)
    assert "The page had expired; please try again." in english.get_data(as_text=True)


def test_stale_form_on_a_post_only_action_goes_back_to_the_page_it_was_on(client, make_user):
    user = make_user("admin")
    login(client, user.username)
    for referrer, back in (("http://localhost/scan/?x=1", "/scan/?x=1"), ("http://elsewhere.example/", "/"),
                           ("http://localhost//elsewhere.example/", "/"), (None, "/")):
        headers = {"Referer": referrer} if referrer else {}
        response = client.post("/logout", data={"csrf_token": "stale"}, headers=headers)
        assert response.status_code == 303 and response.headers["Location"] == back, referrer
    assert "退出登录" in client.get("/").get_data(as_text=True)  # still logged in: nothing was done


def test_session_caller_needs_csrf_header_for_api_writes(client, demo_city, make_user):
    user = make_user("admin")
    login(client, user.username)
    assert client.get("/api/v1/rounds").status_code == 200
    refused = client.post("/api/v1/rounds", json={"name": "R", "pool_size": 10})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf"
    token = csrf_from(client.get("/").get_data(as_text=True))
    accepted = client.post("/api/v1/rounds", json={"name": "R", "pool_size": 10}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_login_is_rate_limited(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


def _token_attempt(client, username: str, address: str):
    return client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password"},
                       headers={"X-Forwarded-For": address}).status_code


def test_behind_a_proxy_each_client_address_has_its_own_login_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute", PROXY_FIX_X_FOR=1)
    client = app.test_client()
    assert [_token_attempt(client, "zhang", "10.1.1.1") for _ in range(3)] == [401, 401, 429]
    assert _token_attempt(client, "zhang", "10.2.2.2") == 401  # another client behind the balancer
    assert _token_attempt(client, "zhang", "10.1.1.1") == 429


def test_without_proxy_fix_forwarded_for_is_not_trusted(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    client = app.test_client()
    assert [_token_attempt(client, "zhang", "10.1.1.1") for _ in range(2)] == [401, 401]
    assert _token_attempt(client, "zhang", "10.2.2.2") == 429  # a forged header buys nothing


def test_login_limit_counts_per_user_name_with_a_looser_limit_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ADDRESS="4 per minute")
    client = app.test_client()
    # staff of one site behind one NAT address each have their own budget...
    assert [_token_attempt(client, name, "ignored") for name in ("li", "li", "wang", "wang")] == [401] * 4
    # ...and guessing many user names from one address runs into the address limit
    assert _token_attempt(client, "guess", "ignored") == 429


def test_web_login_form_limit_is_per_user_name(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    client = app.test_client()
    user = make_user("admin")
    for _ in range(2):
        assert "用户名或密码错误" in login(client, "someone-else", "wrong-password").get_data(as_text=True)
    assert login(client, "someone-else", "wrong-password").status_code == 429
    assert "退出登录" in login(client, user.username).get_data(as_text=True)
