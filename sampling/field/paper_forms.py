"""Backfill files (补录): a CSV or XLSX of paper forms, all or report.

The whole file is read first (decoded, its header checked), so a file that cannot be read to
the end writes nothing; then each row is kept or refused on its own, with a row-by-row report.
"""
import shutil
import tempfile
from contextlib import contextmanager
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError, IntegrityError

from sampling.errors import BadRequest, Conflict, DomainError, from_database_error
from sampling.extensions import db
from sampling.field.backfill import ALIASES, REQUIRED, column_name, describe_refusal, get_round, outcome_message, record
from sampling.kernel.tabular import read_records, read_rows
from sampling.models import User


def backfill_file(user: User, round_id, stream: BinaryIO, filename: str) -> dict:
    """Backfill every row of a CSV/XLSX file; returns counts and a row-by-row report.

    All or report: the whole file is read first (decoded, its header checked), so a file that
    cannot be read to the end writes nothing; then each row is kept or refused on its own (a
    row that clashes with the same entry written at the same moment is tried once more)."""
    from sampling.field.sync import begin_writing
    get_round(user, round_id)
    with _copy_of(stream) as reopen:
        with reopen() as first:
            _read_through(first, filename)
        report, counts = [], {"added": 0, "exists": 0, "failed": 0}
        begin_writing()
        with reopen() as rows:
            for number, row in read_records(rows, filename, ALIASES, required=REQUIRED):
                line = _backfill_row(user, round_id, number, row)
                counts[line["outcome"]] += 1
                report.append(line)
                if number % 200 == 0:  # short transactions: scans at the same sites go on meanwhile
                    db.session.commit()
                    begin_writing()
        db.session.commit()
    return {**counts, "rows": report}


@contextmanager
def _copy_of(stream: BinaryIO):
    """The upload copied to a temporary file (streamed), to be read twice: yields a function
    that opens it again from the start."""
    with tempfile.NamedTemporaryFile(prefix="backfill-") as copy:
        shutil.copyfileobj(stream, copy, 1024 * 1024)
        copy.flush()
        yield lambda: open(copy.name, "rb")  # noqa: SIM115  (each pass closes its own)


def _read_through(stream: BinaryIO, filename: str) -> None:
    """Read the whole file once, writing nothing: BadRequest when it cannot be read to the end or
    lacks a column (named as the coordinator knows it: its label and its Chinese header)."""
    rows = read_rows(stream, filename)
    first = next(rows, None)
    if first is None:
        raise BadRequest(_l("The file is empty."), code="empty_file")
    header = {cell.strip().lower().lstrip("\ufeff") for cell in first}
    missing = [field for field in REQUIRED if not header & {name.lower() for name in (field, *ALIASES[field])}]
    if missing:
        names = ", ".join(column_name(field) for field in missing)
        raise BadRequest(_l("Missing columns: %(columns)s", columns=names), code="missing_columns")
    for _row in rows:
        pass


def _backfill_row(user: User, round_id, number: int, row: dict) -> dict:
    """One row in a savepoint: its report line."""
    for _attempt in range(2):
        try:
            with db.session.begin_nested():
                outcome = record(user, round_id, row)
            return {"row": number, **outcome, "message": outcome_message(outcome)}
        except IntegrityError:
            continue  # the same entry written at the same moment by another upload: now it is found
        except (DataError, OverflowError) as exc:  # a value the database cannot hold
            return _failed(number, from_database_error(exc))
        except DomainError as exc:
            return _failed(number, exc)
    return _failed(number, Conflict(_l("The same entry was being written at the same moment; upload the file "
                                       "again to record this row."), code="conflict"))


def _failed(number: int, exc: DomainError) -> dict:
    return {"row": number, "outcome": "failed", "code": exc.code, "message": describe_refusal(exc)}
