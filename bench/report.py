"""The benchmark's results as plain-text tables, and the targets they are held to."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

TARGETS: dict[str, Any] = {
    "happy_path_state_transitions": 4,
    "happy_path_lambda_invocations": 3,
    "standard_dollars_per_million": Decimal(115),
    "express_dollars_per_million": Decimal(15),
    "init_ratio_to_boto3": 1.5,
    "cpu_per_order_to_boto3": 0.5,
    "growth_bytes_ratio": 1.1,
    "growth_time_ratio": 1.5,
    "flash_sale_rate_ratio": 0.8,
    "flash_sale_contention_cancellations": 0,
}


MARKDOWN = False
"""Render tables as Markdown (python -m bench.report) rather than plain text."""


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [headers, *[[_text(cell) for cell in row] for row in rows]]
    if MARKDOWN:
        return _markdown(cells, rows)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _markdown(cells: list[list[str]], rows: list[list[Any]]) -> str:
    numeric = [all(_is_number(row[i]) for row in rows) for i in range(len(cells[0]))]
    rule = ["---:" if right else "---" for right in numeric]
    return "\n".join("| " + " | ".join(row) + " |" for row in [cells[0], rule, *cells[1:]])


def _text(cell: Any) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:,.1f}"
    if isinstance(cell, Decimal):
        return f"{cell:,.2f}"
    return str(cell)


def _is_number(cell: Any) -> bool:
    return isinstance(cell, int | float | Decimal) and not isinstance(cell, bool)


def usage_section(paths: list[dict[str, Any]]) -> str:
    rows = [
        [
            p["path"],
            p["state_transitions"],
            p["lambda_invocations"] - 1,
            p["dynamodb_requests"],
            Decimal(p["write_units"]).normalize(),
            Decimal(p["read_units"]).normalize(),
            p["api_requests"],
            Decimal(p["cost_per_million"]["STANDARD"]["total"]),
            Decimal(p["cost_per_million"]["EXPRESS"]["total"]),
        ]
        for p in paths
    ]
    return table(
        [
            "path",
            "transitions",
            "saga Lambdas",
            "DDB requests",
            "WRU",
            "RRU",
            "API",
            "$/M STANDARD",
            "$/M EXPRESS",
        ],
        rows,
    )


def cost_breakdown_section(path: dict[str, Any]) -> str:
    services = ["step_functions", "lambda_requests", "lambda_duration", "dynamodb", "api_gateway"]
    rows = [
        [workflow, *(Decimal(costs[s]) for s in services), Decimal(costs["total"])]
        for workflow, costs in path["cost_per_million"].items()
    ]
    return table(["$/M, happy path", *services, "total"], rows)


def coldstart_section(cold: dict[str, Any]) -> str:
    rows = [
        [
            name,
            f["init_ms"],
            f["init_ratio"],
            f["init_cpu_ratio"],
            f["init_xray_ms"],
            f["init_xray_ratio"],
            f["init_xray_cpu_ratio"],
            f["ready_xray_ms"],
            f["ready_xray_ratio"],
            round(cold["packages"]["functions_zip_bytes"][name] / 1024, 1),
        ]
        for name, f in cold["functions"].items()
    ]
    packages = cold["packages"]
    notes = (
        f"import boto3: {cold['boto3_import_ms']} ms wall, {cold['boto3_import_cpu_ms']} ms CPU; "
        f"with one DynamoDB client: {cold['boto3_import_and_client_ms']} ms. "
        f"Median of {cold['rounds']} fresh processes each, python {cold['python']}.\n"
        f"Layer: order_saga {packages['layer_code_zip_bytes'] / 1024:.1f} KB zipped; "
        f"its dependencies {packages['layer_dependencies_zip_bytes'] / 1048576:.1f} MB zipped, "
        f"{packages['layer_dependencies_installed_bytes'] / 1048576:.1f} MB installed"
        + (
            " (botocore among them, pulled in by aws-xray-sdk)"
            if packages["botocore_in_layer"]
            else ""
        )
        + "."
    )
    return (
        table(
            [
                "function",
                "init ms",
                "x boto3",
                "x (CPU)",
                "+X-Ray ms",
                "x boto3",
                "x (CPU)",
                "ready ms",
                "x boto3+client",
                "code KB",
            ],
            rows,
        )
        + "\n"
        + notes
    )


def throughput_section(load: dict[str, Any]) -> str:
    row = [
        load["orders"],
        load["concurrency"],
        load["products"],
        load["orders_per_s"],
        load["p50_ms"],
        load["p99_ms"],
        load["cpu_ms_per_order"],
        ", ".join(f"{k} {v}" for k, v in sorted(load["outcomes"].items())),
    ]
    notes = (
        f"The median of {len(load['rounds_orders_per_s'])} rounds"
        f" (orders/s: {', '.join(str(r) for r in load['rounds_orders_per_s'])}). "
        f"{load['orders_per_cpu_s']} orders per CPU-second (one core to itself would run that"
        f" many a second); CPU per order {load['cpu_per_order_to_boto3']} times the CPU of"
        f" import boto3 ({load['boto3_import_cpu_ms']} ms) in the same run;"
        f" {load['lambda_invocations_per_order']} Lambda invocations per"
        f" order; {load['cpus']} CPUs, load average {load['load_average']} at the end of"
        " the run (other processes included)."
    )
    headers = ["orders", "concurrency", "products", "orders/s", "p50 ms", "p99 ms"]
    return table([*headers, "CPU ms/order", "outcomes"], [row]) + "\n" + notes


def pages_section(pages: dict[str, Any]) -> str:
    first, last = pages["first_checkpoint"], pages["orders"]
    rows = [
        [p["page"], p["p50_ms_first"], p["p50_ms"], p["max_ms"], p["busy_p99_ms"]]
        for p in pages["pages"]
    ]
    headers = [
        "page",
        f"p50 ms at {first:,} orders",
        f"p50 ms at {last:,}",
        f"max ms at {last:,}",
        "p99 ms while orders run",
    ]
    notes = (
        f"Each page asked {pages['samples']} times at each checkpoint, the consumers polled"
        f" in the background as `make serve` does ({pages['notifications']:,} notifications"
        f" sent by the end); {pages['concurrency']} orders in flight while sampling."
    )
    return table(headers, rows) + "\n" + notes


def eventstore_section(rows: list[dict[str, Any]]) -> str:
    return table(
        ["store", "snapshots", "events", "load ms", "append ms", "RRU per load"],
        [
            [
                r["store"],
                "on" if r["snapshots"] else "off",
                r["events"],
                r["load_ms"],
                r["append_ms"],
                r["read_units_per_load"],
            ]
            for r in rows
        ],
    )


def growth_section(rows: list[dict[str, Any]]) -> str:
    return table(
        ["past orders", "DDB requests", "RRU", "WRU", "bytes read", "ms", "reservations ended"],
        [
            [
                r["past_orders"],
                r["requests"],
                r["read_units"],
                r["write_units"],
                r["read_bytes"],
                r["ms"],
                ", ".join(r["outcomes"]),
            ]
            for r in rows
        ],
    )


def flashsale_section(sale: dict[str, Any]) -> str:
    rows = [
        [
            s["scenario"],
            s["orders"],
            s["orders_per_s"],
            s["attempts_per_reservation"],
            s["reserve_invocations_per_order"],
            s["contention_cancellations"],
            s["p50_ms"],
            s["p99_ms"],
            s["cpu_ms_per_order"],
        ]
        for s in sale["scenarios"]
    ]
    notes = (
        f"{sale['concurrency']} orders in flight; {sale['latency_s'] * 1000:.0f} ms added to each"
        f" DynamoDB request, a transaction holding its items {sale['hold_s'] * 1000:.0f} ms;"
        f" rate of 1 product / rate over {sale['scenarios'][1]['products']}:"
        f" {sale['rate_ratio']}."
    )
    headers = ["scenario", "orders", "orders/s", "attempts/reservation", "reserve calls/order"]
    headers += ["contention cancelled", "p50 ms", "p99 ms", "CPU ms/order"]
    return table(headers, rows) + "\n" + notes


def read_model_section(lag: dict[str, Any]) -> str:
    row = [lag["orders"], lag["concurrency"], lag.get("orders_per_s"), lag["poll_interval_ms"],
           lag["events_timed"], lag["never_visible"], lag["p50_ms"], lag["p99_ms"],
           lag["max_ms"]]  # fmt: skip
    headers = ["orders", "threads", "orders/s", "poll ms", "events", "never seen", "p50 ms"]
    headers.append("p99 ms")
    return table([*headers, "max ms"], [row])


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target beside what was measured, and whether it was met."""
    checks: list[dict[str, Any]] = []

    def check(name: str, measured: Any, limit: Any, met: bool) -> None:
        checks.append({"target": name, "measured": measured, "limit": limit, "met": met})

    paths = {p["path"]: p for p in results.get("usage", [])}
    happy = paths.get("happy path")
    if happy:
        transitions, lambdas = happy["state_transitions"], happy["lambda_invocations"] - 1
        limit = TARGETS["happy_path_state_transitions"]
        check("happy path state transitions", transitions, limit, transitions <= limit)
        limit = TARGETS["happy_path_lambda_invocations"]
        check("happy path Lambda invocations (API not counted)", lambdas, limit, lambdas <= limit)
        for workflow, key in (("STANDARD", "standard"), ("EXPRESS", "express")):
            total = Decimal(happy["cost_per_million"][workflow]["total"])
            limit = TARGETS[f"{key}_dollars_per_million"]
            check(f"{workflow} $ per million orders (happy path)", total, limit, total <= limit)
    failures = [p for p in paths.values() if "CancelOrder" in p["expected"]]
    if failures:
        as_expected = [p["path"] for p in failures if p["states"] == p["expected"]]
        check(
            "failure paths compensated as the ASL says",
            f"{len(as_expected)} of {len(failures)}",
            "all",
            len(as_expected) == len(failures),
        )
    cold = results.get("coldstart")
    if cold:
        limit = TARGETS["init_ratio_to_boto3"]
        # X-Ray on is how the template deploys every function (Tracing: Active).
        for key, label in (("init_ratio", "X-Ray off"), ("init_xray_ratio", "X-Ray on")):
            name, worst = max(cold["functions"].items(), key=lambda item: item[1][key])
            check(f"import-and-init / import boto3 ({label}), worst function",
                  f"{worst[key]} ({name})", limit, worst[key] <= limit)  # fmt: skip
    load = results.get("throughput")
    if load:
        limit = TARGETS["cpu_per_order_to_boto3"]
        ratio = load["cpu_per_order_to_boto3"]
        check("local runtime CPU per order / CPU of import boto3", ratio, limit, ratio <= limit)
    growth = results.get("growth")
    if growth:
        first, last = growth[0], growth[-1]
        span = f"{last['past_orders']:,} / {first['past_orders']:,} past orders"
        ratio = round(last["read_bytes"] / first["read_bytes"], 2)
        limit = TARGETS["growth_bytes_ratio"]
        check(f"reservation bytes read, {span}", ratio, limit, ratio <= limit)
        ratio = round(last["ms"] / first["ms"], 2)
        limit = TARGETS["growth_time_ratio"]
        check(f"reservation time, {span}", ratio, limit, ratio <= limit)
    sale = results.get("flashsale")
    if sale:
        limit = TARGETS["flash_sale_rate_ratio"]
        ratio = sale["rate_ratio"]
        check("flash sale: rate for 1 product / rate over 20", ratio, limit, ratio >= limit)
        limit = TARGETS["flash_sale_contention_cancellations"]
        cancelled = sum(s["contention_cancellations"] for s in sale["scenarios"])
        check("flash sale: orders cancelled for contention", cancelled, limit, cancelled <= limit)
    lag = results.get("readmodel")
    if lag:
        # Every event appended must reach the read model; the lag itself is reported, not
        # held to a figure: locally it is the consumers' cost on moto, which depends on
        # the machine (docs/performance-and-cost.md).
        seen = lag["events_timed"]
        total = seen + lag["never_visible"]
        check("read model: appended events visible within 30 s", f"{seen} of {total}", "all",
              lag["never_visible"] == 0)  # fmt: skip
    return checks


def targets_section(checks: list[dict[str, Any]]) -> str:
    return table(
        ["target", "measured", "limit", "met"],
        [[c["target"], str(c["measured"]), str(c["limit"]), "yes" if c["met"] else "NO"]
         for c in checks],
    )  # fmt: skip


def render(results: dict[str, Any]) -> str:
    parts = [f"make bench, {results['started']}, prices checked {results['prices_checked']}"]
    if "usage" in results:
        parts += ["", "Per order, counted from local runs", usage_section(results["usage"])]
        happy = next(p for p in results["usage"] if p["path"] == "happy path")
        parts += ["", cost_breakdown_section(happy)]
    if "coldstart" in results:
        parts += ["", "Cold start proxy", coldstart_section(results["coldstart"])]
    if "throughput" in results:
        parts += ["", "Local runtime throughput", throughput_section(results["throughput"])]
    if "growth" in results:
        parts += ["", "Reservation cost against the product's past orders"]
        parts += [growth_section(results["growth"])]
    if "flashsale" in results:
        parts += ["", "Flash sale", flashsale_section(results["flashsale"])]
    if "eventstore" in results:
        parts += ["", "Event store growth", eventstore_section(results["eventstore"])]
    if "readmodel" in results:
        parts += ["", "Read model lag (append -> visible in GET /orders)",
                  read_model_section(results["readmodel"])]  # fmt: skip
    if "pages" in results:
        parts += ["", "Local inspection pages", pages_section(results["pages"])]
    parts += ["", "Targets", targets_section(results["targets"])]
    return "\n".join(parts)


if __name__ == "__main__":  # python -m bench.report [results.json]: the tables as Markdown
    import json
    import sys
    from pathlib import Path

    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    MARKDOWN = True
    print(render(json.loads(source.read_text())))
