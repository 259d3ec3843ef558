"""The public collection query."""
from flask import current_app, jsonify

from sampling.api import bp
from sampling.api.auth import json_body
from sampling.extensions import limiter
from sampling.lab import query


@bp.post("/query")
@limiter.limit(lambda: current_app.config["RATELIMIT_PUBLIC"])
def collection_query():
    data = json_body()
    return jsonify(records=query.collections(data.get("id_number"), data.get("name")))
