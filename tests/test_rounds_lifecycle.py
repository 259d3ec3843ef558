"""Closing and reopening rounds: who may, and what a closed round refuses."""
import pytest
from sqlalchemy import func, select

from sampling.extensions import db
from sampling.models import Round, Tube
from tests import waits
from tests.field import cid, make_residents, qr


@pytest.fixture
def heping(demo_city, make_user, token_for, client):
    """A round of 和平区 (120101) with one tube of three samples being filled at S-HP-001."""
    admin = token_for(make_user("admin"))
    rnd = client.post("/api/v1/rounds", json={"name": "和平区加测", "pool_size": 10, "region_code": "120101"},
                      headers=admin).get_json()
    sampler = token_for(make_user("sampler", sites=("S-HP-001",)))
    assert client.post("/api/v1/tubes", json={"tube_code": "CLOSE-0001", "round_id": rnd["id"],
                                              "site_code": "S-HP-001"}, headers=sampler).status_code == 201
    people = make_residents(5)
    for person in people[:3]:
        assert client.post("/api/v1/tubes/CLOSE-0001/samples", json={"qr": qr(person), "client_id": cid()},
                           headers=sampler).status_code == 201
    return {"round": rnd["id"], "admin": admin, "sampler": sampler, "people": people}


def patch(client, round_id, status, headers):
    return client.patch(f"/api/v1/rounds/{round_id}", json={"status": status}, headers=headers)


def test_coordinator_closes_a_round_of_their_district(client, heping, make_user, token_for):
    coordinator = token_for(make_user("coordinator", region="120101"))
    response = patch(client, heping["round"], "closed", coordinator)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "closed" and body["ends_at"] and body["sealed_tubes"] == 1
    tube = db.session.scalar(select(Tube).where(Tube.code == "CLOSE-0001"))
    assert (tube.status, tube.sample_count, tube.sealed_at is not None) == ("sealed", 3, True)
    again = patch(client, heping["round"], "closed", coordinator)  # closing twice changes nothing
    assert again.status_code == 200 and again.get_json()["ends_at"] == body["ends_at"]
    assert again.get_json()["sealed_tubes"] == 0


def test_scans_into_a_closed_round_are_refused(client, heping):
    assert patch(client, heping["round"], "closed", heping["admin"]).status_code == 200
    scan = client.post("/api/v1/tubes/CLOSE-0001/samples", json={"qr": qr(heping["people"][3]), "client_id": cid()},
                       headers=heping["sampler"])
    assert scan.status_code == 409 and scan.get_json()["error"]["code"] == "tube_sealed"
    opened = client.post("/api/v1/tubes", json={"tube_code": "CLOSE-0002", "round_id": heping["round"],
                                                "site_code": "S-HP-001"}, headers=heping["sampler"])
    assert opened.status_code == 422
    assert opened.get_json()["error"]["fields"]["round_id"] == "本轮次已结束。"
    synced = client.post("/api/v1/sync", json={"items": [{"op": "add_sample", "tube_code": "CLOSE-0001",
                                                          "client_id": cid(), "qr": qr(heping["people"][4])}]},
                         headers=heping["sampler"])
    assert synced.get_json()["results"][0]["status"] == 409
    assert db.session.scalar(select(Tube.sample_count).where(Tube.code == "CLOSE-0001")) == 3


def test_another_districts_coordinator_cannot_close_it(client, heping, make_user, token_for):
    response = patch(client, heping["round"], "closed", token_for(make_user("coordinator", region="120102")))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden_region"
    street = patch(client, heping["round"], "closed", token_for(make_user("coordinator", region="120101001")))
    assert street.status_code == 403  # a street cannot close its district's round
    assert db.session.get(Round, heping["round"]).status == "open"


def test_only_admins_close_citywide_rounds_and_reopen(client, heping, make_user, token_for):
    coordinator = token_for(make_user("coordinator", region="120101"))
    citywide = db.session.scalar(select(Round.id).where(Round.region_id.is_(None)))
    refused = patch(client, citywide, "closed", coordinator)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden_region"
    assert patch(client, heping["round"], "closed", coordinator).status_code == 200
    reopen = patch(client, heping["round"], "open", coordinator)
    assert reopen.status_code == 403 and reopen.get_json()["error"]["code"] == "forbidden_role"
    reopened = patch(client, heping["round"], "open", heping["admin"])
    assert reopened.status_code == 200
    assert reopened.get_json()["status"] == "open" and reopened.get_json()["ends_at"] is None
    assert db.session.scalar(select(Tube.status).where(Tube.code == "CLOSE-0001")) == "sealed"
    sampler = patch(client, heping["round"], "closed", heping["sampler"])
    assert sampler.status_code == 403 and sampler.get_json()["error"]["code"] == "forbidden_role"


@pytest.mark.parametrize("round_id", ["999999", "2147483648", "99999999999999999999", "²", "１", "0", "-1", "abc"])
def test_unknown_round_id_is_404(client, heping, round_id):
    response = patch(client, round_id, "closed", heping["admin"])
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_round"


def test_bad_status_is_422(client, heping):
    for body in ({"status": "done"}, {"status": None}, {}, {"status": ["closed"]}):
        response = client.patch(f"/api/v1/rounds/{heping['round']}", json=body, headers=heping["admin"])
        assert response.status_code == 422 and "status" in response.get_json()["error"]["fields"], body
    assert client.patch(f"/api/v1/rounds/{heping['round']}", data="x", headers=heping["admin"]).status_code == 400


def test_close_round_command(app, heping):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["close-round", str(heping["round"])])
    assert result.exit_code == 0, result.output
    assert "已结束" in result.output and "1" in result.output
    db.session.expire_all()
    rnd = db.session.get(Round, heping["round"])
    assert rnd.status == "closed" and rnd.ends_at is not None
    unknown = runner.invoke(args=["close-round", "²"])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output and "轮次" in unknown.output


def test_closing_while_phones_scan_loses_nothing_and_deadlocks_nothing(demo_city, server, make_user, token_for,
                                                                        client):
    """Four phones at two sites scan into their tubes (and a sync run) while the round is closed:
    every scan is recorded (201) or refused as sealed (409), never 500/503; counts stay exact."""
    import threading

    from sampling.models import Sample, StatsSite
    admin = token_for(make_user("admin"))
    round_id = client.post("/api/v1/rounds", json={"name": "并发", "pool_size": 20, "region_code": "120101"},
                           headers=admin).get_json()["id"]
    phones = [token_for(make_user("sampler", sites=(site,))) for site in ("S-HP-001", "S-HP-001", "S-HP-002",
                                                                          "S-HP-002")]
    for i, headers in enumerate(phones):
        opened = client.post("/api/v1/tubes", json={"tube_code": f"RACE-{i:04d}", "round_id": round_id,
                                                    "site_code": f"S-HP-00{1 + i // 2}"}, headers=headers)
        assert opened.status_code == 201
    codes = [qr(person) for person in make_residents(64)]
    barrier, outcomes, halfway = threading.Barrier(5), {i: [] for i in range(4)}, threading.Event()

    def scan(i):
        http = server.test_client()
        barrier.wait()
        mine = codes[i * 16:(i + 1) * 16]
        for n, code in enumerate(mine[:12]):
            outcomes[i].append(http.post(f"/api/v1/tubes/RACE-{i:04d}/samples", json={
                "qr": code, "client_id": cid()}, headers=phones[i]).status_code)
            if n == 5 and i == 0:
                halfway.set()
        items = [{"op": "add_sample", "tube_code": f"RACE-{i:04d}", "client_id": cid(), "qr": code}
                 for code in mine[12:]]
        body = http.post("/api/v1/sync", json={"items": items}, headers=phones[i]).get_json()
        outcomes[i].extend(r["status"] for r in body["results"])

    def close():
        barrier.wait()
        halfway.wait(60)
        closed.append(server.test_client().patch(f"/api/v1/rounds/{round_id}", json={"status": "closed"},
                                                 headers=admin))

    closed = []
    threads = [threading.Thread(target=scan, args=(i,)) for i in range(4)] + [threading.Thread(target=close)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert closed[0].status_code == 200
    db.session.expire_all()
    for i in range(4):
        assert len(outcomes[i]) == 16 and set(outcomes[i]) <= {201, 409}, outcomes[i]
        accepted = outcomes[i].count(201)
        assert 409 not in outcomes[i][:accepted]  # once sealed, every later scan is refused
        tube = db.session.scalar(select(Tube).where(Tube.code == f"RACE-{i:04d}"))
        assert tube.status == "sealed" and tube.sample_count == accepted
        stored = db.session.scalar(select(func.count()).select_from(Sample).where(Sample.tube_id == tube.id))
        assert stored == accepted
    stats = db.session.scalars(select(StatsSite).where(StatsSite.round_id == round_id)).all()
    assert sum(s.tubes_open for s in stats) == 0 and sum(s.tubes_sealed for s in stats) == 4
    assert sum(s.samples for s in stats) == sum(o.count(201) for o in outcomes.values())


def test_a_tube_opened_while_the_round_closes_waits_and_is_refused(heping, make_app, is_postgres, database_url):
    """The round's row is held by its closing: a phone opening a tube in it at that moment waits,
    then reads the round closed (no open tube is left behind in a closed round)."""
    import threading

    from sampling.errors import ValidationFailed
    from sampling.field import rounds, tubes
    from sampling.models import User
    if not is_postgres:
        pytest.skip("row locks: PostgreSQL (SQLite writers queue on the database lock)")
    sampler_id = db.session.scalar(select(User.id).where(User.role == "sampler"))
    db.session.commit()
    out = {}

    def open_one():
        with make_app().app_context():
            try:
                out["answer"] = tubes.open_tube(db.session.get(User, sampler_id), {
                    "tube_code": "LATE-0001", "round_id": heping["round"], "site_code": "S-HP-001"})
            except ValidationFailed as exc:
                out["answer"] = exc.fields
            finally:
                db.session.remove()

    with make_app().app_context():
        rnd = db.session.get(Round, heping["round"])
        rounds._lock(rnd)  # what close_round holds while it seals the round's tubes
        phone = threading.Thread(target=open_one, name="the phone opening a tube")
        phone.start()
        waits.lock_waiters(database_url, 1, alive=[phone])  # the phone waits for the round
        assert "answer" not in out
        rnd.status = "closed"
        db.session.commit()
        phone.join(30)
    assert set(out["answer"]) == {"round_id"}
    assert db.session.scalar(select(func.count()).select_from(Tube).where(Tube.code == "LATE-0001")) == 0
