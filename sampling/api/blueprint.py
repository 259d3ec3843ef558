"""The /api/v1 blueprint, in a module of its own so that the route modules import it without
importing the package that imports them."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
