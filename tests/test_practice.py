"""`seqarch practice`: questions from a seed, answers checked by the code, history, focus."""

from __future__ import annotations

import math
import os
import re
import select
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass

import pytest
import sympy as sp
import torch
from sympy.core.function import AppliedUndef
from typer.testing import CliRunner

from seqarch.cli import app
from seqarch.models import build
from seqarch.practice import equations as eqs
from seqarch.practice.checkers import Unreadable, check, check_scenario, model_answer, read_number
from seqarch.practice.generators import generate
from seqarch.practice.history import History
from seqarch.practice.question import CATEGORIES, KINDS, Question
from seqarch.practice.session import Retry, Skipped, run

GATE_ORDER = {"rnn": "h", "lstm": "ifgo", "gru": "rzn"}  # PyTorch's block order


# ---------------------------------------------------------------------------------------------
# The canonical equations are the code's.


def _numeric(expr: sp.Expr, values: dict[str, float], weights: dict[str, float]) -> float:
    def call(e: sp.Expr) -> sp.Expr:
        name, (a,) = e.func.__name__, e.args
        if name == "σ":
            return 1 / (1 + sp.exp(-a))
        if name == "tanh":
            return sp.tanh(a)
        return weights[name] * a  # a 1×1 weight matrix

    expr = expr.replace(lambda e: isinstance(e, AppliedUndef), call)
    return float(expr.subs({s: values[s.name] for s in expr.free_symbols}))


@pytest.mark.parametrize("arch", eqs.CLASSIC)
def test_docstring_equations_compute_what_the_cell_computes(arch):
    torch.manual_seed(0)
    model = build(arch, input_size=1, hidden_size=1).double()
    cell = model.cells[0]
    weights, values = {}, {"x_t": 0.7, "h_{t-1}": -0.4, "C_{t-1}": 0.9}
    for k, g in enumerate(GATE_ORDER[arch]):
        weights[f"W_x{g}"], weights[f"W_h{g}"] = cell.W_x[k, 0].item(), cell.W_h[k, 0].item()
        values[f"b_x{g}"], values[f"b_h{g}"] = cell.b_x[k].item(), cell.b_h[k].item()
    for lhs, eq in eqs.model_equations(arch).items():  # in the docstring's order
        values[lhs] = _numeric(eq.rhs, values, weights)
    x, h = torch.tensor([[0.7]], dtype=torch.double), torch.tensor([[-0.4]], dtype=torch.double)
    state = (h, torch.tensor([[0.9]], dtype=torch.double)) if arch == "lstm" else h
    out = cell(x, state)
    h_t = out[0] if arch == "lstm" else out
    assert values["h_t"] == pytest.approx(h_t.item(), abs=1e-12)
    if arch == "lstm":
        assert values["C_t"] == pytest.approx(out[1].item(), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Generators.


def test_generators_give_valid_self_consistent_questions_across_seeds():
    seen_kinds, seen_categories = set(), set()
    for seed in range(25):
        for q in generate(seed, 6):
            assert q.category in CATEGORIES and q.kind in KINDS and q.prompt.strip()
            seen_kinds.add(q.kind)
            seen_categories.add(q.category)
            if q.kind == "number":
                assert math.isfinite(q.expected) and q.expected > 0, q.prompt
            if q.kind == "choice":
                assert q.expected and set(q.expected) <= set(q.choices)
            if q.kind == "scenario":
                assert q.expected["horizon"] <= q.expected["seq_len"]
                continue
            # The model answer, typed back as it is shown, is graded right.
            shown = min(q.expected) if q.kind == "choice" else model_answer(q)
            grade = check(q, shown)
            assert grade.correct, (q.prompt, model_answer(q), grade.diagnosis)
    assert seen_kinds == set(KINDS) and seen_categories == set(CATEGORIES)


def test_same_seed_same_questions_other_seed_other_questions():
    prompts = [q.prompt for q in generate(11, 8)]
    assert prompts == [q.prompt for q in generate(11, 8)]
    assert prompts != [q.prompt for q in generate(12, 8)]


def test_bad_category_and_count_are_refused_naming_the_accepted():
    with pytest.raises(ValueError, match="derivations"):
        generate(0, 3, ["poetry"])
    with pytest.raises(ValueError, match="positive integer"):
        generate(0, 0)


# ---------------------------------------------------------------------------------------------
# Equation checks.


def _equation(arch: str, lhs: str) -> Question:
    eq = eqs.model_equations(arch)[lhs]
    return Question("derivations", "equation", f"{arch} {lhs}", "?", eq, arch=arch)


@pytest.mark.parametrize(
    "arch, lhs, answer",
    [
        ("lstm", "C_t", "C_t = f_t*C_{t-1} + i_t*g_t"),
        ("lstm", "C_t", "c_t = i_t ⊙ C̃_t + f_t ⊙ c_prev"),
        ("lstm", "h_t", "h_t = tanh(C_t) * o_t"),
        ("lstm", "f_t", "f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f)"),
        ("lstm", "f_t", "f_t = σ(W_if*x_t + b_if + W_hf*h_prev + b_hf)"),
        ("gru", "h_t", "h_t = (1-z_t)*n_t + z_t*h_{t-1}"),
        ("gru", "h_t", "z_t*h_prev + (1-z_t)*n_t"),
        ("gru", "h_t", "h_t = n_t + z_t*(h_{t-1} - n_t)"),
        ("gru", "n_t", "n_t = tanh(W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t-1} + b_hn))"),
        ("rnn", "h_t", "h_t = tanh(W_hh h_t-1 + W_xh x_t + b_h)"),
    ],
)
def test_equivalent_rearrangements_are_accepted(arch, lhs, answer):
    grade = check(_equation(arch, lhs), answer)
    assert grade.correct, grade.diagnosis


@pytest.mark.parametrize(
    "arch, lhs, answer, diagnosis",
    [
        ("gru", "h_t", "h_t = z_t*n_t + (1-z_t)*h_prev", "z_t and (1 − z_t) are swapped"),
        ("lstm", "C_t", "C_t = o_t*C_{t-1} + i_t*g_t", "you wrote o_t where the model has f_t"),
        ("lstm", "C_t", "C_t = f_t*C_{t-1}", "missing term(s): g_t*i_t"),
        ("lstm", "C_t", "C_t = f_t*C_{t-1} - i_t*g_t", "wrong sign"),
        ("lstm", "h_t", "h_t = o_t*C_t", "missing tanh around C_t"),
        ("lstm", "h_t", "h_t = o_t*σ(C_t)", "σ and tanh are exchanged"),
        ("gru", "n_t", "n_t = tanh(W_xn x_t + W_hn (r_t*h_{t-1}))", "after the matrix product"),
        ("rnn", "h_t", "h_t = tanh(W_xh x_t)", "never uses h_{t-1}"),
        ("lstm", "h_t", "C_t = o_t*tanh(C_t)", "the question asks for h_t"),
    ],
)
def test_wrong_answers_are_rejected_with_what_differs(arch, lhs, answer, diagnosis):
    grade = check(_equation(arch, lhs), answer)
    assert not grade.correct
    assert any(diagnosis in d for d in grade.diagnosis), grade.diagnosis


def test_biases_left_out_are_accepted_misplaced_biases_are_half_right():
    q = _equation("lstm", "i_t")
    left_out = check(q, "i_t = σ(W_xi x_t + W_hi h_{t-1})")
    assert left_out.correct and "biases" in left_out.diagnosis[0]
    half = check(q, "i_t = σ(W_xi x_t + W_hi h_{t-1} + b_hi)")
    assert half.score == 0.5


@pytest.mark.parametrize("text", ["C_t = f_t*(C_{t-1} +", "C_t = f_t @ g_t", "", "a = b = c"])
def test_unparsable_equations_say_why_and_show_an_example(text):
    with pytest.raises(Unreadable, match=re.escape(eqs.EXAMPLE) + "|one update"):
        check(_equation("lstm", "C_t"), text)


def test_derivative_of_the_cell_path_is_the_forget_gate():
    q = next(q for s in range(50) for q in generate(s, 4) if q.kind == "derivative")
    assert check(q, str(q.expected)).correct
    assert check(q, f"∂ = {q.expected}").correct  # a left side is ignored
    assert not check(q, "1").correct


# ---------------------------------------------------------------------------------------------
# Numbers and choices.


@pytest.mark.parametrize(
    "text, scale, value",
    [
        ("215k", 1, 215e3),
        ("215,040", 1, 215040),
        ("2.1504e5", 1, 215040),
        ("3.2 MB", 1, 3.2e6),
        ("3.2", 1e6, 3.2e6),
        ("1 KiB", 1, 1024),
        ("1.2M FLOPs", 1, 1.2e6),
    ],
)
def test_numbers_are_read_with_their_units(text, scale, value):
    assert read_number(text, scale) == pytest.approx(value)


def test_numbers_within_tolerance_pass_and_others_say_how_far_off():
    q = next(q for q in generate(3, 30) if q.kind == "number" and q.scale == 1)
    assert check(q, f"{q.expected * (1 + q.tolerance / 2):.10g}").correct
    wrong = check(q, f"{q.expected * 2:.10g}")
    assert not wrong.correct and "2× the model answer" in wrong.diagnosis[0]
    with pytest.raises(Unreadable, match="not a number"):
        check(q, "lots")


def test_choice_accepts_any_tied_answer_and_refuses_unknown_names():
    q = Question("comparison", "choice", "t", "?", {"gru", "rnn"}, choices=("gru", "lstm", "rnn"))
    assert check(q, "GRU").correct and check(q, "rnn").correct
    assert not check(q, "lstm").correct
    with pytest.raises(Unreadable, match="gru, lstm, rnn"):
        check(q, "mamba")


# ---------------------------------------------------------------------------------------------
# Scenarios, graded against an advisor (a fake one here: the real one is tested with advise).


@dataclass
class FakeRecommendation:
    recommendation: str = "gru"
    runner_up: str = "lstm"
    key_reason: str = "latency"
    defense: str = "GRU: 3 gate blocks, 12 µs per step measured here"


REASONS = ("latency", "memory", "long_range", "short_range", "training_budget")


def _scenario() -> Question:
    return next(q for s in range(50) for q in generate(s, 5) if q.kind == "scenario")


def test_scenario_is_graded_against_the_advisor_and_shows_its_defense():
    q, asked = _scenario(), []

    def advisor(spec):
        asked.append(spec)
        return FakeRecommendation()

    right = check_scenario(q, "GRU, because of latency", advisor, REASONS)
    assert right.correct and right.explanation == FakeRecommendation.defense
    assert asked[0] == q.expected
    runner_up = check_scenario(q, "lstm latency", advisor, REASONS)
    assert runner_up.score == pytest.approx(0.7) and "runner-up" in runner_up.diagnosis[0]
    wrong_reason = check_scenario(q, "gru long-range", advisor, REASONS)
    assert wrong_reason.score == pytest.approx(0.6)
    assert "key reason is latency" in wrong_reason.diagnosis[0]
    with pytest.raises(Unreadable, match="no key reason"):
        check_scenario(q, "gru because I like it", advisor, REASONS)


def test_scenarios_are_skipped_without_an_advisor_and_consume_no_answer():
    questions = [_scenario(), _equation("lstm", "C_t")]
    answers = iter(["C_t = f_t*C_{t-1} + i_t*g_t"])
    events = []
    summary = run(questions, lambda q, e: next(answers, None), events.append, advisor=None)
    assert isinstance(events[0], Skipped) and summary.skipped == 1
    assert [g.grade.correct for g in summary.graded] == [True]


# ---------------------------------------------------------------------------------------------
# Sessions, history, --focus weak.


def test_unreadable_answer_gets_another_try_and_ctrl_c_keeps_the_session(tmp_path):
    questions = [_equation("lstm", "C_t"), _equation("gru", "h_t"), _equation("rnn", "h_t")]
    answers = iter(["C_t = f_t*(", "C_t = f_t*C_{t-1} + i_t*g_t", "h_t = z_t*n_t"])
    events = []

    def read(q, error):
        text = next(answers, None)
        if text is None:
            raise KeyboardInterrupt
        return text

    with History(tmp_path / "s.db", seed=1) as history:
        summary = run(questions, read, events.append, history=history)
        assert summary.interrupted and len(summary.graded) == 2
        assert sum(isinstance(e, Retry) for e in events) == 1
        assert summary.by_category() == {"derivations": (2, 1.0)}
    rows = sqlite3.connect(tmp_path / "s.db").execute(
        "SELECT topic, score FROM practice_answers ORDER BY id"
    )
    assert rows.fetchall() == [("lstm C_t", 1.0), ("gru h_t", 0.0)]


def test_history_lives_in_a_store_file_and_foreign_files_are_refused(tmp_path):
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ValueError, match="not accepted as a results store"):
        History(foreign)
    from seqarch.store import Store

    with History(tmp_path / "ok.db"):
        pass
    with Store(tmp_path / "ok.db") as store:  # the store still opens its file
        assert store.runs() == []


def _missed(tmp_path, category: str) -> History:
    """A history in which every ``category`` question was passed and every other one right."""
    history = History(tmp_path / "h.db", seed=0)
    for q in generate(0, 40):
        right = q.category != category and q.kind != "scenario"
        answer = (min(q.expected) if q.kind == "choice" else model_answer(q)) if right else "skip"
        history.record(q, answer, check(q, answer))
    return history


def test_focus_weak_draws_the_categories_missed_most(tmp_path):
    history = _missed(tmp_path, "comparison")
    weights = history.weak_weights()
    assert max(weights, key=weights.get) == "comparison"
    drawn = [q.category for q in generate(5, 40, weights=weights)]
    assert drawn.count("comparison") > len(drawn) / 2
    assert len(history.sessions()) == 1
    history.close()


def test_cli_answers_file_is_graded_stored_and_focus_weak_uses_it(tmp_path):
    db = tmp_path / "p.db"
    questions = generate(4, 5, ["derivations"])
    answers = tmp_path / "answers.txt"
    answers.write_text("# one answer per line\n" + "\n".join(model_answer(q) for q in questions))
    runner = CliRunner()
    args = ["practice", "--seed", "4", "--count", "5", "--category", "derivations"]
    result = runner.invoke(app, [*args, "--answers", str(answers), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ right") == 5 and "This session" in result.output
    (n,) = sqlite3.connect(db).execute("SELECT COUNT(*) FROM practice_answers").fetchone()
    assert n == 5
    weak = runner.invoke(app, ["practice", "--focus", "weak", "--count", "2", "--db", str(db)])
    assert weak.exit_code in (0, 130), weak.output  # no answers on stdin: ends at once
    progress = runner.invoke(app, ["practice", "--progress", "--db", str(db)])
    assert progress.exit_code == 0 and "100% of 5" in progress.output
    bad = runner.invoke(app, ["practice", "--focus", "strong", "--db", str(db)])
    assert bad.exit_code == 2 and "expected 'weak'" in bad.output


# ---------------------------------------------------------------------------------------------
# The interactive session, driven through a real pseudo-terminal (stdlib pty, no pexpect).


def _read_until(fd: int, pattern: str, timeout: float = 60.0) -> str:
    buf, deadline = "", time.monotonic() + timeout
    while re.search(pattern, buf) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} in:\n{buf}")
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            continue  # the deadline check above ends the wait
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk.decode(errors="replace")
    return buf


def _reap(pid: int, grace: float = 5.0) -> int:
    """The child's wait status; a child still running after ``grace`` s is killed first."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_interactive_session_in_a_terminal_retries_and_survives_ctrl_c(tmp_path):
    import pty

    db = tmp_path / "i.db"
    questions = generate(9, 3, ["derivations"])
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on a terminal
        # A terminal's shell starts programs with Ctrl-C at its default. A test runner started
        # in the background by a non-interactive shell (`cmd &`) has SIGINT *ignored*, an
        # ignored signal survives fork and exec, and Python then installs no handler: Ctrl-C
        # would do nothing (this was the "lost SIGINT" of earlier CI runs).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}
        args = ["--seed", "9", "--count", "3", "--category", "derivations", "--db", str(db)]
        os.execve(sys.executable, [sys.executable, "-m", "seqarch.cli", "practice", *args], env)
    try:
        _read_until(fd, r"answer")
        os.write(fd, b"((\r")  # unreadable: a message and another try
        _read_until(fd, r"try again[\s\S]*answer")
        os.write(fd, (model_answer(questions[0]) + "\r").encode())
        _read_until(fd, r"right[\s\S]*2/3[\s\S]*answer")
        os.write(fd, b"skip\r")
        _read_until(fd, r"3/3[\s\S]*answer \('skip' to see it\)")
        os.write(fd, b"\x03")  # Ctrl-C
        tail = _read_until(fd, r"history: ")
    finally:
        status = _reap(pid)
        os.close(fd)
    assert "stopped early" in tail
    assert os.waitstatus_to_exitcode(status) == 130
    scores = sqlite3.connect(db).execute("SELECT score FROM practice_answers ORDER BY id")
    assert [s for (s,) in scores] == [1.0, 0.0]
