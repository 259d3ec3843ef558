"""Residents: registration (one person, one record), finding and recovering their code."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sampling.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sampling.extensions import db
from sampling.kernel.access import require_region, require_role
from sampling.models import Region, RegionLevel, Resident, ResidentSource, Role, User
from sampling.residents import codes, identity
from sampling.residents.identity import InvalidValue

MAX_ADDRESS = 200
# Who may type ID card details and print codes (volunteers get sampler or coordinator accounts).
STAFF_ROLES = (Role.ADMIN.value, Role.COORDINATOR.value, Role.SAMPLER.value)


def clean_registration(data: dict, *, phone_required: bool = True,
                       community_required: bool = True) -> dict:
    """Normalise and validate registration fields (name, id_type, id_number, phone,
    region_code, address). Returns the cleaned values; ValidationFailed lists every bad field."""
    cleaned, fields = {}, {}

    def check(field, fn, *args):
        try:
            cleaned[field] = fn(data.get(field), *args)
        except InvalidValue as exc:
            fields[field] = exc.message

    check("name", identity.clean_name)
    check("id_type", identity.validate_id_type)
    if "id_type" in cleaned:
        check("id_number", lambda raw: identity.validate_document(cleaned["id_type"], raw))
    check("phone", identity.validate_phone, phone_required)
    address = " ".join(identity.clean_text(data.get("address")).split())
    if len(address) > MAX_ADDRESS:
        fields["address"] = _l("The address is too long (at most %(n)s characters).", n=MAX_ADDRESS)
    cleaned["address"] = address or None
    code = identity.clean_text(data.get("region_code"))
    cleaned["community"] = None
    if code:
        community = db.session.scalar(select(Region).where(Region.code == code))
        if community is None or community.level != RegionLevel.COMMUNITY.value:
            fields["region_code"] = _l("Choose your community.")
        cleaned["community"] = community
    elif community_required:
        fields["region_code"] = _l("Choose your community.")
    if fields:
        raise ValidationFailed(fields=fields)
    return cleaned


def find_by_document(id_type: str, id_number: str) -> Resident | None:
    return db.session.scalar(select(Resident).where(Resident.id_type == id_type,
                                                    Resident.id_number == id_number))


class AlreadyRegistered(Conflict):
    """The one answer to a self-registration of a registered document number whose name and phone
    do not both match the record: it says nothing of which part differs, and carries no code."""

    default_code = "already_registered"
    default_message = _l("This document number is already registered. If it is yours, recover your code with "
                         "your name and the phone you registered. If someone else registered it, or you no "
                         "longer have that phone, show your ID card to staff at a sampling site: they can give "
                         "you a new code.")


def _same_person(resident: Resident, cleaned: dict, by_staff: bool) -> Resident:
    """The existing record, when the caller shows it is theirs: staff who saw the ID card need the
    name to match; a resident on their own phone needs the name and the registered phone."""
    if by_staff:
        if resident.name != cleaned["name"]:
            raise Conflict(_l("This document number is already registered under another name. "
                              "Check the name and number on the card; if the card is right, re-bind the record."),
                           code="name_mismatch")
    elif resident.name != cleaned["name"] or resident.phone is None or resident.phone != cleaned["phone"]:
        raise AlreadyRegistered()
    return resident


def register(data: dict, source: str = ResidentSource.SELF.value, *, phone_required: bool = True,
             community_required: bool = True, default_community: Region | None = None) -> tuple[Resident, bool]:
    """Create the resident, or return the existing record of the same person with
    ``created=False``: on one's own phone (source ``self``) the same document, name and registered
    phone (AlreadyRegistered otherwise, one answer for every mismatch); by staff, who saw the card,
    the same document and name (``name_mismatch`` otherwise). Flushes; the caller commits."""
    cleaned = clean_registration(data, phone_required=phone_required, community_required=community_required)
    by_staff = source != ResidentSource.SELF.value
    existing = find_by_document(cleaned["id_type"], cleaned["id_number"])
    if existing is not None:
        return _same_person(existing, cleaned, by_staff), False
    resident = Resident(name=cleaned["name"], id_type=cleaned["id_type"], id_number=cleaned["id_number"],
                        phone=cleaned["phone"], address=cleaned["address"], source=source,
                        community=cleaned["community"] or default_community)
    try:
        with db.session.begin_nested():
            db.session.add(resident)
    except IntegrityError:  # the same person registered at the same moment from another phone
        existing = find_by_document(cleaned["id_type"], cleaned["id_number"])
        if existing is None:
            raise
        return _same_person(existing, cleaned, by_staff), False
    return resident, True


def recover(id_number, name, phone) -> Resident:
    """The resident whose document number, name and phone all match; one vague NotFound
    otherwise, so the answer tells nothing about which part was wrong."""
    number = identity.normalize_document(id_number)
    try:
        clean_name = identity.clean_name(name)
        clean_phone = identity.validate_phone(phone)
    except InvalidValue:
        clean_name = clean_phone = None
    match = None
    if number and clean_name and clean_phone:
        match = db.session.scalar(select(Resident).where(
            Resident.id_number == number, Resident.name == clean_name, Resident.phone == clean_phone))
    if match is None:
        raise NotFound(_l("No registration matches these details."), code="no_match")
    return match


def get_by_code(token) -> Resident:
    """The resident a scanned code stands for; InvalidCode for a forged or unknown code,
    ReplacedCode for a code of an earlier version."""
    resident_id, version = codes.read(token)
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise codes.InvalidCode()
    codes.check_version(version, resident.code_version)
    return resident


def masked(resident: Resident) -> dict:
    """What may be shown to staff at a site: masked name and document number."""
    return {"name_masked": identity.mask_name(resident.name),
            "id_masked": identity.mask_document(resident.id_number)}


def card(resident: Resident) -> dict:
    """What a resident's code page and code card show: the code, masked name and document, community."""
    return {"resident_id": resident.id, "qr": codes.token_for(resident.id, resident.code_version), **masked(resident),
            "community": resident.community.name if resident.community else None}


def require_community(user: User, community: Region) -> None:
    """Staff create residents only in communities they work for: admins anywhere, coordinators
    in their region, samplers in the communities of their sites."""
    if user.role == Role.SAMPLER.value:
        if not any(site.community_id == community.id for site in user.sites):
            raise Forbidden(_l("You can only register residents of the communities of your sites."),
                            code="forbidden_region")
        return
    require_region(user, community)


def register_by_staff(user: User, data: dict) -> tuple[Resident, bool]:
    """A volunteer types a person's ID card details (录入身份证信息): the phone is optional, the
    community required and within the volunteer's scope. Flushes; the caller commits."""
    require_role(user, STAFF_ROLES)
    cleaned = clean_registration(data, phone_required=False)
    require_community(user, cleaned["community"])
    return register(data, ResidentSource.STAFF.value, phone_required=False)
