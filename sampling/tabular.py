"""Reading the spreadsheets coordinators send: CSV in UTF-8, UTF-8 with BOM or GB18030/GBK
(as Excel saves it in China), and XLSX. Rows are streamed, never loaded whole."""
import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from sampling.errors import BadRequest

_SNIFF_BYTES = 256 * 1024


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as such, else GB18030 (a superset of GBK)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    buffered = io.BufferedReader(stream, buffer_size=_SNIFF_BYTES) if not hasattr(stream, "peek") else stream
    encoding = detect_encoding(buffered.peek(_SNIFF_BYTES)[:_SNIFF_BYTES])
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="", errors="strict")
    try:
        for row in csv.reader(text):
            yield [c.strip() for c in row]
    except UnicodeDecodeError as exc:
        raise BadRequest(_l("The file is not text in UTF-8 or GB18030/GBK. Save it from Excel as CSV or as "
                            "an Excel workbook (.xlsx) and upload it again."), code="unreadable_file") from exc
    except csv.Error as exc:
        raise BadRequest(_l("The file could not be read as CSV: a cell is too long or its quotes do not "
                            "match."), code="unreadable_file") from exc


def _xlsx_rows(stream: BinaryIO) -> Iterator[list[str]]:
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise BadRequest(_l("The file could not be read as an Excel workbook."),
                         code="unreadable_file") from exc
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def read_rows(stream: BinaryIO, filename: str) -> Iterator[list[str]]:
    """All rows of the first sheet (XLSX) or of the CSV file, header included, as lists of text."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(stream)
    return _csv_rows(stream)


def read_records(stream: BinaryIO, filename: str, aliases: dict[str, tuple[str, ...]],
                 required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as ``(row_number, {field: value})``, the header mapped through ``aliases``
    (field → accepted header names, Chinese or English). Blank rows are skipped; row numbers
    are those a spreadsheet shows (the header is row 1)."""
    rows = read_rows(stream, filename)
    header = next(rows, None)
    if header is None:
        raise BadRequest(_l("The file is empty."), code="empty_file")
    lookup = {name.strip().lower(): field for field, names in aliases.items() for name in (field, *names)}
    columns = [lookup.get(h.strip().lower().lstrip("\ufeff")) for h in header]
    missing = [f for f in required if f not in columns]
    if missing:
        raise BadRequest(_l("Missing columns: %(columns)s", columns=", ".join(missing)),
                         code="missing_columns")
    for number, row in enumerate(rows, start=2):
        if not any(row):
            continue
        yield number, {f: (row[i] if i < len(row) else "") for i, f in enumerate(columns) if f}
