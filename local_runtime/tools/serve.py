"""`make serve`: the order API, its console and the local pages on http://127.0.0.1:3000.

Composes the pieces: the API-Gateway-like server (local_runtime/emulator/api_gateway.py),
the local pages (local_runtime/console/local_pages.py) and the console
(local_runtime/console/routes.py), on one local runtime stocked with the sample catalog.

    python -m local_runtime serve [--host 127.0.0.1] [--port 3000] [--log-level INFO]
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

from local_runtime.console import local_pages, routes
from local_runtime.emulator.api_gateway import DEFAULT_PORT, LocalApiServer
from local_runtime.runtime import LocalRuntime
from local_runtime.sample_catalog import SAMPLE_PRODUCTS, seed

if TYPE_CHECKING:
    from local_runtime.console.views import Console


def mount_pages(server: LocalApiServer, runtime: LocalRuntime) -> Console:
    """The local pages and the console on ``server``; returns the console."""
    local_pages.mount(server, runtime)
    return routes.mount(server, runtime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime serve", description="The order API on the local runtime."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--log-level", default="WARNING", help="the handlers' log level")
    args = parser.parse_args(argv)
    with LocalRuntime(log_level=args.log_level) as runtime:
        assert runtime.ports is not None
        seed(runtime.ports)
        server = LocalApiServer(runtime, args.host, args.port)
        mount_pages(server, runtime)
        server.start()
        server.log_requests = True
        assert runtime.streams is not None
        runtime.streams.start_polling()  # the stream consumers run as records arrive
        # The reconciler, as EventBridge Scheduler runs it every minute on AWS: here more
        # often, on orders left 30 s without their saga.
        runtime.start_reconciling(every_seconds=10.0, after_seconds=30.0)
        print(f"Order API on {server.url}  (Ctrl-C stops it)", flush=True)
        stocked = (f"{pid} ({units} in stock)" for pid, *_, units in SAMPLE_PRODUCTS)
        print("Catalog: " + ", ".join(stocked))
        print(f"Try: curl -s {server.url}/products -H 'X-Customer-Id: cust-1'")
        print(f"Local pages: {server.url}/local/notifications, /local/events, /local/manual-review")
        print(f"Console: {server.url}/console")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            print("\nstopping")
            server.stop()
    return 0
