"""Statistics downloads: CSV (UTF-8 with BOM, so Excel in Chinese opens it right) and XLSX (one
sheet per level from the chosen level down to sites, header row, frozen panes, column widths,
numbers as numbers). The first sheet / the CSV holds exactly the rows the dashboard shows."""
import csv
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from sampling.services.stats import LEVELS, area_stats, child_level

LEVEL_NAMES = {"district": _l("Districts"), "street": _l("Streets"), "community": _l("Communities"),
               "site": _l("Sites")}

# (key, header, width in characters); completion is a fraction shown as a percentage
COLUMNS = [
    ("code", _l("Code"), 14), ("name", _l("Name"), 24), ("registered", _l("Registered residents"), 12),
    ("sampled", _l("People sampled"), 12), ("supplementary", _l("Supplementary samples"), 12),
    ("samples", _l("Samples"), 10), ("tubes", _l("Tubes"), 10), ("tubes_open", _l("Tubes open"), 10),
    ("tubes_sealed", _l("Tubes sealed"), 10), ("tubes_boxed", _l("Tubes boxed"), 10),
    ("tubes_received", _l("Tubes received"), 10), ("tubes_resulted", _l("Tubes resulted"), 10),
    ("positive_pools", _l("Positive pools"), 10), ("positive_members", _l("People in positive pools"), 12),
    ("invalid_pools", _l("Invalid pools"), 10), ("invalid_members", _l("People in invalid pools"), 12),
    ("followup_total", _l("Pool members to retest"), 12), ("followup_closed", _l("Pool members retested"), 12),
    ("roster_total", _l("On roster"), 10), ("roster_tested", _l("Roster tested"), 10),
    ("completion", _l("Completion"), 10), ("turnaround_minutes", _l("Sealing to result (min)"), 12),
]


def _cells(row: dict) -> list:
    return [row.get(key) for key, _label, _width in COLUMNS]


def filename(result: dict, extension: str) -> str:
    """An ASCII file name: stats-round3-street-120101.csv."""
    parent = f"-{result['parent']['code']}" if result["parent"] else ""
    return f"stats-round{result['round_id']}-{result['level']}{parent}.{extension}"


def to_csv(result: dict) -> bytes:
    """The rows and a totals line as CSV, UTF-8 with a byte order mark."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(label) for _key, label, _width in COLUMNS])
    for row in result["rows"]:
        writer.writerow(["" if v is None else v for v in _cells(row)])
    writer.writerow(["", _("Total")] + ["" if v is None else v for v in _cells(result["totals"])[2:]])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _sheet(book: Workbook, title: str, result: dict) -> None:
    sheet = book.create_sheet(title=title[:31])
    sheet.freeze_panes = "C2"
    for index, (_key, _label, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    bold = Font(bold=True)
    header = []
    for _key, label, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    percent = COLUMNS.index(next(c for c in COLUMNS if c[0] == "completion"))

    def line(values: list, font=None) -> list:
        cells = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if index == percent:
                cell.number_format = "0.0%"
            if font is not None:
                cell.font = font
            cells.append(cell)
        return cells

    for row in result["rows"]:
        sheet.append(line(_cells(row)))
    sheet.append(line([None, _("Total")] + _cells(result["totals"])[2:], bold))


def to_xlsx(user, round_id, level: str, parent_code: str | None) -> tuple[bytes, dict]:
    """A workbook with one sheet per level, from ``level`` down to sites, all inside the same area."""
    book = Workbook(write_only=True)
    first = None
    current = level
    while current is not None:
        result = area_stats(user, round_id, current, parent_code)
        first = first or result
        _sheet(book, str(LEVEL_NAMES[current]), result)
        current = child_level(current)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue(), first


__all__ = ["COLUMNS", "LEVELS", "filename", "to_csv", "to_xlsx"]
