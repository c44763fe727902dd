"""What seqarch ships beside its code: the self-evaluation suites, the study presets and the
package data that carries the TOML and text files into a wheel."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqarch.advise.evaluate import SUITES, load_suite, shipped_suites
from seqarch.advise.spec import ProblemSpec
from seqarch.cli import app
from seqarch.models import MODELS
from seqarch.presets import PRESETS
from seqarch.study import load_study

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "seqarch"


def test_the_default_suite_is_shipped_where_the_loader_looks():
    assert SUITES.is_dir() and "default" in shipped_suites()


@pytest.mark.parametrize("name", shipped_suites())
def test_every_shipped_suite_loads_by_name(name):
    specs = load_suite(name)
    assert specs and all(isinstance(s, ProblemSpec) for s in specs)
    for s in specs:
        assert s.horizon is None or s.horizon <= s.seq_len, s


def test_evaluate_default_gets_past_its_suite(tmp_path):
    """`advise --evaluate default` finds its suite: the first thing it refuses is the store
    (another application's file, left untouched), not the suite's name."""
    other = tmp_path / "other.txt"
    other.write_text("not a store")
    args = ["advise", "--evaluate", "default", "--archs", "rnn,gru", "--db", str(other)]
    r = CliRunner().invoke(app, args)
    assert other.read_text() == "not a store"
    assert r.exit_code == 2, r.output
    assert "shipped suite" not in r.output and "results store" in r.output


def test_an_unknown_suite_names_the_shipped_ones():
    r = CliRunner().invoke(app, ["advise", "--evaluate", "no-such-suite", "--no-run"])
    assert r.exit_code == 2
    assert "no-such-suite" in r.output and "default" in r.output


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_expands_to_registered_models(name):
    runs = load_study(name)
    assert runs, name
    assert {r.arch for r in runs} <= set(MODELS)
    assert len({r.id for r in runs}) == len(runs)  # duplicates dropped


def test_package_data_carries_every_data_file_and_names_no_missing_one():
    with open(ROOT / "pyproject.toml", "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["seqarch"]
    data = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    for pattern in patterns:
        assert any(fnmatch(d, pattern) for d in data), f"{pattern} matches no file"
    for d in data:
        assert any(fnmatch(d, p) for p in patterns), f"{d} is not package data"
