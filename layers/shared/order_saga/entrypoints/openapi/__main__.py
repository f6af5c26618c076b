"""Write or check the API's OpenAPI document.

``python -m order_saga.entrypoints.openapi openapi.json`` writes it (``make openapi``);
``--check`` exits 1 when the file differs from what the code generates. The API serves
the same document at GET /openapi.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from order_saga.entrypoints.api import app
from order_saga.entrypoints.openapi.document import render as render_for


def render() -> str:
    """The document of the order API, as openapi.json holds it."""
    return render_for(app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", type=Path, help="where the document lives, e.g. openapi.json")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != render():
            print(f"{args.path} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(render(), encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
