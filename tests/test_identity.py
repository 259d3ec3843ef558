"""Identity documents, names and phones: normalised, validated (python-stdnum for the 18-digit
card) and masked."""
import datetime

import pytest
from flask_babel import force_locale
from stdnum.cn import ric

from sampling.residents import identity
from sampling.residents.identity import InvalidValue


def id_card(body17: str) -> str:
    """A valid 18-digit number for the first 17 digits (check digit computed by stdnum)."""
    return body17 + ric.calc_check_digit(body17 + "0")


VALID = id_card("12010119900101123")      # 天津和平区, 1990-01-01
LEAP = id_card("12010120000229002")       # born on a leap day
X_CHECK = "11010519491231002X"            # the textbook number with an X check digit


def message(exc_info) -> str:
    """The English message (the app speaks Chinese by default)."""
    with force_locale("en"):
        return str(exc_info.value.message)


@pytest.mark.parametrize("number", [VALID, LEAP, X_CHECK])
def test_valid_resident_id_cards_are_accepted(app, number):
    assert identity.validate_document("resident_id_card", number) == number


def test_lower_case_x_and_spaces_are_normalised(app):
    assert identity.validate_document("resident_id_card", " 110105 19491231 002x ") == X_CHECK


def test_full_width_digits_and_letters_are_normalised(app):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in X_CHECK.lower())  # what a Chinese IME types
    assert full_width != X_CHECK
    assert identity.validate_document("resident_id_card", full_width) == X_CHECK
    ideographic_space = "\u3000" + VALID + "\u3000"
    assert identity.validate_document("resident_id_card", ideographic_space) == VALID


def test_wrong_check_digit_is_refused(app):
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    with pytest.raises(InvalidValue) as exc:
        identity.validate_document("resident_id_card", wrong)
    assert "check digit" in message(exc)


@pytest.mark.parametrize("body", ["12010119900230123",   # 30 February
                                  "12010119901301123",   # month 13
                                  "12010119890229123",   # not a leap year
                                  "12010121990101123"])  # born in 2199
def test_impossible_birth_dates_are_refused(app, body):
    with pytest.raises(InvalidValue) as exc:
        identity.validate_document("resident_id_card", id_card(body))
    assert "birth date" in message(exc)


@pytest.mark.parametrize("body", ["12011919900101123",   # 蓟州区 (since 2016), born 1990: a late registration
                                  "12022520200101123",   # 蓟县 (until 2016), born 2020
                                  "11010319800101123"])  # 崇文区 (until 2010)
def test_region_codes_known_in_any_year_are_accepted(app, body):
    assert identity.validate_document("resident_id_card", id_card(body)) == id_card(body)


@pytest.mark.parametrize("body, ok", [("12010118791231123", False), ("12010118800101123", True),
                                      ("12010118000101123", False)])
def test_birth_dates_before_1880_are_refused(app, body, ok):
    if ok:
        assert identity.validate_document("resident_id_card", id_card(body)) == id_card(body)
        return
    with pytest.raises(InvalidValue) as exc:
        identity.validate_document("resident_id_card", id_card(body))
    assert "birth date" in message(exc)


def test_birth_date_today_is_accepted_tomorrow_refused(app, monkeypatch):
    today = datetime.date(2026, 3, 1)  # one "today" for the test and the check, whatever the clock says
    monkeypatch.setattr(identity, "local_today", lambda: today)
    born_today = id_card(f"120101{today:%Y%m%d}123")
    assert identity.validate_document("resident_id_card", born_today) == born_today
    with pytest.raises(InvalidValue):
        identity.validate_document("resident_id_card", id_card(f"120101{today + datetime.timedelta(days=1):%Y%m%d}123"))


def test_today_is_chinas_date_not_the_servers(app):
    """At 20:00 UTC it is already 04:00 the next day in Tianjin: a child born that morning is born today."""
    utc = datetime.UTC
    assert identity.local_today(datetime.datetime(2026, 12, 7, 20, 0, tzinfo=utc)) == datetime.date(2026, 12, 8)
    assert identity.local_today(datetime.datetime(2026, 12, 7, 15, 59, tzinfo=utc)) == datetime.date(2026, 12, 7)
    app.config["LOCAL_TIMEZONE"] = "UTC"
    assert identity.local_today(datetime.datetime(2026, 12, 7, 20, 0, tzinfo=utc)) == datetime.date(2026, 12, 7)


def test_unknown_region_prefix_is_refused_with_its_own_message(app):
    with pytest.raises(InvalidValue) as exc:
        identity.validate_document("resident_id_card", id_card("00000019900101123"))
    assert "region code" in message(exc)


@pytest.mark.parametrize("number", ["", "   ", "1201011990010112", "1201011990010112345", "12010119900101123A",
                                    "X20101199001011238"])
def test_wrong_length_or_characters_are_refused(app, number):
    with pytest.raises(InvalidValue):
        identity.validate_document("resident_id_card", number)


@pytest.mark.parametrize("id_type, raw, expected", [
    ("passport", "e12345678", "E12345678"),
    ("passport", "ＰＥ１２３４５６７", "PE1234567"),
    ("hk_macao_permit", "h1234567801", "H1234567801"),
    ("hk_macao_permit", "M12345678", "M12345678"),
    ("taiwan_permit", "12345678", "12345678"),
    ("taiwan_permit", "a123456789", "A123456789"),
    ("foreign_permanent_resident", "usa110012345678", "USA110012345678"),
    ("foreign_permanent_resident", "911000197001011234", "911000197001011234"),
    ("other", "ab-1234", "AB-1234"),
])
def test_other_documents_follow_their_length_and_character_rules(app, id_type, raw, expected):
    assert identity.validate_document(id_type, raw) == expected


@pytest.mark.parametrize("id_type, raw", [
    ("passport", "E12"), ("passport", "E1234567890123456789"), ("passport", "E1234/5678"),
    ("hk_macao_permit", "C12345678"), ("hk_macao_permit", "H123"),
    ("taiwan_permit", "1234567"), ("foreign_permanent_resident", "US1100123456"),
    ("other", "A1"), ("other", "甲乙丙丁"),
])
def test_malformed_other_documents_are_refused(app, id_type, raw):
    with pytest.raises(InvalidValue):
        identity.validate_document(id_type, raw)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.parametrize("id_type, raw", [
    ("hk_macao_permit", "H١٢٣٤٥٦٧٨"), ("hk_macao_permit", "H" + "12345678".translate(DEVANAGARI)),
    ("taiwan_permit", "12345678".translate(ARABIC_INDIC)), ("taiwan_permit", "A" + "123456789".translate(DEVANAGARI)),
    ("foreign_permanent_resident", "USA" + "110012345678".translate(ARABIC_INDIC)),
    ("foreign_permanent_resident", "9" + "11000197001011234".translate(DEVANAGARI)),
    ("resident_id_card", VALID[:17].translate(ARABIC_INDIC) + VALID[17]),
])
def test_only_ascii_digits_make_a_document_number(app, id_type, raw):
    assert identity.normalize_document(raw) == raw.upper()  # NFKC keeps these digits as they are
    with pytest.raises(InvalidValue):
        identity.validate_document(id_type, raw)


@pytest.mark.parametrize("raw", ["1٣٨١٢٣٤٥٦٧٨", "13812345678".translate(ARABIC_INDIC),
                                 "13812345678".translate(DEVANAGARI)])
def test_only_ascii_digits_make_a_mobile_number(app, raw):
    with pytest.raises(InvalidValue) as exc:
        identity.validate_phone(raw)
    assert "11 digits" in message(exc)


def test_control_characters_are_dropped_from_typed_text(app):
    assert identity.clean_text(" a\x01\x1bb\tc\r\nd\x7f\x85e\x9f\x00 ") == "ab c  d e"
    assert identity.clean_text("楼\ud800301") == "楼301"      # a lone surrogate cannot be stored
    assert identity.clean_text("３号楼\u2028２单元") == "3号楼 2单元"
    assert identity.clean_text(None) == "" and identity.clean_text(12) == ""
    assert identity.clean_name("张\x01三\x00") == "张三"
    assert identity.clean_name("John\tSmith") == "John Smith"
    assert identity.validate_document("resident_id_card", VALID[:6] + "\x01\t" + VALID[6:] + "\x00") == VALID
    assert identity.validate_phone("138\x0212345678") == "13812345678"
    assert identity.validate_id_type("护照\x1f") == "passport"


def test_unknown_document_type_is_refused(app):
    with pytest.raises(InvalidValue):
        identity.validate_document("library_card", "12345678")
    with pytest.raises(InvalidValue):
        identity.validate_id_type("library_card")


@pytest.mark.parametrize("raw, expected", [("resident_id_card", "resident_id_card"),
                                           (" PASSPORT ", "passport"), ("居民身份证", "resident_id_card"),
                                           ("身份证", "resident_id_card"), ("护照", "passport"),
                                           ("港澳居民来往内地通行证", "hk_macao_permit"),
                                           ("台湾居民来往大陆通行证", "taiwan_permit"),
                                           ("外国人永久居留身份证", "foreign_permanent_resident"),
                                           ("其他", "other")])
def test_document_types_by_code_or_chinese_name(app, raw, expected):
    assert identity.validate_id_type(raw) == expected


@pytest.mark.parametrize("raw, expected", [("13812345678", "13812345678"), (" 138 1234 5678 ", "13812345678"),
                                           ("138-1234-5678", "13812345678"), ("+8613812345678", "13812345678"),
                                           ("008613812345678", "13812345678"),
                                           ("１３８１２３４５６７８", "13812345678")])
def test_mobile_numbers_are_normalised(app, raw, expected):
    assert identity.validate_phone(raw) == expected


@pytest.mark.parametrize("raw", ["23812345678", "1381234567", "138123456789", "1381234567a", "022-23456789"])
def test_bad_mobile_numbers_are_refused(app, raw):
    with pytest.raises(InvalidValue) as exc:
        identity.validate_phone(raw)
    assert "11 digits" in message(exc)


def test_phone_may_be_optional(app):
    assert identity.validate_phone("", required=False) is None
    with pytest.raises(InvalidValue):
        identity.validate_phone("", required=True)


def test_names_are_trimmed_and_minority_dots_unified(app):
    assert identity.validate_name("  张三 ") == "张三"
    assert identity.validate_name("买买提•艾力") == "买买提·艾力"
    assert identity.validate_name("John   Smith") == "John Smith"
    assert identity.validate_name("ＡＢＣ") == "ABC"
    assert identity.validate_name("张　三") == "张三"  # an ideographic space typed between characters
    assert identity.validate_name("买买提 · 艾力") == "买买提·艾力"


@pytest.mark.parametrize("raw", ["", "   ", None, "张" * 51, "张三😀", "张三\u200b", "\x01\x02"])
def test_bad_names_are_refused(app, raw):
    with pytest.raises(InvalidValue):
        identity.clean_name(raw)


def test_control_characters_in_a_name_are_refused_unless_cleaned_first(app):
    with pytest.raises(InvalidValue):
        identity.validate_name("张\x07三")  # rosters flag such a name
    assert identity.clean_name("张\x07三\x00") == "张三"


def test_messages_are_localized(app):
    with pytest.raises(InvalidValue) as exc:
        identity.validate_phone("123")
    with force_locale("zh"):
        assert str(exc.value.message) == "手机号码为 11 位数字，以 1 开头。"
    with force_locale("en"):
        assert str(exc.value.message) == "A mobile number has 11 digits and starts with 1."


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("张某三", "张*三"), ("欧阳娜娜", "欧**娜"),
                                          ("张", "张*"), ("", "")])
def test_mask_name(name, masked):
    assert identity.mask_name(name) == masked


def test_mask_document():
    assert identity.mask_document("12010119900101123X") == "120101********123X"
    assert identity.mask_document("E12345678") == "E1*****78"
    assert identity.mask_document("USA110012345678") == "USA*********678"
    assert identity.mask_document("1234") == "****"
    assert identity.mask_document("") == ""


def test_mask_phone():
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.mask_phone(None) == ""
    assert identity.mask_phone("12345") == "*****"
