"""From measured usage to dollars: DynamoDB's sizing rules and the prices in prices.json.

Pure functions, no I/O but reading the prices file, so they can be unit tested.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")
MILLION = Decimal(1_000_000)
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
WORKFLOW_TYPES = ("STANDARD", "EXPRESS")


# -- DynamoDB sizes and units (AWS: "DynamoDB item sizes and formats") ------------------


def attribute_value_size(value: dict[str, Any]) -> int:
    """The size of one DynamoDB-JSON value, its name not included."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in content)
    if kind == "NS":
        return sum(number_size(n) for n in content)
    if kind == "BS":
        return sum(len(b) for b in content)
    if kind == "L":
        return 3 + sum(attribute_value_size(v) + 1 for v in content)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_value_size(v) + 1 for k, v in content.items())
    raise ValueError(f"not a DynamoDB attribute value type: {kind}")


def number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1."""
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item: every attribute's name plus its value."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> int:
    """1 unit per started KB (at least 1), twice that inside a transaction."""
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return units * 2 if transactional else units


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> Decimal:
    """1 unit per started 4 KB (at least 1) when strongly consistent, half when not,
    twice when transactional."""
    units = Decimal(max(1, math.ceil(size / READ_UNIT_BYTES)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


# -- prices ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    region: str
    checked: str
    transition: Decimal
    express_request: Decimal
    express_gb_second: Decimal
    express_duration_increment_ms: int
    express_memory_increment_mb: int
    lambda_request: Decimal
    lambda_gb_second: Decimal
    lambda_duration_increment_ms: int
    write_unit: Decimal
    read_unit: Decimal
    api_request: Decimal

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        raw = json.loads(path.read_text())
        sfn, fn, ddb = raw["step_functions"], raw["lambda"], raw["dynamodb_on_demand"]
        return cls(
            region=raw["region"],
            checked=raw["checked"],
            transition=Decimal(sfn["standard_per_state_transition"]),
            express_request=Decimal(sfn["express_per_request"]),
            express_gb_second=Decimal(sfn["express_per_gb_second"]),
            express_duration_increment_ms=int(sfn["express_duration_increment_ms"]),
            express_memory_increment_mb=int(sfn["express_memory_increment_mb"]),
            lambda_request=Decimal(fn["per_request"]),
            lambda_gb_second=Decimal(fn["per_gb_second"]),
            lambda_duration_increment_ms=int(fn["duration_increment_ms"]),
            write_unit=Decimal(ddb["per_write_request_unit"]),
            read_unit=Decimal(ddb["per_read_request_unit"]),
            api_request=Decimal(raw["api_gateway_rest"]["per_request"]),
        )


# -- usage of one order, and what it costs -------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What one order used, as measured."""

    state_transitions: int
    lambda_durations_ms: tuple[float, ...]
    """One per invocation, the API's included."""
    write_units: Decimal
    read_units: Decimal
    api_requests: int
    execution_ms: float
    dynamodb_requests: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lambda_invocations(self) -> int:
        return len(self.lambda_durations_ms)


def billed(duration_ms: float, increment_ms: int) -> int:
    """A duration rounded up to its billing increment, in ms (at least one increment)."""
    return max(1, math.ceil(duration_ms / increment_ms)) * increment_ms


def lambda_gb_seconds(
    durations_ms: tuple[float, ...], memory_mb: int, increment_ms: int, factor: Decimal
) -> Decimal:
    seconds = sum(
        (Decimal(billed(float(Decimal(ms) * factor), increment_ms)) for ms in durations_ms),
        Decimal(0),
    ) / Decimal(1000)
    return seconds * Decimal(memory_mb) / Decimal(1024)


def express_gb_seconds(execution_ms: float, prices: Prices, memory_mb: int = 64) -> Decimal:
    memory = max(1, math.ceil(memory_mb / prices.express_memory_increment_mb))
    memory_gb = Decimal(memory * prices.express_memory_increment_mb) / Decimal(1024)
    seconds = Decimal(billed(execution_ms, prices.express_duration_increment_ms)) / 1000
    return seconds * memory_gb


def order_cost(
    usage: Usage,
    prices: Prices,
    workflow: str,
    *,
    lambda_memory_mb: int = 256,
    lambda_duration_factor: Decimal = Decimal(1),
) -> dict[str, Decimal]:
    """Dollars one order costs, by service; ``total`` sums them."""
    if workflow not in WORKFLOW_TYPES:
        raise ValueError(f"workflow is one of {WORKFLOW_TYPES}, not {workflow!r}")
    if workflow == "STANDARD":
        step_functions = usage.state_transitions * prices.transition
    else:
        step_functions = prices.express_request + (
            express_gb_seconds(usage.execution_ms, prices) * prices.express_gb_second
        )
    costs = {
        "step_functions": step_functions,
        "lambda_requests": usage.lambda_invocations * prices.lambda_request,
        "lambda_duration": lambda_gb_seconds(
            usage.lambda_durations_ms,
            lambda_memory_mb,
            prices.lambda_duration_increment_ms,
            lambda_duration_factor,
        )
        * prices.lambda_gb_second,
        "dynamodb": usage.write_units * prices.write_unit + usage.read_units * prices.read_unit,
        "api_gateway": usage.api_requests * prices.api_request,
    }
    costs["total"] = sum(costs.values(), Decimal(0))
    return costs


def per_million(costs: dict[str, Decimal]) -> dict[str, Decimal]:
    """Per-order dollars as dollars per million orders, to the cent."""
    return {key: (value * MILLION).quantize(Decimal("0.01")) for key, value in costs.items()}
