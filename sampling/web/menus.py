"""The menus on the home page: what each role can open. Later features add their entries here."""
from flask import url_for
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {"admin": _l("administrator"), "coordinator": _l("coordinator"),
               "sampler": _l("sampling staff"), "lab": _l("lab staff")}

# (endpoint, label, roles that see it)
STAFF_ITEMS: list[tuple[str, object, tuple[str, ...]]] = [
    ("web.scan_page", _l("Scan tubes and residents"), ("sampler", "admin")),
    ("web.backfill_page", _l("Backfill paper forms"), ("admin", "coordinator")),
]
# (endpoint, label)
PUBLIC_ITEMS: list[tuple[str, object]] = [
    ("web.collection_query", _l("Check my sampling records")),
]


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def staff_menu(user) -> list[dict]:
    return [{"url": url_for(endpoint), "label": str(label)}
            for endpoint, label, roles in STAFF_ITEMS if user.role in roles]


def public_menu() -> list[dict]:
    return [{"url": url_for(endpoint), "label": str(label)} for endpoint, label in PUBLIC_ITEMS]


def register(app) -> None:
    app.jinja_env.globals.update(staff_menu=staff_menu, public_menu=public_menu, role_label=role_label)
