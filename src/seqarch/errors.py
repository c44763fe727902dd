"""The one error type for bad input.

``BadInput`` is a ``ValueError`` that carries a one-line message naming the bad value and what
is accepted. The command line turns it, and only it, into exit code 2; any other exception is
an internal error (exit 1, the traceback with ``--debug``) — a bug is never passed off as the
user's mistake.
"""

from __future__ import annotations


class BadInput(ValueError):
    """Bad input: ``str(e)`` is one line naming the bad value and what is accepted."""
