"""The JSON API under /api/v1: a public contract for phones and hand-held scanners."""
import os

# routes register on import
from sampling.api import (  # noqa: E402,F401
    auth,
    errors,
    field,
    lab,
    residents,
    rosters,
    spec,
    stats,
)
from sampling.api.blueprint import bp  # noqa: F401  (the app factory registers it)

if os.environ.get("BENCH_CEILING") == "1":  # benchmark-only bare endpoints (scripts/bench_*.py)
    from sampling.api import bench  # noqa: F401
