"""A speed shortcut in the handlers' SDK (botocore, the client side).

1. DynamoDB answers read as JSON directly, by the handlers' SDK. botocore walks every
   answer value by value against the service model, to turn blobs and timestamps into
   Python types; a DynamoDB data-plane answer has neither, unless an item holds a binary
   attribute. Those answers (and only when the body shows no binary attribute) are
   ``json.loads`` of the body, which is what the walk returns for them.
"""

from __future__ import annotations

from typing import Any

from local_runtime.patches.patching import patch
from local_runtime.patches.speed.dynamodb_reads import DATA_PLANE

DATA_PLANE_ANSWERS = frozenset(f"{action}Output" for action in DATA_PLANE)
BINARY_MARKERS = (b'"B":', b'"BS":')


def apply() -> None:
    from botocore.parsers import JSONParser

    patch(JSONParser, "_handle_json_body", _dynamodb_read_as_json)


def _dynamodb_read_as_json(original: Any) -> Any:
    def _handle_json_body(self: Any, raw_body: bytes, shape: Any) -> Any:
        if (
            shape is not None
            and shape.name in DATA_PLANE_ANSWERS
            and "ConsumedCapacity" in shape.members
            and not any(marker in raw_body for marker in BINARY_MARKERS)
        ):
            return self._parse_body_as_json(raw_body)
        return original(self, raw_body, shape)

    return _handle_json_body
