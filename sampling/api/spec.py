"""The OpenAPI document of /api/v1, served as JSON."""
from functools import cache
from pathlib import Path

import yaml
from flask import jsonify

from sampling.api import bp

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def load_spec() -> dict:
    """The OpenAPI document, parsed once."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(load_spec())
