"""Web pages for staff and residents."""
from sampling.web import (  # noqa: E402,F401  (routes register on import)
    auth,
    field,
    lab,
    pages,
    residents,
    rosters,
    stats,
)
from sampling.web.blueprint import bp  # noqa: F401  (the app factory registers it)
