"""Benchmark ceilings: bare endpoints that insert rows and commit, nothing else. Registered only
when the environment says BENCH_CEILING=1 (scripts/bench_scan.py, bench_sync.py); not part of the API."""
import uuid

from flask import jsonify, request
from sqlalchemy import insert

from sampling.api import bp
from sampling.extensions import db
from sampling.models import ClientOperation, Sample
from sampling.models.base import utcnow


@bp.post("/_bench/ceiling")
def bench_ceiling():
    """One row, one commit: the most a request through this stack can do."""
    db.session.execute(insert(ClientOperation).values(client_id=str(uuid.uuid4()), op="bench", status=201))
    db.session.commit()
    return jsonify(ok=True), 201


@bp.post("/_bench/sample_row")
def bench_sample_row():
    """The same row a scan inserts (samples, with its foreign keys and indexes), and a commit:
    nothing checked, no tube counted, no caller authenticated."""
    data = request.get_json()
    db.session.execute(insert(Sample).values(
        tube_id=data["tube_id"], resident_id=data["resident_id"], round_id=data["round_id"], site_id=data["site_id"],
        client_id=str(uuid.uuid4()), supplementary=False, resample=False, position=0, sampled_at=utcnow()))
    db.session.commit()
    return jsonify(ok=True), 201


@bp.post("/_bench/batch")
def bench_batch():
    """The rows of a sync batch, inserted in one statement and committed."""
    items = request.get_json()["items"]
    db.session.execute(insert(ClientOperation), [
        {"client_id": str(uuid.uuid4()), "op": "bench", "status": 201, "body": item} for item in items])
    db.session.commit()
    return jsonify(results=[{"client_id": item["client_id"], "status": 201} for item in items])
