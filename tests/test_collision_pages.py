"""The roster and collision pages through the test client (the browser test drives the upload)."""
import io
import re

from sampling.rosters import collisions, uploads
from tests.collision_data import csv_bytes, known_case
from tests.conftest import csrf_from, login


def _setup(make_user):
    user = make_user("coordinator", region="120101", username="grid_chief")
    case = known_case()
    roster, _ = uploads.upload_roster(user, io.BytesIO(csv_bytes(case["rows"], "gb18030")), "r.csv", "新华里名单",
                                      None)
    return user, case, roster


def test_run_print_rerun_and_delete_through_the_pages(demo_city, make_user, client):
    user, case, roster = _setup(make_user)
    login(client, user.username)
    assert "新华里名单" in client.get("/rosters").get_data(as_text=True)
    page = client.get(f"/rosters/{roster.id}").get_data(as_text=True)
    assert "重复" in page and "<td>证件号码</td>" in page and "<td>id_number</td>" not in page
    response = client.post(f"/rosters/{roster.id}", data={"csrf_token": csrf_from(page), "round_id": case["round"].id,
                                                           "sampled_from": "", "sampled_to": ""})
    assert response.status_code == 302
    collision_url = response.headers["Location"]
    html = client.get(collision_url).get_data(as_text=True)
    assert re.search(r'data-count="untested">2<', html) and re.search(r'data-count="tested">3<', html)
    cid = int(collision_url.rstrip("/").rsplit("/", 1)[1])
    printed = client.get(f"/collisions/{cid}/print").get_data(as_text=True)
    assert printed.index("李四") < printed.index("赵六") and "13800000002" in printed
    one = client.get(f"/collisions/{cid}/print?community=滨西社区&building=10号楼").get_data(as_text=True)
    assert "赵六" in one and "李四" not in one
    assert client.get(f"/api/v1/collisions/{cid}/untested.csv").status_code == 200  # session cookie works
    rerun = client.post(f"/collisions/{cid}/rerun", data={"csrf_token": csrf_from(html)})
    assert rerun.status_code == 302 and rerun.headers["Location"] != collision_url
    errors = client.get(f"/rosters/{roster.id}/errors.csv").data.decode("utf-8-sig")
    assert errors.count("\n") == 4  # header + 3 bad rows
    assert errors.splitlines()[1].startswith("7,证件号码,") and "id_number" not in errors
    deleted = client.post(f"/rosters/{roster.id}/delete", data={"csrf_token": csrf_from(html)})
    assert deleted.status_code == 302
    assert client.get(f"/rosters/{roster.id}").status_code == 404


def test_other_region_gets_403_page(demo_city, make_user, client):
    _user, case, roster = _setup(make_user)
    other = make_user("coordinator", region="120102")
    collision = collisions.run_collision(_user, roster.id, case["round"].id)
    login(client, other.username)
    assert client.get(f"/rosters/{roster.id}").status_code == 403
    assert client.get(f"/collisions/{collision.id}").status_code == 403
    assert client.get(f"/collisions/{collision.id}/print").status_code == 403
    assert "新华里名单" not in client.get("/rosters").get_data(as_text=True)


def test_menu_shows_rosters_to_coordinators_only(demo_city, make_user, client):
    login(client, make_user("coordinator", region="120101").username)
    assert "/rosters" in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, make_user("sampler", sites=("S-HP-001",)).username)
    assert "/rosters" not in client.get("/").get_data(as_text=True)


def _field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([\w-]+)-error">([^<]+)</p>', html))


def test_the_compare_form_says_what_is_wrong(demo_city, make_user, client):
    user, case, roster = _setup(make_user)
    login(client, user.username)
    page = client.get(f"/rosters/{roster.id}").get_data(as_text=True)
    token, round_id = csrf_from(page), case["round"].id
    when = "请填写日期时间，例如 2022-01-10T08:00。"
    cases = [
        ({"round_id": round_id, "sampled_from": "garbage"}, {"sampled_from": when}),
        ({"round_id": "abc"}, {"round_id": "请选择轮次。"}),
        ({"round_id": 999999}, {"round_id": "请选择轮次。"}),
        ({"round_id": round_id, "sampled_from": "2022-01-10T12:00", "sampled_to": "2022-01-10T08:00"},
         {"sampled_to": "截止时间必须晚于开始时间。"}),
    ]
    for form, expected in cases:
        response = client.post(f"/rosters/{roster.id}", data={"csrf_token": token, **form})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, form
        assert _field_errors(html) == expected and 'id="collide-error"' in html
    assert collisions.collisions_of(roster) == []
    stale = client.post(f"/rosters/{roster.id}", data={"csrf_token": "stale", "round_id": round_id},
                        follow_redirects=True)  # nothing done; back to the same page, saying why
    assert stale.request.path == f"/rosters/{roster.id}" and "页面已过期，请重试。" in stale.get_data(as_text=True)
    english = client.post(f"/rosters/{roster.id}?lang=en", data={"csrf_token": token, "round_id": "abc"})
    assert _field_errors(english.get_data(as_text=True)) == {"round_id": "Choose a round."}


def test_the_print_page_names_and_counts_what_it_prints(demo_city, make_user, client):
    user, case, roster = _setup(make_user)
    collision = collisions.run_collision(user, roster.id, case["round"].id)
    login(client, user.username)

    def printed(query=""):
        html = client.get(f"/collisions/{collision.id}/print{query}").get_data(as_text=True)
        title = re.sub(r"\s+", " ", re.search(r'<h1 id="print-title">(.*?)</h1>', html, re.S).group(1)).strip()
        count = int(re.search(r'id="print-count">.*?未检 (\d+) 人', html).group(1))
        return title, count, html.count('class="door-group"')

    assert printed() == ("未检人员：新华里名单", 2, 2)
    assert printed("?community=滨西社区") == ("未检人员：新华里名单 · 滨西社区", 1, 1)
    assert printed("?community=滨西社区&building=10号楼") == ("未检人员：新华里名单 · 滨西社区 · 10号楼", 1, 1)
    assert printed("?community=滨西社区&building=3号楼") == ("未检人员：新华里名单 · 滨西社区 · 3号楼", 0, 0)
    assert printed("?community=&building=") == ("未检人员：新华里名单 · （空） · （空）", 0, 0)
