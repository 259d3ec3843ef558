"""The audit trail: what record() stores, append-only in the database, the API's scope, filters,
pages and downloads."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from sampling import audit
from sampling.extensions import db
from sampling.kernel.regions import get_region
from sampling.kernel.users import create_user, deactivate_user
from sampling.models import AuditEvent


def _events(action=None):
    db.session.expire_all()
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return db.session.scalars(stmt).all()


@pytest.fixture
def staff(demo_city, make_user):
    return {"admin": make_user("admin"), "hp": make_user("coordinator", region="120101"),
            "hp_street": make_user("coordinator", region="120101001"),
            "hd": make_user("coordinator", region="120102"),
            "sampler": make_user("sampler", sites=("S-HP-001",)), "lab": make_user("lab")}


def _plant(staff):
    """One event in 新华里社区 (和平区), one in 六纬路社区 (河东区), one citywide."""
    audit.record("positives.view", user=staff["hp"], region=get_region("120101001001"), people=3)
    audit.record("positives.view", user=staff["hd"], region=get_region("120102001001"), people=5)
    audit.record("positives.export", user=staff["admin"], people=9, detail={"format": "csv"})
    db.session.commit()


def test_record_stores_who_what_where_and_how_many(app, staff):
    event = audit.record("collision.download", user=staff["hp"], object_type="collision", object_id=7, people=42,
                         detail={"list": "untested", "format": "xlsx", "note": "x" * 500})
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id)
    assert (stored.username, stored.user_id, stored.role) == (staff["hp"].username, staff["hp"].id, "coordinator")
    assert (stored.region_code, stored.region_path) == ("120101", "/120101/")  # the coordinator's own region
    assert (stored.object_type, stored.object_id, stored.people) == ("collision", "7", 42)
    assert stored.detail["list"] == "untested" and len(stored.detail["note"]) == 64
    assert stored.client is not None  # a command's host outside a request
    assert stored.at <= datetime.now(UTC) and stored.at > datetime.now(UTC) - timedelta(minutes=1)


def test_account_changes_are_recorded(app, demo_city):
    user = create_user("coord-x", "coordinator", "long-enough-1", "120102")
    create_user("coord-x", "coordinator", "long-enough-2", "120102", update=True)
    deactivate_user("coord-x")
    db.session.commit()
    events = [(e.action, e.object_id, e.region_code, e.role) for e in _events() if e.action.startswith("user.")]
    assert [(a, o, r) for a, o, r, _role in events if o == str(user.id)] == [
        ("user.create", str(user.id), "120102"), ("user.update", str(user.id), "120102"),
        ("user.deactivate", str(user.id), "120102")]
    assert {role for *_x, role in events} == {"system"}  # a command's operator, no staff account


def test_a_refused_change_leaves_no_record(app, demo_city):
    from sampling.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        create_user("bad name", "coordinator", "long-enough-1", "120102")
    db.session.rollback()
    assert [e for e in _events("user.create") if e.detail["username"] == "bad name"] == []


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET people = 0", "DELETE FROM audit_events",
                                       "DELETE FROM audit_events WHERE id = -1"])
def test_the_database_refuses_to_rewrite_the_trail(app, staff, statement, is_postgres):
    if statement.endswith("-1") and not is_postgres:
        pytest.skip("SQLite has row triggers only: a statement that matches no row changes nothing anyway")
    _plant(staff)
    before = [(e.id, e.people) for e in _events()]
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert [(e.id, e.people) for e in _events()] == before


def test_postgresql_refuses_truncate(app, staff, is_postgres):
    if not is_postgres:
        pytest.skip("TRUNCATE is PostgreSQL's")
    _plant(staff)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events"))
    db.session.rollback()
    assert len(_events()) >= 3


def test_the_orm_cannot_delete_an_event_either(app, staff):
    _plant(staff)
    event = _events("positives.export")[0]
    db.session.delete(event)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert _events("positives.export")


def _get(client, token_for, user, query=""):
    return client.get(f"/api/v1/audit{query}", headers=token_for(user))


def test_admin_reads_everything_coordinators_their_region_others_nothing(app, client, token_for, staff):
    _plant(staff)
    admin = _get(client, token_for, staff["admin"], "?action=positives.view").get_json()["events"]
    assert sorted(e["region_code"] for e in admin) == ["120101001001", "120102001001"]
    hp = _get(client, token_for, staff["hp"]).get_json()["events"]
    assert hp and all(e["region_code"].startswith("120101") for e in hp)
    assert [e["people"] for e in hp if e["action"] == "positives.view"] == [3]
    hd = _get(client, token_for, staff["hd"]).get_json()["events"]
    assert [e["people"] for e in hd if e["action"] == "positives.view"] == [5]
    assert hd and all(e["region_code"].startswith("120102") for e in hd)
    # a street coordinator does not see the district's other streets, nor the district level
    street = _get(client, token_for, staff["hp_street"]).get_json()["events"]
    assert all(e["region_code"].startswith("120101001") for e in street)
    for role in ("sampler", "lab"):
        response = _get(client, token_for, staff[role])
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden_role"
    assert client.get("/api/v1/audit").status_code == 401


def test_reading_the_trail_is_recorded(app, client, token_for, staff):
    _get(client, token_for, staff["hd"], "?action=positives.view")
    event = _events("audit.view")[-1]
    assert (event.username, event.region_code, event.detail["action"]) == (staff["hd"].username, "120102",
                                                                           "positives.view")
    assert event.client == "127.0.0.1"


def test_filters_and_pages(app, client, token_for, staff):
    _plant(staff)
    for n in range(5):
        audit.record("roster.view", user=staff["hp"], object_type="roster", object_id=n, people=n)
    db.session.commit()
    headers = token_for(staff["admin"])
    by_user = client.get(f"/api/v1/audit?user={staff['hd'].username}", headers=headers).get_json()["events"]
    assert {e["username"] for e in by_user} == {staff["hd"].username}
    first = client.get("/api/v1/audit?action=roster.view&limit=2", headers=headers).get_json()
    assert [e["object_id"] for e in first["events"]] == ["4", "3"]
    second = client.get(f"/api/v1/audit?action=roster.view&limit=2&before={first['next_before']}",
                        headers=headers).get_json()
    third = client.get(f"/api/v1/audit?action=roster.view&limit=2&before={second['next_before']}",
                       headers=headers).get_json()
    assert [e["object_id"] for e in second["events"] + third["events"]] == ["2", "1", "0"]
    assert third["next_before"] is None
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    window = f"&from={today}&to={today}"
    assert len(client.get(f"/api/v1/audit?action=roster.view{window}", headers=headers).get_json()["events"]) == 5
    tomorrow = today + timedelta(days=1)
    assert client.get(f"/api/v1/audit?from={tomorrow}", headers=headers).get_json()["events"] == []
    past = client.get(f"/api/v1/audit?to={today - timedelta(days=1)}", headers=headers).get_json()
    assert past["events"] == []


@pytest.mark.parametrize("query, field", [("?from=yesterday", "from"), ("?to=2022-13-01", "to"),
                                          ("?action=DROP TABLE", "action"), ("?limit=0", "limit"),
                                          ("?limit=abc", "limit"), ("?before=x", "before"),
                                          ("?from=2022-02-01&to=2022-01-01", "to"), ("?user=" + "u" * 65, "user")])
def test_bad_filters_are_a_422_naming_the_field(app, client, token_for, staff, query, field):
    response = _get(client, token_for, staff["admin"], query)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_export_is_safe_scoped_and_recorded(app, client, token_for, staff):
    _plant(staff)
    audit.record("roster.upload", user=staff["hp"], region=get_region("120101001001"), people=1,
                 detail={"name": "=HYPERLINK(\"http://x\")"})
    db.session.commit()
    response = client.get("/api/v1/audit.csv", headers=token_for(staff["hp"]))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    body = rows[1:]
    assert len(body) >= 2 and all(r[7].startswith("120101") for r in body)
    assert any(r[9].startswith("name=") for r in body)
    assert not any(cell.startswith("=") for r in rows for cell in r)
    event = _events("audit.export")[-1]
    assert (event.username, event.people, event.detail["format"], event.detail["complete"]) == (
        staff["hp"].username, len(body), "csv", True)

    book = client.get("/api/v1/audit.xlsx?action=positives.view", headers=token_for(staff["admin"]))
    sheet = load_workbook(io.BytesIO(book.get_data()), read_only=True).active
    values = list(sheet.values)
    assert len(values) == 3 and {v[4] for v in values[1:]} == {"positives.view"}
    assert _events("audit.export")[-1].people == 2
    assert client.get("/api/v1/audit.csv", headers=token_for(staff["lab"])).status_code == 403


def test_the_page_lists_filters_and_refuses_other_roles(app, client, server, staff):
    from tests.conftest import login
    _plant(staff)
    login(client, staff["hd"].username)
    page = client.get("/admin/audit?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Opened the list of people to find" in html
    assert "120102001001" in html and "120101001001" not in html
    bad = client.get("/admin/audit?from=not-a-date")
    assert bad.status_code == 422 and 'id="from-error"' in bad.get_data(as_text=True)
    other = server.test_client()
    login(other, staff["sampler"].username)
    assert other.get("/admin/audit").status_code == 403
    assert other.get("/admin/audit/export.csv").status_code == 403


def test_a_download_given_up_is_recorded_with_the_rows_produced(app, staff):
    def rows():
        yield from ([n] for n in range(100))

    stream = audit.recorded_rows(rows(), "collision.download", user=staff["hp"], object_type="collision",
                                 object_id=3, detail={"list": "untested"})
    assert _events("collision.download") == []  # the count is not known before the end
    taken = [next(stream) for _ in range(3)]
    stream.close()  # the client went away
    event = _events("collision.download")[-1]
    assert taken == [[0], [1], [2]]
    assert (event.people, event.detail) == (3, {"list": "untested", "complete": False})
    known = audit.recorded_rows(iter([[1], [2]]), "positives.export", user=staff["admin"], people=2)
    assert _events("positives.export")[-1].people == 2  # on record before the first row
    assert list(known) == [[1], [2]]
