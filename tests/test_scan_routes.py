"""The scanning page's routes: who may open it, its translated messages, the service worker."""
import json
import re

from tests.conftest import login


def _json_script(html: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_scan_page_needs_a_field_login(client, make_user):
    assert client.get("/scan/").status_code == 302
    make_user("lab", username="lab1")
    login(client, "lab1")
    assert client.get("/scan/").status_code == 403


def test_scan_page_carries_its_settings_and_translated_messages(client, demo_city, make_user):
    user = make_user("sampler", username="s1", sites=("S-HP-001",))
    login(client, "s1")
    html = client.get("/scan/").get_data(as_text=True)
    config = _json_script(html, "scan-config")
    assert config["user_id"] == user.id and config["worker"] == "/scan/sw.js" and config["scope"] == "/scan/"
    assert config["decoder_wasm"].endswith("zxing_reader.wasm")
    messages = _json_script(html, "scan-messages")
    assert messages["offline"] == "离线" and messages["pending"] == "%(n)s 条待发送"
    assert 'name="csrf-token"' in html and "扫描或输入采样管条码" in html
    english = _json_script(client.get("/scan/?lang=en").get_data(as_text=True), "scan-messages")
    assert english["offline"] == "Offline"
    assert set(english) == set(messages)


def test_service_worker_is_served_for_the_scan_scope_with_its_precache_list(client):
    response = client.get("/scan/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/scan/"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__PRECACHE__" not in source and "__VERSION__" not in source
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", source).group(1))
    assert precache[0] == "/scan/"
    for url in precache[1:]:  # every file the page needs offline is there
        asset = client.get(url)
        assert asset.status_code == 200, url
        asset.close()
    wasm = client.get("/static/vendor/zxing-wasm-3.1.4/zxing_reader.wasm")
    assert wasm.mimetype == "application/wasm" and wasm.get_data()[:4] == b"\0asm"
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', source)
    assert version and client.get("/scan/sw.js").get_data(as_text=True) == source
