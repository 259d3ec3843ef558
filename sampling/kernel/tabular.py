"""Reading the spreadsheets coordinators send: CSV in UTF-8, UTF-8 with BOM or GB18030/GBK
(as Excel saves it in China), and XLSX. Rows are streamed, never loaded whole."""
import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from sampling.errors import BadRequest

_SNIFF_BYTES = 256 * 1024
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls workbooks (and password-protected .xlsx)
_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?[eE]\+[0-9]{1,3}")
_LONG_NUMBER = 15  # Excel keeps 15 significant digits of a number


class LongNumber(str):
    """The text of an XLSX cell that held a number of 15 or more digits rather than text (an
    ID number typed into a cell not formatted as text)."""

    __slots__ = ()


class InexactNumber(LongNumber):
    """A LongNumber that was stored as a floating-point value: its digits past the 15th are lost."""

    __slots__ = ()


def digits_lost(value: str) -> bool:
    """Whether a cell's long number certainly lost digits: a floating-point cell of 15 or more
    digits, or the scientific notation (1.20101E+17) a CSV saved from such a sheet shows."""
    return isinstance(value, InexactNumber) or bool(_SCIENTIFIC.fullmatch(value.strip()))


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
        text = str(int(value))
        return InexactNumber(text) if len(text.lstrip("-")) >= _LONG_NUMBER else text
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= _LONG_NUMBER:
        return LongNumber(value)
    return str(value).strip()


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    buffered = io.BufferedReader(stream, buffer_size=_SNIFF_BYTES) if not hasattr(stream, "peek") else stream
    encoding = detect_encoding(buffered.peek(_SNIFF_BYTES)[:_SNIFF_BYTES])
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="", errors="strict")
    try:
        for row in csv.reader(text):
            yield [c.strip() for c in row]
    except UnicodeDecodeError as exc:
        raise BadRequest(_l("The file is not valid UTF-8 or GB18030 text (at byte %(n)s). Save it as CSV "
                            "(UTF-8 or GBK) or as an Excel workbook and upload it again.",
                            n=_bad_byte(buffered, exc)), code="unreadable_file") from exc
    except csv.Error as exc:
        raise BadRequest(_l("The file could not be read as CSV: a cell is too long or its quotes do not "
                            "match."), code="unreadable_file") from exc


def _bad_byte(buffered: io.BufferedReader, exc: UnicodeDecodeError) -> str:
    """Where the undecodable byte is in the file, counting from 1: the reader stands at the end of
    the chunk that failed, and the error's bytes end there too."""
    try:
        return str(buffered.tell() - len(exc.object) + exc.start + 1)
    except OSError:  # a stream that cannot tell its position
        return "?"


def _xlsx_rows(stream: BinaryIO) -> Iterator[list[str]]:
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise BadRequest(_l("The file could not be read as an Excel workbook."),
                         code="unreadable_file") from exc
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    except Exception as exc:  # damaged inside (a zip member, the sheet's XML): found only while reading
        raise BadRequest(_l("The file could not be read as an Excel workbook."),
                         code="unreadable_file") from exc
    finally:
        book.close()


def _refuse_old_workbook(stream: BinaryIO) -> None:
    """An old .xls (OLE2) file is neither CSV nor XLSX: say so instead of failing on its bytes."""
    if hasattr(stream, "peek"):
        head = stream.peek(len(_OLE2))[:len(_OLE2)]
    elif getattr(stream, "seekable", lambda: False)():
        start = stream.tell()
        head = stream.read(len(_OLE2))
        stream.seek(start)
    else:
        return
    if head == _OLE2:
        raise BadRequest(_l("This is an old Excel file (.xls) or a password-protected workbook: "
                            "open it in Excel, save it as .xlsx (without a password) or CSV, "
                            "and upload that file."), code="unreadable_file")


def read_rows(stream: BinaryIO, filename: str) -> Iterator[list[str]]:
    """All rows of the first sheet (XLSX) or of the CSV file, header included, as lists of text.
    A cell holding a long number is a LongNumber (see ``digits_lost``)."""
    _refuse_old_workbook(stream)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(stream)
    return _csv_rows(stream)


def _header_names(field: str, names: tuple[str, ...] | None) -> str:
    """How a missing column is named: its first accepted header and its key, 编码 (code)."""
    return f"{names[0]} ({field})" if names else field


def read_records(stream: BinaryIO, filename: str, aliases: dict[str, tuple[str, ...]],
                 required: tuple[str, ...] = (), labels: dict | None = None
                 ) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as ``(row_number, {field: value})``, the header mapped through ``aliases``
    (field → accepted header names, Chinese or English). Blank rows are skipped; row numbers
    are those a spreadsheet shows (the header is row 1). A missing required column is named by
    its entry in ``labels`` (localized header names), else by its first accepted header name
    and its key."""
    rows = read_rows(stream, filename)
    header = next(rows, None)
    if header is None:
        raise BadRequest(_l("The file is empty."), code="empty_file")
    lookup = {name.strip().lower(): field for field, names in aliases.items() for name in (field, *names)}
    columns = [lookup.get(h.strip().lower().lstrip("\ufeff")) for h in header]
    missing = [f for f in required if f not in columns]
    if missing:
        names = [str(labels[f]) if labels and f in labels else _header_names(f, aliases.get(f)) for f in missing]
        raise BadRequest(_l("Missing columns: %(columns)s", columns=", ".join(names)),
                         code="missing_columns")
    for number, row in enumerate(rows, start=2):
        if not any(row):
            continue
        yield number, {f: (row[i] if i < len(row) else "") for i, f in enumerate(columns) if f}
