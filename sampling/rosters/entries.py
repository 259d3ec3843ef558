"""One roster row at a time: which column holds which field (Chinese or English headers, or the
user's own mapping), and the checks a row must pass (the same normalisation as registration)."""
import json
import unicodedata
from collections.abc import Iterable, Iterator

from flask_babel import lazy_gettext as _l

from sampling.errors import ValidationFailed
from sampling.models import IdType
from sampling.residents.identity import (
    ID_TYPE_LABELS,
    InvalidValue,
    normalize_document,
    validate_document,
    validate_name,
    validate_phone,
)

FIELDS = ("name", "id_type", "id_number", "phone", "community", "building", "unit", "room", "address")
REQUIRED = ("name", "id_number")
FIELD_LABELS = {
    "name": _l("Name"), "id_type": _l("Document type"), "id_number": _l("Document number"),
    "phone": _l("Phone"), "community": _l("Community"), "building": _l("Building"), "unit": _l("Unit"),
    "room": _l("Room"), "address": _l("Address"),
}
ALIASES = {
    "name": ("姓名", "名字", "居民姓名", "name", "fullname"),
    "id_type": ("证件类型", "证件种类", "idtype", "documenttype"),
    "id_number": ("证件号码", "证件号", "身份证号", "身份证号码", "身份证", "公民身份号码", "idnumber", "idno",
                  "documentnumber"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "phone", "mobile", "tel"),
    "community": ("社区", "所属社区", "社区名称", "村", "社区(村)", "community"),
    "building": ("楼栋", "楼号", "楼栋号", "楼", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("门牌", "门牌号", "房号", "房间号", "室", "room"),
    "address": ("住址", "地址", "家庭住址", "现住址", "居住地址", "address"),
}
ID_TYPE_VALUES = {
    "居民身份证": IdType.RESIDENT_ID_CARD.value, "身份证": IdType.RESIDENT_ID_CARD.value,
    "护照": IdType.PASSPORT.value, "港澳通行证": IdType.HK_MACAO_PERMIT.value,
    "港澳居民来往内地通行证": IdType.HK_MACAO_PERMIT.value, "回乡证": IdType.HK_MACAO_PERMIT.value,
    "台湾居民来往大陆通行证": IdType.TAIWAN_PERMIT.value, "台胞证": IdType.TAIWAN_PERMIT.value,
    "外国人永久居留身份证": IdType.FOREIGN_PERMANENT_RESIDENT.value,
    "外国人永久居留证": IdType.FOREIGN_PERMANENT_RESIDENT.value, "其他": IdType.OTHER.value,
    "ID card": IdType.RESIDENT_ID_CARD.value, "resident identity card": IdType.RESIDENT_ID_CARD.value,
    "resident ID card": IdType.RESIDENT_ID_CARD.value, "other": IdType.OTHER.value,
}
ERROR_MESSAGES = {
    "missing_name": _l("The name is missing."),
    "invalid_name": _l("The name is too long or contains characters that are not allowed."),
    "invalid_id_type": _l("Unknown document type."),
    "missing_id_number": _l("The document number is missing."),
    "invalid_id_number": _l("The document number is not valid."),
    "duplicate": _l("This document number is already on an earlier row of the roster."),
}
_LIMITS = {"name": 100, "id_type": 32, "id_number": 64, "phone": 32, "community": 100, "building": 50,
           "unit": 50, "room": 50, "address": 200}


def _header_key(text: str) -> str:
    key = unicodedata.normalize("NFKC", text or "").lstrip("\ufeff").strip().lower()
    return "".join(c for c in key if c not in " _-*:：")


_LOOKUP = {_header_key(alias): field for field, names in ALIASES.items() for alias in (field, *names)}


def _id_type_key(text: str) -> str:
    return _header_key(text)


_ID_TYPES = {**{_id_type_key(k): v for k, v in ID_TYPE_VALUES.items()},
             **{_id_type_key(t.value): t.value for t in IdType}}


def error_message(code: str) -> str:
    return str(ERROR_MESSAGES.get(code, code))


def column_label(field: str | None) -> str:
    """The localized name of a field (``id_number`` → 证件号码), as the user sees the column."""
    return str(FIELD_LABELS[field]) if field in FIELD_LABELS else (field or "")


def guess_mapping(header: list[str]) -> dict[str, int | None]:
    """Field → index of the column whose header names it (first match), or None."""
    mapping: dict[str, int | None] = dict.fromkeys(FIELDS)
    for index, cell in enumerate(header):
        field = _LOOKUP.get(_header_key(cell))
        if field and mapping[field] is None:
            mapping[field] = index
    return mapping


def resolve_columns(header: list[str], mapping=None) -> dict[str, int]:
    """The column of each field: the user's mapping (field → column index, JSON text accepted)
    when given, else guessed from the header. Name and document number are required."""
    if isinstance(mapping, str) and mapping.strip():
        try:
            mapping = json.loads(mapping)
        except ValueError:
            raise ValidationFailed(fields={"mapping": _l("The column mapping is not valid.")}) from None
    if mapping:
        if not isinstance(mapping, dict):
            raise ValidationFailed(fields={"mapping": _l("The column mapping is not valid.")})
        columns = {}
        for field, index in mapping.items():
            if index is None or index == "":
                continue
            if field not in FIELDS or isinstance(index, bool) or not isinstance(index, int) \
                    or not 0 <= index < len(header):
                raise ValidationFailed(fields={"mapping": _l("The column mapping is not valid.")})
            columns[field] = index
    else:
        columns = {f: i for f, i in guess_mapping(header).items() if i is not None}
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ValidationFailed(
            _l("Choose which columns hold the name and the document number."), code="unmapped_columns",
            fields={f: _l("No column chosen for %(field)s.", field=FIELD_LABELS[f]) for f in missing})
    return columns


class Counter:
    """Rows seen and rows that passed the per-row checks, counted as the file streams."""

    def __init__(self) -> None:
        self.total = 0
        self.valid = 0


_PLAIN = ("community", "building", "unit", "room", "address")
_NFKC = unicodedata.normalize


def check_row(values: dict[str, str]) -> tuple[dict[str, str], str | None, str | None]:
    """Normalised values, and the first problem found (error code, column) or (None, None).
    ``values`` holds the mapped columns only. Runs once per row of a million-row file: lean."""
    out = {f: _NFKC("NFKC", values[f]).strip()[:_LIMITS[f]] if f in values else "" for f in _PLAIN}
    raw_type = values.get("id_type", "")
    id_type = _ID_TYPES.get(_id_type_key(raw_type)) if raw_type else IdType.RESIDENT_ID_CARD.value
    raw_name, raw_number, raw_phone = values.get("name", ""), values.get("id_number", ""), values.get("phone", "")
    out["id_type"] = id_type or raw_type[:_LIMITS["id_type"]]
    out["phone"] = raw_phone[:_LIMITS["phone"]]
    out["name"] = raw_name.strip()[:_LIMITS["name"]]
    out["id_number"] = raw_number.strip()[:_LIMITS["id_number"]]
    if id_type is None:
        return out, "invalid_id_type", "id_type"
    if not out["id_number"]:
        return out, "missing_id_number", "id_number"
    try:
        out["id_number"] = validate_document(id_type, raw_number)
    except InvalidValue:
        out["id_number"] = normalize_document(raw_number)[:_LIMITS["id_number"]]
        return out, "invalid_id_number", "id_number"
    if not out["name"]:
        return out, "missing_name", "name"
    try:
        out["name"] = validate_name(raw_name)
    except InvalidValue:
        return out, "invalid_name", "name"
    if raw_phone:
        try:
            out["phone"] = validate_phone(raw_phone, required=False) or ""
        except InvalidValue:
            pass  # a bad phone number is kept as written: the row is still a person to find
    return out, None, None


def parse(rows: Iterable[list[str]], columns: dict[str, int], roster_id: int,
          counter: Counter) -> Iterator[tuple]:
    """Rows (after the header) → tuples for roster_entries; blank rows are skipped.
    Row numbers are those a spreadsheet shows (the header is row 1)."""
    items = tuple(columns.items())
    for number, row in enumerate(rows, start=2):
        if not any(row):
            continue
        if "\x00" in "".join(row):  # PostgreSQL cannot store NUL in text
            row = [c.replace("\x00", "") for c in row]
        width = len(row)
        out, error, column = check_row({f: row[i] for f, i in items if i < width})
        counter.total += 1
        if error is None:
            counter.valid += 1
        yield (roster_id, number, out["name"], out["id_type"], out["id_number"], out["phone"], out["community"],
               out["building"], out["unit"], out["room"], out["address"], error, column)


def id_type_label(value: str) -> str:
    return str(ID_TYPE_LABELS.get(value, value))
