"""Collisions against the system's own register (本系统登记居民): exact counts on a known case,
"tested" anywhere in the city, the lists in door-knocking order, the live view, scope, retention."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sampling.errors import Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.models import Collision, CollisionRow
from sampling.rosters import collisions, lists, register, retention
from tests.collision_data import id_number, register_case, sample


@pytest.fixture
def city(demo_city, make_user):
    return register_case(make_user)


def test_register_collision_has_exact_counts(city):
    collision = register.run_register_collision(city["user"], "120101001", city["round"].id)
    counts = collisions.collision_to_dict(collision)
    assert counts["source"] == "register" and counts["region_code"] == "120101001" and counts["roster_id"] is None
    assert {k: counts[k] for k in ("roster_total", "tested", "untested", "not_on_roster", "name_mismatch",
                                   "invalid")} == {"roster_total": 5, "tested": 2, "untested": 3,
                                                   "not_on_roster": 2, "name_mismatch": 0, "invalid": 0}
    untested = list(lists.rows(collision, "untested"))
    # door-knocking order: community, then building / unit / room read from the address, unrecognised last
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in untested] == [
        ("新华里社区", "12", "1", "502", "王五"), ("滨西社区", "2", "3", "201", "钱七"),
        ("滨西社区", "（未识别）", "（未识别）", "（未识别）", "赵六")]
    assert untested[0][6] == "120101********" + id_number(3)[-4:]
    assert untested[0][7] == "13800000003"  # door knocking: phone in full
    tested = list(lists.rows(collision, "tested"))
    assert [r[5] for r in tested] == ["李四", "张三"] and tested[0][7] == "138****0002"
    assert sorted(r[0] for r in lists.rows(collision, "not_on_roster")) == ["周九", "孙八"]
    assert list(lists.rows(collision, "name_mismatch", city["user"])) == [] == list(lists.rows(collision, "invalid"))
    assert lists.header("untested", collision)[0] == "社区"


def test_a_time_window_and_a_community(city):
    collision = register.run_register_collision(city["user"], "120101001001", city["round"].id,
                                                sampled_from="2022-01-10T00:00", sampled_to="2022-01-10T12:00")
    # only 张三 was sampled in that window; 李四 (sampled now, in 河东区) is untested in it
    assert (collision.roster_total, collision.tested, collision.untested) == (3, 1, 2)
    assert [r[5] for r in lists.rows(collision, "untested")] == ["李四", "王五"]


def test_summary_by_community_and_building(city):
    collision = register.run_register_collision(city["user"], "120101001", city["round"].id)
    assert lists.summary(collision) == [
        {"community": "新华里社区", "total": 3, "tested": 2, "untested": 1},
        {"community": "滨西社区", "total": 2, "tested": 0, "untested": 2}]
    by_building = {(r["community"], r["building"]): (r["total"], r["untested"])
                   for r in lists.summary(collision, by_building=True)}
    assert by_building == {("新华里社区", "3"): (2, 0), ("新华里社区", "12"): (1, 1), ("滨西社区", "2"): (1, 1),
                           ("滨西社区", ""): (1, 1)}
    groups, truncated = lists.print_groups(collision, "滨西社区", "", 100)
    assert not truncated and [[row[6] for row in g["rows"]] for g in groups] == [["赵六"]]
    assert lists.untested_count(collision, "新华里社区", "12") == 1


def test_scope_and_bad_input(city):
    with pytest.raises(Forbidden):
        register.run_register_collision(city["stranger"], "120101001", city["round"].id)
    collision = register.run_register_collision(city["user"], "120101001", city["round"].id)
    with pytest.raises(Forbidden):
        collisions.get_collision(city["stranger"], collision.id)
    with pytest.raises(NotFound):
        register.run_register_collision(city["user"], "999999", city["round"].id)
    with pytest.raises(ValidationFailed) as missing:
        register.run_register_collision(city["user"], "", city["round"].id)
    assert set(missing.value.fields) == {"region_code"}
    with pytest.raises(ValidationFailed):
        register.run_register_collision(city["user"], "120101001", "1")


def test_live_view_counts_and_lists_without_storing(city):
    counts = register.unsampled_by_community(city["round"].id, ["120101001001", "120101001002", "120103001001"])
    assert counts == {"120101001001": 1, "120101001002": 2, "120103001001": 0}
    live = register.live_untested(city["user"], "120101001002", city["round"].id)
    assert live["count"] == 2 and [[row[6] for row in g["rows"]] for g in live["groups"]] == [["钱七"], ["赵六"]]
    assert db.session.scalar(select(Collision.id)) is None  # nothing stored
    sample(city["people"]["赵六"], city["round"], "S-HP-002")
    db.session.commit()
    assert register.unsampled_by_community(city["round"].id, ["120101001002"]) == {"120101001002": 1}
    with pytest.raises(Forbidden):
        register.live_untested(city["stranger"], "120101001002", city["round"].id)
    with pytest.raises(ValidationFailed):
        register.live_untested(city["user"], "120101001", city["round"].id)  # a street, not a community


def test_run_again_and_retention(city):
    first = register.run_register_collision(city["user"], "120101001", city["round"].id)
    sample(city["people"]["王五"], city["round"], "S-HP-001")
    db.session.commit()
    second = register.run_again(city["user"], first)
    assert (first.untested, second.untested, second.source) == (3, 2, "register")
    assert len(list(lists.rows(first, "untested"))) == 3  # the first snapshot is kept
    retention.purge_expired_rosters(datetime.now(UTC) + timedelta(days=365))
    assert db.session.scalar(select(Collision.id)) is None
    assert db.session.scalar(select(CollisionRow.collision_id)) is None


def test_register_collision_through_the_api(client, city, token_for):
    headers = token_for(city["user"])
    response = client.post("/api/v1/collisions", json={"source": "register", "region_code": "120101001",
                                                        "round_id": city["round"].id}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["source"], body["roster_total"], body["untested"], body["not_on_roster"]) == ("register", 5, 3, 2)
    detail = client.get(f"/api/v1/collisions/{body['collision_id']}", headers=headers).get_json()
    assert [r["community"] for r in detail["by_community"]] == ["新华里社区", "滨西社区"]
    download = client.get(f"/api/v1/collisions/{body['collision_id']}/untested.csv", headers=headers)
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["社区", "楼栋", "单元", "门牌"] and [r[5] for r in rows[1:]] == ["王五", "钱七", "赵六"]
    stranger = token_for(city["stranger"])
    assert client.get(f"/api/v1/collisions/{body['collision_id']}", headers=stranger).status_code == 403
    assert client.post("/api/v1/collisions", json={"source": "register", "region_code": "120101001",
                                                   "round_id": city["round"].id}, headers=stranger).status_code == 403
    assert client.post("/api/v1/collisions", json={"source": "elsewhere", "round_id": city["round"].id},
                       headers=headers).status_code == 422


def test_the_live_list_is_on_record(city):
    from sampling.models import AuditEvent
    register.live_untested(city["user"], "120101001002", city["round"].id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "register.untested"))
    assert (event.username, event.region_code, event.people) == (city["user"].username, "120101001002", 2)
