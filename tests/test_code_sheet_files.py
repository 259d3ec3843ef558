"""What a coordinator's list can hold besides good rows: control characters."""
import csv
import io

from sqlalchemy import func, select

from sampling.extensions import db
from sampling.models import Resident
from sampling.services import code_sheets
from tests.test_code_sheets import community, volunteer  # noqa: F401 (fixture)
from tests.test_identity import VALID


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
