"""Keeps the OpenAPI document true: every /api/v1 response a test provokes must be documented
(path, method, status) and its JSON body must match the documented schema."""
import re

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

from sampling.api.spec import load_spec

PREFIX = "/api/v1"
# Statuses any endpoint can answer with, documented once in the spec's description.
GENERIC_STATUSES = {405, 413, 500}
# Errors any endpoint can answer with (the input guard and the database safety net), also
# documented once in the description: (status, error code).
GENERIC_ERRORS = {(400, "invalid_characters"), (422, "invalid_value"), (503, "busy")}


def _generic_error(response) -> bool:
    body = response.get_json(silent=True) if response.is_json else None
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    return (response.status_code, code) in GENERIC_ERRORS


def spec_path(rule: str) -> str:
    """Flask's /api/v1/tubes/<tube_code> → OpenAPI's /tubes/{tube_code}."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule[len(PREFIX):])


def check_response(app, method: str, path: str, response) -> None:
    if not path.startswith(PREFIX + "/") or response.status_code in GENERIC_STATUSES or _generic_error(response):
        return
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    except HTTPException:
        return  # no such route: the 404/405 is not part of any documented operation
    spec = load_spec()
    operation = spec["paths"].get(spec_path(rule.rule), {}).get(method.lower())
    assert operation is not None, f"{method} {spec_path(rule.rule)} is not in the OpenAPI document"
    documented = operation.get("responses", {})
    status = str(response.status_code)
    assert status in documented, f"{method} {spec_path(rule.rule)} answered {status}, not documented"
    entry = documented[status]
    if "$ref" in entry:
        entry = spec["components"]["responses"][entry["$ref"].rsplit("/", 1)[1]]
    schema = entry.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None and response.is_json:
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = sorted(validator.iter_errors(response.get_json()), key=str)
        assert not errors, f"{method} {path} {status}: body does not match the spec: {errors[0].message}"


class ContractClient(FlaskClient):
    """A test client that checks every API response against the OpenAPI document."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        if not kwargs.get("follow_redirects"):
            check_response(self.application, request.method, request.path, response)
        return response
