"""The API's contract files agree: openapi.json is what the code generates, and template.yaml
routes exactly those operations, each behind the authorizer AuthMode picks."""

from __future__ import annotations

import json
from pathlib import Path

import schemathesis

from local_runtime.emulator.template import Template
from order_saga.entrypoints.openapi import __main__ as openapi

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "openapi.json"
TEMPLATE = Template()
API = TEMPLATE.resources["OrderApi"]["Properties"]["DefinitionBody"]
PUBLIC = {("GET", "/openapi.json")}


def documented_operations() -> set[tuple[str, str]]:
    doc = json.loads(COMMITTED.read_text())
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def test_the_committed_openapi_document_is_what_the_code_generates() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi.render(), (
        "openapi.json is out of date: run `make openapi` and commit it"
    )


def test_the_check_command_fails_on_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text(openapi.render().replace("Order API", "Old API"))

    assert openapi.main([str(stale), "--check"]) == 1
    assert openapi.main([str(COMMITTED), "--check"]) == 0


def test_the_document_is_valid_openapi_with_every_operation() -> None:
    schema = schemathesis.openapi.from_path(COMMITTED)
    schema.validate()  # raises on a document that breaks the OpenAPI 3.1 schema

    operations = {(r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()}

    assert operations == documented_operations()


def test_the_template_routes_exactly_the_documented_operations_and_the_contract() -> None:
    assert set(TEMPLATE.api_routes("OrderApi")) == documented_operations() | PUBLIC


def test_every_route_but_the_contract_requires_the_caller_scheme() -> None:
    for method, path in TEMPLATE.api_routes("OrderApi"):
        security = API["paths"][path][method.lower()]["security"]
        assert security == ([] if (method, path) in PUBLIC else [{"Caller": []}]), (method, path)


def test_auth_mode_picks_a_cognito_authorizer_or_iam_for_the_caller_scheme() -> None:
    parameter = TEMPLATE.raw["Parameters"]["AuthMode"]
    assert parameter["AllowedValues"] == ["COGNITO", "IAM"]
    assert TEMPLATE.raw["Conditions"]["UseCognito"] == {
        "Fn::Equals": [{"Ref": "AuthMode"}, "COGNITO"]
    }
    condition, cognito, iam = API["components"]["securitySchemes"]["Caller"]["Fn::If"]
    assert condition == "UseCognito"
    assert cognito["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert cognito["x-amazon-apigateway-authorizer"]["providerARNs"] == [
        {"Fn::GetAtt": ["UserPool", "Arn"]}
    ]
    assert iam["x-amazon-apigateway-authtype"] == "awsSigv4"
    for cognito_only in ("UserPool", "UserPoolClient", "OperatorsGroup"):
        assert TEMPLATE.resources[cognito_only]["Condition"] == "UseCognito"
    assert TEMPLATE.resources["OperatorsGroup"]["Properties"]["GroupName"] == "operators"


def test_the_api_function_knows_the_auth_mode_and_never_trusts_local_headers() -> None:
    environment = TEMPLATE.functions()["ApiFunction"].environment

    assert environment["AUTH_MODE"] == "COGNITO"  # the parameter's default
    assert "OPERATOR_ROLE_ARN" in environment
    for spec in TEMPLATE.functions().values():
        assert "LOCAL_IDENTITY_HEADERS" not in spec.environment


def test_the_api_function_may_touch_only_its_own_idempotency_records() -> None:
    from order_saga.entrypoints.idempotent_create import IDEMPOTENCY_PREFIX

    statements = [
        statement
        for policy in TEMPLATE.resources["ApiFunction"]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
        if statement["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    ]

    assert [
        s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] for s in statements
    ] == [[f"{IDEMPOTENCY_PREFIX}#*"]]
