"""The targets make bench holds its figures to are ratios and counts of one run."""

from __future__ import annotations

from typing import Any

from bench.report import render, targets


def scenario(name: str, products: int, rate: float, cancelled: int = 0) -> dict[str, Any]:
    return {
        "scenario": name,
        "products": products,
        "orders": 200,
        "orders_per_s": rate,
        "attempts_per_reservation": 1.0,
        "reserve_invocations_per_order": 1.0,
        "contention_cancellations": cancelled,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "cpu_ms_per_order": 3.0,
    }


def sale(hot: float, spread: float, cancelled: int = 0) -> dict[str, Any]:
    return {
        "concurrency": 64,
        "latency_s": 0.1,
        "hold_s": 0.05,
        "scenarios": [scenario("1 product", 1, hot, cancelled), scenario("20", 20, spread)],
        "rate_ratio": round(hot / spread, 2),
    }


def met(results: dict[str, Any]) -> dict[str, bool]:
    return {check["target"]: check["met"] for check in targets(results)}


def test_a_flash_sale_meets_its_target_by_its_ratio_whatever_the_machine_speed() -> None:
    fast, slow = met({"flashsale": sale(16.0, 20.0)}), met({"flashsale": sale(1.6, 2.0)})
    assert fast == slow
    assert all(fast.values())
    assert not all(met({"flashsale": sale(15.0, 20.0)}).values())


def test_one_order_cancelled_for_contention_misses_the_target() -> None:
    checks = met({"flashsale": sale(20.0, 20.0, cancelled=1)})
    assert checks["flash sale: orders cancelled for contention"] is False


def throughput(cpu_ms: float, boto3_ms: float) -> dict[str, Any]:
    return {"cpu_ms_per_order": cpu_ms, "boto3_import_cpu_ms": boto3_ms,
            "cpu_per_order_to_boto3": round(cpu_ms / boto3_ms, 2), "orders_per_s": 1.0}  # fmt: skip


def test_throughput_is_held_to_cpu_per_order_against_import_boto3_of_the_same_run() -> None:
    name = "local runtime CPU per order / CPU of import boto3"
    assert met({"throughput": throughput(45.8, 130.6)})[name] is True
    assert met({"throughput": throughput(91.6, 261.2)})[name] is True  # a machine half as fast
    assert met({"throughput": throughput(91.6, 130.6)})[name] is False  # the code twice as slow


def growth_row(past: int, read_bytes: int, ms: float) -> dict[str, Any]:
    return {"past_orders": past, "requests": 3, "read_units": "1", "write_units": "4",
            "read_bytes": read_bytes, "ms": ms, "outcomes": ["SUCCEEDED"]}  # fmt: skip


def test_a_reservation_reading_more_as_history_grows_misses_the_growth_target() -> None:
    flat = met({"growth": [growth_row(10, 1000, 10.0), growth_row(100_000, 1000, 11.0)]})
    grown = met({"growth": [growth_row(10, 1000, 10.0), growth_row(100_000, 38_000, 11.0)]})
    assert all(flat.values())
    assert grown["reservation bytes read, 100,000 / 10 past orders"] is False


def test_the_report_prints_the_growth_and_flash_sale_tables() -> None:
    results = {"started": "now", "prices_checked": "then", "flashsale": sale(16.0, 20.0),
               "growth": [growth_row(10, 1000, 10.0), growth_row(100_000, 1000, 11.0)]}  # fmt: skip
    results["targets"] = targets(results)
    text = render(results)
    assert "Flash sale" in text and "1 product" in text and "0.8" in text
    assert "100000" in text.replace(",", "")
