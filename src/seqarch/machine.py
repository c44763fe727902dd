"""Where a number was measured: versions, CPU model, cores, torch threads, git revision — the
environment every stored run and measurement carries."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

from . import devices


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_revision() -> str | None:
    """The commit of the checkout this package runs from; None outside a git repository."""
    try:
        r = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() or None


def environment() -> dict:
    """Where a number was measured: versions, CPU model, cores, torch threads, git revision."""
    import numpy
    import torch

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": devices.describe(),  # where runs train and sequences are timed
        "git_revision": _git_revision(),
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
    }
