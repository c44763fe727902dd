"""numba's ``njit`` with its on-disk cache where one can be written, and a lazy variant.

``cache=True`` saves each compiled kernel beside the source (or in the user's cache directory),
so a new process loads it instead of compiling for seconds. Where neither can be written (a
read-only install run by another user), numba refuses the decorator itself; the kernels then
compile once per process instead of failing the import.

``lazy_jit`` defers even the import of numba (~0.2 s) to a kernel's first call, for modules
that every command imports (``seqarch.models``) but only training on the CPU runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def jit(fn: Callable | None = None, **options: Any) -> Any:
    """``numba.njit(cache=True, **options)``, or without the cache where it cannot be written.
    Usable bare (``@jit``) or with options (``@jit(fastmath=...)``)."""
    from numba import njit

    if fn is None:
        return lambda f: jit(f, **options)
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(**options)(fn)


class lazy_jit:  # noqa: N801 - used as a decorator, like jit
    """``@lazy_jit``: the function, compiled by ``jit`` on its first call from Python."""

    def __init__(self, fn: Callable) -> None:
        self.fn, self.kernel = fn, None

    def __call__(self, *args: Any) -> Any:
        if self.kernel is None:
            self.kernel = jit(self.fn)
        return self.kernel(*args)
