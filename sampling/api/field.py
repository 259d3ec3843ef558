"""Field work: rounds; tubes and samples (the scanning page and hand-held scanners); batch sync of
queued work (offline-first phones); backfill of paper forms; the public collection query."""
from flask import current_app, g, jsonify, request

from sampling.api.auth import json_body, staff_required
from sampling.api.blueprint import bp
from sampling.errors import BadRequest, DomainError
from sampling.extensions import limiter
from sampling.field import backfill, paper_forms, replay, rounds, samples, sync, tubes
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
    return _answer("open_tube", tubes.open_tube(g.user, json_body()))


@bp.get("/tubes/<tube_code>")
@staff_required(*FIELD)
def get_tube(tube_code):
    return jsonify(tubes.describe_tube(g.user, tube_code))


@bp.post("/tubes/<tube_code>/samples")
@staff_required(*FIELD)
def add_sample(tube_code):
    return _answer("add_sample", samples.add_sample(g.user, tube_code, json_body()))


@bp.post("/tubes/<tube_code>/seal")
@staff_required(*FIELD)
def seal_tube(tube_code):
    data = request.get_json(silent=True)
    client_id = data.get("client_id") if isinstance(data, dict) else None
    return _answer("seal", tubes.seal_tube(g.user, tube_code, client_id))


@bp.delete("/samples/<int:sample_id>")
@staff_required(*FIELD)
def undo_sample(sample_id):
    samples.undo_sample(g.user, sample_id)
    return "", 204


@bp.post("/sync")
@staff_required("admin", "coordinator", "sampler")
def sync_batch():
    results = []
    for item, outcome in sync.sync(g.user, json_body()):
        op, client_id = (item.get("op"), item.get("client_id")) if isinstance(item, dict) else (None, None)
        status, body = answered(op, outcome)
        results.append({"client_id": client_id if isinstance(client_id, str) else None, "status": status,
                        "body": body})
    return jsonify(results=results)


_CREATING = ("open_tube", "add_sample")


def answered(op, outcome: replay.Outcome | DomainError) -> tuple[int, dict | None]:
    """The status and body of a field operation's outcome, the same for its single endpoint and
    for its item in a sync batch: 201 for what this request created, 200 for a repeat answered
    from the record (and for a seal), 204 for an undo; a refusal's own status and error body."""
    if isinstance(outcome, DomainError):
        return outcome.status, outcome.to_dict()
    if op == "undo":
        return 204, None
    return (201 if op in _CREATING and not outcome.repeat else 200), outcome.body


def _answer(op: str, outcome: replay.Outcome):
    status, body = answered(op, outcome)
    return jsonify(body), status


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
