"""Backfill of paper-form samples, for coordinators."""
from flask import g, jsonify, request

from sampling.api import bp
from sampling.api.auth import json_body, staff_required
from sampling.errors import BadRequest
from sampling.field import backfill, paper_forms


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
