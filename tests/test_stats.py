"""Exact figures of a known small round at every level, completion against a roster collision,
the day's progress, scoping; the API with CSV and XLSX read back."""
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import bindparam

from sampling.errors import BadRequest, Forbidden, NotFound
from sampling.kernel.tabular import read_rows
from sampling.models import Round
from sampling.models.base import UTCDateTime
from sampling.stats import providers
from sampling.stats.aggregates import area_stats
from sampling.stats.downloads import to_csv
from sampling.stats.overview import overview
from tests.stats_data import HOURLY, SITES

KEYS = ("registered", "sampled", "supplementary", "samples", "tubes", "tubes_open", "tubes_sealed",
        "tubes_boxed", "tubes_resulted")


def figures(row) -> tuple:
    return tuple(row[k] for k in KEYS)


@pytest.fixture
def known(stats_round):
    return stats_round


def test_every_level_for_the_city(known, make_user):
    admin, rid = make_user("admin"), known["round"].id
    result = area_stats(admin, rid, "district")
    assert [(r["code"], figures(r)) for r in result["rows"]] == [
        ("120101", (10, 8, 1, 9, 4, 2, 1, 1, 0)),
        ("120102", (2, 2, 0, 2, 1, 0, 0, 0, 1)),
        ("120103", (0, 0, 0, 0, 0, 0, 0, 0, 0)),
    ]
    assert figures(result["totals"]) == (12, 10, 1, 11, 5, 2, 1, 1, 1)
    streets = area_stats(admin, rid, "street", "120101")["rows"]
    assert [(r["code"], r["name"], figures(r)) for r in streets] == [
        ("120101001", "劝业场街道", (8, 8, 1, 9, 3, 1, 1, 1, 0)),
        ("120101002", "小白楼街道", (2, 0, 0, 0, 1, 1, 0, 0, 0)),
    ]
    communities = area_stats(admin, rid, "community", "120101001")["rows"]
    assert [(r["code"], figures(r)) for r in communities] == [
        ("120101001001", (5, 6, 1, 7, 2, 1, 1, 0, 0)),
        ("120101001002", (3, 2, 0, 2, 1, 0, 0, 1, 0)),
    ]
    sites = area_stats(admin, rid, "site")["rows"]
    assert [r["code"] for r in sites] == sorted(SITES)
    for row in sites:
        assert row["registered"] is None
        assert {k: row[k] for k in SITES[row["code"]]} == SITES[row["code"]], row["code"]
    # parent may be any region above the level
    assert [r["code"] for r in area_stats(admin, rid, "site", "120101")["rows"]] == ["S-HP-001", "S-HP-002",
                                                                                     "S-HP-003"]
    assert [r["code"] for r in area_stats(admin, rid, "community", "120101")["rows"]] == [
        "120101001001", "120101001002", "120101002001"]


def test_completion_against_the_roster_collision(known, make_user):
    providers.set_roster_provider(lambda round_id: {"120101001001": (6, 5), "120101002001": (2, 1),
                                                      "120102001001": (4, 2)})
    result = area_stats(make_user("admin"), known["round"].id, "district")
    assert [(r["roster_total"], r["roster_tested"], r["completion"]) for r in result["rows"]] == [
        (8, 6, 0.75), (4, 2, 0.5), (None, None, None)]
    assert (result["totals"]["roster_total"], result["totals"]["completion"]) == (12, 0.6667)
    community = area_stats(make_user("admin"), known["round"].id, "community", "120101002")["rows"][0]
    assert (community["code"], community["completion"]) == ("120101002001", 0.5)
    lines = to_csv(result).decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert "名单人数" in header and lines[1].split(",")[header.index("完成率")] == "0.75"


def test_progress_over_the_day(known, make_user):
    """The round runs 08:00-12:00: every hour of it is in the series; the rankings look at its last
    two hours (10:00 and 11:00); the slowest include sites that never sampled."""
    result = overview(make_user("admin"), known["round"].id)
    assert [(p["hour"], p["samples"], p["people"]) for p in result["hourly"]] == HOURLY
    assert [(s["code"], s["recent"]) for s in result["busiest_sites"]] == [("S-HD-001", 2)]
    assert [(s["code"], s["recent"], s["samples"]) for s in result["slowest_sites"]] == [
        ("S-HD-002", 0, 0), ("S-HP-003", 0, 0), ("S-HX-001", 0, 0), ("S-HP-002", 0, 2), ("S-HP-001", 0, 7)]
    assert [(s["samples"], s["hours"], s["peak"], s["per_hour"]) for s in result["samplers"]] == [
        (9, 2, 5, 4.5), (2, 1, 2, 2.0)]
    district = overview(make_user("coordinator", region="120102"), known["round"].id)
    assert [p["samples"] for p in district["hourly"]] == [0, 0, 2, 0]
    assert [s["code"] for s in district["slowest_sites"]] == ["S-HD-002", "S-HD-001"]


def test_stalls_show_as_empty_hours_up_to_now(known, make_user):
    """An open round without an end: the series runs to the current hour, hours without samples
    are zeros (a stall is a gap, not two bars side by side), "recent" is the current hour and the
    one before; a round forgotten open shows its latest week; a round not begun shows nothing."""
    from sqlalchemy import text

    from sampling.extensions import db
    from tests.stats_data import at
    rnd, admin = known["round"], make_user("admin")
    db.session.execute(text("UPDATE rounds SET ends_at = NULL WHERE id = :id"), {"id": rnd.id})
    db.session.execute(text(
        "INSERT INTO samples (tube_id, resident_id, round_id, site_id, supplementary, sampled_at, resample) "
        "SELECT id, :r, round_id, site_id, :f, :ts, :f FROM tubes WHERE id = :t"),
        {"t": known["tubes"]["T3"], "r": known["residents"][9], "f": False,
         "ts": at(14, 5).strftime("%Y-%m-%d %H:%M:%S")})
    db.session.commit()
    result = overview(admin, rnd.id, now=at(14, 20))
    assert [(p["hour"].hour, p["samples"]) for p in result["hourly"]] == [
        (8, 5), (9, 4), (10, 2), (11, 0), (12, 0), (13, 0), (14, 1)]
    assert [(s["code"], s["recent"]) for s in result["busiest_sites"]] == [("S-HP-002", 1)]
    assert [s["code"] for s in result["slowest_sites"]] == ["S-HD-002", "S-HP-003", "S-HX-001", "S-HD-001",
                                                            "S-HP-001"]
    later = overview(admin, rnd.id, now=at(16, 59))  # two hours of nothing: everybody is slow
    assert [p["samples"] for p in later["hourly"][-3:]] == [1, 0, 0] and later["busiest_sites"] == []
    forgotten = overview(admin, rnd.id, now=at(8) + timedelta(days=30))
    assert len(forgotten["hourly"]) == 168 and forgotten["hourly"][-1]["hour"] == at(8) + timedelta(days=30)
    assert not any(p["samples"] for p in forgotten["hourly"])
    assert overview(admin, rnd.id, now=at(14, 20))["hourly"][0]["hour"] == at(8)
    db.session.execute(text("UPDATE rounds SET starts_at = :t WHERE id = :id").bindparams(
        bindparam("t", type_=UTCDateTime())), {"id": rnd.id, "t": at(7, 30)})
    db.session.commit()
    assert overview(admin, rnd.id, now=at(9, 10))["hourly"][0] == {"hour": at(7), "samples": 0, "people": 0,
                                                                   "supplementary": 0}
    fresh = Round(name="明天", pool_size=10, starts_at=at(8) + timedelta(days=1))
    db.session.add(fresh)
    db.session.commit()
    assert overview(admin, fresh.id, now=at(14))["hourly"] == []
    assert [s["code"] for s in overview(admin, fresh.id, now=at(14))["slowest_sites"]][:2] == ["S-HD-001",
                                                                                           "S-HD-002"]


def test_coordinators_see_only_their_region(known, make_user):
    rid = known["round"].id
    district = make_user("coordinator", region="120101")
    assert [r["code"] for r in area_stats(district, rid, "district")["rows"]] == ["120101"]
    assert [r["code"] for r in area_stats(district, rid, "street")["rows"]] == ["120101001", "120101002"]
    assert area_stats(district, rid, "street")["totals"]["sampled"] == 8
    with pytest.raises(Forbidden):
        area_stats(district, rid, "street", "120102")
    street = make_user("coordinator", region="120101002")
    with pytest.raises(Forbidden):
        area_stats(street, rid, "district")
    with pytest.raises(Forbidden):
        area_stats(street, rid, "community", "120101")
    assert [r["code"] for r in area_stats(street, rid, "site")["rows"]] == ["S-HP-003"]
    with pytest.raises(Forbidden):
        area_stats(make_user("sampler", sites=("S-HP-001",)), rid, "district")
    with pytest.raises(BadRequest):
        area_stats(district, rid, "street", "120101001")  # parent not above the level
    with pytest.raises(BadRequest):
        area_stats(district, rid, "county")
    with pytest.raises(NotFound):
        area_stats(district, rid + 100, "street")


def test_parent_without_a_level_shows_the_level_below(client, known, make_user, token_for):
    from tests.conftest import login
    rid = known["round"].id
    headers = token_for(make_user("admin", username="boss"))
    for parent, level, codes in (("120101001", "community", ["120101001001", "120101001002"]),
                                 ("120101001001", "site", ["S-HP-001"]), ("120101", "street", None)):
        body = client.get(f"/api/v1/stats?round_id={rid}&parent={parent}", headers=headers).get_json()
        assert body["level"] == level and (codes is None or [r["code"] for r in body["rows"]] == codes), parent
    assert client.get(f"/api/v1/stats?round_id={rid}", headers=headers).get_json()["level"] == "district"
    assert client.get(f"/api/v1/stats?round_id={rid}&parent=999", headers=headers).status_code == 404
    login(client, "boss")
    page = client.get(f"/stats?round_id={rid}&parent=120101001")
    assert page.status_code == 200 and 'data-code="120101001002"' in page.get_data(as_text=True)
    panel = client.get(f"/stats/panel?round_id={rid}&parent=120101001001&level=town").get_data(as_text=True)
    assert 'data-code="S-HP-001"' in panel


def test_api_json_csv_xlsx_and_403(client, known, make_user, token_for):
    rid = known["round"].id
    headers = token_for(make_user("coordinator", region="120101"))
    body = client.get(f"/api/v1/stats?round_id={rid}&level=street", headers=headers).get_json()
    assert [(r["code"], r["sampled"]) for r in body["rows"]] == [("120101001", 8), ("120101002", 0)]
    response = client.get(f"/api/v1/stats?round_id={rid}&level=street&format=csv", headers=headers)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "stats-round" in response.headers["Content-Disposition"]
    rows = list(read_rows(io.BytesIO(response.data), "stats.csv"))
    assert rows[0][:4] == ["编码", "地区", "登记居民", "已采样人数"]
    # the roster collision is plugged in, but no community roster has been collided yet
    assert rows[1][rows[0].index("完成率")] == "" and rows[1][rows[0].index("名单人数")] == ""
    assert rows[1][:6] == ["120101001", "劝业场街道", "8", "8", "1", "9"]
    assert rows[3][1:4] == ["合计", "10", "8"]
    response = client.get(f"/api/v1/stats?round_id={rid}&level=street&format=xlsx", headers=headers)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["街道", "社区", "采样点"]
    sheet = book["街道"]
    assert sheet.freeze_panes == "C2"
    assert [c.value for c in sheet[2]][:6] == ["120101001", "劝业场街道", 8, 8, 1, 9]
    assert isinstance(sheet["C2"].value, int) and round(sheet.column_dimensions["B"].width) == 25
    assert [c.value for c in book["采样点"]["A"]][1:4] == ["S-HP-001", "S-HP-002", "S-HP-003"]
    denied = client.get(f"/api/v1/stats?round_id={rid}&level=street&parent=120102", headers=headers)
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden_region"
    assert client.get(f"/api/v1/stats?round_id={rid}&level=street&parent=120102&format=xlsx",
                      headers=headers).status_code == 403
    for query, status in (("round_id=x", 400), (f"round_id={rid}&format=pdf", 400),
                          (f"round_id={rid}&level=town", 400), (f"round_id={rid + 50}", 404)):
        assert client.get(f"/api/v1/stats?{query}", headers=headers).status_code == status, query
    assert client.get(f"/api/v1/stats?round_id={rid}").status_code == 401
    progress = client.get(f"/api/v1/stats/overview?round_id={rid}", headers=headers).get_json()
    assert [p["samples"] for p in progress["hourly"]] == [5, 4, 0, 0]


@pytest.mark.parametrize(("value", "status", "code"), [
    ("99999999999999999999", 404, "unknown_round"), ("2147483648", 404, "unknown_round"),
    ("2147483647", 404, "unknown_round"), ("0", 404, "unknown_round"), ("%C2%B2", 400, "bad_round"),
    ("%EF%BC%91", 400, "bad_round"), ("-1", 400, "bad_round"), ("1.0", 400, "bad_round")])
def test_odd_round_ids_are_refused_clearly(client, known, make_user, token_for, value, status, code):
    """A round id no round can have is 404 and one that is not a number 400 (never 500 or 422),
    on the API and on the dashboard and its panel; "²" and a full-width "１" are not numbers."""
    from tests.conftest import login
    headers = token_for(make_user("coordinator", username="hp", region="120101"))
    for path in ("/api/v1/stats", "/api/v1/stats/overview"):
        response = client.get(f"{path}?round_id={value}", headers={**headers, "Accept-Language": "en"})
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code), path
    message = response.get_json()["error"]["message"]
    assert message == ("Unknown round." if status == 404 else "round_id must be a round number.")
    login(client, "hp")
    for path in ("/stats", "/stats/panel"):
        assert client.get(f"{path}?round_id={value}").status_code == status, path


def test_dashboard_pages(client, known, make_user):
    from tests.conftest import login
    make_user("coordinator", username="hd_coordinator", region="120102")
    make_user("sampler", username="sampler_x", sites=("S-HP-001",))
    login(client, "hd_coordinator")
    page = client.get("/stats").get_data(as_text=True)
    assert "大王庄街道" in page and "劝业场街道" not in page  # its streets only
    assert 'data-refresh-url="/stats/panel?' in page and "<svg" in page
    panel = client.get(f"/stats/panel?round_id={known['round'].id}&level=site&parent=120102")
    assert panel.status_code == 200 and "六纬路社区采样点" in panel.get_data(as_text=True)
    assert "<html" not in panel.get_data(as_text=True)
    assert client.get("/stats?level=street&parent=120101").status_code == 403
    client.post("/logout", data={})
    client.delete_cookie("session")
    # signed out: the refresh gets 401 and a one-line fragment, never the login page
    panel = client.get(f"/stats/panel?round_id={known['round'].id}&level=site&parent=120102",
                       headers={"Accept-Language": "en"})
    body = panel.get_data(as_text=True)
    assert panel.status_code == 401 and "<form" not in body and "You have been signed out" in body
    assert f'href="/login?next=/stats?round_id%3D{known["round"].id}%26level%3Dsite%26parent%3D120102"' in body
    navigated = client.get("/stats/panel", headers={"Sec-Fetch-Mode": "navigate"})
    assert navigated.status_code == 302 and "/login" in navigated.headers["Location"]
    assert client.get("/stats").status_code == 302
    login(client, "sampler_x")
    assert client.get("/stats").status_code == 403
    assert client.get("/stats/panel").status_code == 403
