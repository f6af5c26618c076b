"""What must not reach a route, refused before Powertools parses anything: a request with
no caller identity (as API Gateway's authorizer would refuse it), a body over 64 KB, and a
body that is not UTF-8 JSON (Powertools would also try forms and multipart)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from aws_lambda_powertools.event_handler import content_types

from order_saga import strict_json
from order_saga.entrypoints import identity
from order_saga.entrypoints.response_models import ErrorBody, Problem
from order_saga.entrypoints.statuses import status_for
from order_saga.errors import MalformedJson, PayloadTooLarge, SagaError, UnsupportedMediaType
from order_saga.strict_json import DuplicateKey

JSON = content_types.APPLICATION_JSON
MAX_BODY_BYTES = 64 * 1024
"""Bodies above this are refused (413) before they are parsed."""
PUBLIC_ROUTES = frozenset({("GET", "/openapi.json")})
"""Routes that need no caller identity (the template gives them no authorizer either)."""


def refuse_early(event: dict[str, Any]) -> dict[str, Any] | None:
    """What must not reach a route: no caller identity (as API Gateway's authorizer would
    refuse it), then a body too large to parse or not JSON (Powertools would try forms
    and multipart too). Returns the proxy response, or None."""
    try:
        route = (event.get("httpMethod"), event.get("resource") or event.get("path"))
        if route not in PUBLIC_ROUTES:
            identity.caller(event, os.environ)
        body = _body_bytes(event)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KB")
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if body and media_type and media_type != JSON and not media_type.endswith("+json"):
            raise UnsupportedMediaType(f"send the body as {JSON}, not {media_type}")
        text = body.decode("utf-8")
        if text:
            _check_json(text)
    except UnicodeDecodeError:
        return _proxy_error(MalformedJson("the body is not UTF-8 JSON"))
    except SagaError as error:
        return _proxy_error(error)
    return None


def _check_json(text: str) -> None:
    """Read the body once before Powertools does: JSON nested past the parser's depth would
    raise RecursionError, and an integer of thousands of digits a ValueError, both 500s;
    an object with a key twice is refused by name (strict_json)."""
    try:
        strict_json.loads(text)
    except DuplicateKey as duplicate:
        # The first key and the last would be two different orders to two readers.
        raise MalformedJson(f"the body is not valid JSON: {duplicate}") from None
    except (ValueError, RecursionError):
        raise MalformedJson("the body is not valid JSON") from None


def _body_bytes(event: dict[str, Any]) -> bytes:
    raw = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(raw).encode()
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise MalformedJson("the body is not valid base64") from None


def _proxy_error(error: SagaError) -> dict[str, Any]:
    details = (
        [Problem(field="body", reason=str(error))] if isinstance(error, PayloadTooLarge) else []
    )
    body = ErrorBody(error=type(error).__name__, message=str(error), details=details)
    return {
        "statusCode": status_for(error),
        "headers": {"Content-Type": JSON},
        "body": json.dumps(body.model_dump(), separators=(",", ":")),
        "isBase64Encoded": False,
    }
