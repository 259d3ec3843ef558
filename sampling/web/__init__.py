"""Web pages for staff and residents."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from sampling.web import auth, collections, pages, scan  # noqa: E402,F401  (routes register on import)
