"""Benchmark ceilings: bare endpoints that insert rows and commit, nothing else. Registered only
when the environment says BENCH_CEILING=1 (scripts/bench_scan.py, bench_sync.py); not part of the API.

Their rows go to ``bench_rows``, a table of their own that nothing else reads (the benchmarks
create it), so the ceiling does not fill tables that the measured endpoints read."""
import uuid

from flask import jsonify, request
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert

from sampling.api.blueprint import bp
from sampling.extensions import db
from sampling.models import Sample
from sampling.models.base import UTCDateTime, utcnow

BENCH_ROWS = Table("bench_rows", MetaData(), Column("client_id", String(36), primary_key=True),
                   Column("op", String(16), nullable=False), Column("status", Integer, nullable=False),
                   Column("body", JSON), Column("created_at", UTCDateTime(), default=utcnow))


@bp.post("/_bench/ceiling")
def bench_ceiling():
    """One row, one commit: the most a request through this stack can do."""
    db.session.execute(insert(BENCH_ROWS).values(client_id=str(uuid.uuid4()), op="bench", status=201))
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
    db.session.execute(insert(BENCH_ROWS), [
        {"client_id": str(uuid.uuid4()), "op": "bench", "status": 201, "body": item} for item in items])
    db.session.commit()
    return jsonify(results=[{"client_id": item["client_id"], "status": 201} for item in items])
