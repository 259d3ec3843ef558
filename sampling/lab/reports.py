"""Lab result rows as labs send them: JSON items, or CSV/XLSX rows ``tube_code,result[,tested_at]``,
each checked on its own (tube code, result word, test time) before anything is written."""
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from sampling.errors import BadRequest
from sampling.lab.boxes import CODE
from sampling.models.base import utcnow
from sampling.residents import identity

MAX_JSON_ROWS = 20_000
_ALIASES = {
    "negative": ("negative", "neg", "n", "-", "阴性", "阴"),
    "positive": ("positive", "pos", "p", "+", "阳性", "阳"),
    "invalid": ("invalid", "inconclusive", "无效", "无效样本", "不合格"),
}
_RESULT_WORDS = {word: result for result, words in _ALIASES.items() for word in words}
RESULT_LABELS = {"negative": _l("negative"), "positive": _l("positive"), "invalid": _l("invalid")}
# how Excel shows a date and time in China: 2022/1/10 14:30, 2022-1-10 9:05:00, 2022年1月10日 14:30
_EXCEL_TIME = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?"
                         r"(?:(?:\s+|T|(?<=日))(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
FILE_COLUMNS = {"tube_code": ("管码", "试管编码", "采样管编码", "条码", "tube"),
                "result": ("结果", "检测结果"), "tested_at": ("检测时间", "报告时间")}


@dataclass
class Row:
    number: int | None
    tube_code: str
    result: str | None
    tested_at: datetime | None = None
    error: tuple[str, object] | None = None  # (code, message) when the row itself is bad


def parse_result(raw) -> str | None:
    """negative / positive / invalid from the words labs use (阴性, 阳性, 无效, +, - ...)."""
    return _RESULT_WORDS.get(identity.normalize_text(raw).lower()) if isinstance(raw, str) else None


def parse_tested_at(raw) -> datetime | None:
    """A test time as labs write it: ISO 8601 (2022-01-10T14:30:00+08:00) or as Excel shows it in
    China (2022/1/10 14:30, 2022-1-10 9:05, 2022年1月10日 14:30). Without a zone it is local time
    (LOCAL_TIMEZONE, Asia/Shanghai by default). ValueError when it is not a time."""
    text = identity.normalize_text(raw) if isinstance(raw, str) else ""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        moment = _wall_clock(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_app.config.get("LOCAL_TIMEZONE", "Asia/Shanghai")))
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00, 9999-12-31T23:59:59-12:00: no such UTC time
        raise ValueError(text) from None


def _wall_clock(text: str) -> datetime:
    match = _EXCEL_TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return datetime(*(int(part) for part in match.groups(default="0")))  # ValueError: month 13, 25:00


def make_row(number, tube_code, result, tested_at=None) -> Row:
    """One input row, checked on its own (code, result word, time). A code or time that is not
    text (a JSON number) is refused, and echoed as sent."""
    code = identity.normalize_text(tube_code) if isinstance(tube_code, str) else _echo(tube_code)
    row = Row(number, code, parse_result(result))
    if tube_code is not None and not isinstance(tube_code, str):
        row.error = ("invalid_tube_code", _l("Send the tube code as text (in quotes), not as a number."))
    elif not CODE.fullmatch(code):
        row.error = ("invalid_tube_code", _l("A tube code is 4 to 64 printable characters."))
    elif row.result is None:
        row.error = ("invalid_result", _l("The result must be negative, positive or invalid (阴性, 阳性, 无效)."))
    elif tested_at is not None and not isinstance(tested_at, str):
        row.error = ("invalid_tested_at", _l("Send the test time as text (2022-01-10 14:30), not as a number."))
    else:
        try:
            row.tested_at = parse_tested_at(tested_at)
        except ValueError:
            row.error = ("invalid_tested_at", _l("The test time is not a date and time (2022-01-10 14:30)."))
        else:
            if row.tested_at is not None and row.tested_at > utcnow() + timedelta(minutes=10):
                row.error = ("invalid_tested_at", _l("The test time is in the future."))
    return row


def _echo(value) -> str:
    """A value that is not text, as the report shows it back."""
    return "" if value is None else str(value)[:64]


def rows_from_json(data) -> Iterator[Row]:
    """Rows from ``{"results": [{"tube_code", "result"[, "tested_at"]}]}``."""
    items = data.get("results") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise BadRequest(_l("Send a non-empty list of results."), code="no_results")
    if len(items) > MAX_JSON_ROWS:
        raise BadRequest(_l("Send at most %(n)s results at once, or upload a file.", n=MAX_JSON_ROWS),
                         code="too_many_results")
    for item in items:
        item = item if isinstance(item, dict) else {}
        yield make_row(None, item.get("tube_code"), item.get("result"), item.get("tested_at"))


def rows_from_file(stream: BinaryIO, filename: str) -> Iterator[Row]:
    """Rows from a CSV (UTF-8 or GB18030) or XLSX file ``tube_code,result[,tested_at]``."""
    for number, record in _records(stream, filename):
        yield make_row(number, record.get("tube_code"), record.get("result"), record.get("tested_at"))


def _records(stream, filename):
    from sampling.kernel.tabular import read_records
    return read_records(stream, filename, FILE_COLUMNS, required=("tube_code", "result"))
