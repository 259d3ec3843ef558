"""Re-binding a record at a sampling site (for the person whose ID number someone else registered
first, or who lost the registered phone): staff check the ID card, give the record the card's name
and the holder's phone, and a new code is issued; every earlier code of the record stops scanning
(its code version is raised). The event is on the audit trail (``resident.rebind``): who, at which
site, when, the new version and which fields changed (not their values)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from sampling import audit
from sampling.errors import NotFound, ValidationFailed
from sampling.extensions import db
from sampling.kernel.access import require_role, require_site
from sampling.kernel.regions import get_site
from sampling.models import Resident, User
from sampling.residents import codes
from sampling.residents.registration import STAFF_ROLES, clean_registration, find_by_document


def rebind(user: User, data: dict) -> Resident:
    """Re-bind the record of the document in ``data`` (id_type, id_number, name, phone — optional,
    the old one is dropped either way — and optionally region_code and address) at the site
    ``site_code`` where the caller works. Returns the record with its new code version. Commits."""
    require_role(user, STAFF_ROLES)
    if not data.get("site_code"):
        raise ValidationFailed(fields={"site_code": _l("Choose the site where you checked the ID card.")})
    site = get_site(data.get("site_code"))
    require_site(user, site)
    cleaned = clean_registration(data, phone_required=False, community_required=False)
    resident = find_by_document(cleaned["id_type"], cleaned["id_number"])
    if resident is None:
        raise NotFound(_l("No record has this document number: register the person instead."),
                       code="not_registered")
    changed = [name for name, new, old in (("name", cleaned["name"], resident.name),
                                           ("phone", cleaned["phone"], resident.phone)) if new != old]
    values = {"name": cleaned["name"], "phone": cleaned["phone"], "code_version": Resident.code_version + 1}
    if cleaned["community"] is not None:
        values["community_id"] = cleaned["community"].id
        changed += ["community"] if cleaned["community"].id != resident.community_id else []
    if cleaned["address"]:
        values["address"] = cleaned["address"]
        changed += ["address"] if cleaned["address"] != resident.address else []
    # one atomic increment: two re-binds at once give two versions, the later one wins
    version = db.session.execute(
        update(Resident).where(Resident.id == resident.id, Resident.code_version < codes.MAX_CODE_VERSION)
        .values(**values).returning(Resident.code_version).execution_options(synchronize_session=False)).scalar()
    if version is None:
        raise ValidationFailed(_l("This record has been re-bound too many times; ask the district command."),
                               code="too_many_rebinds")
    audit.record("resident.rebind", user=user, object_type="resident", object_id=resident.id,
                 region=site.community, people=1,
                 detail={"site_code": site.code, "code_version": version, "changed": ",".join(changed)})
    db.session.commit()
    db.session.refresh(resident)
    return resident
