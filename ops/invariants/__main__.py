"""``python -m ops.invariants``: check a deployed store (see ``ops.invariants.cli``)."""

from __future__ import annotations

import sys

from ops.invariants.cli import main

if __name__ == "__main__":
    sys.exit(main())
