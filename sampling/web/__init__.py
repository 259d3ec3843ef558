"""Web pages for staff and residents."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from sampling.web import auth, lab, pages, resident_pages, resident_staff, stats  # noqa: E402,F401  (routes register on import)
