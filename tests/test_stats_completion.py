"""Completion against real roster collisions of community, street and district rosters: each area
shows its own roster, or the sum of the areas just below it (sampling.stats.completion)."""
import io

import pytest

from sampling.rosters import collisions, uploads
from sampling.stats.aggregates import area_stats
from sampling.stats.downloads import to_csv
from tests.collision_data import HEADER_ZH, csv_bytes
from tests.stats_data import build_known_round

# the known round samples r1-r4, r6-r8, r11-r13; r5, r9 and r10 are not sampled


@pytest.fixture
def known(demo_city, make_user):
    data = build_known_round()
    data["admin"] = make_user("admin")
    return data


def collide(data, region_code: str, people, strangers: int = 0, **window):
    """Upload a roster of the residents ``people`` (and ``strangers`` nobody sampled) for a region
    and run a collision of it against the known round."""
    rows = [HEADER_ZH] + [[f"居民{n}", "其他", f"T{n:05d}", "", "", "", "", "", ""] for n in people]
    rows += [[f"外来{n}", "其他", f"X{region_code}{n}", "", "", "", "", "", ""] for n in range(strangers)]
    roster, errors = uploads.upload_roster(data["admin"], io.BytesIO(csv_bytes(rows, "gb18030")), "名单.csv",
                                           f"{region_code} 名单", region_code)
    assert errors == []
    return collisions.run_collision(data["admin"], roster.id, data["round"].id, **window)


def completion(result) -> list[tuple]:
    return [(r["code"], r["roster_total"], r["roster_tested"], r["completion"]) for r in result["rows"]]


def whole(result) -> tuple:
    t = result["totals"]
    return t["roster_total"], t["roster_tested"], t["completion"]


def test_street_and_district_rosters_count_for_their_area_and_above(known):
    admin, rid = known["admin"], known["round"].id
    collide(known, "120101001001", range(1, 6))          # a community: r1-r5, 4 tested
    collide(known, "120101001", range(1, 9))             # its street: r1-r8, 7 tested
    collide(known, "120101002", (9, 10))                 # another street: nobody tested
    collide(known, "120102", (11, 12), strangers=1)      # a district: 2 of 3
    collide(known, "120103", (1, 2), sampled_from="2026-11-20T00:00")  # a time window: not completion

    assert completion(area_stats(admin, rid, "district")) == [
        ("120101", 10, 7, 0.7), ("120102", 3, 2, 0.6667), ("120103", None, None, None)]
    assert whole(area_stats(admin, rid, "district")) == (13, 9, 0.6923)
    streets = area_stats(admin, rid, "street", "120101")
    assert completion(streets) == [("120101001", 8, 7, 0.875), ("120101002", 2, 0, 0.0)]
    assert whole(streets) == (10, 7, 0.7)
    communities = area_stats(admin, rid, "community", "120101001")
    # the street's roster is not split by community; the street's total is its own roster
    assert completion(communities) == [("120101001001", 5, 4, 0.8), ("120101001002", None, None, None)]
    assert whole(communities) == (8, 7, 0.875)
    hedong = area_stats(admin, rid, "street", "120102")
    assert completion(hedong) == [("120102001", None, None, None)] and whole(hedong) == (3, 2, 0.6667)
    assert whole(area_stats(admin, rid, "site", "120101001")) == (8, 7, 0.875)
    assert whole(area_stats(admin, rid, "street", "120103")) == (None, None, None)

    # a roster of the district itself now covers it; the latest collision of a roster counts
    collide(known, "120101", range(1, 11), strangers=2)  # r1-r10 and two more: 7 of 12
    assert completion(area_stats(admin, rid, "district"))[0] == ("120101", 12, 7, 0.5833)
    assert completion(area_stats(admin, rid, "street", "120101"))[0] == ("120101001", 8, 7, 0.875)
    assert whole(area_stats(admin, rid, "street", "120101")) == (12, 7, 0.5833)
    lines = to_csv(area_stats(admin, rid, "street", "120101")).decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert [lines[i].split(",")[header.index("完成率")] for i in (1, 2, 3)] == ["0.875", "0.0", "0.5833"]


def test_coordinators_see_their_own_roster_as_the_total(known, make_user):
    collide(known, "120101001", range(1, 9))
    street = make_user("coordinator", region="120101001")
    result = area_stats(street, known["round"].id, "community")
    assert whole(result) == (8, 7, 0.875)
    assert [r["completion"] for r in result["rows"]] == [None, None]
