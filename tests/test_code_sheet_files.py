"""What a coordinator's list can hold besides good rows: control characters, ID numbers Excel
stored as numbers, an old .xls file, a header without rows, missing columns; and the list
import losing a race to a registration of the same person."""
import csv
import io
import re
import threading
import zipfile

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from sampling.errors import BadRequest, ValidationFailed
from sampling.extensions import db
from sampling.kernel.tabular import read_records
from sampling.models import CodeSheet, CodeSheetCard, Resident
from sampling.residents import code_sheets, registration
from tests.test_code_sheets import community, gb18030_csv, volunteer  # noqa: F401 (fixture)
from tests.test_identity import LEAP, VALID, id_card

STORED_AS_NUMBER = "证件号码列被存成了数字格式"  # report rows carry messages in the request's language


def xlsx_values(rows, header=("姓名", "证件号码", "联系电话"), exact: dict | None = None) -> io.BytesIO:
    """A workbook whose cells keep the Python types given (numbers stay numbers). Like Excel,
    openpyxl writes a long number with 15 significant digits; ``exact`` ({cell: digits}) writes
    those cells' numbers in full instead, as some other programs do."""
    book = Workbook()
    for row in [header, *rows]:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    if exact:
        source, buffer = zipfile.ZipFile(buffer), io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    for cell, digits in exact.items():
                        data = re.sub(rf'(<c r="{cell}" t="n"><v>)[^<]+'.encode(), rb"\g<1>" + digits.encode(), data)
                target.writestr(item, data)
    buffer.seek(0)
    return buffer


def quoted_csv(rows, header=("姓名", "证件类型", "证件号码", "联系电话", "住址")) -> io.BytesIO:
    """A GB18030 CSV as Excel writes it, cells quoted (so a line break can sit inside one)."""
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL).writerows([header, *rows])
    return io.BytesIO(text.getvalue().encode("gb18030"))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_control_characters_in_cells_are_dropped_not_fatal(volunteer):  # noqa: F811
    rows = [["王\x01大爷", "", VALID + "\x00", "", "养老院\x003楼\t301\x1b"],
            ["李奶奶\x00", "护照\x1f", "E1234\x005678", "139\x0000000001", "养老院\r\n302"]]
    report = code_sheets.import_list(volunteer, quoted_csv(rows), "养老院.csv", community(), "幸福\x00养老院")
    assert (report.created, report.rejected) == (2, 0)
    stored = db.session.execute(select(Resident.name, Resident.id_type, Resident.id_number, Resident.phone,
                                       Resident.address).order_by(Resident.id)).all()
    assert [tuple(r) for r in stored] == [("王大爷", "resident_id_card", VALID, None, "养老院3楼 301"),
                                          ("李奶奶", "passport", "E12345678", "13900000001", "养老院 302")]
    assert report.sheet.title == "幸福养老院"


def test_id_numbers_excel_stored_as_numbers_are_named_as_such(volunteer):  # noqa: F811
    excel_float = float(VALID[:15] + "000")   # what Excel keeps of 120101199001011239 typed as a number
    rows = [("甲", excel_float, ""),
            ("乙", int(LEAP), 13812345678),    # written in full (see ``exact``): all digits there
            ("丙", int(VALID[:15] + "000"), ""),  # written in full, but the digits are wrong
            ("丁", VALID, 13900000001)]        # text, as it should be; the phone a number
    exact = {"B3": LEAP, "B4": VALID[:15] + "000"}
    report = code_sheets.import_list(volunteer, xlsx_values(rows, exact=exact), "l.xlsx", community())
    by_row = {r["row"]: r for r in report.rows}
    assert {n: r["status"] for n, r in by_row.items()} == {2: "rejected", 3: "created", 4: "rejected", 5: "created"}
    assert by_row[2]["fields"]["id_number"].startswith(STORED_AS_NUMBER)
    assert by_row[4]["fields"]["id_number"].startswith(STORED_AS_NUMBER)
    phones = db.session.execute(select(Resident.id_number, Resident.phone).order_by(Resident.id)).all()
    assert [tuple(p) for p in phones] == [(LEAP, "13812345678"), (VALID, "13900000001")]


def test_scientific_notation_in_a_csv_is_named_too(volunteer):  # noqa: F811
    rows = [["甲", "", "1.20101E+17", "", ""], ["乙", "", VALID[:-1] + "0", "", ""]]
    report = code_sheets.import_list(volunteer, gb18030_csv(rows), "l.csv", community())
    messages = [r["fields"]["id_number"] for r in report.rows]
    assert messages[0].startswith(STORED_AS_NUMBER)
    assert messages[1] == "身份证号码校验位不符，请核对。"  # a plain typing error keeps its own message


@pytest.mark.parametrize("rows", [[], [["", "", "", "", ""], [" ", "", "", "", ""]]])
def test_a_list_without_rows_is_refused(volunteer, rows):  # noqa: F811
    with pytest.raises(ValidationFailed) as exc:
        code_sheets.import_list(volunteer, gb18030_csv(rows), "l.csv", community())
    assert (exc.value.status, exc.value.code) == (422, "empty_list")
    with force_locale("zh"):
        assert str(exc.value.message) == "名单中表头下面没有数据行。"
    assert count(CodeSheet) == 0 and count(Resident) == 0


@pytest.mark.parametrize("filename", ["名单.xls", "名单.xlsx", "名单.csv"])
def test_an_old_xls_workbook_is_refused_with_advice(volunteer, filename):  # noqa: F811
    ole2 = io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(BadRequest) as exc:
        code_sheets.import_list(volunteer, ole2, filename, community())
    assert exc.value.code == "unreadable_file"
    with force_locale("en"):
        assert ".xlsx" in str(exc.value.message) and "old Excel file (.xls)" in str(exc.value.message)
    assert count(CodeSheet) == 0


def test_missing_columns_are_named_by_headers_people_use(volunteer):  # noqa: F811
    for locale, expected in [("zh", "缺少列：姓名, 证件号码"), ("en", "Missing columns: Name, Document number")]:
        with force_locale(locale), pytest.raises(BadRequest) as exc:
            code_sheets.import_list(volunteer, gb18030_csv([["x"]], ["名称"]), "l.csv", community())
        with force_locale(locale):
            assert str(exc.value.message) == expected
    # the English names shown are headers the import accepts
    report = code_sheets.import_list(volunteer, gb18030_csv([["Anna", VALID]], ["Name", "Document number"]),
                                     "l.csv", community())
    assert report.created == 1


def test_other_lists_name_a_missing_column_by_its_first_header(app):
    aliases = {"code": ("编码", "代码"), "name": ("名称",), "level": ()}
    with force_locale("en"), pytest.raises(BadRequest) as exc:
        list(read_records(io.BytesIO("名称\r\n和平区\r\n".encode()), "r.csv", aliases, ("code", "name", "level")))
    with force_locale("en"):
        assert str(exc.value.message) == "Missing columns: 编码 (code), level"


def test_list_import_losing_a_race_to_a_registration(volunteer, server, is_postgres, monkeypatch):  # noqa: F811
    """Between the import's look-up and its insert, two people register from their phones (their
    own transaction, committed): one is a person of the list, one uses a listed number under
    another name. The import finds the first and refuses the second; nothing is doubled."""
    if not is_postgres:
        pytest.skip("SQLite lets one writer at a time: the import holds the lock, no registration can interleave")
    same, other = id_card("12010119500101123"), id_card("12010119500101124")
    look_up, calls = code_sheets._known_names, []

    def register_meanwhile():
        with server.app_context():
            for name, number in [("甲", same), ("别人", other)]:
                registration.register({"name": name, "id_type": "resident_id_card", "id_number": number,
                                    "phone": "13812345678", "region_code": "120101001001"})
            db.session.commit()
            db.session.remove()

    def spy(numbers):
        found = look_up(numbers)
        if not calls:
            thread = threading.Thread(target=register_meanwhile)
            thread.start()
            thread.join(30)
        calls.append(numbers)
        return found

    monkeypatch.setattr(code_sheets, "_known_names", spy)
    report = code_sheets.import_list(volunteer, gb18030_csv([["甲", "", same, "", ""], ["乙", "", other, "", ""]]),
                                     "l.csv", community())
    assert len(calls) == 2  # the first look-up found nothing; the lost inserts were looked up again
    assert [(r["row"], r["status"]) for r in report.rows] == [(2, "existing"), (3, "rejected")]
    assert set(report.rows[1]["fields"]) == {"name"}
    assert count(Resident) == 2 and count(CodeSheetCard) == 1
    card_owner = db.session.scalar(select(Resident.name).join(CodeSheetCard, CodeSheetCard.resident_id == Resident.id))
    assert card_owner == "甲"
