"""Registration: one person, one record; recovering a lost code; finding a resident by code."""
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from sampling.errors import Conflict, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.models import Resident
from sampling.residents import codes, registration
from tests.test_identity import LEAP, VALID, X_CHECK


def person(**overrides) -> dict:
    data = {"name": "张三", "id_type": "resident_id_card", "id_number": VALID, "phone": "13812345678",
            "region_code": "120101001001", "address": "1号楼2单元301"}
    return {**data, **overrides}


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Resident))


def test_register_creates_a_resident_with_normalised_fields(demo_city):
    resident, created = registration.register(person(name=" 张三 ", id_number=" " + X_CHECK.lower(),
                                                  phone="138 1234 5678"))
    db.session.commit()
    assert created and resident.id
    assert (resident.name, resident.id_number, resident.phone) == ("张三", X_CHECK, "13812345678")
    assert resident.community.code == "120101001001" and resident.source == "self"
    assert resident.address == "1号楼2单元301"


def test_control_characters_are_dropped_from_stored_text(demo_city):
    resident, _ = registration.register(person(name="张\x01三", address=" 1号楼\t2单元\r\n301\x1b\x7f ",
                                            region_code="120101001001\x01"))
    db.session.commit()
    db.session.expire_all()
    assert (resident.name, resident.address) == ("张三", "1号楼 2单元 301")
    assert resident.community.code == "120101001001"
    assert registration.recover(VALID[:9] + "\x02" + VALID[9:], "张三\x03", "138\t1234\x005678").id == resident.id


def test_same_person_again_gets_the_same_record(demo_city):
    first, created = registration.register(person())
    db.session.commit()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in VALID)
    again, created_again = registration.register(person(id_number=full_width, phone="138 1234 5678"))
    assert created and not created_again
    assert again.id == first.id and count() == 1


@pytest.mark.parametrize("changes", [{"name": "李四"}, {"phone": "13900000000"},
                                     {"name": "李四", "phone": "13900000000"}])
def test_a_registered_number_without_its_name_and_phone_gets_one_answer_and_no_code(demo_city, changes):
    registration.register(person())
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        registration.register(person(**changes))
    assert exc.value.status == 409 and exc.value.code == "already_registered"
    assert str(exc.value.message) == str(registration.AlreadyRegistered().message)  # no hint at which part
    assert count() == 1


def test_a_record_without_a_phone_is_not_claimed_by_self_registration(demo_city, make_user):
    staff = make_user("admin")
    registration.register_by_staff(staff, person(phone=""))
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        registration.register(person())  # name and number right, a phone added: still not theirs
    assert exc.value.code == "already_registered"


def test_staff_who_saw_the_card_get_the_code_by_name(demo_city, make_user):
    first, _ = registration.register(person())
    db.session.commit()
    staff = make_user("admin")
    again, created = registration.register_by_staff(staff, person(phone=""))
    assert again.id == first.id and not created
    with pytest.raises(Conflict) as exc:
        registration.register_by_staff(staff, person(name="李四"))
    assert exc.value.code == "name_mismatch"


def test_same_number_with_another_document_type_is_another_record(demo_city):
    registration.register(person(id_type="other", id_number="A1234567"))
    registration.register(person(id_type="passport", id_number="A1234567", name="Anna Smith"))
    assert count() == 2


def test_every_bad_field_is_reported_at_once(demo_city):
    with pytest.raises(ValidationFailed) as exc:
        registration.register(person(name="", id_number=VALID[:-1] + "0", phone="123", region_code="999",
                                  address="x" * 201))
    assert set(exc.value.fields) == {"name", "id_number", "phone", "region_code", "address"}
    with force_locale("zh"):
        assert str(exc.value.fields["phone"]) == "手机号码为 11 位数字，以 1 开头。"
    assert count() == 0


def test_a_street_is_not_a_community(demo_city):
    with pytest.raises(ValidationFailed) as exc:
        registration.register(person(region_code="120101001"))
    assert set(exc.value.fields) == {"region_code"}


def test_unknown_document_type_reports_the_type_only(demo_city):
    with pytest.raises(ValidationFailed) as exc:
        registration.register(person(id_type="driving_licence"))
    assert set(exc.value.fields) == {"id_type"}


def test_staff_may_register_without_phone_and_community(demo_city):
    from sampling.models import Region
    default = db.session.scalar(select(Region).where(Region.code == "120102001001"))
    resident, created = registration.register(person(phone="", region_code="", id_number=LEAP),
                                           source="supplementary", phone_required=False,
                                           community_required=False, default_community=default)
    assert created and resident.phone is None and resident.community.code == "120102001001"
    assert resident.source == "supplementary"


def test_recover_needs_number_name_and_phone(demo_city):
    resident, _ = registration.register(person())
    db.session.commit()
    assert registration.recover(VALID.lower(), " 张三", "138-1234-5678").id == resident.id
    for args in [(VALID, "张三", "13900000000"), (VALID, "李四", "13812345678"),
                 (X_CHECK, "张三", "13812345678"), ("", "", ""), (None, None, None)]:
        with pytest.raises(NotFound) as exc:
            registration.recover(*args)
        assert exc.value.code == "no_match"


def test_get_by_code_finds_the_resident(demo_city):
    resident, _ = registration.register(person())
    db.session.commit()
    assert registration.get_by_code(codes.token_for(resident.id)).id == resident.id


def test_get_by_code_refuses_forged_and_unknown_codes(demo_city):
    with pytest.raises(codes.InvalidCode):
        registration.get_by_code(codes.token_for(987654))  # genuine format, nobody behind it
    with pytest.raises(codes.InvalidCode):
        registration.get_by_code("S1" + "A" * 24)


def test_masked_shows_no_full_personal_data(demo_city):
    resident, _ = registration.register(person(name="张某三"))
    assert registration.masked(resident) == {"name_masked": "张*三", "id_masked": VALID[:6] + "********" + VALID[-4:]}
