"""Helpers for the sampling tests: residents with genuine codes, tubes, a round."""
import uuid

from sqlalchemy import select
from stdnum.cn import ric

from sampling.extensions import db
from sampling.models import Resident, Round
from sampling.residents import codes


def id_number(n: int, birth: str = "19800101", region: str = "120101") -> str:
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_residents(count: int, start: int = 0) -> list[Resident]:
    """``count`` residents (committed); born on different days so their numbers differ."""
    people = []
    for i in range(start, start + count):
        birth = f"{1950 + i // 300:04d}{1 + (i // 28) % 12:02d}{1 + i % 28:02d}"
        people.append(Resident(name=f"居民{i}", id_type="resident_id_card", id_number=id_number(i, birth),
                               phone=f"139{i:08d}", source="self"))
    db.session.add_all(people)
    db.session.commit()
    return people


def qr(resident: Resident) -> str:
    return codes.token_for(resident.id)


def cid() -> str:
    return str(uuid.uuid4())


def current_round() -> Round:
    return db.session.scalar(select(Round).order_by(Round.id))


def backdate_round(start: str = "2022-01-10T06:00:00+08:00") -> Round:
    """The current round as if it had started at ``start``, so paper forms of that morning belong to it."""
    from datetime import datetime
    rnd = current_round()
    rnd.starts_at = datetime.fromisoformat(start)
    db.session.commit()
    return rnd


def forged(resident: Resident) -> str:
    """The resident's code with its last character changed: the signature no longer matches."""
    genuine = qr(resident)
    return genuine[:-1] + ("B" if genuine[-1] == "A" else "A")


def outcome_of(answer) -> str:
    """A field use case's outcome as the tests compare it: "done" (by this call), "repeat" (done
    before, answered from the record), or a refusal's error code."""
    from sampling.errors import DomainError
    if isinstance(answer, DomainError):
        return answer.code
    return "repeat" if answer.repeat else "done"
