"""The lab's figures in the statistics: pools (tubes of more than one) and 1-in-1 individuals at
every level, the follow-up of positive pools and of invalid tubes, turnaround (mean from the
counters; median and 90th percentile on the dashboard)."""
import pytest
from sqlalchemy import bindparam

from sampling.models.base import UTCDateTime
from sampling.stats import providers
from sampling.stats.aggregates import area_stats
from tests.stats_data import LAB_FOLLOWUP, LAB_SITES, post_results


@pytest.fixture
def known(stats_round):
    return stats_round


LAB_KEYS = ("tubes_received", "tubes_resulted", "positive_pools", "positive_members", "positive_individuals",
            "invalid_pools", "invalid_members", "invalid_individuals", "negative_pools", "turnaround_minutes")
FOLLOWUP_KEYS = ("followup_positive_total", "followup_positive_closed", "followup_invalid_total",
                 "followup_invalid_closed", "followup_total", "followup_closed")


def test_pool_follow_up_plugs_in(known, make_user):
    providers.set_followup_provider(lambda round_id: {"S-HP-002": (2, 1, 0, 0), "S-HP-003": (0, 0, 3, 2),
                                                        "S-HP-001": (4, 0, 1, 1)})
    rows = area_stats(make_user("admin"), known["round"].id, "street", "120101")["rows"]
    assert [tuple(r[k] for k in FOLLOWUP_KEYS) for r in rows] == [(6, 1, 1, 1, 7, 2), (0, 0, 3, 2, 3, 2)]
    district = area_stats(make_user("admin"), known["round"].id, "district")["rows"]
    assert [r["followup_total"] for r in district] == [10, 0, 0]


def test_pools_individuals_follow_up_and_turnaround_from_lab_results(known, make_user):
    """The lab's results at every level: pools are tubes of more than one, 1-in-1 retests are
    individual results; follow-up of positive pools and of invalid tubes apart (real provider)."""
    post_results(known)
    admin, rid = make_user("admin"), known["round"].id

    def lab(row):
        return tuple(row[k] for k in LAB_KEYS), tuple(row[k] for k in FOLLOWUP_KEYS)

    districts = area_stats(admin, rid, "district")
    assert [(r["code"],) + lab(r) for r in districts["rows"]] == [
        ("120101", (1, 4, 1, 2, 1, 1, 2, 1, 0, 165.0), (2, 1, 3, 0, 5, 1)),
        ("120102", (0, 1, 0, 0, 0, 0, 0, 0, 1, 240.0), (0, 0, 0, 0, 0, 0)),
        ("120103", (0, 0, 0, 0, 0, 0, 0, 0, 0, None), (0, 0, 0, 0, 0, 0)),
    ]
    assert lab(districts["totals"]) == ((1, 5, 1, 2, 1, 1, 2, 1, 1, 180.0), (2, 1, 3, 0, 5, 1))
    streets = area_stats(admin, rid, "street", "120101")["rows"]
    assert [(r["code"],) + lab(r) for r in streets] == [
        ("120101001", (1, 3, 1, 2, 1, 0, 0, 1, 0, 140.0), (2, 1, 1, 0, 3, 1)),
        ("120101002", (0, 1, 0, 0, 0, 1, 2, 0, 0, 240.0), (0, 0, 2, 0, 2, 0)),
    ]
    communities = area_stats(admin, rid, "community", "120101001")["rows"]
    assert [(r["code"],) + lab(r) for r in communities] == [
        ("120101001001", (1, 0, 0, 0, 0, 0, 0, 0, 0, None), (0, 0, 0, 0, 0, 0)),
        ("120101001002", (0, 3, 1, 2, 1, 0, 0, 1, 0, 140.0), (2, 1, 1, 0, 3, 1)),
    ]
    sites = {r["code"]: r for r in area_stats(admin, rid, "site")["rows"]}
    for code, expected in LAB_SITES.items():
        assert {k: sites[code][k] for k in expected} == expected, code
        assert tuple(sites[code][k] for k in FOLLOWUP_KEYS[:4]) == LAB_FOLLOWUP.get(code, (0, 0, 0, 0)), code
    assert (districts["totals"]["sampled"], districts["totals"]["samples"]) == (12, 15)


def test_no_pool_or_follow_up_figures_before_the_lab(known, make_user):
    providers.set_followup_provider(None)
    totals = area_stats(make_user("admin"), known["round"].id, "district")["totals"]
    assert [totals[k] for k in FOLLOWUP_KEYS] == [None] * 6
    assert [totals[k] for k in LAB_KEYS] == [0, 1, 0, 0, 0, 0, 0, 0, 0, None]


def test_median_and_90th_percentile_turnaround_on_the_panel(client, app, known, make_user):
    """Sealing → result per tube after the lab: T3 180, T4 240, T5 240, R6 120, R7 120 minutes; the
    dashboard shows the median and the 90th percentile of its area, computed at most every
    STATS_TURNAROUND_SECONDS, next to the mean the counters keep."""
    from sqlalchemy import text

    from sampling.extensions import db
    from sampling.stats.sealing_to_result import sealing_to_result
    from tests.conftest import login
    from tests.stats_data import at
    post_results(known)
    rid = known["round"].id
    city = sealing_to_result(rid, None)
    assert (city["tubes"], city["median_minutes"], city["p90_minutes"]) == (5, 180.0, 240.0)
    db.session.execute(text("UPDATE tubes SET resulted_at = :t WHERE id = :id").bindparams(
        bindparam("t", type_=UTCDateTime())), {"id": known["tubes"]["R6"], "t": at(19)})
    db.session.commit()
    assert sealing_to_result(rid, None) == city  # reused while fresh
    app.config["STATS_TURNAROUND_SECONDS"] = 0
    assert sealing_to_result(rid, None)["median_minutes"] == 240.0

    make_user("coordinator", username="hp_coordinator", region="120101")
    login(client, "hp_coordinator")
    panel = client.get(f"/stats/panel?round_id={rid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # 和平区: T3 180, T5 240, R6 240 (corrected), R7 120 → median 210, p90 240, mean 195
    assert 'data-key="turnaround_median">210.0 min<' in panel
    detail = panel.split('data-key="turnaround_detail">')[1].split("</span>")[0]
    assert detail.startswith("median; 9 in 10 within 240.0 min · mean 195.0 min · 4 tubes, as of ")
