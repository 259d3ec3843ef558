"""Web pages for staff and residents."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from sampling.web import (  # noqa: E402,F401  (routes register on import)
    auth,
    collections,
    collisions,
    lab,
    pages,
    resident_pages,
    resident_staff,
    scan,
    stats,
)
