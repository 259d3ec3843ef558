"""Residents and their codes: public registration, recovery, code images and the community
picker (rate limited); staff entry from ID card details and list uploads."""
from functools import lru_cache

from flask import Response, current_app, g, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from sampling.api.auth import json_body, staff_required
from sampling.api.blueprint import bp
from sampling.errors import BadRequest
from sampling.extensions import db, limiter
from sampling.residents import code_sheets, codes, communities, rebind, registration

STAFF = registration.STAFF_ROLES
CODE_MAX_AGE = 365 * 24 * 3600  # a resident's code never changes: its image can be kept


def public_limit():
    return current_app.config["RATELIMIT_PUBLIC"]


def public_read_limit():
    return current_app.config["RATELIMIT_PUBLIC_READ"]


def code_body(resident) -> dict:
    card = registration.card(resident)
    return {**card, "qr_png_url": url_for("api.code_png", qr=card["qr"])}


@bp.post("/residents")
@limiter.shared_limit(public_limit, scope="public")
def register_resident():
    resident, created = registration.register(json_body())
    db.session.commit()
    return jsonify(code_body(resident)), 201 if created else 200


@bp.post("/residents/recover")
@limiter.shared_limit(public_limit, scope="public")
def recover_code():
    data = json_body()
    resident = registration.recover(data.get("id_number"), data.get("name"), data.get("phone"))
    return jsonify(code_body(resident))


@lru_cache(maxsize=4096)
def _png(token: str) -> bytes:
    return codes.render_png(token)


@bp.get("/codes/<qr>.png")
@limiter.shared_limit(public_read_limit, scope="public-read")
def code_png(qr):
    resident = registration.get_by_code(qr)  # a replaced code has no image any more
    response = Response(_png(codes.token_for(resident.id, resident.code_version)), mimetype="image/png")
    response.headers["Cache-Control"] = f"public, max-age={CODE_MAX_AGE}, immutable"
    return response


@bp.get("/regions")
@limiter.shared_limit(public_read_limit, scope="public-read")
def list_regions():
    response = jsonify(regions=communities.children(request.args.get("parent")))
    response.headers["Cache-Control"] = "public, max-age=600"
    return response


@bp.post("/staff/residents")
@staff_required(*STAFF)
def staff_register_resident():
    resident, created = registration.register_by_staff(g.user, json_body())
    db.session.commit()
    return jsonify(code_body(resident)), 201 if created else 200


@bp.post("/staff/residents/rebind")
@staff_required(*STAFF)
def staff_rebind_resident():
    resident = rebind.rebind(g.user, json_body())
    return jsonify({**code_body(resident), "code_version": resident.code_version})


@bp.post("/staff/code-sheets")
@staff_required(*STAFF)
def upload_code_sheet():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest(_l("Choose a CSV or Excel file to upload."), code="no_file")
    community = code_sheets.upload_community(request.form.get("region_code"))
    report = code_sheets.import_list(g.user, upload.stream, upload.filename, community, request.form.get("title"))
    body = report.to_dict()
    body["sheet_url"] = url_for("web.code_sheet", sheet_id=report.sheet.id)
    return jsonify(body), 201
