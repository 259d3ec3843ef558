"""Retention without a scheduler: expired rosters are purged at most once per
ROSTER_PURGE_MINUTES, by the first roster, collision or dashboard request any app server handles
once a purge is due (the last purge time lives in the database, shared by the servers)."""
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sampling.extensions import db
from sampling.models import Roster, TaskRun
from sampling.rosters import retention, uploads
from tests.collision_data import HEADER_ZH, csv_bytes, id_number


@pytest.fixture
def clock(monkeypatch):
    """The retention module's clock, moved forward by hand."""
    state = {"now": datetime.now(UTC)}
    monkeypatch.setattr(retention, "utcnow", lambda: state["now"])
    return state


def _roster(user, name):
    data = csv_bytes([HEADER_ZH, ["张三", "", id_number(1), "", "", "", "", "", ""]])
    return uploads.upload_roster(user, io.BytesIO(data), f"{name}.csv", name, None)[0]


def _age(roster_id, days):
    db.session.get(Roster, roster_id).created_at = datetime.now(UTC) - timedelta(days=days)
    db.session.commit()


def _names():
    db.session.rollback()  # see what the servers committed
    return sorted(db.session.scalars(select(Roster.name)))


def test_an_expired_roster_is_gone_after_the_next_request_once_the_interval_passed(
        demo_city, make_user, make_app, client, token_for, clock):
    user = make_user("coordinator", region="120101")
    headers = token_for(user)
    keep, old = _roster(user, "keep"), _roster(user, "old")
    assert client.get(f"/api/v1/rosters/{keep.id}", headers=headers).status_code == 200  # first purge: nothing due
    first = db.session.scalar(select(TaskRun.last_run_at).where(TaskRun.name == "purge_rosters"))
    assert first == clock["now"]
    _age(old.id, 31)
    clock["now"] += timedelta(minutes=9)
    assert client.get("/stats").status_code == 302  # the dashboard (to the login page): not due yet
    other_server = make_app().test_client()  # a second app server, its own memory
    assert other_server.get(f"/api/v1/rosters/{keep.id}", headers=headers).status_code == 200
    assert _names() == ["keep", "old"]  # expired (already 404 for users) but not purged yet
    assert client.get(f"/api/v1/rosters/{old.id}", headers=headers).status_code == 404
    clock["now"] += timedelta(minutes=2)
    assert other_server.get("/stats").status_code == 302  # the interval passed: this request purges
    assert _names() == ["keep"]
    assert db.session.scalar(select(TaskRun.last_run_at)) == clock["now"]
    _age(keep.id, 31)
    clock["now"] += timedelta(minutes=1)
    assert client.get("/stats").status_code == 302  # the other server purged a minute ago: not again
    assert _names() == ["keep"]


def test_requests_elsewhere_do_not_purge(demo_city, make_user, client, token_for, clock):
    user = make_user("coordinator", region="120101")
    old = _roster(user, "old")
    _age(old.id, 31)
    assert client.get("/api/v1/rounds", headers=token_for(user)).status_code == 200
    assert client.get("/").status_code == 200
    assert _names() == ["old"] and db.session.scalar(select(TaskRun.name)) is None
    assert client.get("/rosters").status_code == 302  # a roster page: due (never ran), purges
    assert _names() == []
