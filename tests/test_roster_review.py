"""The review step: a roster uploaded for review is pending — its check report is the preview, it
cannot be compared, it is deleted after a day unless accepted — until accepted or discarded."""
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from sampling.errors import Conflict, Forbidden
from sampling.extensions import db
from sampling.models import Roster
from sampling.rosters import collisions, retention, uploads
from tests.collision_data import csv_bytes, known_case
from tests.conftest import csrf_from, login


@pytest.fixture
def case(demo_city, make_user):
    data = known_case()
    data["user"] = make_user("coordinator", region="120101", username="reviewer")
    data["file"] = csv_bytes(data["rows"], "gb18030")
    return data


def _upload(case, review=True):
    return uploads.upload_roster(case["user"], io.BytesIO(case["file"]), "r.csv", "名单", None, review=review)


def test_a_pending_roster_is_previewed_then_accepted(case, make_user):
    roster, errors = _upload(case)
    assert (roster.status, roster.rows_total, roster.rows_valid, len(errors)) == ("pending", 8, 5, 3)
    with pytest.raises(Conflict) as info:
        collisions.run_collision(case["user"], roster.id, case["round"].id)
    assert info.value.code == "roster_pending" and collisions.collisions_of(roster) == []
    with pytest.raises(Forbidden):
        uploads.accept_roster(make_user("coordinator", region="120102"), roster.id)
    assert uploads.accept_roster(case["user"], roster.id).status == "accepted"
    assert uploads.accept_roster(case["user"], roster.id).status == "accepted"  # again: nothing changes
    assert collisions.run_collision(case["user"], roster.id, case["round"].id).untested == 2
    assert _upload(case, review=False)[0].status == "accepted"


def test_a_pending_roster_is_purged_after_a_day_or_the_retention(case, app):
    pending, _ = _upload(case)
    accepted, _ = _upload(case, review=False)
    assert retention.expires_at(pending) - pending.created_at == timedelta(hours=24)
    assert retention.expires_at(accepted) - accepted.created_at == timedelta(days=30)
    for roster in (pending, accepted):
        roster.created_at = datetime.now(UTC) - timedelta(hours=25)
    db.session.commit()
    assert [r.id for r in uploads.list_rosters(case["user"])] == [accepted.id]
    assert db.session.scalars(select(Roster.id)).all() == [accepted.id]
    app.config["ROSTER_RETENTION_DAYS"] = 0  # a retention shorter than a day applies to pending ones too
    fresh, _ = _upload(case)
    assert retention.expires_at(fresh) == fresh.created_at


def test_review_through_the_api(case, client, token_for, make_user):
    headers = token_for(case["user"])

    def upload(**form):
        return client.post("/api/v1/rosters", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(case["file"]), "r.csv"), **form})

    immediate = upload()
    assert immediate.status_code == 201 and immediate.get_json()["status"] == "accepted"
    assert upload(review="maybe").get_json()["error"]["fields"] == {"review": "请填写 true 或 false。"}
    body = upload(review="true").get_json()
    assert (body["status"], body["rows_total"], body["rows_valid"], len(body["errors"])) == ("pending", 8, 5, 3)
    rid, round_id = body["roster_id"], case["round"].id
    assert client.get(f"/api/v1/rosters/{rid}", headers=headers).get_json()["status"] == "pending"
    refused = client.post("/api/v1/collisions", headers=headers, json={"roster_id": rid, "round_id": round_id})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "roster_pending"
    other = token_for(make_user("coordinator", region="120102"))
    assert client.post(f"/api/v1/rosters/{rid}/accept", headers=other).status_code == 403
    accepted = client.post(f"/api/v1/rosters/{rid}/accept", headers=headers)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert client.post("/api/v1/collisions", headers=headers,
                       json={"roster_id": rid, "round_id": round_id}).status_code == 201
    discarded = upload(review="1").get_json()["roster_id"]
    assert client.delete(f"/api/v1/rosters/{discarded}", headers=headers).status_code == 204
    assert client.post(f"/api/v1/rosters/{discarded}/accept", headers=headers).status_code == 404
    listed = client.get("/api/v1/rosters", headers=headers).get_json()["rosters"]
    assert [(r["id"], r["status"]) for r in listed] == [(rid, "accepted"), (immediate.get_json()["roster_id"],
                                                                            "accepted")]


def test_review_through_the_pages(case, client):
    pending, _ = _upload(case)
    login(client, "reviewer")
    assert "等待审核" in client.get("/rosters").get_data(as_text=True)
    page = client.get(f"/rosters/{pending.id}").get_data(as_text=True)
    assert 'id="accept"' in page and 'id="discard"' in page and 'id="collide"' not in page
    assert "<td>证件号码</td>" in page  # the report: every bad row
    accepted = client.post(f"/rosters/{pending.id}/accept", data={"csrf_token": csrf_from(page)})
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith(f"/rosters/{pending.id}")
    page = client.get(f"/rosters/{pending.id}").get_data(as_text=True)
    assert 'id="collide"' in page and 'id="accept"' not in page
    other, _ = _upload(case)
    discarded = client.post(f"/rosters/{other.id}/delete", data={"csrf_token": csrf_from(page)})
    assert discarded.status_code == 302
    assert "名单已放弃" in client.get("/rosters").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 1


def test_the_migration_marks_existing_rosters_accepted(tmp_path):
    from flask_migrate import downgrade, upgrade

    from sampling import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        upgrade(revision="0009")
        db.session.execute(text("INSERT INTO regions (id, code, name, level, path) "
                                "VALUES (1, '120101', '和平区', 'district', '/120101/')"))
        db.session.execute(text("INSERT INTO rosters (id, name, filename, region_id, rows_total, rows_valid, "
                                "created_at) VALUES (1, 'old', 'old.csv', 1, 0, 0, '2026-01-01 00:00:00')"))
        db.session.commit()
        upgrade(revision="0011")
        assert db.session.execute(text("SELECT status FROM rosters")).scalars().all() == ["accepted"]
        db.session.execute(text("INSERT INTO rosters (id, name, filename, region_id, rows_total, rows_valid, "
                                "status, created_at) VALUES (2, 'new', 'n.csv', 1, 0, 0, 'pending', "
                                "'2026-01-01 00:00:00')"))
        db.session.commit()
        downgrade(revision="0009")
        assert db.session.execute(text("SELECT id FROM rosters")).scalars().all() == [1]
        db.engine.dispose()
