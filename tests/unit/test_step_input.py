"""A saga step's input: parse refuses a bad one with InvalidRequest naming what is wrong."""

from __future__ import annotations

import pytest

from order_saga.domain.commands import CancelOrder, ProcessPayment, ReserveInventory
from order_saga.entrypoints.parsing import parse
from order_saga.errors import InvalidRequest


def test_a_valid_input_becomes_the_command() -> None:
    command = parse(ProcessPayment, {"order_id": "order-1"})

    assert command == ProcessPayment(order_id="order-1")


def test_a_missing_order_id_is_named() -> None:
    with pytest.raises(InvalidRequest, match=r"order_id: Field required"):
        parse(ProcessPayment, {})


@pytest.mark.parametrize("order_id", ["order 1", " order-1", "a" * 65, "", "order/1"])
def test_a_malformed_order_id_is_named(order_id: str) -> None:
    with pytest.raises(InvalidRequest, match=r"^invalid input: order_id: "):
        parse(ReserveInventory, {"order_id": order_id})


def test_an_order_id_of_64_characters_is_accepted() -> None:
    assert parse(ReserveInventory, {"order_id": "a" * 64}).order_id == "a" * 64


def test_an_unknown_field_is_named() -> None:
    with pytest.raises(InvalidRequest, match=r"surprise: Extra inputs are not permitted"):
        parse(ProcessPayment, {"order_id": "order-1", "surprise": True})


@pytest.mark.parametrize("payload", [["order-1"], "order-1", None, 42])
def test_a_payload_that_is_not_an_object_is_refused(payload: object) -> None:
    with pytest.raises(InvalidRequest, match=r"^invalid input: input: "):
        parse(ProcessPayment, payload)


def test_a_cancellation_without_a_reason_is_named() -> None:
    with pytest.raises(InvalidRequest, match=r"reason: Field required"):
        parse(CancelOrder, {"order_id": "order-1"})


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse(CancelOrder, {"order_id": "bad id", "reason": "", "extra": 1})

    message = str(refused.value)
    assert "order_id:" in message
    assert "reason:" in message
    assert "extra:" in message


def test_a_cancellation_carries_the_reason_and_cause() -> None:
    command = parse(
        CancelOrder,
        {"order_id": "order-1", "reason": "PaymentDeclined", "cause": '{"errorMessage": "no"}'},
    )

    assert (command.reason, command.cause) == ("PaymentDeclined", '{"errorMessage": "no"}')
