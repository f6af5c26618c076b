"""The console in a real headless browser: Debian's Chromium, driven by Playwright.

The browser is the one the project's set-up installs (`make browser`, run by `make
test`); Playwright only drives it and never downloads one. Each test opens the console
of the worker's local server, as `make serve` serves it, and screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from local_runtime.console.asl_graph import STATUS_STYLES
from local_runtime.emulator.clock import set_time_scale
from order_saga.service_layer.ids import order_id_for

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local_runtime.emulator.api_gateway import LocalApiServer
    from local_runtime.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ASL = json.loads((ROOT / "statemachine" / "order_saga.asl.json").read_text())
# As the machine's own probe starts it: no sandbox as root, and no background traffic
# (this machine's network is closed, and the console needs none).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOT_ENTERED = "notentered"
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder"]
# kind -> (execution status, each state entered, in order, painted as the page must show it)
SAMPLES: dict[str, tuple[str, dict[str, str]]] = {
    "success": (
        "SUCCEEDED",
        {"ProcessPayment": "succeeded", "ReserveInventory": "succeeded"}
        | {"ConfirmOrder": "succeeded"},
    ),
    "declined": (
        "FAILED",
        {"ProcessPayment": "failed", "CancelOrder": "compensating", "OrderCancelled": "failed"},
    ),
    "out_of_stock": (
        "FAILED",
        {"ProcessPayment": "succeeded", "ReserveInventory": "failed"}
        | dict.fromkeys(COMPENSATION, "compensating")
        | {"OrderCancelled": "failed"},
    ),
}
# The paint of each drawn state, read from the classes Mermaid put on its node.
PAINTS_JS = """paints => Object.fromEntries(
    Array.from(document.querySelectorAll('#graph g.node[data-state]')).map(g => [
        g.dataset.state, paints.find(p => g.classList.contains(p)) || null]))"""
FILLS_JS = """() => Object.fromEntries(
    Array.from(document.querySelectorAll('#graph g.node[data-state]')).map(g => [
        g.dataset.state, getComputedStyle(g.querySelector('rect, polygon, path')).fill]))"""


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail("no Chromium: `make test` installs Debian's chromium first (make browser)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright gives each launch a new, empty profile of its own.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Console:
    page: Page
    url: str
    errors: list[str] = field(default_factory=list)

    def open(self, fragment: str = "") -> Console:
        self.page.goto(f"{self.url}/console{fragment}")
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        # Gone if the page ever reloads: the console must update in place.
        self.page.evaluate("window.sameDocument = true")
        return self

    def painted(self) -> dict[str, str | None]:
        result: dict[str, str | None] = self.page.evaluate(PAINTS_JS, list(STATUS_STYLES))
        return result

    def wait_painted(self, state: str, paint: str) -> None:
        self.page.wait_for_function(
            """([state, paint]) => {
                const g = document.querySelector(`#graph g.node[data-state="${state}"]`);
                return g !== null && g.classList.contains(paint);
            }""",
            arg=[state, paint],
        )

    def fact(self, name: str) -> str:
        return self.page.locator(f'#summary dd[data-fact="{name}"]').inner_text()

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    def still_the_same_page(self) -> bool:
        return bool(self.page.evaluate("window.sameDocument === true"))


@pytest.fixture(scope="module")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    # One context for the module: its HTTP cache keeps Mermaid between the tests' pages.
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    yield context
    context.close()


@pytest.fixture
def console(browser_context: BrowserContext, api_server: LocalApiServer) -> Iterator[Console]:
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    opened = Console(page, api_server.url)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    yield opened
    page.close()


def rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_a_sample_order_submitted_in_the_console_shows_its_status_and_highlighted_path(
    console: Console, kind: str
) -> None:
    status, expected = SAMPLES[kind]
    page = console.open().page

    page.click(f"button[data-kind='{kind}']")
    submitted = page.locator(f"#submitted[data-kind='{kind}']")
    expect(submitted).to_have_count(1)
    order_id = str(submitted.get_attribute("data-order-id"))
    row = page.locator(f"#execution-rows tr[data-order-id='{order_id}']")
    expect(row).to_have_attribute("data-status", status)
    expect(page.locator("#detail-status")).to_have_attribute("data-status", status)
    last = list(expected)[-1]
    console.wait_painted(last, expected[last])

    painted = console.painted()
    assert painted == {name: expected.get(name, NOT_ENTERED) for name in ASL["States"]}
    fills = page.evaluate(FILLS_JS)
    for state, paint in painted.items():
        fill = STATUS_STYLES[str(paint)].split(";")[0].removeprefix("fill:")
        assert fills[state] == rgb(fill), state
    assert page.locator("#detail-order-id").inner_text() == order_id
    assert row.locator(".badge").inner_text().upper() == status
    steps = page.locator("#steps li").evaluate_all("items => items.map(i => i.dataset.state)")
    assert steps == list(expected)  # the path, in the order it was taken
    events = page.locator("#domain-event-rows tr").evaluate_all(
        "rows => rows.map(r => r.dataset.type)"
    )
    assert events[0] == "OrderCreated"
    assert events[-1] == ("OrderConfirmed" if status == "SUCCEEDED" else "OrderCancelled")
    if status == "FAILED":
        error = "PaymentDeclined" if kind == "declined" else "OutOfStock"
        assert console.fact("error") == error
        failed_step = page.locator("#steps li[data-paint='failed']").first
        assert failed_step.locator("[data-field='error']").inner_text() == error
    console.screenshot(f"console-{kind}")
    assert console.still_the_same_page()
    assert console.errors == []


def test_the_console_graph_has_exactly_the_states_and_transitions_of_the_asl_file(
    console: Console,
) -> None:
    page = console.open().page

    drawn = page.locator("#graph g.node[data-state]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.state)"
    )
    markers = page.locator("#graph g.node[data-kind]:not([data-state])").evaluate_all(
        "nodes => nodes.map(n => n.dataset.kind)"
    )
    links = page.locator("#graph path.flowchart-link")
    dashed = page.locator("#graph path.flowchart-link.edge-pattern-dotted")

    assert sorted(drawn) == sorted(ASL["States"])
    assert sorted(markers) == ["end", "start"]
    states = ASL["States"].values()
    catches = sum(len(state.get("Catch", [])) for state in states)
    nexts = sum("Next" in state for state in states)
    ends = sum(bool(s.get("End")) or s["Type"] in ("Succeed", "Fail") for s in states)
    assert links.count() == 1 + nexts + catches + ends  # 1: from the Start marker
    assert dashed.count() == catches
    assert console.errors == []


@pytest.fixture
def timeouts_as_deployed(runtime: LocalRuntime) -> Iterator[None]:
    """Task timeouts as the ASL has them (15 s) instead of the suite's tenth, so a step the
    test holds cannot time out while a loaded machine draws the page."""
    set_time_scale(1.0)
    yield
    set_time_scale(runtime.time_scale)


@pytest.mark.usefixtures("timeouts_as_deployed")
def test_a_running_execution_shows_its_current_state_then_its_end_without_a_reload(
    console: Console, runtime: LocalRuntime
) -> None:
    key = f"console-{uuid.uuid4().hex[:12]}"
    order_id = order_id_for("cust-console-test", key)
    release = runtime.functions.hold(
        "ReserveInventoryFunction", when=lambda payload: payload.get("order_id") == order_id
    )
    try:
        status, body, _ = runtime.api(
            "POST",
            "/orders",
            {
                "items": [{"product_id": "sku-pour-over-kettle", "quantity": 1}],
                "shipping_address": {
                    "street": "1 Main St",
                    "city": "Seattle",
                    "state": "WA",
                    "postal_code": "98101",
                    "country": "US",
                },
                "payment_method": "tok_visa",
            },
            {"X-Customer-Id": "cust-console-test", "Idempotency-Key": key},
        )
        assert status == 202, body
        page = console.open(f"#{order_id}").page

        expect(page.locator("#detail-status")).to_have_attribute("data-status", "RUNNING")
        console.wait_painted("ReserveInventory", "running")
        running = console.painted()
        assert {k: v for k, v in running.items() if v != NOT_ENTERED} == {
            "ProcessPayment": "succeeded",
            "ReserveInventory": "running",
        }
        assert "so far" in console.fact("duration")
        console.screenshot("console-running")
    finally:
        release.set()

    expect(page.locator("#detail-status")).to_have_attribute("data-status", "SUCCEEDED")
    console.wait_painted("ConfirmOrder", "succeeded")
    assert console.still_the_same_page()
    assert console.errors == []


def test_an_empty_list_says_so_and_the_page_keeps_working(console: Console) -> None:
    page = console.open().page

    page.select_option("#status-filter", "ABORTED")

    expect(page.locator("#no-executions")).to_have_text("No ABORTED executions.")
    expect(page.locator("#execution-rows tr")).to_have_count(0)
    page.select_option("#status-filter", "")
    expect(page.locator("#no-executions")).to_be_hidden()
    assert page.locator("#graph g.node[data-state]").count() == len(ASL["States"])
    assert console.errors == []
