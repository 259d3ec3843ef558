"""Printed codes for people without phones (录入身份证信息生成二维码): a list uploaded by staff
(a nursing home, a building, a school class) becomes residents, row by row, and one print-ready
sheet of code cards.

The list is streamed (``read_records``) and handled in chunks: each chunk is validated, looked up
with one query, inserted with one bulk INSERT (ON CONFLICT DO NOTHING, so a resident registering
at the same moment is found, not duplicated) and its cards added with one more.
"""
import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from sampling.errors import Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.kernel import regions, tabular
from sampling.kernel.access import require_role
from sampling.models import CodeSheet, CodeSheetCard, Region, RegionLevel, Resident, ResidentSource, Role, User
from sampling.residents import codes, identity, registration

ALIASES = {
    "name": ("姓名", "名字", "居民姓名"),
    "id_type": ("证件类型", "type", "document type"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "证件号", "id number", "id_card", "document number"),
    "phone": ("联系电话", "手机号", "手机号码", "电话", "mobile"),
    "address": ("住址", "地址", "家庭住址", "现住址"),
    "region_code": ("社区编码", "社区代码", "community_code"),
}
REQUIRED = ("name", "id_number")
CHOOSE_COMMUNITY = _l("Choose the community.")
LABELS = {"name": _l("Name"), "id_number": _l("Document number")}  # headers accepted in both languages
STORED_AS_NUMBER = _l("The ID number column is stored as numbers, which loses the last digits: "
                      "format the column as text, type the numbers again and save.")
CHUNK_ROWS = 500
MAX_REPORTED_ROWS = 2000  # the report lists this many rows; the counts are always complete
CARD_BOX_SIZE = 4         # pixels per module on the printed card (scaled to about 30 mm by CSS)


@dataclass
class ImportReport:
    """What became of each row: created, already registered (existing) or rejected (with reasons)."""

    sheet: CodeSheet
    created: int = 0
    existing: int = 0
    rejected: int = 0
    rows: list[dict] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.existing

    def add(self, row: int, status: str, data: dict, fields: dict | None = None) -> None:
        setattr(self, status, getattr(self, status) + 1)
        if len(self.rows) < MAX_REPORTED_ROWS:
            self.rows.append({"row": row, "status": status,
                              "name_masked": identity.mask_name(identity.clean_text(data.get("name"))),
                              "id_masked": identity.mask_document(identity.normalize_document(data.get("id_number"))),
                              "fields": {k: str(v) for k, v in (fields or {}).items()}})

    def to_dict(self) -> dict:
        return {"sheet_id": self.sheet.id, "created": self.created, "existing": self.existing,
                "rejected": self.rejected, "accepted": self.accepted, "rows": self.rows,
                "rows_truncated": len(self.rows) < self.created + self.existing + self.rejected}


def import_list(user: User, stream, filename: str, community: Region, title: str | None = None) -> ImportReport:
    """Create (or find) the residents of an uploaded CSV/XLSX list and one code sheet of their
    cards, in the list's order. Rows without a community code column go to ``community``.
    A file that cannot be read, or has no rows, is refused whole; bad rows are reported, the
    others kept."""
    require_role(user, registration.STAFF_ROLES)
    if community.level != RegionLevel.COMMUNITY.value:
        raise ValidationFailed(fields={"region_code": CHOOSE_COMMUNITY})
    registration.require_community(user, community)
    sheet = CodeSheet(title=(identity.clean_text(title) or identity.clean_text(filename))[:200],
                      created_by=user, card_count=0)
    db.session.add(sheet)
    db.session.flush()
    report = ImportReport(sheet=sheet)
    places: dict[str, Region | None] = {}
    try:
        for chunk in _batched(tabular.read_records(stream, filename, ALIASES, REQUIRED, LABELS), CHUNK_ROWS):
            _import_chunk(user, chunk, community, places, report)
        if not report.created + report.existing + report.rejected:
            raise ValidationFailed(_l("The list has no rows below the header."), code="empty_list")
        db.session.commit()
        report.rows.sort(key=lambda r: r["row"])
    except Exception:
        db.session.rollback()
        raise
    return report


def upload_community(code) -> Region:
    """The community chosen for a list upload: ValidationFailed when none is, NotFound for an unknown code."""
    code = identity.clean_text(code)
    if not code:
        raise ValidationFailed(fields={"region_code": CHOOSE_COMMUNITY})
    return regions.get_region(code)


def _batched(rows, size):
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def _community_for(user: User, code: str, default: Region, places: dict) -> Region | None:
    code = identity.clean_text(code)
    if not code:
        return default
    if code not in places:
        place = db.session.scalar(select(Region).where(Region.code == code))
        if place is not None and place.level == RegionLevel.COMMUNITY.value:
            try:
                registration.require_community(user, place)
            except Forbidden:
                place = None
        else:
            place = None
        places[code] = place
    return places[code]


def _clean_row(data: dict) -> tuple[dict | None, dict]:
    """A row's cleaned registration fields, or the errors of its bad fields. An ID number that
    a spreadsheet stored as a number says so, rather than blaming the check digit."""
    cleaned, fields = None, {}
    try:
        cleaned = registration.clean_registration(data, phone_required=False, community_required=False)
    except ValidationFailed as exc:
        fields = dict(exc.fields)
    raw_number = data.get("id_number", "")
    if tabular.digits_lost(raw_number) or ("id_number" in fields and isinstance(raw_number, tabular.LongNumber)):
        fields["id_number"] = STORED_AS_NUMBER
    return cleaned, fields


def _import_chunk(user, chunk, default, places, report: ImportReport) -> None:
    valid = []
    for number, data in chunk:
        data = {**data, "id_type": data.get("id_type") or "resident_id_card"}
        community = _community_for(user, data.pop("region_code", ""), default, places)
        cleaned, fields = _clean_row(data)
        if fields:
            report.add(number, "rejected", data, fields)
            continue
        if community is None:
            report.add(number, "rejected", data, {"region_code": _l("Unknown community, or not one of yours.")})
            continue
        valid.append((number, data, cleaned, community))
    if not valid:
        return
    known = _known_names({c["id_number"] for _, _, c, _ in valid})
    new = {}
    for _, _, c, community in valid:
        key = (c["id_type"], c["id_number"])
        if key not in known and key not in new:
            new[key] = {"name": c["name"], "id_type": c["id_type"], "id_number": c["id_number"],
                        "phone": c["phone"], "address": c["address"], "community_id": community.id,
                        "source": ResidentSource.BATCH.value}
    inserted = _insert(list(new.values()))
    lost = [key for key in new if key not in inserted]  # registered meanwhile by someone else
    known.update(_known_names({number for _, number in lost}))
    known.update({key: (rid, new[key]["name"]) for key, rid in inserted.items()})
    cards = []
    for number, data, c, _ in valid:
        rid, name = known[(c["id_type"], c["id_number"])]
        if name != c["name"]:
            report.add(number, "rejected", data, {"name": _l("This document number is registered under another name.")})
            continue
        created = (c["id_type"], c["id_number"]) in inserted
        inserted.pop((c["id_type"], c["id_number"]), None)  # a repeat in the file is "existing"
        report.add(number, "created" if created else "existing", data)
        cards.append({"sheet_id": report.sheet.id, "position": report.sheet.card_count + len(cards) + 1,
                      "resident_id": rid})
    if cards:
        db.session.execute(CodeSheetCard.__table__.insert(), cards)
        report.sheet.card_count += len(cards)


def _known_names(numbers: set[str]) -> dict:
    rows = db.session.execute(select(Resident.id, Resident.id_type, Resident.id_number, Resident.name)
                              .where(Resident.id_number.in_(numbers))) if numbers else []
    return {(t, n): (rid, name) for rid, t, n, name in rows}


def _insert(rows: list[dict]) -> dict:
    """Bulk insert, skipping documents already registered; {(id_type, id_number): id} of the new rows."""
    if not rows:
        return {}
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(Resident.__table__).on_conflict_do_nothing(index_elements=["id_type", "id_number"])
                 .returning(Resident.__table__.c.id, Resident.__table__.c.id_type, Resident.__table__.c.id_number))
    result = db.session.execute(statement, rows)
    return {(t, n): rid for rid, t, n in result}


def get_sheet(user: User, sheet_id: int) -> CodeSheet:
    """A sheet its creator (or an admin) may print."""
    sheet = db.session.get(CodeSheet, sheet_id)
    if sheet is None:
        raise NotFound(_l("This code sheet does not exist."), code="unknown_sheet")
    if user.role != Role.ADMIN.value and sheet.created_by_id != user.id:
        raise Forbidden(code="forbidden_sheet")
    return sheet


def recent_sheets(user: User, limit: int = 10) -> list[CodeSheet]:
    """The latest sheets the user may print (their own; every sheet for admins)."""
    query = select(CodeSheet).order_by(CodeSheet.id.desc()).limit(limit)
    if user.role != Role.ADMIN.value:
        query = query.where(CodeSheet.created_by_id == user.id)
    return list(db.session.scalars(query))


def png_data_uri(token: str) -> str:
    """The code as an inline PNG for a printed card."""
    return "data:image/png;base64," + base64.b64encode(codes.render_png(token, box_size=CARD_BOX_SIZE)).decode()


def print_card(resident_id: int, name: str, id_number: str, community: str | None, code_version: int = 0) -> dict:
    """A printed card: the code (of the record's current version), the full name (so its owner
    recognises it), the masked number."""
    token = codes.token_for(resident_id, code_version)
    return {"qr": token, "png": png_data_uri(token), "name": name,
            "id_masked": identity.mask_document(id_number), "community": community or ""}


def sheet_cards(sheet: CodeSheet) -> Iterator[dict]:
    """The sheet's cards in list order, streamed from the database."""
    query = (select(Resident.id, Resident.name, Resident.id_number, Region.name, Resident.code_version)
             .join(CodeSheetCard, CodeSheetCard.resident_id == Resident.id)
             .outerjoin(Region, Region.id == Resident.community_id)
             .where(CodeSheetCard.sheet_id == sheet.id).order_by(CodeSheetCard.position))
    for row in db.session.execute(query.execution_options(yield_per=CHUNK_ROWS)):
        yield print_card(*row)

