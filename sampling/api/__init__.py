"""The JSON API under /api/v1: a public contract for phones and hand-held scanners."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# routes register on import
from sampling.api import auth, backfill, errors, query, rounds, spec, sync, tubes  # noqa: E402,F401
