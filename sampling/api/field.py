"""Field work: rounds; tubes and samples (the scanning page and hand-held scanners); batch sync of
queued work (offline-first phones); backfill of paper forms; the public collection query."""
from flask import current_app, g, jsonify, request

from sampling.api import bp
from sampling.api.auth import json_body, staff_required
from sampling.errors import BadRequest
from sampling.extensions import limiter
from sampling.field import backfill, paper_forms, rounds, samples, sync, tubes
from sampling.lab import query


@bp.get("/rounds")
@staff_required()
def list_rounds():
    return jsonify(rounds=[rounds.round_to_dict(r) for r in rounds.list_rounds(g.user)])


@bp.post("/rounds")
@staff_required("admin", "coordinator")
def create_round():
    data = json_body()
    rnd = rounds.create_round(g.user, data.get("name"), data.get("pool_size", 10), data.get("region_code"))
    return jsonify(rounds.round_to_dict(rnd)), 201


@bp.patch("/rounds/<round_id>")
@staff_required("admin", "coordinator")
def update_round(round_id):
    rnd, sealed = rounds.change_status(g.user, round_id, json_body().get("status"))
    return jsonify({**rounds.round_to_dict(rnd), "sealed_tubes": sealed})


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


@bp.post("/sync")
@staff_required("admin", "coordinator", "sampler")
def sync_batch():
    return jsonify(results=sync.sync(g.user, json_body()))


@bp.post("/backfill")
@staff_required("admin", "coordinator")
def backfill_one():
    data = json_body()
    entry = data.get("entry")
    if not isinstance(entry, dict):
        raise BadRequest(code="invalid_entry")
    result = backfill.backfill_one(g.user, data.get("round_id"), entry)
    return jsonify(result), 201 if result["outcome"] == "added" else 200


@bp.post("/backfill/upload")
@staff_required("admin", "coordinator")
def backfill_upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest(code="no_file")
    return jsonify(paper_forms.backfill_file(g.user, request.form.get("round_id"), upload.stream, upload.filename))


@bp.post("/query")
@limiter.limit(lambda: current_app.config["RATELIMIT_PUBLIC"])
def collection_query():
    data = json_body()
    return jsonify(records=query.collections(data.get("id_number"), data.get("name")))
