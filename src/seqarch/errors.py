"""The one error type for bad input.

``BadInput`` is a ``ValueError`` that carries a one-line message naming the bad value and what
is accepted. The command line turns it, and only it, into exit code 2; any other exception is
an internal error (exit 1, the traceback with ``--debug``) — a bug is never passed off as the
user's mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEBUG = {"on": False}  # `seqarch --debug`: an internal error shows its traceback


class BadInput(ValueError):
    """Bad input: ``str(e)`` is one line naming the bad value and what is accepted."""


def positive(name: str, value: int) -> int:
    """``value`` if it is a positive integer, else bad input naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadInput(f"{name}={value!r} is not accepted; expected a positive integer")
    return value


def explain(e: BaseException) -> tuple[int, str]:
    """What the command line says about an exception that ended a command, and its exit code:
    bad input → 2 and its own line; a usage error of the option parser (click's, as typer ships
    it) → its code and message; anything else → 1, named as a bug in seqarch, not the input."""
    if isinstance(e, BadInput):
        return 2, f"[bold red]error:[/] {e}"
    if hasattr(e, "format_message") and hasattr(e, "exit_code"):  # click.UsageError and kin
        ctx = getattr(e, "ctx", None)
        where = f" (`{ctx.command_path} --help` lists what is accepted)" if ctx else ""
        return e.exit_code, f"[bold red]error:[/] {e.format_message()}{where}"
    first = (str(e).splitlines() or [""])[0]
    return 1, (
        f"[bold red]internal error:[/] {type(e).__name__}: {first} — a bug in seqarch, not your "
        "input; rerun with `seqarch --debug …` for the traceback"
    )


@contextmanager
def one_line_errors(console: Any) -> Iterator[None]:
    """Around a command: an exception becomes its one line (:func:`explain`) on ``console``
    and ``SystemExit`` with its code; the option parser's own control flow (click's exit and
    abort) passes through, and with ``DEBUG`` an internal error keeps its traceback."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - each kind reported as what it is
        click_flow = type(e).__module__.startswith("click") and not hasattr(e, "format_message")
        if click_flow or (DEBUG["on"] and not isinstance(e, BadInput)):
            raise
        code, line = explain(e)
        console.print(line, highlight=False, soft_wrap=True)
        raise SystemExit(code) from None
