"""Security headers: a strict Content-Security-Policy (no inline script anywhere in templates/),
nosniff, no framing, Referrer-Policy, HSTS in production, and no-store on personal data."""
import re
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, login

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_every_page_gets_the_strict_policy(client):
    response = client.get("/")
    csp = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'" and "unsafe-inline" not in response.headers[
        "Content-Security-Policy"]
    assert csp["default-src"] == "'self'" and csp["style-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'" and csp["form-action"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # development: plain http on the LAN


def test_production_adds_hsts(make_app):
    app = make_app(ENV="production")
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_holds_inline_script_or_handlers():
    """Inline code would be blocked by the policy: behaviour lives in static/js, data in JSON blocks."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        html = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.name}: {tag}")
        offenders += [f"{path.name}: {h}" for h in re.findall(r"\son[a-z]+\s*=", html)]
        offenders += [f"{path.name}: javascript: URL" for _ in re.findall(r"javascript:", html)]
        offenders += [f"{path.name}: inline style" for _ in re.findall(r"<style\b|\sstyle\s*=", html)]
    assert offenders == []


def test_personal_data_is_never_stored_by_a_cache(client, demo_city, make_user, token_for):
    coordinator = make_user("coordinator", region="120101")
    headers = token_for(coordinator)
    registered = client.post("/api/v1/residents", json={
        "name": "张某三", "id_type": "resident_id_card", "id_number": "11010519491231002X", "phone": "13812345678",
        "region_code": "120101001001"})
    assert registered.headers["Cache-Control"] == "no-store"
    for url in ("/api/v1/positives", "/api/v1/stats/overview", "/api/v1/auth/me"):
        answer = client.get(url, headers=headers)
        assert answer.headers["Cache-Control"] == "no-store", url
    login(client, coordinator.username)
    for url in ("/rosters", "/positives", "/staff/residents/new", "/me/", "/query"):
        answer = client.get(url)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store", url
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"}).headers[
        "Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/static/css/app.css", "/api/v1/regions"])
def test_public_files_without_personal_data_keep_their_caching(client, demo_city, url):
    assert client.get(url).headers["Cache-Control"] != "no-store"


def test_a_coordinators_collision_download_is_no_store(client, demo_city, make_user):
    import io

    from sampling.rosters import collisions, uploads
    from tests.collision_data import csv_bytes, known_case
    user = make_user("coordinator", region="120101")
    case = known_case()
    roster, _ = uploads.upload_roster(user, io.BytesIO(csv_bytes(case["rows"], "gb18030")), "r.csv", "名单", None)
    collision = collisions.run_collision(user, roster.id, case["round"].id)
    login(client, user.username, PASSWORD)
    for fmt in ("csv", "xlsx"):
        answer = client.get(f"/api/v1/collisions/{collision.id}/untested.{fmt}")
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
