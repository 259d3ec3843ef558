"""Rosters and collisions: upload a roster, run it against a round, download the lists."""
from flask import current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l

from sampling.api.auth import json_body, staff_required
from sampling.api.blueprint import bp
from sampling.errors import DomainError, ValidationFailed
from sampling.kernel import exports
from sampling.rosters import collisions, lists, register, uploads

_STAFF = ("admin", "coordinator")


class TooLarge(DomainError):
    status = 413
    default_code = "too_large"


def _upload():
    """The uploaded file, after raising the size limit to the roster limit for this request."""
    limit_mb = current_app.config["ROSTER_MAX_UPLOAD_MB"]
    if request.content_length and request.content_length > limit_mb * 1024 * 1024:
        raise TooLarge(_l("The file is larger than %(mb)s MB. Split the roster into smaller files.", mb=limit_mb))
    request.max_content_length = limit_mb * 1024 * 1024
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(fields={"file": _l("Choose a file.")})
    return upload


@bp.post("/rosters/inspect")
@staff_required(*_STAFF)
def inspect_roster():
    upload = _upload()
    return jsonify(uploads.inspect_file(g.user, upload.stream, upload.filename))


_FLAGS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False,
          "off": False, "": False}


def _flag(name: str) -> bool:
    """A true/false form field (absent: false)."""
    value = _FLAGS.get((request.form.get(name) or "").strip().lower())
    if value is None:
        raise ValidationFailed(fields={name: _l("Give true or false.")})
    return value


@bp.post("/rosters")
@staff_required(*_STAFF)
def upload_roster():
    upload = _upload()
    roster, errors = uploads.upload_roster(g.user, upload.stream, upload.filename, request.form.get("name"),
                                           request.form.get("region_code"), request.form.get("mapping"),
                                           review=_flag("review"))
    return jsonify(roster_id=roster.id, rows_total=roster.rows_total, rows_valid=roster.rows_valid,
                   status=roster.status, errors=errors), 201


@bp.post("/rosters/<int:roster_id>/accept")
@staff_required(*_STAFF)
def accept_roster(roster_id):
    return jsonify(uploads.roster_to_dict(uploads.accept_roster(g.user, roster_id)))


@bp.get("/rosters")
@staff_required(*_STAFF)
def list_rosters():
    return jsonify(rosters=[uploads.roster_to_dict(r) for r in uploads.list_rosters(g.user)])


@bp.get("/rosters/<int:roster_id>")
@staff_required(*_STAFF)
def get_roster(roster_id):
    roster = uploads.get_roster(g.user, roster_id)
    return jsonify({**uploads.roster_to_dict(roster), "errors": uploads.roster_errors(roster, 100),
                    "collisions": [collisions.collision_to_dict(c) for c in collisions.collisions_of(roster)]})


@bp.delete("/rosters/<int:roster_id>")
@staff_required(*_STAFF)
def delete_roster(roster_id):
    uploads.delete_roster(g.user, roster_id)
    return "", 204


@bp.post("/collisions")
@staff_required(*_STAFF)
def run_collision():
    data = json_body()
    source = data.get("source", "roster")
    if source == "register":
        collision = register.run_register_collision(g.user, data.get("region_code"), data.get("round_id"),
                                                    data.get("from"), data.get("to"))
    elif source == "roster":
        collision = collisions.run_collision(g.user, data.get("roster_id"), data.get("round_id"),
                                             data.get("from"), data.get("to"))
    else:
        raise ValidationFailed(fields={"source": _l("source must be roster or register.")})
    return jsonify(collisions.collision_to_dict(collision)), 201


@bp.get("/collisions/<int:collision_id>")
@staff_required(*_STAFF)
def get_collision(collision_id):
    collision = collisions.get_collision(g.user, collision_id)
    return jsonify({**collisions.collision_to_dict(collision),
                    "by_community": lists.summary(collision),
                    "by_building": lists.summary(collision, by_building=True)})


def download(collision, category: str, fmt: str):
    """A list of a collision as a CSV (streamed) or XLSX download, masked for the caller."""
    name = f"collision-{collision.id}-{category}.{fmt}"
    header, rows = lists.header(category, collision), lists.rows(collision, category, g.user)
    return exports.download(fmt, header, rows, name, str(lists.TITLES[category]))


def _download_view(category: str, fmt: str):
    @staff_required(*_STAFF)
    def view(collision_id):
        return download(collisions.get_collision(g.user, collision_id), category, fmt)
    return view


for _category in collisions.CATEGORIES:
    for _fmt in ("csv", "xlsx"):
        bp.add_url_rule(f"/collisions/<int:collision_id>/{_category}.{_fmt}", f"collision_{_category}_{_fmt}",
                        _download_view(_category, _fmt))
