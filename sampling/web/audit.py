"""The audit trail page (审计日志): filters, a page of events at a time, CSV and Excel downloads.
Admins see every event, a coordinator those of their region."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from sampling.audit import actions, query
from sampling.errors import ValidationFailed
from sampling.kernel import exports
from sampling.kernel.ids import db_id
from sampling.models.base import utcnow
from sampling.web import bp
from sampling.web.guards import role_required


def _args() -> dict:
    return {k: request.args.get(k, "").strip() for k in ("user", "action", "from", "to")}


@bp.get("/admin/audit")
@role_required(*query.READER_ROLES)
def audit_page():
    user, args = current_user._get_current_object(), _args()
    errors, page = {}, {"events": [], "next_before": None}
    try:
        filters = query.parse_filters(args["user"], args["action"], args["from"], args["to"])
        before = db_id(request.args.get("before", ""), big=True, text=True)
        page = query.read(user, filters, query.PAGE_SIZE, before)
    except ValidationFailed as exc:
        errors = {k: str(v) for k, v in exc.fields.items()}
    status = 422 if errors else 200
    return render_template("admin/audit.html", page=page, args=args, errors=errors, action_label=actions.label,
                           actions=[(name, str(text)) for name, text in actions.ACTIONS.items()],
                           query_args={k: v for k, v in args.items() if v}), status


@bp.get("/admin/audit/export.<any(csv, xlsx):fmt>")
@role_required(*query.READER_ROLES)
def audit_export(fmt):
    args = _args()
    filters = query.parse_filters(args["user"], args["action"], args["from"], args["to"])
    name = f"audit-{utcnow().strftime('%Y%m%d-%H%M')}.{fmt}"
    return exports.download(fmt, query.export_header(), query.export(current_user._get_current_object(), filters, fmt),
                            name, _("Audit trail"))
