"""The home page with each role's menu, the language switch and the health check."""
from flask import jsonify, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import text

from sampling.extensions import db
from sampling.web.blueprint import bp


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
]
# (endpoint, label)
PUBLIC_ITEMS: list[tuple[str, object]] = [
    ("web.collection_query", _l("Check my sampling records")),
]

# Residents (issue 3): their own pages, and code printing by staff and volunteers.
PUBLIC_ITEMS += [("web.my_codes", _l("My codes")), ("web.register", _l("Register for your personal code")),
                 ("web.recover", _l("Recover a lost code"))]
STAFF_ITEMS += [("web.staff_resident_entry", _l("Codes from ID card details"), ("admin", "coordinator", "sampler")),
                ("web.staff_code_sheet_upload", _l("Print codes for a list"), ("admin", "coordinator", "sampler"))]


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def staff_menu(user) -> list[dict]:
    return [{"url": url_for(endpoint), "label": str(label)}
            for endpoint, label, roles in STAFF_ITEMS if user.role in roles]


def public_menu() -> list[dict]:
    return [{"url": url_for(endpoint), "label": str(label)} for endpoint, label in PUBLIC_ITEMS]


def register(app) -> None:
    app.jinja_env.globals.update(staff_menu=staff_menu, public_menu=public_menu, role_label=role_label)
