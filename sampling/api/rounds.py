"""Rounds: list, open, close and reopen."""
from flask import g, jsonify

from sampling.api import bp
from sampling.api.auth import json_body, staff_required
from sampling.field import rounds


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
