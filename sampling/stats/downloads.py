"""Statistics downloads: CSV (UTF-8 with BOM, so Excel in Chinese opens it right) and XLSX (XlsxWriter; one
sheet per level from the chosen level down to sites, header row, frozen panes, column widths,
numbers as numbers). The first sheet / the CSV holds exactly the rows the dashboard shows."""
import csv
import io

import xlsxwriter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sampling.stats import providers
from sampling.stats.aggregates import LEVELS, area_stats, child_level

LEVEL_NAMES = {"district": _l("Districts"), "street": _l("Streets"), "community": _l("Communities"),
               "site": _l("Sites")}

# (key, header, width in characters); completion is a fraction shown as a percentage
COLUMNS = [
    ("code", _l("Code"), 14), ("name", _l("Area"), 24), ("registered", _l("Registered residents"), 12),
    ("sampled", _l("People sampled"), 12), ("supplementary", _l("Supplementary samples"), 12),
    ("samples", _l("Samples"), 10), ("tubes", _l("Tubes"), 10), ("tubes_open", _l("Tubes open"), 10),
    ("tubes_sealed", _l("Tubes sealed"), 10), ("tubes_boxed", _l("Tubes boxed"), 10),
    ("tubes_received", _l("Tubes received"), 10), ("tubes_resulted", _l("Tubes resulted"), 10),
    ("positive_pools", _l("Positive pools"), 10), ("positive_members", _l("People in positive pools"), 12),
    ("followup_positive_closed", _l("Positive-pool members with an individual result"), 14),
    ("positive_individuals", _l("Positive in 1-in-1 tubes"), 12),
    ("invalid_pools", _l("Invalid pools"), 10), ("invalid_members", _l("People in invalid pools"), 12),
    ("invalid_individuals", _l("Invalid in 1-in-1 tubes"), 12),
    ("followup_invalid_closed", _l("People of invalid tubes with a new result"), 14),
    ("roster_total", _l("On roster"), 10), ("roster_tested", _l("Roster tested"), 10),
    ("completion", _l("Completion"), 10), ("turnaround_minutes", _l("Sealing to result (min)"), 12),
]


def columns(result: dict) -> list[tuple]:
    """The columns of this result: ``registered`` except for sites, and the plug-in figures once
    their feature is registered (providers), whether or not any area has them yet."""
    hidden = set()
    if result["level"] == "site":
        hidden.add("registered")
    if providers.roster_provider() is None:
        hidden |= {"roster_total", "roster_tested", "completion"}
    if providers.followup_provider() is None:
        hidden |= {"followup_positive_closed", "followup_invalid_closed"}
    return [c for c in COLUMNS if c[0] not in hidden]


def _cells(row: dict, cols: list[tuple]) -> list:
    return [row.get(key) for key, _label, _width in cols]


def filename(result: dict, extension: str) -> str:
    """An ASCII file name: stats-round3-street-120101.csv."""
    parent = f"-{result['parent']['code']}" if result["parent"] else ""
    return f"stats-round{result['round_id']}-{result['level']}{parent}.{extension}"


def to_csv(result: dict) -> bytes:
    """The rows and a totals line as CSV, UTF-8 with a byte order mark."""
    out = io.StringIO()
    writer = csv.writer(out)
    cols = columns(result)
    writer.writerow([str(label) for _key, label, _width in cols])
    for row in result["rows"]:
        writer.writerow(["" if v is None else v for v in _cells(row, cols)])
    writer.writerow(["", _("Total")] + ["" if v is None else v for v in _cells(result["totals"], cols)[2:]])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _sheet(book: xlsxwriter.Workbook, formats: dict, title: str, result: dict) -> None:
    sheet = book.add_worksheet(title[:31])
    sheet.freeze_panes(1, 2)  # header row and code/name columns stay in view
    cols = columns(result)
    keys = [key for key, _label, _width in cols]
    percent = keys.index("completion") if "completion" in keys else -1
    for index, (_key, _label, width) in enumerate(cols):
        sheet.set_column(index, index, width, formats["percent"] if index == percent else None)
    sheet.write_row(0, 0, [str(label) for _key, label, _width in cols], formats["bold"])
    number = 0
    for number, row in enumerate(result["rows"], start=1):
        sheet.write_row(number, 0, _cells(row, cols))
    totals = [None, _("Total")] + _cells(result["totals"], cols)[2:]
    sheet.write_row(number + 1, 0, totals, formats["bold"])
    if percent >= 0 and totals[percent] is not None:
        sheet.write_number(number + 1, percent, totals[percent], formats["bold_percent"])


def to_xlsx(user, round_id, level: str, parent_code: str | None) -> tuple[bytes, dict]:
    """A workbook with one sheet per level, from ``level`` down to sites, all inside the same area."""
    results = []
    current = level
    while current is not None:
        results.append((current, area_stats(user, round_id, current, parent_code)))
        current = child_level(current)
    stream = io.BytesIO()
    book = xlsxwriter.Workbook(stream, {"in_memory": True})
    formats = {"bold": book.add_format({"bold": True}), "percent": book.add_format({"num_format": "0.0%"}),
               "bold_percent": book.add_format({"bold": True, "num_format": "0.0%"})}
    for current, result in results:
        _sheet(book, formats, str(LEVEL_NAMES[current]), result)
    book.close()
    return stream.getvalue(), results[0][1]


__all__ = ["COLUMNS", "LEVELS", "filename", "to_csv", "to_xlsx"]
