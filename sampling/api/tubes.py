"""Tubes and samples: what the scanning page and hand-held scanners call."""
from flask import g, jsonify, request

from sampling.api import bp
from sampling.api.auth import json_body, staff_required
from sampling.field import samples, tubes

FIELD = ("admin", "coordinator", "sampler")


@bp.get("/sites")
@staff_required(*FIELD)
def list_sites():
    return jsonify(sites=tubes.sites_for(g.user))


@bp.post("/tubes")
@staff_required(*FIELD)
def open_tube():
    status, body = tubes.open_tube(g.user, json_body())
    return jsonify(body), status


@bp.get("/tubes/<tube_code>")
@staff_required(*FIELD)
def get_tube(tube_code):
    return jsonify(tubes.describe_tube(g.user, tube_code))


@bp.post("/tubes/<tube_code>/samples")
@staff_required(*FIELD)
def add_sample(tube_code):
    status, body = samples.add_sample(g.user, tube_code, json_body())
    return jsonify(body), status


@bp.post("/tubes/<tube_code>/seal")
@staff_required(*FIELD)
def seal_tube(tube_code):
    data = request.get_json(silent=True)
    client_id = data.get("client_id") if isinstance(data, dict) else None
    status, body = tubes.seal_tube(g.user, tube_code, client_id)
    return jsonify(body), status


@bp.delete("/samples/<int:sample_id>")
@staff_required(*FIELD)
def undo_sample(sample_id):
    samples.undo_sample(g.user, sample_id)
    return "", 204
