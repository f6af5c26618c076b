"""How a patch is put on: once per process, marked, so applying twice changes nothing."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

MARK = "_order_saga_patched"


def patch(owner: object, name: str, wrap: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` with ``wrap(original)``, unless it is already replaced."""
    original = getattr(owner, name)
    if getattr(original, MARK, False):
        return
    patched = functools.wraps(original)(wrap(original))
    setattr(patched, MARK, True)
    setattr(owner, name, patched)


def patch_static(owner: type, name: str, wrap: Callable[[Any], Any]) -> None:
    """``patch`` for a staticmethod: the replacement stays a staticmethod."""
    original = owner.__dict__[name].__func__
    if getattr(original, MARK, False):
        return
    patched = functools.wraps(original)(wrap(original))
    setattr(patched, MARK, True)
    setattr(owner, name, staticmethod(patched))


def cached(original: Any) -> Any:
    """``original`` remembering every answer (for pure functions of hashable arguments)."""
    return functools.lru_cache(maxsize=None)(original)


def cache_static(owner: type, name: str, maxsize: int = 256) -> None:
    """Replace the classmethod ``owner.name`` with a cached staticmethod, once."""
    original = getattr(owner, name)  # a classmethod, already bound to its class
    if getattr(original, MARK, False):
        return
    # The mark goes on what getattr will find next time, so a second call leaves it alone.
    kept = functools.lru_cache(maxsize=maxsize)(original)
    setattr(kept, MARK, True)
    setattr(owner, name, staticmethod(kept))
