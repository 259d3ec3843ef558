"""A run of scans from a sync batch, applied set-based: the same rules and the same answers as
one scan at a time (:func:`sampling.field.samples.apply_add`), in a handful of statements.

The tubes of the run are locked first (PostgreSQL: SELECT ... FOR UPDATE in id order; SQLite: the
caller began the transaction with BEGIN IMMEDIATE, the database's write lock), so nobody else changes their counts until
commit; then the residents, the tubes' members and the residents' samples in these rounds are
read in one query each, the run is decided item by item in memory, in order, and the admitted
samples are inserted in one statement and the tubes' counts set in one more. A unique constraint
refusing a row (another transaction got there between our read and our insert) makes the caller
roll the run back and apply it one scan at a time, so the outcome is always exact.
"""
from collections import defaultdict

from sampling.errors import DomainError, Forbidden
from sampling.extensions import db
from sampling.field import replay, samples
from sampling.field.sync import statements
from sampling.field.tubes import unknown_tube
from sampling.models import Site, TubeStatus, User
from sampling.models.base import utcnow
from sampling.residents import codes


def is_plain_scan(item) -> bool:
    """An add_sample by scanned code without a resample request: what a run can take."""
    return (isinstance(item, dict) and item.get("op") == "add_sample" and "resident" not in item
            and item.get("resample", False) is False)


class _Item:
    __slots__ = ("client_id", "code", "resident_id", "version", "answer")

    def __init__(self, item: dict):
        self.answer = None
        self.client_id = self.code = self.resident_id = self.version = None
        try:
            self.client_id = replay.clean_client_id(item.get("client_id"))
            self.code = item.get("tube_code")
            if not isinstance(self.code, str):
                raise unknown_tube(self.code)
            self.resident_id, self.version = codes.read(item.get("qr"))
        except DomainError as exc:
            self.answer = exc


def _replays(client_ids: list[str]) -> dict[str, tuple[int | None, dict]]:
    """(Who sent it, first answer) of adds already admitted (or admitted, then undone) with these
    client_ids."""
    admitted, recorded = statements.replays(client_ids)
    found = {client_id: (sampler_id, samples.sample_body(sample_id, _Shown(name, id_number), position, capacity))
             for client_id, sample_id, position, capacity, name, id_number, sampler_id in admitted}
    for client_id, body, user_id in recorded:
        found.setdefault(client_id, (user_id, body))
    return found


class _Shown:
    __slots__ = ("name", "id_number")

    def __init__(self, name, id_number):
        self.name, self.id_number = name, id_number


def _lock_tubes(user: User, codes_: list[str]) -> dict[str, dict]:
    """The run's tubes, locked until commit, with whether the user may work at each one's site."""
    return {row.code: {"id": row.id, "round_id": row.round_id, "site_id": row.site_id, "capacity": row.capacity,
                       "count": row.sample_count, "status": row.status, "allowed": bool(row.allowed),
                       "start": row.sample_count, "sealed_now": False}
            for row in statements.lock_tubes(user, codes_)}


def _previous(resident_ids: set[int], round_ids: set[int]) -> dict[tuple[int, int], dict]:
    return {(r[0], r[1]): {"sampled_at": r[2].isoformat(), "site_code": r[3], "site_name": r[4], "tube_code": r[5]}
            for r in statements.previous(resident_ids, round_ids)}


def apply_run(user: User, items: list[dict]) -> list[replay.Outcome | DomainError]:
    """Apply plain scans in order in the current transaction; one outcome (or refusal) per item.
    Raises IntegrityError when the database refuses a row: roll back, then go one by one."""
    run = [_Item(item) for item in items]
    live = [it for it in run if it.answer is None]
    if not live:
        return [it.answer for it in run]
    # the tubes first: a copy of this batch still in flight elsewhere (the phone resent it) holds
    # them until it commits, and then its samples are read here as replays, not as conflicts
    tubes = _lock_tubes(user, list({it.code for it in live}))
    earlier = _replays(list({it.client_id for it in live}))
    people = {row.id: row for row in statements.people({it.resident_id for it in live})}
    members = defaultdict(set)
    if tubes:
        for tube_id, resident_id in statements.members([t["id"] for t in tubes.values()]):
            members[tube_id].add(resident_id)
    previous = _previous(set(people), {t["round_id"] for t in tubes.values()}) if tubes and people else {}
    now, admitted, seen, repeats = utcnow(), [], {}, []
    for it in live:
        if it.client_id in seen:  # the same scan twice in one batch: the second is a repeat
            repeats.append((it, seen[it.client_id]))
            continue
        it.answer = _decide(it, user, earlier, tubes, people, members, previous)
        if it.answer is None:  # admitted
            tube = tubes[it.code]
            tube["count"] += 1
            if tube["count"] >= tube["capacity"]:
                tube["status"], tube["sealed_now"] = TubeStatus.SEALED.value, True
            members[tube["id"]].add(it.resident_id)
            previous[(tube["round_id"], it.resident_id)] = {
                "sampled_at": now.isoformat(), "site_code": None, "site_name": None, "tube_code": it.code}
            admitted.append((it, tube, tube["count"]))
            seen[it.client_id] = it
    if admitted:
        _write(user, admitted, tubes, people, now)
    for it, first in repeats:
        it.answer = replay.Outcome(first.answer.body, repeat=True)
    return [it.answer for it in run]


def _decide(it: _Item, user: User, earlier, tubes, people, members, previous):
    """The refusal or replay answer for one scan, or None when it is admitted."""
    if it.client_id in earlier:
        owner, body = earlier[it.client_id]
        return replay.Outcome(body, repeat=True) if replay.is_owner(user, owner) else replay.reused()
    if it.resident_id not in people:
        return codes.InvalidCode()
    if it.version != people[it.resident_id].code_version:  # a code replaced by a re-bind
        return codes.refusal(it.version, people[it.resident_id].code_version)
    tube = tubes.get(it.code)
    if tube is None:
        return unknown_tube(it.code)
    if not tube["allowed"]:
        return Forbidden(code="forbidden_site")
    if tube["status"] != TubeStatus.OPEN.value:
        return samples.tube_sealed()
    if tube["count"] >= tube["capacity"]:
        return samples.tube_full()
    if it.resident_id in members[tube["id"]]:
        return samples.already_in_tube()
    earlier_sample = previous.get((tube["round_id"], it.resident_id))
    if earlier_sample is not None:
        if earlier_sample["site_code"] is None:  # admitted earlier in this very run
            earlier_sample = _site_filled(earlier_sample, tubes[earlier_sample["tube_code"]])
        return samples.AlreadySampled(earlier_sample)
    return None


def _site_filled(previous: dict, tube: dict) -> dict:
    site = db.session.get(Site, tube["site_id"])
    return {**previous, "site_code": site.code, "site_name": site.name}


def _write(user: User, admitted, tubes, people, now) -> None:
    """One INSERT for the admitted samples, one UPDATE for the tubes' counts."""
    ids = statements.insert_samples(user, [
        {"tube_id": tube["id"], "resident_id": it.resident_id, "round_id": tube["round_id"], "site_id": tube["site_id"],
         "client_id": it.client_id, "position": count} for it, tube, count in admitted], now)
    for it, tube, count in admitted:
        it.answer = replay.Outcome(samples.sample_body(ids[it.client_id], people[it.resident_id], count,
                                                       tube["capacity"]))
    changed = [{"id": t["id"], "start": t["start"], "count": t["count"], "status": t["status"],
                "sealed": t["sealed_now"]} for t in tubes.values() if t["count"] != t["start"]]
    if changed:
        statements.set_counts(changed, now)
