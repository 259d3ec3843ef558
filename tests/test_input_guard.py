"""Text no database can hold is refused at the door (400 invalid_characters); values a column
cannot hold are 422 invalid_value; a deadlock is 503 busy (retried). Never a 500."""
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from sampling.errors import Busy, InvalidValue, from_database_error
from tests.conftest import csrf_from


@pytest.fixture
def admin_headers(demo_city, make_user, token_for):
    return token_for(make_user("admin"))


@pytest.mark.parametrize("path,body", [
    ("/api/v1/auth/token", {"username": "ad\u0000min", "password": "x"}),
    ("/api/v1/residents", {"name": "张三", "address": "\ud800"}),
    ("/api/v1/residents/recover", {"id_number": "1\u00002", "name": "张三", "phone": "13800000000"}),
    ("/api/v1/query", {"id_number": "120101199001011234", "name": ["\u0000"]}),
])
def test_nul_and_broken_characters_in_json_are_400(client, demo_city, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_characters"


def test_nul_in_a_query_string_and_a_form_is_400(client, demo_city):
    assert client.get("/api/v1/regions?parent=%00").get_json()["error"]["code"] == "invalid_characters"
    page = client.get("/login")
    response = client.post("/login", data={"username": "a\u0000b", "password": "x",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400 and "<html" in response.get_data(as_text=True).lower()


def test_values_no_column_can_hold_get_their_own_answer_never_500(client, admin_headers):
    """An id beyond any column's range names no round: 404 unknown_round. A name longer than its
    column: 422 validation naming the field. Each in the caller's language."""
    huge = "99999999999999999999"
    for path in (f"/api/v1/stats?round_id={huge}&level=district", f"/api/v1/positives?round_id={huge}",
                 f"/api/v1/turnaround?round_id={huge}"):
        response = client.get(path, headers=admin_headers)
        assert response.status_code == 404, (path, response.status_code)
        assert response.get_json()["error"] == {"code": "unknown_round", "message": "未知轮次。"}
    for body in ({"name": "轮" * 500, "pool_size": 10}, {"name": "轮次", "pool_size": 10**30}):
        response = client.post("/api/v1/rounds", json=body, headers=admin_headers)
        error = response.get_json()["error"]
        assert response.status_code == 422 and error["code"] == "validation", (body, response.status_code, error)
        assert set(error["fields"]) == ({"name"} if len(body["name"]) > 100 else {"pool_size"})


def test_a_real_deadlock_is_busy(database_url, is_postgres, demo_city):
    if not is_postgres:
        pytest.skip("SQLite has no row locks")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY, n int)"))
        conn.execute(text("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING"))
    barrier, caught = threading.Barrier(2, timeout=10), []

    def worker(first, second):
        with engine.connect() as conn:
            try:
                conn.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :i"), {"i": first})
                barrier.wait()
                conn.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :i"), {"i": second})
                conn.commit()
            except OperationalError as exc:
                caught.append(exc)
                conn.rollback()

    threads = [threading.Thread(target=worker, args=args) for args in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE deadlock_probe"))
    engine.dispose()
    assert len(caught) == 1
    assert isinstance(from_database_error(caught[0]), Busy)
    assert isinstance(from_database_error(OverflowError("too big")), InvalidValue)
    assert from_database_error(ValueError("a bug")) is None
