"""The home page with each role's menu, the language switch, the health check, and the audit trail
page (审计日志: filters, a page of events at a time, CSV and Excel downloads; admins see every event,
a coordinator those of their region)."""
from flask import jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import text

from sampling.audit import actions, query
from sampling.errors import ValidationFailed
from sampling.extensions import db
from sampling.kernel import exports
from sampling.kernel.ids import db_id
from sampling.models.base import utcnow
from sampling.web.blueprint import bp
from sampling.web.guards import role_required


@bp.get("/")
def index():
    return render_template("index.html", user=current_user)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", never a stack trace
        db.session.rollback()
        return jsonify(status="unavailable", database=db.engine.dialect.name), 503
    return jsonify(status="ok", database=db.engine.dialect.name)


ROLE_LABELS = {"admin": _l("administrator"), "coordinator": _l("coordinator"),
               "sampler": _l("sampling staff"), "lab": _l("lab staff"),
               "public": _l("the public"), "system": _l("the system")}

# (endpoint, label, roles that see it)
STAFF_ITEMS: list[tuple[str, object, tuple[str, ...]]] = [
    ("web.scan_page", _l("Scan tubes and residents"), ("sampler", "admin")),
    ("web.backfill_page", _l("Backfill paper forms"), ("admin", "coordinator")),
    ("web.lab_boxes", _l("Transport boxes: box and hand over tubes"), ("sampler", "admin")),
    ("web.lab_receive", _l("Receive boxes and enter results"), ("lab", "admin")),
    ("web.lab_upload", _l("Upload a results file"), ("lab", "admin")),
    ("web.positives_page", _l("Positive pools: people to find"), ("coordinator", "admin")),
    ("web.stats_dashboard", _l("Statistics"), ("admin", "coordinator")),
    ("web.rosters_page", _l("Rosters and collisions"), ("admin", "coordinator")),
    ("web.audit_page", _l("Audit trail: who saw and changed personal data"), ("admin", "coordinator")),
    ("web.admin_users", _l("Staff accounts: unlock, end sessions"), ("admin",)),
]
# (endpoint, label)
PUBLIC_ITEMS: list[tuple[str, object]] = [
    ("web.collection_query", _l("Check my sampling records")),
]

# Residents (issue 3): their own pages, and code printing by staff and volunteers.
PUBLIC_ITEMS += [("web.my_codes", _l("My codes")), ("web.register", _l("Register for your personal code")),
                 ("web.recover", _l("Recover a lost code"))]
STAFF_ITEMS += [("web.staff_resident_entry", _l("Codes from ID card details"), ("admin", "coordinator", "sampler")),
                ("web.staff_code_sheet_upload", _l("Print codes for a list"), ("admin", "coordinator", "sampler")),
                ("web.staff_resident_rebind", _l("Re-bind a record to the ID card holder"),
                 ("admin", "coordinator", "sampler"))]


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def staff_menu(user) -> list[dict]:
    return [{"url": url_for(endpoint), "label": str(label)}
            for endpoint, label, roles in STAFF_ITEMS if user.role in roles]


def public_menu() -> list[dict]:
    return [{"url": url_for(endpoint), "label": str(label)} for endpoint, label in PUBLIC_ITEMS]


def local_time(value) -> str:
    """A UTC timestamp as the local date and time (LOCAL_TIMEZONE)."""
    from zoneinfo import ZoneInfo

    from flask import current_app
    return value.astimezone(ZoneInfo(current_app.config["LOCAL_TIMEZONE"])).strftime("%Y-%m-%d %H:%M") if value else ""


def register(app) -> None:
    app.jinja_env.globals.update(staff_menu=staff_menu, public_menu=public_menu, role_label=role_label,
                                 local_time=local_time)


def _audit_args() -> dict:
    return {k: request.args.get(k, "").strip() for k in ("user", "action", "from", "to")}


@bp.get("/admin/audit")
@role_required(*query.READER_ROLES)
def audit_page():
    user, args = current_user._get_current_object(), _audit_args()
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
    args = _audit_args()
    filters = query.parse_filters(args["user"], args["action"], args["from"], args["to"])
    name = f"audit-{utcnow().strftime('%Y%m%d-%H%M')}.{fmt}"
    return exports.download(fmt, query.export_header(), query.export(current_user._get_current_object(), filters, fmt),
                            name, _("Audit trail"))
