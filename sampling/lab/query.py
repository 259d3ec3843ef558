"""Collection query (采集信息查询): a person checks that their samples were recorded.

The person gives their document number and name; the answer lists only that person's own
collections. An unknown number and a wrong name get the very same answer (no records), by the
very same query, so the page cannot be used to find out whether a number is registered.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from sampling.errors import ValidationFailed
from sampling.extensions import db
from sampling.lab.results import results_for_samples
from sampling.models import Resident, Round, Sample, Site, Tube
from sampling.residents import identity
from sampling.residents.identity import InvalidValue

MAX_RECORDS = 100


def collections(id_number, name) -> list[dict]:
    """The collections of the person with this document number and name, newest first."""
    number = identity.normalize_document(id_number)
    fields = {}
    if not number:
        fields["id_number"] = _l("Enter the document number.")
    elif len(number) > 32:
        fields["id_number"] = _l("The document number is not valid.")
    try:
        clean_name = identity.validate_name(name)
    except InvalidValue as exc:
        fields["name"] = exc.message
    if fields:
        raise ValidationFailed(fields=fields)
    rows = db.session.execute(
        select(Sample.id, Sample.sampled_at, Round.id, Round.name, Site.name, Tube.status)
        .join(Resident, Sample.resident_id == Resident.id).join(Round, Sample.round_id == Round.id)
        .join(Site, Sample.site_id == Site.id).join(Tube, Sample.tube_id == Tube.id)
        .where(Resident.id_number == number, Resident.name == clean_name)
        .order_by(Sample.sampled_at.desc()).limit(MAX_RECORDS)).all()
    results = results_for_samples([row[0] for row in rows])
    return [{"round_id": round_id, "round_name": round_name, "sampled_at": sampled_at.isoformat(),
             "site_name": site_name, "tube_status": tube_status, "result": results.get(sample_id)}
            for sample_id, sampled_at, round_id, round_name, site_name, tube_status in rows]
