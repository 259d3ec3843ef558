"""Benchmark ceilings: bare endpoints that insert rows and commit, nothing else. Registered only
when the environment says BENCH_CEILING=1 (scripts/bench_scan.py, bench_sync.py); not part of the API.

- ``/_bench/ceiling`` writes one narrow row into ``bench_rows``, a table of its own that nothing
  else reads (the benchmarks create it), so it does not fill tables the measured endpoints read;
- ``/_bench/sample_row`` and ``/_bench/sample_rows`` write the very rows a scan or a sync batch
  writes into ``samples`` (its foreign keys, indexes and statistics trigger), given their ids:
  nothing looked up, checked or counted, no caller authenticated."""
import uuid
from types import SimpleNamespace

from flask import jsonify, request
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert

from sampling.api.blueprint import bp
from sampling.extensions import db
from sampling.field.sync import statements
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


@bp.post("/_bench/sample_rows")
def bench_sample_rows():
    """The sample rows of a sync batch (``rows``: tube_id, resident_id, round_id, site_id), inserted
    by sync's own INSERT statement (one ``INSERT ... SELECT FROM unnest`` on PostgreSQL) and
    committed: no tube locked or counted, nothing checked."""
    rows = request.get_json()["rows"]
    statements.insert_samples(SimpleNamespace(id=None), [
        {**row, "client_id": str(uuid.uuid4()), "position": 0} for row in rows], utcnow())
    db.session.commit()
    return jsonify(inserted=len(rows)), 201
