"""The audit trail: read it (admins everything, coordinators their region) and download it."""
from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sampling.api import bp
from sampling.api.auth import staff_required
from sampling.audit import query
from sampling.errors import ValidationFailed
from sampling.kernel import exports
from sampling.kernel.ids import db_id
from sampling.models.base import utcnow


def _filters() -> query.Filters:
    args = request.args
    return query.parse_filters(args.get("user"), args.get("action"), args.get("from"), args.get("to"))


@bp.get("/audit")
@staff_required(*query.READER_ROLES)
def list_audit():
    filters, limit = _filters(), query.page_size(request.args.get("limit"))
    raw = request.args.get("before", "")
    before = db_id(raw, big=True, text=True) if raw else None
    if raw and before is None:
        raise ValidationFailed(fields={"before": _l("Unknown event.")})
    return jsonify(query.read(g.user, filters, limit, before))


def _export(fmt: str):
    @staff_required(*query.READER_ROLES)
    def view():
        filters = _filters()
        name = f"audit-{utcnow().strftime('%Y%m%d-%H%M')}.{fmt}"
        return exports.download(fmt, query.export_header(), query.export(g.user, filters, fmt), name, _("Audit trail"))
    return view


for _fmt in ("csv", "xlsx"):
    bp.add_url_rule(f"/audit.{_fmt}", f"audit_{_fmt}", _export(_fmt))
