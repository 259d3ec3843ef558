"""Collisions of a roster against a round: exact counts on a known case, the lists, exports."""
import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from sampling.errors import NotFound, ValidationFailed
from sampling.extensions import db
from sampling.rosters import collisions, lists, uploads
from tests.collision_data import HEADER_ZH, csv_bytes, id_number, known_case, resident, sample


@pytest.fixture
def case(demo_city, make_user):
    data = known_case()
    data["user"] = make_user("coordinator", region="120101")
    data["roster"], data["errors"] = uploads.upload_roster(
        data["user"], io.BytesIO(csv_bytes(data["rows"], "gb18030")), "名单.csv", "新华里名单", None)
    return data


def test_known_case_has_exact_counts_in_every_category(case):
    collision = collisions.run_collision(case["user"], case["roster"].id, case["round"].id)
    counts = collisions.collision_to_dict(collision)
    assert {k: counts[k] for k in ("roster_total", "tested", "untested", "not_on_roster", "name_mismatch",
                                   "invalid")} == {"roster_total": 8, "tested": 3, "untested": 2,
                                                   "not_on_roster": 1, "name_mismatch": 1, "invalid": 3}
    untested = list(lists.rows(collision, "untested"))
    assert [(r[0], r[1], r[2], r[6]) for r in untested] == [(3, "新华里社区", "1号楼", "李四"),
                                                            (5, "滨西社区", "10号楼", "赵六")]
    assert untested[0][7] == "120101********" + case["ids"]["B"][-4:]
    assert untested[0][8] == "13800000002"  # grid workers call ahead: phone in full
    assert [r[0] for r in lists.rows(collision, "tested")] == [2, 4, 6]
    assert [r[0] for r in lists.rows(collision, "not_on_roster")] == ["孙八"]
    assert [r[:3] for r in lists.rows(collision, "name_mismatch", case["user"])] == [(4, "王五", "王六")]
    assert [(r[0], r[1]) for r in lists.rows(collision, "invalid")] == [
        (7, "证件号码"), (8, "证件号码"), (9, "姓名")]  # the column as the user knows it


def test_time_window_limits_the_samples(case):
    collision = collisions.run_collision(case["user"], case["roster"].id, case["round"].id,
                                         sampled_from="2022-01-10T00:00", sampled_to="2022-01-10T12:00")
    # only 钱七 was sampled 2022-01-10 10:00 China time (02:00 UTC)
    assert (collision.tested, collision.untested, collision.not_on_roster) == (1, 4, 0)
    assert collision.sampled_from == datetime(2022, 1, 9, 16, 0, tzinfo=UTC)


def test_rerun_an_hour_later_sees_new_samples_and_keeps_the_old_snapshot(case):
    from sqlalchemy import select

    from sampling.models import Resident
    first = collisions.run_collision(case["user"], case["roster"].id, case["round"].id)
    li = db.session.scalar(select(Resident).where(Resident.id_number == case["ids"]["B"]))
    sample(li, case["round"])
    db.session.commit()
    second = collisions.run_collision(case["user"], case["roster"].id, case["round"].id)
    assert (first.untested, second.untested, second.tested) == (2, 1, 4)
    assert len(list(lists.rows(first, "untested"))) == 2


def test_summaries_by_community_and_building(case):
    collision = collisions.run_collision(case["user"], case["roster"].id, case["round"].id)
    assert collisions.summary(collision) == [
        {"community": "新华里社区", "total": 3, "tested": 2, "untested": 1},
        {"community": "滨西社区", "total": 2, "tested": 1, "untested": 1},
    ]
    by_building = {(r["community"], r["building"]): r["untested"] for r in collisions.summary(collision, True)}
    assert by_building == {("新华里社区", "1号楼"): 1, ("新华里社区", "2号楼"): 0, ("滨西社区", "3号楼"): 0,
                           ("滨西社区", "10号楼"): 1}
    buildings = [r["building"] for r in collisions.summary(collision, True) if r["community"] == "滨西社区"]
    assert buildings == ["3号楼", "10号楼"]  # natural order: 3 before 10


def test_exports_neutralise_formula_cells(demo_city, make_user, client, token_for):
    user = make_user("coordinator", region="120101")
    rnd = known_case()["round"]
    rows = [HEADER_ZH]
    payloads = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"]
    for i, payload in enumerate(payloads, start=20):
        rows.append([f"住户{i}", "", id_number(i), "", payload, payload, "1单元", "101", payload])
    rows.append(["=坏\x07名字", "", id_number(40), "", "", "", "", "", ""])  # invalid name, control character
    roster, _ = uploads.upload_roster(user, io.BytesIO(csv_bytes(rows)), "r.csv", "r", None)
    collision = collisions.run_collision(user, roster.id, rnd.id)
    headers = token_for(user)
    body = client.get(f"/api/v1/collisions/{collision.id}/untested.csv", headers=headers)
    assert body.status_code == 200 and body.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
    assert table[0][:3] == ["行号", "社区", "楼栋"]
    communities = sorted(r[1] for r in table[1:])
    assert communities == sorted("'" + p for p in payloads)
    book = client.get(f"/api/v1/collisions/{collision.id}/untested.xlsx", headers=headers)
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.data)).active
    cells = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert sorted(cells) == sorted("'" + p for p in payloads)
    assert all(row[1].data_type == "s" for row in sheet.iter_rows(min_row=2))
    bad = client.get(f"/api/v1/collisions/{collision.id}/invalid.xlsx", headers=headers)
    assert bad.status_code == 200
    assert [row[3].value for row in load_workbook(io.BytesIO(bad.data)).active.iter_rows(min_row=2)] == ["'=坏名字"]


def test_unknown_roster_or_round(case):
    with pytest.raises(NotFound) as info:
        collisions.run_collision(case["user"], 999999, case["round"].id)
    assert info.value.code == "unknown_roster"
    with pytest.raises(NotFound) as info:
        collisions.run_collision(case["user"], case["roster"].id, 999999)
    assert info.value.code == "unknown_round"
    with pytest.raises(ValidationFailed) as info:
        collisions.run_collision(case["user"], case["roster"].id, case["round"].id, "2022-01-10T12:00",
                                 "2022-01-10T08:00")
    assert "to" in info.value.fields


def test_concurrent_runs_keep_their_own_rows(case, server):
    """Runs of one roster in parallel (separate sessions) each get exactly their own lists."""
    import threading

    from sampling.models import User
    user_id, roster_id, round_id = case["user"].id, case["roster"].id, case["round"].id
    results, failures = [], []

    def run():
        try:
            with server.app_context():
                collision = collisions.run_collision(db.session.get(User, user_id), roster_id, round_id)
                untested = list(lists.rows(collision, "untested"))
                visitors = list(lists.rows(collision, "not_on_roster"))
                results.append((collision.id, collision.untested, len(untested), len(visitors)))
                db.session.remove()
        except Exception as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    assert sorted(r[1:] for r in results) == [(2, 2, 1)] * 4 and len({r[0] for r in results}) == 4


def test_latest_community_collision_feeds_the_statistics_completion(case, make_user):
    from sampling.stats.aggregates import area_stats
    community_roster, _ = uploads.upload_roster(
        case["user"], io.BytesIO(csv_bytes(case["rows"], "gb18030")), "名单.csv", "新华里社区名单", "120101001001")
    collisions.run_collision(case["user"], case["roster"].id, case["round"].id)  # district roster: not split
    collisions.run_collision(case["user"], community_roster.id, case["round"].id,
                             sampled_from="2022-01-10T00:00", sampled_to="2022-01-10T12:00")  # a window: ignored
    assert collisions.completion_by_community(case["round"].id) == {}
    collisions.run_collision(case["user"], community_roster.id, case["round"].id)
    assert collisions.completion_by_community(case["round"].id) == {"120101001001": (8, 3)}
    rows = area_stats(make_user("admin"), case["round"].id, "community", "120101001")["rows"]
    xinhua = next(r for r in rows if r["code"] == "120101001001")
    assert (xinhua["roster_total"], xinhua["roster_tested"], xinhua["completion"]) == (8, 3, 0.375)


def test_name_mismatch_masks_names_registered_outside_the_viewers_region(case, make_user, client, token_for):
    """A coordinator who types someone else's number under a made-up name learns that the row is
    wrong, not the stranger's name; residents of their own region are shown in full."""
    from sampling.models import Resident
    homeless = resident("钱多多", id_number(31))
    homeless.community_id = None  # registered without a community: not known to be in the region
    db.session.commit()
    rows = [HEADER_ZH, ["王五", "", case["ids"]["C"], "", "", "", "", "", ""],  # 王六 of 120101001001
            ["某某", "", case["ids"]["H"], "", "", "", "", "", ""],             # 周九 of 120102
            ["钱某", "", id_number(31), "", "", "", "", "", ""]]
    roster, _ = uploads.upload_roster(case["user"], io.BytesIO(csv_bytes(rows)), "r.csv", "r", None)
    collision = collisions.run_collision(case["user"], roster.id, case["round"].id)
    assert collision.name_mismatch == 3
    expected = [(2, "王五", "王六"), (3, "某某", "周*"), (4, "钱某", "钱*多")]
    assert [r[:3] for r in lists.rows(collision, "name_mismatch", case["user"])] == expected
    assert [r[2] for r in lists.rows(collision, "name_mismatch")] == ["王*", "周*", "钱*多"]  # no viewer
    admin = make_user("admin")
    assert [r[2] for r in lists.rows(collision, "name_mismatch", admin)] == ["王六", "周九", "钱多多"]
    for fmt in ("csv", "xlsx"):
        body = client.get(f"/api/v1/collisions/{collision.id}/name_mismatch.{fmt}", headers=token_for(case["user"]))
        assert body.status_code == 200
        text = body.data.decode("utf-8-sig") if fmt == "csv" else " ".join(
            str(c.value) for row in load_workbook(io.BytesIO(body.data)).active.iter_rows() for c in row)
        assert "王六" in text and "周*" in text and "周九" not in text and "钱多多" not in text
    assert db.session.get(Resident, homeless.id).name == "钱多多"


def test_not_on_roster_lists_only_people_sampled_at_sites_of_the_region(case):
    """The list comes from the region's own sites (by construction): a visitor registered elsewhere
    but sampled here is listed (the region's staff sampled them), a resident of the region
    sampled only elsewhere is not."""
    visitor = resident("吴十", id_number(30, "120102"), "120102001001")
    sample(visitor, case["round"], "S-HP-001")
    away = resident("郑十一", id_number(32))  # registered in 120101001001, sampled in 120102
    sample(away, case["round"], "S-HD-001")
    db.session.commit()
    collision = collisions.run_collision(case["user"], case["roster"].id, case["round"].id)
    listed = {r[0]: r for r in lists.rows(collision, "not_on_roster", case["user"])}
    assert sorted(listed) == ["吴十", "孙八"]
    assert listed["吴十"][1] == "120102********" + id_number(30, "120102")[-4:]
