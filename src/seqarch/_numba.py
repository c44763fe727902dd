"""numba's ``njit`` with its on-disk cache where one can be written.

``cache=True`` saves each compiled kernel beside the source (or in the user's cache directory),
so a new process loads it instead of compiling for seconds. Where neither can be written (a
read-only install run by another user), numba refuses the decorator itself; the kernels then
compile once per process instead of failing the import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit


def jit(fn: Callable | None = None, **options: Any) -> Any:
    """``numba.njit(cache=True, **options)``, or without the cache where it cannot be written.
    Usable bare (``@jit``) or with options (``@jit(fastmath=...)``)."""
    if fn is None:
        return lambda f: jit(f, **options)
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(**options)(fn)
