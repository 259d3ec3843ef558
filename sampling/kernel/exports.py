"""Writing lists as spreadsheets people open in Excel: CSV (UTF-8 with BOM, which Excel in China
opens correctly) streamed in chunks, and XLSX written row by row (openpyxl write-only mode) to a
temporary file. Cells that a spreadsheet would run as a formula are neutralised; control
characters are dropped."""
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CHUNK_ROWS = 1000


def safe_cell(value) -> str:
    """The value as text, without control characters (which XLSX cannot hold); one that starts
    like a formula gets a leading apostrophe, so that Excel and LibreOffice show it as text
    instead of running it (CSV/formula injection)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))  # control characters
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(header: list[str], rows: Iterable[Iterable]) -> Iterator[bytes]:
    """CSV bytes in chunks of a thousand rows, BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(v) for v in row])
        if count % _CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def xlsx_file(header: list[str], rows: Iterable[Iterable], title: str):
    """An XLSX workbook with one sheet, in a temporary file opened for reading (deleted on close)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet1")
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    handle = tempfile.TemporaryFile()
    book.save(handle)
    handle.seek(0)
    return handle


CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(fmt: str, header: list[str], rows: Iterable[Iterable], filename: str, title: str):
    """A Flask response for ``filename`` (its extension given by ``fmt``, csv or xlsx): the CSV
    streamed within the request's context (so that localized labels still resolve), the XLSX
    from its temporary file."""
    from flask import Response, send_file, stream_with_context
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(header, rows)), content_type=CSV_CONTENT_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return send_file(xlsx_file(header, rows, title), as_attachment=True, download_name=filename,
                     mimetype=XLSX_MIMETYPE)
