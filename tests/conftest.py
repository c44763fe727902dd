"""Shared test settings."""

import os

import pytest
import torch

# Every test reads the stores it plants, alone — module- and session-scoped fixtures included
# (they run before any function's monkeypatch): the shipped evidence base (seqarch.shipped)
# is layered under a store only where a test sets SEQARCH_BASE itself.
os.environ["SEQARCH_BASE"] = "none"
# pytest-xdist's workers export COLUMNS=80, which rich would freeze into the CLI's consoles when
# seqarch.cli is imported; without it the width is read when printing, as in a plain run.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tests run tiny models, where one thread is fastest and a shared 2-core CI machine is not
    oversubscribed (two threads made some step loops 100× slower there). Code under test that
    times things sets its own thread count explicitly."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def no_shipped_base(monkeypatch):
    """Every test reads the stores it plants, alone: the shipped evidence base (seqarch.shipped)
    is layered under a store only where a test asks for it."""
    monkeypatch.setenv("SEQARCH_BASE", "none")
