"""Writes schemas/domain-event.v1.json from the event classes:

    PYTHONPATH=layers/shared .venv/bin/python -m schemas.build

The schema describes an event as EventBridge delivers it to a subscriber: the envelope
the publisher sets (source, detail-type, detail) and, per detail-type, the event's data
as its class serialises it. tests/integration/test_event_schema.py fails when the file
and the classes disagree; a change a subscriber could notice belongs in a new file (v2),
published alongside v1 until its subscribers have moved.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from order_saga.adapters.event_publisher import SOURCE
from order_saga.domain.events import EVENT_TYPES

PATH = Path(__file__).resolve().parent / "domain-event.v1.json"
MONEY = {
    "type": "string",
    "pattern": r"^[0-9]{1,10}\.[0-9]{2}$",
    "description": "An amount in the currency of the order, two decimals, as a string.",
}


def _tidy(node: Any) -> Any:
    """Pydantic's schema, as plain JSON Schema: money as its string pattern (instead of
    pydantic's own keywords), and every property required, as a serialised event has
    them all (defaults included)."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "decimal_places" in node:
        return dict(MONEY)
    tidy = {
        key: _tidy(value)
        for key, value in node.items()
        if not (key == "title" and isinstance(value, str))  # pydantic's field titles
    }
    if tidy.get("type") == "object" and "properties" in tidy:
        tidy["required"] = list(tidy["properties"])
    return tidy


def schema() -> dict[str, Any]:
    classes = sorted(EVENT_TYPES.items())
    _, generated = models_json_schema(
        [(cls, "serialization") for _, cls in classes], ref_template="#/$defs/{model}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:order-saga:schemas:domain-event:v1",
        "title": "An order saga domain event, as EventBridge delivers it (v1)",
        "description": (
            "source is always order-saga.orders and detail-type the event's type. "
            "(detail.stream_id, detail.version) identifies an event: delivery is at least "
            "once and unordered, so subscribers deduplicate and order on that pair. "
            "detail.schema_version is the version of the event's data."
        ),
        "type": "object",
        "required": ["source", "detail-type", "detail"],
        "properties": {
            "source": {"const": SOURCE},
            "detail-type": {"enum": [name for name, _ in classes]},
            "time": {"type": "string", "description": "When the event happened."},
            "detail": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "stream_id",
                    "version",
                    "schema_version",
                    "occurred_at",
                    "correlation_id",
                    "data",
                ],
                "properties": {
                    "stream_id": {
                        "type": "string",
                        "pattern": "^(order|product)#[A-Za-z0-9_-]{1,64}$",
                        "description": "order#<order id> or product#<product id>.",
                    },
                    "version": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "The event's place in its stream, from 1.",
                    },
                    "schema_version": {"type": "integer", "minimum": 1},
                    "occurred_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "ISO 8601 with milliseconds and offset.",
                    },
                    "correlation_id": {
                        "type": "string",
                        "description": "The order the event belongs to (a product id for "
                        "stock added outside any order).",
                    },
                    "data": {"type": "object"},
                },
            },
        },
        "allOf": [
            {
                "if": {"properties": {"detail-type": {"const": name}}},
                "then": {
                    "properties": {"detail": {"properties": {"data": {"$ref": f"#/$defs/{name}"}}}}
                },
            }
            for name, _ in classes
        ],
        "$defs": _tidy(generated["$defs"]),
    }


def render() -> str:
    return json.dumps(schema(), indent=2) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PATH.name}\n")
