"""Uploaded lists (GB18030 CSV, XLSX) become residents and one sheet of printed code cards."""
import base64
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from sampling.errors import BadRequest, Forbidden, NotFound
from sampling.extensions import db
from sampling.models import CodeSheetCard, Region, Resident
from sampling.residents import code_sheets, codes, registration
from tests.test_codes import decode_png
from tests.test_identity import LEAP, VALID, X_CHECK, id_card

HEADER = ["姓名", "证件类型", "证件号码", "联系电话", "住址"]
ROWS = [
    ["王大爷", "居民身份证", VALID, "", "养老院3楼301"],
    ["李奶奶", "身份证", X_CHECK.lower(), "13900000001", "养老院3楼302"],
    ["坏号码", "居民身份证", VALID[:-1] + "0", "", ""],           # wrong check digit
    ["", "居民身份证", LEAP, "", ""],                              # no name
    ["王大爷", "居民身份证", VALID, "", ""],                       # repeated in the file: same person
    ["冒名者", "居民身份证", VALID, "", ""],                       # same number, another name
    ["Anna Smith", "护照", "E12345678", "", ""],
    ["张小宝", "", LEAP, "1380000000", ""],                        # bad phone
]


def gb18030_csv(rows, header=HEADER) -> io.BytesIO:
    text = "\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n"
    return io.BytesIO(text.encode("gb18030"))


def xlsx(rows, header=HEADER) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def community(code="120101001001") -> Region:
    return db.session.scalar(select(Region).where(Region.code == code))


@pytest.fixture
def volunteer(demo_city, make_user):
    return make_user("sampler", sites=("S-HP-001",))  # S-HP-001 is in 新华里社区 120101001001


@pytest.mark.parametrize("make_file, filename", [(gb18030_csv, "养老院.csv"), (xlsx, "养老院.xlsx")])
def test_list_is_imported_row_by_row(volunteer, make_file, filename):
    report = code_sheets.import_list(volunteer, make_file(ROWS), filename, community())
    statuses = {r["row"]: r["status"] for r in report.rows}
    assert statuses == {2: "created", 3: "created", 4: "rejected", 5: "rejected", 6: "existing",
                        7: "rejected", 8: "created", 9: "rejected"}
    assert (report.created, report.existing, report.rejected, report.accepted) == (3, 1, 4, 4)
    fields = {r["row"]: set(r["fields"]) for r in report.rows if r["status"] == "rejected"}
    assert fields == {4: {"id_number"}, 5: {"name"}, 7: {"name"}, 9: {"phone"}}
    assert report.rows[0]["name_masked"] == "王*爷" and "*" in report.rows[0]["id_masked"]
    people = db.session.scalars(select(Resident).order_by(Resident.id)).all()
    assert [(p.name, p.source, p.community.code) for p in people] == [
        ("王大爷", "batch", "120101001001"), ("李奶奶", "batch", "120101001001"),
        ("Anna Smith", "batch", "120101001001")]
    assert people[1].id_number == X_CHECK and people[1].phone == "13900000001"
    assert people[2].id_type == "passport"
    assert report.sheet.card_count == 4


def test_sheet_cards_follow_the_list_and_decode(volunteer):
    report = code_sheets.import_list(volunteer, gb18030_csv(ROWS), "list.csv", community())
    cards = list(code_sheets.sheet_cards(report.sheet))
    assert [c["name"] for c in cards] == ["王大爷", "李奶奶", "王大爷", "Anna Smith"]
    assert cards[0]["id_masked"] == VALID[:6] + "********" + VALID[-4:]
    assert cards[0]["community"] == "新华里社区"
    for card in cards:
        png = base64.b64decode(card["png"].removeprefix("data:image/png;base64,"))
        assert decode_png(png) == [card["qr"]]
        assert registration.get_by_code(card["qr"]).name == card["name"]


def test_existing_registration_is_found_not_duplicated(volunteer):
    mine, _ = registration.register({"name": "李奶奶", "id_type": "resident_id_card", "id_number": X_CHECK,
                                  "phone": "13900000001", "region_code": "120101001001"})
    db.session.commit()
    report = code_sheets.import_list(volunteer, gb18030_csv(ROWS[:2]), "list.csv", community())
    assert (report.created, report.existing) == (1, 1)
    cards = list(code_sheets.sheet_cards(report.sheet))
    assert cards[1]["qr"] == codes.token_for(mine.id)


def test_community_column_overrides_the_default_within_scope(demo_city, make_user):
    coordinator = make_user("coordinator", region="120101")
    header = ["姓名", "证件号码", "社区编码"]
    rows = [["甲", VALID, "120101002001"], ["乙", LEAP, "120102001001"], ["丙", X_CHECK, ""]]
    report = code_sheets.import_list(coordinator, gb18030_csv(rows, header), "l.csv", community())
    assert [r["status"] for r in report.rows] == ["created", "rejected", "created"]
    assert set(report.rows[1]["fields"]) == {"region_code"}
    assert [p.community.code for p in db.session.scalars(select(Resident).order_by(Resident.id))] == [
        "120101002001", "120101001001"]


def test_volunteer_may_not_import_into_another_community(volunteer):
    with pytest.raises(Forbidden):
        code_sheets.import_list(volunteer, gb18030_csv(ROWS), "l.csv", community("120102001001"))


def test_lab_staff_may_not_import(demo_city, make_user):
    with pytest.raises(Forbidden):
        code_sheets.import_list(make_user("lab"), gb18030_csv(ROWS), "l.csv", community())


def test_missing_columns_and_unreadable_files_are_refused_whole(volunteer):
    with pytest.raises(BadRequest) as exc:
        code_sheets.import_list(volunteer, gb18030_csv([["x"]], ["名称"]), "l.csv", community())
    assert exc.value.code == "missing_columns"
    with pytest.raises(BadRequest):
        code_sheets.import_list(volunteer, io.BytesIO(b"PK\x03\x04 broken"), "l.xlsx", community())
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_large_list_is_imported_in_chunks(volunteer, monkeypatch):
    monkeypatch.setattr(code_sheets, "CHUNK_ROWS", 7)
    rows = [[f"居民{i}", "", id_card(f"120101198001{(i % 28) + 1:02d}{i:03d}"), "", ""] for i in range(60)]
    rows.insert(30, rows[3])  # a repeat across chunks
    report = code_sheets.import_list(volunteer, gb18030_csv(rows), "big.csv", community())
    assert (report.created, report.existing, report.rejected) == (60, 1, 0)
    assert db.session.scalar(select(func.count()).select_from(CodeSheetCard)) == 61
    positions = db.session.scalars(select(CodeSheetCard.position).order_by(CodeSheetCard.position)).all()
    assert positions == list(range(1, 62))


def test_sheet_belongs_to_its_creator_and_admins(volunteer, make_user):
    report = code_sheets.import_list(volunteer, gb18030_csv(ROWS[:1]), "l.csv", community())
    assert code_sheets.get_sheet(volunteer, report.sheet.id) is report.sheet
    assert code_sheets.get_sheet(make_user("admin"), report.sheet.id) is report.sheet
    with pytest.raises(Forbidden):
        code_sheets.get_sheet(make_user("sampler", sites=("S-HP-001",)), report.sheet.id)
    with pytest.raises(NotFound):
        code_sheets.get_sheet(volunteer, 999999)


def test_staff_entry_needs_a_community_in_scope_and_no_phone(volunteer):
    data = {"name": "王大爷", "id_type": "resident_id_card", "id_number": VALID, "region_code": "120101001001"}
    resident, created = registration.register_by_staff(volunteer, data)
    assert created and resident.source == "staff" and resident.phone is None
    again, created = registration.register_by_staff(volunteer, data)
    assert again.id == resident.id and not created
    with pytest.raises(Forbidden):
        registration.register_by_staff(volunteer, {**data, "id_number": LEAP, "region_code": "120102001001"})
