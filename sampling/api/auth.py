"""Token authentication for the API, the decorator every staff endpoint uses, and the audit trail of
what the accounts did (admins read all of it, coordinators their region's)."""
from functools import wraps

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from sampling.api.blueprint import bp
from sampling.audit import query
from sampling.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from sampling.extensions import login_limits
from sampling.kernel import exports, tokens, users
from sampling.kernel.access import require_role
from sampling.kernel.ids import db_id
from sampling.models.base import utcnow
from sampling.security import devices


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_user():
    """The caller: by bearer token, or by the web session (then unsafe methods need the CSRF token)."""
    token = _bearer()
    if token is not None:
        user = tokens.user_for_token(token)
        if user is None:
            raise Unauthorized(_l("The token is invalid or has expired."), code="invalid_token")
        return user
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (ValidationError, CSRFError) as exc:
                raise Forbidden(_l("The page is out of date; reload it and try again."), code="csrf") from exc
        return current_user._get_current_object()
    raise Unauthorized(code="unauthorized")


def staff_required(*roles):
    """Authenticate the caller (g.user) and, when roles are named, require one of them."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.user = api_user()
            if roles:
                require_role(g.user, roles)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def json_body() -> dict:
    """The request's JSON object, or a 400 with a clear message."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_l("Send a JSON object with Content-Type: application/json."), code="invalid_json")
    return data


@bp.post("/auth/token")
@login_limits
def create_token():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Unauthorized(_l("Wrong user name or password."), code="invalid_credentials")
    user = users.authenticate(username, password, devices.trusted())  # AccountLocked: 403 account_locked
    if user is None:
        raise Unauthorized(_l("Wrong user name or password."), code="invalid_credentials")
    token, expires_at = tokens.issue_token(user, current_app.config["API_TOKEN_TTL_HOURS"])
    response = jsonify(token=token, expires_at=expires_at.isoformat(), role=user.role)
    devices.remember(response, user)
    return response


@bp.delete("/auth/token")
def delete_token():
    token = _bearer()
    if token is None or not tokens.revoke_token(token):
        raise Unauthorized(_l("The token is invalid or has expired."), code="invalid_token")
    return "", 204


@bp.get("/auth/me")
@staff_required()
def me():
    user = g.user
    return jsonify(username=user.username, role=user.role, display_name=user.display_name,
                   region_code=user.region.code if user.region else None,
                   site_codes=[s.code for s in user.sites])


# The audit trail: read it (admins everything, coordinators their region) and download it.

def _audit_filters() -> query.Filters:
    args = request.args
    return query.parse_filters(args.get("user"), args.get("action"), args.get("from"), args.get("to"))


@bp.get("/audit")
@staff_required(*query.READER_ROLES)
def list_audit():
    filters, limit = _audit_filters(), query.page_size(request.args.get("limit"))
    raw = request.args.get("before", "")
    before = db_id(raw, big=True, text=True) if raw else None
    if raw and before is None:
        raise ValidationFailed(fields={"before": _l("Unknown event.")})
    return jsonify(query.read(g.user, filters, limit, before))


def _audit_export(fmt: str):
    @staff_required(*query.READER_ROLES)
    def view():
        filters = _audit_filters()
        name = f"audit-{utcnow().strftime('%Y%m%d-%H%M')}.{fmt}"
        return exports.download(fmt, query.export_header(), query.export(g.user, filters, fmt), name, _("Audit trail"))
    return view


for _fmt in ("csv", "xlsx"):
    bp.add_url_rule(f"/audit.{_fmt}", f"audit_{_fmt}", _audit_export(_fmt))
