"""The benchmark's arithmetic: DynamoDB's sizing rules, billing increments, prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.costs import (
    Prices,
    Usage,
    billed,
    item_size,
    number_size,
    order_cost,
    per_million,
    read_units,
    write_units,
)
from bench.meter import dynamodb_units
from bench.throughput import percentile

PRICES = Prices.load()


def usage(**changes: object) -> Usage:
    base: dict[str, object] = {
        "state_transitions": 3,
        "lambda_durations_ms": (10.2, 0.3),
        "write_units": Decimal(8),
        "read_units": Decimal("4.5"),
        "api_requests": 1,
        "execution_ms": 240.0,
    }
    return Usage(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "size"),
    [("7", 2), ("1299.99", 4), ("0.0010", 2), ("-1000", 2), ("12345678", 5)],
)
def test_a_number_takes_a_byte_per_two_significant_digits_plus_one(text: str, size: int) -> None:
    assert number_size(text) == size


def test_an_item_is_its_names_and_values_with_list_and_map_overheads() -> None:
    item = {
        "id": {"S": "abc"},  # 2 + 3
        "n": {"N": "42"},  # 1 + 2
        "ok": {"BOOL": True},  # 2 + 1
        "tags": {"L": [{"S": "a"}, {"S": "bc"}]},  # 4 + 3 + (1 + 1) + (2 + 1)
        "m": {"M": {"k": {"S": "v"}}},  # 1 + 3 + (1 + 1 + 1)
        "é": {"B": b"\x00\x01"},  # 2 + 2
    }

    assert item_size(item) == 5 + 3 + 3 + 12 + 7 + 4


def test_a_write_costs_a_unit_per_started_kilobyte_and_twice_in_a_transaction() -> None:
    assert [write_units(n) for n in (1, 1024, 1025, 3000)] == [1, 1, 2, 3]
    assert write_units(1025, transactional=True) == 4


def test_a_read_costs_a_unit_per_started_4kb_half_when_eventually_consistent() -> None:
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == Decimal(1)
    assert read_units(0, consistent=True) == 1  # a read that finds nothing still costs
    assert read_units(0, consistent=False) == Decimal("0.5")


def test_a_query_rounds_the_sum_of_its_items_and_a_batch_get_each_item() -> None:
    item = {"stream_id": {"S": "x" * 1990}}  # 1,999 bytes
    query = dynamodb_units("Query", {"ConsistentRead": True}, {"Items": [item, item, item]})
    batch = dynamodb_units(
        "BatchGetItem",
        {"RequestItems": {"t": {"Keys": []}}},
        {"Responses": {"t": [item, item, item]}},
    )

    assert query == (Decimal(0), Decimal(2))  # 5,997 bytes: 2 units
    assert batch == (Decimal(0), Decimal("1.5"))  # 3 x half a unit


def test_a_transaction_costs_two_units_per_kilobyte_of_each_item() -> None:
    small, large = {"k": {"S": "a"}}, {"k": {"S": "a" * 1500}}
    params = {"TransactItems": [{"Put": {"Item": small}}, {"Put": {"Item": large}}]}

    assert dynamodb_units("TransactWriteItems", params, {}) == (Decimal(6), Decimal(0))


def test_durations_are_billed_in_whole_increments() -> None:
    assert [billed(ms, 1) for ms in (0.02, 1.0, 10.2)] == [1, 1, 11]
    assert [billed(ms, 100) for ms in (40.0, 100.0, 240.0)] == [100, 100, 300]


def test_a_standard_order_pays_for_every_state_transition() -> None:
    costs = per_million(order_cost(usage(), PRICES, "STANDARD"))

    assert costs["step_functions"] == Decimal("75.00")  # 3 x $0.025 per 1,000
    assert costs["lambda_requests"] == Decimal("0.40")  # 2 x $0.20 per million
    assert costs["dynamodb"] == Decimal("5.56")  # 8 x 0.625 + 4.5 x 0.125
    assert costs["api_gateway"] == Decimal("3.50")
    assert costs["lambda_duration"] == Decimal("0.04")  # 12 ms x 256 MB
    assert costs["total"] == Decimal("84.50")


def test_an_express_order_pays_a_request_and_its_duration_in_64mb_and_100ms_steps() -> None:
    costs = order_cost(usage(execution_ms=240.0), PRICES, "EXPRESS")

    # $1 per million requests, plus 0.3 s x 64 MB (0.0625 GB) x $0.00001667 per GB-s
    expected = Decimal("0.000001") + Decimal("0.3") * Decimal("0.0625") * Decimal("0.00001667")
    assert costs["step_functions"] == expected


def test_lambda_duration_is_gb_seconds_of_the_rounded_durations_at_the_function_memory() -> None:
    costs = order_cost(usage(lambda_durations_ms=(10.2, 0.3)), PRICES, "STANDARD")

    # (11 ms + 1 ms) x 256 MB = 0.012 s x 0.25 GB
    assert costs["lambda_duration"] == Decimal("0.003") * PRICES.lambda_gb_second


def test_an_unknown_workflow_type_is_refused() -> None:
    with pytest.raises(ValueError, match="STANDARD"):
        order_cost(usage(), PRICES, "SYNC")


def test_the_prices_file_gives_every_price_as_a_decimal() -> None:
    assert PRICES.region == "us-east-1"
    assert PRICES.transition == Decimal("0.000025")
    assert PRICES.write_unit == Decimal("0.000000625")
    assert all(
        isinstance(value, Decimal) and value > 0
        for value in (PRICES.lambda_request, PRICES.read_unit, PRICES.api_request)
    )


@pytest.mark.parametrize(("fraction", "expected"), [(0.5, 50), (0.99, 99), (1.0, 100)])
def test_a_percentile_is_the_nearest_rank(fraction: float, expected: int) -> None:
    assert percentile([float(n) for n in range(100, 0, -1)], fraction) == expected
