"""The web pages' blueprint, in a module of its own so that the route modules import it without
importing the package that imports them."""
from flask import Blueprint

bp = Blueprint("web", __name__)
