"""Lab results per tube, posted by scanning or by uploading a day's file, and what a resident
is told about their own sample.

Posting is set-based, a few hundred tubes per statement: one SELECT classifies the rows, then
one conditional ``UPDATE tubes ... WHERE id IN (...) AND status = 'received' RETURNING id``
applies them, so a tube raced by two uploads gets exactly one result. A result that differs
from the one already set is refused unless the caller asks for a correction; every result and
correction is written to ``tube_events`` (who, when, the previous result).
"""
from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from sampling.errors import Conflict
from sampling.extensions import db
from sampling.kernel.access import require_role
from sampling.lab.boxes import TUBE_STATUS_LABELS
from sampling.lab.followups import FLAGGED, RESAMPLED, RESULTED, followup_state, with_retests
from sampling.lab.positives import lab_summary
from sampling.lab.reports import (  # noqa: F401  (the entry points for routes and tests)
    RESULT_LABELS,
    Row,
    make_row,
    rows_from_file,
    rows_from_json,
)
from sampling.models import RESULTS, Role, Sample, Tube, TubeAction, TubeEvent, TubeStatus, User
from sampling.models.base import utcnow

CHUNK = 500
FLAG_SEQ_LOCK = 7_202_201  # pg_advisory_xact_lock key: numbering newly flagged tubes


class Report:
    """What happened to each row: counts, unknown tubes, refusals, and the flagged tubes."""

    def __init__(self):
        self.updated = self.corrected = self.unchanged = 0
        self.unknown: list[str] = []
        self.unknown_rows: list[dict] = []  # the same tubes with their file row numbers
        self.rejected: list[dict] = []
        self.flagged_ids: list[int] = []

    def reject(self, row: Row, code: str, message) -> None:
        self.rejected.append(self._entry(row, code=code, message=str(message)))

    def not_found(self, row: Row) -> None:
        self.unknown.append(row.tube_code)
        self.unknown_rows.append(self._entry(row))

    @staticmethod
    def _entry(row: Row, **fields) -> dict:
        entry = {"tube_code": row.tube_code, **fields}
        if row.number is not None:
            entry["row"] = row.number
        return entry


def post_results(user: User, rows: Iterable[Row], correct: bool = False) -> dict:
    """Apply lab results. The whole batch is read and checked first (an unreadable file writes
    nothing), then applied and committed chunk by chunk, so the statistics' per-site counter rows
    are locked only for a chunk's duration and scans at those sites do not wait for the upload.
    Re-sending a batch is harmless (a tube already holding the same result is ``unchanged``).
    ``correct`` allows replacing a result already set by a different one (audited)."""
    require_role(user, (Role.ADMIN, Role.LAB))
    report, seen, accepted, now = Report(), {}, [], utcnow()
    for row in rows:
        if row.error:
            report.reject(row, *row.error)
            continue
        if row.tube_code in seen:
            if seen[row.tube_code] == row.result:
                report.unchanged += 1
            else:
                report.reject(row, "duplicate_conflict",
                              _l("This tube appears earlier in the batch with another result."))
            continue
        seen[row.tube_code] = row.result
        accepted.append(row)
    for start in range(0, len(accepted), CHUNK):
        try:
            _apply_chunk(user, accepted[start:start + CHUNK], correct, now, report)
            db.session.commit()
        except OperationalError as exc:
            db.session.rollback()
            if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001"):  # deadlock with another upload
                raise Conflict(_l("Another upload is writing the same tubes; send this batch again."),
                               code="concurrent_upload") from exc
            raise
        except Exception:
            db.session.rollback()
            raise
    return {"updated": report.updated, "corrected": report.corrected, "unchanged": report.unchanged,
            "unknown": report.unknown, "unknown_rows": report.unknown_rows, "rejected": report.rejected,
            "positives": lab_summary(report.flagged_ids)}


def _current(codes) -> dict[str, tuple]:
    """The tubes' state, their rows locked in id order (PostgreSQL) until the batch commits."""
    rows = db.session.execute(select(Tube.code, Tube.id, Tube.status, Tube.result, Tube.received_at)
                              .where(Tube.code.in_(codes)).order_by(Tube.id).with_for_update())
    return {code: (tid, status, result, received) for code, tid, status, result, received in rows}


def _apply_chunk(user: User, chunk: list[Row], correct: bool, now: datetime, report: Report) -> None:
    flagged_before = len(report.flagged_ids)
    tubes = _current([r.tube_code for r in chunk])
    fresh, corrections = [], []
    for row in chunk:
        found = tubes.get(row.tube_code)
        if found is None:
            report.not_found(row)
            continue
        tube_id, status, result, received_at = found
        if status == TubeStatus.RECEIVED.value:
            if row.tested_at is not None and received_at is not None and row.tested_at < received_at:
                report.reject(row, "invalid_tested_at", _l("The test time is before the lab received the tube."))
            else:
                fresh.append((tube_id, row))
        elif status == TubeStatus.RESULTED.value:
            _classify_resulted(row, tube_id, result, correct, report, corrections)
        else:
            report.reject(row, "tube_not_received",
                          _l("Tube %(code)s has not been received by the lab (it is %(status)s).",
                             code=row.tube_code, status=TUBE_STATUS_LABELS[status]))
    if fresh:
        done = _write(fresh, now, (Tube.status == TubeStatus.RECEIVED.value,),
                      {"status": TubeStatus.RESULTED.value})
        _log(user, [(tid, row, None) for tid, row in fresh if tid in done], TubeAction.RESULTED, now, report)
        report.updated += len(done)
        raced = [row for tid, row in fresh if tid not in done]
        if raced:  # another upload got there first: judge against what it wrote
            again = _current([r.tube_code for r in raced])
            for row in raced:
                tube_id, _status, result, _at = again[row.tube_code]
                _classify_resulted(row, tube_id, result, False, report, [])
    for previous in RESULTS:
        group = [(tid, row) for tid, row, old in corrections if old == previous]
        if group:
            done = _write(group, now, (Tube.status == TubeStatus.RESULTED.value, Tube.result == previous), {})
            _log(user, [(tid, row, previous) for tid, row in group if tid in done], TubeAction.CORRECTED, now,
                 report)
            report.corrected += len(done)
            for _tid, row in (g for g in group if g[0] not in done):
                report.reject(row, "result_conflict", _l("The result changed meanwhile; try again."))
    _number_flagged(report.flagged_ids[flagged_before:])


def _number_flagged(tube_ids: list[int]) -> None:
    """Give the tubes this chunk made positive or invalid the next notice cursor (Tube.flag_seq),
    as the chunk's last statement before its commit. On PostgreSQL a transaction lock makes the
    numbers follow the commit order: whoever sees number n already sees every smaller one, so a
    coordinator's notice never passes over a pool that committed late. (SQLite has one writer.)"""
    if not tube_ids:
        return
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FLAG_SEQ_LOCK})
    following = (select(func.coalesce(func.max(Tube.flag_seq), 0) + 1).where(Tube.flag_seq.is_not(None))
                 .scalar_subquery())
    db.session.execute(update(Tube).where(Tube.id.in_(tube_ids)).values(flag_seq=following)
                       .execution_options(synchronize_session=False))


def _classify_resulted(row, tube_id, result, correct, report, corrections) -> None:
    if result == row.result:
        report.unchanged += 1
    elif correct:
        corrections.append((tube_id, row, result))
    else:
        report.reject(row, "result_conflict",
                      _l("Tube %(code)s already has the result %(old)s; send it as a correction to change it.",
                         code=row.tube_code, old=RESULT_LABELS[result]))


def _write(group, now, conditions, values) -> set[int]:
    """Conditional UPDATEs for the group, one per (result, time) — usually one per result, as
    rows without a test time share the batch's time; the ids they changed."""
    batches: dict[tuple, list[int]] = {}
    for tid, row in group:
        batches.setdefault((row.result, row.tested_at or now), []).append(tid)
    done: set[int] = set()
    for (result, at), ids in batches.items():
        stmt = (update(Tube).where(Tube.id.in_(ids), *conditions)
                .values(result=result, resulted_at=at, **values).returning(Tube.id)
                .execution_options(synchronize_session=False))
        done.update(db.session.scalars(stmt))
    return done


def _log(user, entries, action, now, report) -> None:
    if not entries:
        return
    db.session.execute(insert(TubeEvent.__table__), [
        {"tube_id": tid, "action": action.value, "user_id": user.id, "at": now, "result": row.result,
         "previous_result": previous} for tid, row, previous in entries])
    report.flagged_ids.extend(tid for tid, row, _p in entries if row.result in FLAGGED)


# --- what a resident is told ---------------------------------------------------------------
MESSAGES = {
    "pending": _l("Waiting for the lab result."),
    "negative": _l("Negative."),
    "positive": _l("Positive. Please stay where you are; your community will contact you."),
    "retest_required": _l("Please wait to be resampled — your community will contact you. "
                          "(A pooled result is not an individual diagnosis.)"),
    "retest_pending": _l("You have been resampled alone; waiting for your individual result."),
    "retest_negative": _l("Your individual retest is negative."),
    "retest_positive": _l("Your individual retest is positive. Please stay where you are; "
                          "your community will contact you."),
}


def resident_result_for_sample(sample: Sample) -> dict:
    """What the resident is told about one sample (see results_for_samples)."""
    return results_for_samples([sample.id])[sample.id]


def results_for_samples(sample_ids: Iterable[int]) -> dict[int, dict]:
    """For each sample id: ``{"state", "message", "individual_result", "resulted_at"}``.

    ``state`` is pending | negative | positive (a 1-in-1 tube) | retest_required (pooled
    positive or invalid, not resampled yet) | retest_pending | retest_negative | retest_positive.
    ``message`` is in the request's language. Unknown ids are left out."""
    ids = list(dict.fromkeys(int(i) for i in sample_ids))
    answer = {}
    for start in range(0, len(ids), CHUNK):
        query = (select(Sample.id.label("sample_id"), Tube.capacity, Tube.result, Tube.resulted_at)
                 .join(Tube, Tube.id == Sample.tube_id).where(Sample.id.in_(ids[start:start + CHUNK])))
        for row in db.session.execute(with_retests(query, Sample)):
            answer[row.sample_id] = _resident_view(row)
    return answer


def _resident_view(row) -> dict:
    individual, at = None, row.resulted_at
    if row.result is None:
        state = "pending"
    elif row.result == "negative" or (row.capacity == 1 and row.result == "positive"):
        state, individual = row.result, (row.result if row.capacity == 1 else None)
    else:
        followup, individual = followup_state(row.capacity, row.result, row.retest_id, row.retest_result)
        state = {RESULTED: f"retest_{individual}", RESAMPLED: "retest_pending"}.get(followup, "retest_required")
        at = row.retest_resulted_at if followup == RESULTED else None
    return {"state": state, "message": str(MESSAGES[state]), "individual_result": individual,
            "resulted_at": at.isoformat() if at else None}
