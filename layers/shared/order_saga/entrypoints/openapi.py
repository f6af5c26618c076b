"""The API's OpenAPI document, generated from the resolver's routes and models.

``python -m order_saga.entrypoints.openapi openapi.json`` writes it (``make openapi``);
``--check`` exits 1 when the file differs from what the code generates. The API serves
the same document at GET /openapi.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

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
def document() -> dict[str, Any]:
    from order_saga.entrypoints.api import app

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


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="where the document lives, e.g. openapi.json")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != render():
            print(f"{args.path} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(render(), encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
