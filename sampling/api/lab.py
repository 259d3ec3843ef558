"""Transport boxes, lab results, positive pools and turnaround."""
from flask import g, jsonify, request
from flask_babel import lazy_gettext as _l

from sampling.api.auth import json_body, staff_required
from sampling.api.blueprint import bp
from sampling.errors import BadRequest
from sampling.kernel.access import require_region
from sampling.kernel.regions import get_region
from sampling.lab import boxes, positives, results
from sampling.lab.turnaround import turnaround


def _truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"})


def _int_arg(name: str, required: bool = False) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw and not required:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BadRequest(_l("%(name)s must be a whole number.", name=name), code=f"invalid_{name}")
    return int(raw)


@bp.post("/boxes")
@staff_required("sampler", "admin")
def create_box():
    box = boxes.create_box(g.user, json_body().get("box_code"))
    return jsonify(boxes.box_to_dict(box)), 201


@bp.get("/boxes/<box_code>")
@staff_required("sampler", "lab", "admin")
def get_box(box_code):
    return jsonify(boxes.box_to_dict(boxes.get_box(box_code)))


@bp.post("/boxes/<box_code>/tubes")
@staff_required("sampler", "admin")
def box_tube(box_code):
    tube = boxes.add_tube(g.user, box_code, json_body().get("tube_code"))
    box = boxes.get_box(box_code)
    return jsonify(box=boxes.box_to_dict(box, with_tubes=False),
                   tube={"code": tube.code, "status": tube.status, "sample_count": tube.sample_count})


@bp.post("/boxes/<box_code>/handover")
@staff_required("sampler", "admin")
def hand_over_box(box_code):
    return jsonify(boxes.box_to_dict(boxes.hand_over(g.user, box_code), with_tubes=False))


@bp.post("/boxes/<box_code>/receive")
@staff_required("lab", "admin")
def receive_box(box_code):
    box, received = boxes.receive(g.user, box_code)
    return jsonify({**boxes.box_to_dict(box, with_tubes=False), "tubes_received": received})


@bp.post("/results")
@staff_required("lab", "admin")
def post_results():
    upload = request.files.get("file")
    if upload is not None:
        rows = results.rows_from_file(upload.stream, upload.filename or "results.csv")
        correct = _truthy(request.form.get("correct"))
    elif request.mimetype == "multipart/form-data":
        raise BadRequest(_l("Attach the results file as 'file'."), code="no_file")
    else:
        data = json_body()
        rows, correct = results.rows_from_json(data), _truthy(data.get("correct"))
    return jsonify(results.post_results(g.user, rows, correct=correct))


@bp.get("/positives")
@staff_required("coordinator", "admin")
def list_positives():
    pools = positives.list_pools(g.user, _int_arg("round_id"), request.args.get("status") or None, mark_seen=True)
    return jsonify(pools=pools)


@bp.get("/positives/notice")
@staff_required("coordinator", "admin")
def positives_notice():
    return jsonify(positives.notice(g.user))


@bp.get("/turnaround")
@staff_required("coordinator", "lab", "admin")
def round_turnaround():
    round_id = _int_arg("round_id", required=True)
    code = request.args.get("region_code", "").strip()
    region = get_region(code) if code else (g.user.region if g.user.role == "coordinator" else None)
    if region is not None and g.user.role != "lab":  # labs serve every region; times are not personal
        require_region(g.user, region)
    return jsonify(turnaround(round_id, region))
