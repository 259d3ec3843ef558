"""One person, one record, held by the database: the same person registering from several
phones at the same moment (threads with their own sessions) gets one record."""
import threading

from sqlalchemy import func, select

from sampling.errors import Conflict
from sampling.extensions import db
from sampling.models import Resident
from sampling.residents import registration
from tests.test_identity import VALID

THREADS = 8


def race(server, payloads):
    barrier = threading.Barrier(len(payloads))
    results = [None] * len(payloads)

    def worker(i, data):
        with server.app_context():
            barrier.wait()
            try:
                resident, created = registration.register(data)
                db.session.commit()
                results[i] = ("ok", resident.id, created)
            except Conflict as exc:
                db.session.rollback()
                results[i] = ("conflict", exc.code, None)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, p)) for i, p in enumerate(payloads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def person(name="张三"):
    return {"name": name, "id_type": "resident_id_card", "id_number": VALID, "phone": "13812345678",
            "region_code": "120101001001"}


def test_same_person_from_many_phones_gets_one_record(server, demo_city):
    results = race(server, [person() for _ in range(THREADS)])
    assert {r[0] for r in results} == {"ok"}
    assert len({r[1] for r in results}) == 1
    assert sum(r[2] for r in results) == 1  # exactly one created it
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 1


def test_same_number_under_different_names_at_once(server, demo_city):
    results = race(server, [person(f"张{chr(0x4e00 + i)}") for i in range(THREADS)])
    assert sorted(r[0] for r in results) == ["conflict"] * (THREADS - 1) + ["ok"]
    assert {r[1] for r in results if r[0] == "conflict"} == {"already_registered"}  # the same answer for all
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 1
