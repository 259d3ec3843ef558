"""Benchmark ceilings: bare endpoints that insert rows and commit, nothing else. Registered only
when the environment says BENCH_CEILING=1 (scripts/bench_scan.py, bench_sync.py); not part of the API."""
import uuid

from flask import jsonify, request
from sqlalchemy import insert

from sampling.api import bp
from sampling.extensions import db
from sampling.models import ClientOperation


@bp.post("/_bench/ceiling")
def bench_ceiling():
    """One row, one commit: the most a request through this stack can do."""
    db.session.execute(insert(ClientOperation).values(client_id=str(uuid.uuid4()), op="bench", status=201))
    db.session.commit()
    return jsonify(ok=True), 201


@bp.post("/_bench/batch")
def bench_batch():
    """The rows of a sync batch, inserted in one statement and committed."""
    items = request.get_json()["items"]
    db.session.execute(insert(ClientOperation), [
        {"client_id": item["client_id"], "op": "bench", "status": 201, "body": item} for item in items])
    db.session.commit()
    return jsonify(results=[{"client_id": item["client_id"], "status": 201} for item in items])
