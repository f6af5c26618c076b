"""`make bench`: what an order costs, how fast the saga runs, measured on this machine.

    python -m bench [--orders N] [--concurrency C] [--latency S] [--quick] [--only SECTION ...]

Prints the tables and writes them as JSON (bench/results/latest.json by default).
Sections: usage (per-order AWS usage and cost, every path), coldstart (import-and-init
of every function, package sizes), throughput (N orders at concurrency C through the
local runtime), growth (a reservation's cost at 10, 1,000 and 100,000 past orders of its
product), flashsale (the same orders for one product and for twenty, with DynamoDB's
latency modelled), eventstore (append and load against stream length, with and without
snapshots), readmodel (the read model's lag behind the store, append to visible), pages
(the latency of `make serve`'s inspection pages at 100 and 1,000 orders). The targets are
shown met or not; the exit status says only whether
the benchmark ran (figures depend on the machine, so they never fail a build).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import report
from bench.costs import Prices, order_cost, per_million

SECTIONS = (
    "usage",
    "coldstart",
    "throughput",
    "growth",
    "flashsale",
    "eventstore",
    "readmodel",
    "pages",
)
RESULTS = Path(__file__).with_name("results") / "latest.json"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders for throughput")
    parser.add_argument("--concurrency", type=int, default=8, help="orders in flight")
    parser.add_argument("--products", type=int, default=20, help="products they share")
    parser.add_argument("--rounds", type=int, default=11, help="cold start processes each")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each path")
    parser.add_argument("--samples", type=int, default=15, help="event store timings each")
    parser.add_argument("--flash-orders", type=int, default=200, help="orders per flash sale")
    parser.add_argument("--flash-concurrency", type=int, default=64, help="flash sale in flight")
    parser.add_argument(
        "--latency", type=float, default=0.1, help="seconds added to each DynamoDB request"
    )
    parser.add_argument(
        "--pages-orders", type=int, default=1000, help="history the local pages are timed at"
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer of everything: a smoke run, not figures"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.rounds, args.repeats, args.samples = 40, 3, 1, 3
        args.flash_orders, args.flash_concurrency = 40, 16
        args.pages_orders = 100
    return args


def run_usage(args: argparse.Namespace, prices: Prices) -> list[dict[str, Any]]:
    from bench import usage
    from local_runtime.runtime import LocalRuntime

    with LocalRuntime() as runtime:
        usage.warm_up(runtime)
        measured = usage.measure(runtime, repeats=args.repeats)
    rows = []
    for result in measured:
        row = usage.summary(result)
        row["cost_per_million"] = {
            workflow: {
                key: str(value)
                for key, value in per_million(order_cost(result.usage, prices, workflow)).items()
            }
            for workflow in ("STANDARD", "EXPRESS")
        }
        row["lambda_duration_x10_per_million"] = str(
            per_million(
                order_cost(result.usage, prices, "STANDARD", lambda_duration_factor=Decimal(10))
            )["lambda_duration"]
        )
        rows.append(row)
    return rows


def run_throughput(args: argparse.Namespace) -> dict[str, Any]:
    from bench import throughput, usage
    from bench.coldstart import boto3_import_cpu_ms
    from local_runtime.runtime import LocalRuntime

    before = boto3_import_cpu_ms()
    with LocalRuntime() as runtime:
        usage.warm_up(runtime)
        load = throughput.measure(runtime, args.orders, args.concurrency, args.products)
    # Before and after, as a shared machine's load comes and goes.
    load["boto3_import_cpu_ms"] = round((before + boto3_import_cpu_ms()) / 2, 1)
    load["cpu_per_order_to_boto3"] = round(
        load["cpu_ms_per_order"] / load["boto3_import_cpu_ms"], 2
    )
    return load


def run_growth(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import growth, usage
    from local_runtime.runtime import LocalRuntime

    past = (10, 100, 1_000) if args.quick else growth.PAST_ORDERS
    with LocalRuntime() as runtime:
        usage.warm_up(runtime)
        return growth.measure(runtime, samples=args.repeats * 2 - 1, past_orders=past)


def run_flashsale(args: argparse.Namespace) -> dict[str, Any]:
    from bench import flashsale, usage
    from local_runtime.runtime import LocalRuntime

    with LocalRuntime(dynamodb_latency=args.latency) as runtime:
        usage.warm_up(runtime)
        return flashsale.measure(runtime, args.flash_orders, args.flash_concurrency)


def run_read_model(args: argparse.Namespace) -> dict[str, Any]:
    from bench import read_model_lag, usage
    from local_runtime.runtime import LocalRuntime

    with LocalRuntime() as runtime:
        usage.warm_up(runtime)
        return read_model_lag.measure(runtime, max(args.orders // 5, 20), 2)


def run_pages(args: argparse.Namespace) -> dict[str, Any]:
    from bench import local_pages, usage
    from local_runtime.runtime import LocalRuntime

    with LocalRuntime() as runtime:
        usage.warm_up(runtime)
        return local_pages.measure(runtime, args.pages_orders, args.concurrency)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    # Powertools keeps (and later prints) the metrics of every invocation while they
    # are disabled; the local runtime disables them only while it runs.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    prices = Prices.load()
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "prices_checked": prices.checked,
        "region": prices.region,
        "arguments": {k: str(v) for k, v in vars(args).items()},
    }
    clock = time.perf_counter()
    for section in SECTIONS:
        if section not in args.only:
            continue
        print(f"measuring {section} ...", file=sys.stderr, flush=True)
        if section == "usage":
            results["usage"] = run_usage(args, prices)
        elif section == "coldstart":
            from bench import coldstart

            results["coldstart"] = coldstart.measure(rounds=args.rounds)
        elif section == "throughput":
            results["throughput"] = run_throughput(args)
        elif section == "growth":
            results["growth"] = run_growth(args)
        elif section == "flashsale":
            results["flashsale"] = run_flashsale(args)
        elif section == "readmodel":
            results["readmodel"] = run_read_model(args)
        elif section == "pages":
            results["pages"] = run_pages(args)
        else:
            from bench import eventstore

            results["eventstore"] = eventstore.measure(samples=args.samples)
    results["seconds"] = round(time.perf_counter() - clock, 1)
    results["targets"] = report.targets(results)
    print(report.render(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\n{results['seconds']} s; written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
