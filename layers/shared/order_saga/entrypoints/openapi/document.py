"""The API's OpenAPI document, generated from a resolver's routes and models.

The resolver is handed in (``document(app)``), so this module never imports the API that
serves it: the API's GET /openapi.json and the command line (``__main__``) both pass it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

TITLE = "Order API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Orders run as a saga over payment and inventory. Money is a decimal string "
    '("24.90"); prices come from the catalog. Every error answers with '
    '{"error", "message", "details"}. Callers authenticate with a Cognito ID token or '
    "SigV4, as the stack's AuthMode says; the local server takes X-Customer-Id instead."
)
SECURITY_SCHEMES = {
    "CognitoIdToken": APIKey.model_validate(
        {
            "type": "apiKey",
            "in": APIKeyIn.header,
            "name": "Authorization",
            "description": "AuthMode COGNITO: the user pool ID token, as it is.",
        }
    ),
    "AwsSigV4": APIKey.model_validate(
        {
            "type": "apiKey",
            "in": APIKeyIn.header,
            "name": "Authorization",
            "description": "AuthMode IAM: a SigV4 signature for execute-api.",
        }
    ),
}


@cache
def document(app: APIGatewayRestResolver) -> dict[str, Any]:
    text = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,  # type: ignore[arg-type]
        security=[{"CognitoIdToken": []}, {"AwsSigV4": []}],
    )
    return _without_unused_schemas(json.loads(text))


def _without_unused_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """Powertools always adds its own validation-error schemas; this API answers with
    ErrorBody instead, so drop every component schema nothing refers to."""
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending = [doc["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in used:
                    used.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - used:
        del schemas[name]
    return doc


def render(app: APIGatewayRestResolver) -> str:
    return json.dumps(document(app), indent=2, ensure_ascii=False) + "\n"
