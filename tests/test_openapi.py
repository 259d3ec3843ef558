"""The OpenAPI document describes exactly the routes the app serves."""
from openapi_spec_validator import validate

from sampling.api.spec import load_spec
from tests.contract import PREFIX, spec_path


def test_document_is_valid_openapi():
    validate(load_spec())


def test_every_route_is_documented_and_every_documented_route_exists(server):
    served = set()
    for rule in server.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((spec_path(rule.rule), method.lower()))
    documented = {(path, method) for path, ops in load_spec()["paths"].items()
                  for method in ops if method in {"get", "post", "put", "patch", "delete"}}
    assert served == documented


def test_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["paths"].keys() == load_spec()["paths"].keys()
