"""The versions of the patched libraries the patches were tested on.

Every patch reaches into a library's internals (moto's classes and module attributes),
which change between releases without notice: moto 5.1 lacks some of them, and the
patches would fail there with a bare AttributeError, or, worse, apply and be wrong.
``check()`` runs before any patch and refuses, naming the library and its version, any
version not listed here. To move to another version: run ``make test``, ``make demo``
and ``make reliability`` on it, read each patch against the new code, then add it here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

TESTED: dict[str, frozenset[str]] = {
    "moto": frozenset({"5.2.5"}),
}
"""Distribution name -> the versions every patch of it was tested on."""


class UntestedVersion(RuntimeError):
    """A library the local runtime patches is not at a version its patches were tested on."""


def installed() -> dict[str, str | None]:
    """The installed version of each patched library (None when it is not installed)."""
    found: dict[str, str | None] = {}
    for name in TESTED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def check(versions: Mapping[str, str | None] | None = None) -> None:
    """Raise UntestedVersion unless every patched library is at a tested version."""
    found = installed() if versions is None else versions
    for name, tested in TESTED.items():
        actual = found.get(name)
        if actual not in tested:
            shown = f"{name} {actual}" if actual else f"{name} (not installed)"
            raise UntestedVersion(
                f"{shown}: the local runtime's patches of {name} (local_runtime/patches) were "
                f"tested on {name} {', '.join(sorted(tested))} only. Install that version "
                "(requirements.lock), or check every patch against this one and add it to "
                "local_runtime.patches.versions.TESTED."
            )
