"""The local runtime's command line: one sub-command a tool (local_runtime/tools/).

    python -m local_runtime demo                       four sample orders (make demo)
    python -m local_runtime serve [--port 3000]        the API and console (make serve)
    python -m local_runtime reliability [--orders N]   contention and faults (make reliability)
    python -m local_runtime seed --stack NAME          the sample catalog into a stack (make seed)
    python -m local_runtime diagram [--check]          the ASL's diagram (make diagram)

``python -m local_runtime <command> --help`` shows a command's options.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

COMMANDS = {
    "demo": "four sample orders through the real ASL, printed",
    "serve": "the order API, its console and the local pages on 127.0.0.1",
    "reliability": "the saga under contention and under faults, judged by the invariants",
    "seed": "stock the sample catalog into a deployed stack's tables",
    "diagram": "draw the state machine's diagram from its ASL into the docs",
}


def command(name: str) -> Callable[[list[str]], int]:
    """The tool's main; each is imported only when it runs (the runtime's are heavy)."""
    if name == "demo":
        from local_runtime.tools import demo

        return demo.main
    if name == "serve":
        from local_runtime.tools import serve

        return serve.main
    if name == "reliability":
        from local_runtime.tools import reliability

        return reliability.main
    if name == "seed":
        from local_runtime.tools import seed

        return seed.main
    if name == "diagram":
        from local_runtime.tools import diagram

        return diagram.main
    raise KeyError(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime",
        description="The order saga on the local runtime (no AWS account, no Docker).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(f"  {name:<12} {text}" for name, text in COMMANDS.items()),
    )
    parser.add_argument("command", choices=COMMANDS, metavar="command")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the command's own options")
    args = parser.parse_args(argv)
    return command(args.command)(args.arguments)


if __name__ == "__main__":
    sys.exit(main())
