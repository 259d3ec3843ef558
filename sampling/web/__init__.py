"""Web pages for staff and residents."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from sampling.web import (  # noqa: E402,F401  (routes register on import)
    auth,
    field,
    lab,
    pages,
    residents,
    rosters,
    stats,
)
