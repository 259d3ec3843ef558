"""Batch sync of queued work (offline-first phones)."""
from flask import g, jsonify

from sampling.api import bp
from sampling.api.auth import json_body, staff_required
from sampling.field import sync


@bp.post("/sync")
@staff_required("admin", "coordinator", "sampler")
def sync_batch():
    return jsonify(results=sync.sync(g.user, json_body()))
