"""Identity documents, names and phone numbers: normalising, validating and masking.

Input is cleaned and normalised before it is validated: control characters dropped (tabs and
line breaks become spaces), NFKC turns the full-width digits and letters that Chinese input
methods type into ASCII, spaces are dropped, letters upper-cased (a lower-case ``x`` check digit
becomes ``X``). Digits are ASCII digits only. The 18-digit resident identity card (GB 11643-1999)
is checked with python-stdnum (ISO 7064 MOD 11-2 check digit, birth date, region code).
"""
import datetime
import re
import unicodedata
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric

from sampling.kernel.text import clean_text
from sampling.models import IdType

ID_TYPES = tuple(t.value for t in IdType)
ID_TYPE_LABELS = {
    IdType.RESIDENT_ID_CARD.value: _l("Resident identity card"),
    IdType.PASSPORT.value: _l("Passport"),
    IdType.HK_MACAO_PERMIT.value: _l("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT.value: _l("Mainland travel permit for Taiwan residents"),
    IdType.FOREIGN_PERMANENT_RESIDENT.value: _l("Foreigner's permanent residence ID card"),
    IdType.OTHER.value: _l("Other document"),
}
# What people and spreadsheets write in a 证件类型 column.
ID_TYPE_ALIASES = {
    "居民身份证": "resident_id_card", "身份证": "resident_id_card", "二代身份证": "resident_id_card",
    "护照": "passport", "港澳居民来往内地通行证": "hk_macao_permit", "港澳通行证": "hk_macao_permit",
    "回乡证": "hk_macao_permit", "台湾居民来往大陆通行证": "taiwan_permit", "台胞证": "taiwan_permit",
    "外国人永久居留身份证": "foreign_permanent_resident", "外国人永久居留证": "foreign_permanent_resident",
    "其他": "other", "其它": "other",
}
_PATTERNS = {
    IdType.PASSPORT.value: re.compile(r"[A-Z0-9]{5,17}"),
    IdType.HK_MACAO_PERMIT.value: re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
    IdType.TAIWAN_PERMIT.value: re.compile(r"[0-9]{8}([0-9]{2})?|[A-Z][0-9]{9}"),
    IdType.FOREIGN_PERMANENT_RESIDENT.value: re.compile(r"[A-Z]{3}[0-9]{12}|9[0-9]{17}"),
    IdType.OTHER.value: re.compile(r"[A-Z0-9\-]{4,32}"),
}
_PHONE = re.compile(r"1[0-9]{10}")
EARLIEST_BIRTH = datetime.date(1880, 1, 1)  # older birth dates on a card are typing errors
FIELD_ZONE = "Asia/Shanghai"  # where the cards were issued, when no app says otherwise
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff\u00b7]) | (?=[\u3400-\u9fff\u00b7])")
_NAME_DOTS = str.maketrans({"\u2022": "\u00b7", "\u30fb": "\u00b7", "\u2027": "\u00b7", "\u2219": "\u00b7"})


class InvalidValue(ValueError):
    """A value that failed validation; ``message`` is localized and user-facing."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize_text(raw) -> str:
    """NFKC (full-width → ASCII), trimmed."""
    return unicodedata.normalize("NFKC", raw if isinstance(raw, str) else "").strip()


def normalize_document(raw) -> str:
    """The canonical form of a document number: cleaned, NFKC, no spaces, upper case."""
    return re.sub(r"\s+", "", clean_text(raw)).upper()


def validate_document(id_type: str, raw) -> str:
    """The normalised document number, or InvalidValue saying what is wrong with it."""
    number = normalize_document(raw)
    if not number:
        raise InvalidValue(_l("Enter the document number."))
    if id_type == IdType.RESIDENT_ID_CARD.value:
        return _validate_resident_id_card(number)
    pattern = _PATTERNS.get(id_type)
    if pattern is None:
        raise InvalidValue(_l("Choose a document type."))
    if not pattern.fullmatch(number):
        raise InvalidValue(_l("This is not a valid number for the chosen document type."))
    return number


@lru_cache(maxsize=8192)
def _known_region(area: str) -> bool:
    """An area code python-stdnum's table of division codes knows, in any year. The code is the
    one in force where the number was assigned, which can be years after the birth (a late
    household registration: 120119 蓟州区, created in 2016, for someone born in 1990), so the
    code's years are not checked against the birth year (as ``ric.get_birth_place`` does). Cached."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(area))


def local_today(now: datetime.datetime | None = None) -> datetime.date:
    """Today where the residents are (``LOCAL_TIMEZONE``, China by default) at ``now`` (default:
    now): a child born this morning in Tianjin is born today while the server's UTC date is still
    yesterday."""
    zone = current_app.config.get("LOCAL_TIMEZONE", FIELD_ZONE) if has_app_context() else FIELD_ZONE
    return (now or datetime.datetime.now(datetime.UTC)).astimezone(ZoneInfo(zone)).date()


def _validate_resident_id_card(number: str) -> str:
    """python-stdnum's ``ric`` checks step by step (length, digits, check digit, birth date,
    region code known in any year), each failure with its own message; the birth date must lie
    between 1880 and today (in China: :func:`local_today`)."""
    if len(number) != 18 or not (number[:17].isascii() and number[:17].isdigit()):
        raise InvalidValue(_l("A resident ID number has 18 characters: 17 digits and a digit or X."))
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidValue(_l("The check digit does not match; please check the ID number."))
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidValue(_l("The ID number contains an impossible birth date.")) from None
    if not EARLIEST_BIRTH <= birth <= local_today():
        raise InvalidValue(_l("The ID number contains an impossible birth date."))
    if not _known_region(number[:6]):
        raise InvalidValue(_l("The first six digits of the ID number are not a known region code."))
    return number


def validate_id_type(raw) -> str:
    """One of ID_TYPES; the Chinese names of the documents are accepted too."""
    value = clean_text(raw).lower()
    value = ID_TYPE_ALIASES.get(value, value)
    if value not in ID_TYPES:
        raise InvalidValue(_l("Choose a document type."))
    return value


def validate_phone(raw, required: bool = True) -> str | None:
    """An 11-digit mainland mobile number (a +86 prefix and separators are dropped)."""
    phone = re.sub(r"[\s\-()]", "", clean_text(raw))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not phone:
        if required:
            raise InvalidValue(_l("Enter a mobile number."))
        return None
    if not _PHONE.fullmatch(phone):
        raise InvalidValue(_l("A mobile number has 11 digits and starts with 1."))
    return phone


def validate_name(raw) -> str:
    """A person's name: trimmed, inner spaces collapsed (and dropped next to Chinese characters:
    "张 三" is 张三), the middle dot of minority names unified. Control characters are refused
    here (a roster flags such a name); the residents' flows drop them first (``clean_name``)."""
    name = re.sub(r"\s+", " ", normalize_text(raw).translate(_NAME_DOTS))
    name = _CJK_SPACE.sub("", name)
    if not name:
        raise InvalidValue(_l("Enter the name."))
    if len(name) > 50 or any(unicodedata.category(c).startswith(("C", "S")) for c in name):
        raise InvalidValue(_l("The name is too long or contains characters that are not allowed."))
    return name


def clean_name(raw) -> str:
    """validate_name of the text cleaned first (control characters dropped)."""
    return validate_name(clean_text(raw))


def mask_name(name: str) -> str:
    """张三 → 张*, 张某三 → 张*三, 欧阳娜娜 → 欧**娜."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_document(number: str) -> str:
    """120101199001011234 → 120101********1234; short numbers keep two characters at each end."""
    if not number:
        return ""
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) <= 4:
        return "*" * len(number)
    keep = 2 if len(number) < 10 else 3
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)
