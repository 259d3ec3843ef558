"""The OpenAPI document of /api/v1, served as JSON.

It is kept in parts, one YAML file per area under ``openapi/`` (``base.yaml`` holds the header,
shared components and the auth and rounds paths); the parts' ``paths`` and ``components`` are
merged into one document.
"""
from functools import cache
from pathlib import Path

import yaml
from flask import jsonify

from sampling.api.blueprint import bp

SPEC_DIR = Path(__file__).with_name("openapi")


@cache
def load_spec() -> dict:
    """The whole OpenAPI document, assembled once."""
    spec = yaml.safe_load((SPEC_DIR / "base.yaml").read_text(encoding="utf-8"))
    for part in sorted(SPEC_DIR.glob("*.yaml")):
        if part.name == "base.yaml":
            continue
        fragment = yaml.safe_load(part.read_text(encoding="utf-8")) or {}
        for path, operations in fragment.get("paths", {}).items():
            if path in spec["paths"]:
                raise ValueError(f"{part.name}: path {path} is already described elsewhere")
            spec["paths"][path] = operations
        for section, entries in fragment.get("components", {}).items():
            spec["components"].setdefault(section, {}).update(entries)
    return spec


@bp.get("/openapi.json")
def openapi():
    return jsonify(load_spec())
