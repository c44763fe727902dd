"""`seqarch reproduce`: the published figures file, the tasks as the papers define them, every
quick configuration runnable, and verdicts computed from the rows (planted rows flip them)."""

import dataclasses
import math

import pytest
import torch

from seqarch import reproduce
from seqarch.models import build
from seqarch.reproduce import REPRODUCTIONS, Row, papers, planned_runs
from seqarch.tasks import make_task
from seqarch.train import train


def test_published_file_parses_and_every_entry_names_its_source():
    found = papers()
    assert set(found) == set(REPRODUCTIONS)
    for name, p in found.items():
        for key in ("citation", "where", "claim", "published", "setting"):
            assert p.get(key), f"{name} lacks {key}"
        assert any(ch.isdigit() for ch in p["citation"])  # a year, an arXiv id


@pytest.mark.parametrize("name", list(REPRODUCTIONS))
def test_every_quick_configuration_resolves_and_trains_a_few_steps(name):
    runs = planned_runs(name, quick=True)
    # under the fair protocol; or, outside it, one rate on every seed of the protocol
    assert runs and all(r.train.protocol or r.seed in (0, 1, 2) for r in runs)
    seen = set()
    for r in runs:
        key = (r.arch, repr(r.task_config), repr(r.model_config))
        if key in seen:
            continue
        seen.add(key)
        small = dict(r.task_config, n_train=64, n_val=32, n_test=32)
        tiny = dataclasses.replace(
            r,
            task_config=small,
            train=dataclasses.replace(r.train, max_steps=2, min_steps=1, eval_every=1),
        )
        result = train(tiny)
        assert math.isfinite(result.metrics[result.metrics["metric"]])


def test_mqar_scores_only_queries_and_keeps_keys_and_values_apart():
    task = make_task("recall", seq_len=16, n_pairs=3, n_keys=8, n_values=8, n_train=32)
    batch = task.data("train")
    tokens = batch.x.argmax(-1)  # one-hot inputs
    P = 3
    keys, values = tokens[:, 0 : 2 * P : 2], tokens[:, 1 : 2 * P : 2]
    assert (keys < 8).all() and (values >= 8).all() and (values < 16).all()  # disjoint halves
    assert all(len(set(k.tolist())) == P for k in keys)  # each key once
    filler = task.blank
    rest = tokens[:, 2 * P :]
    assert ((rest < 8) | (rest == filler)).all()  # after the pairs: queries (keys) or filler
    # loss only at the queries, whose target is the value paired with that key
    assert torch.equal(batch.mask[:, 2 * P :], rest < 8) and not batch.mask[:, : 2 * P].any()
    for n in range(4):
        pairs = dict(zip(keys[n].tolist(), (values[n] - 8).tolist(), strict=True))
        for t in batch.mask[n].nonzero().flatten().tolist():
            assert batch.y[n, t].item() == pairs[tokens[n, t].item()]


def test_time_invariant_ssm_ignores_its_input_in_delta_b_c():
    torch.manual_seed(0)
    model = build("ssm", input_size=3, hidden_size=8, selective=False).eval()
    layer = model.layers[0]
    u1, u2 = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    assert all(
        torch.equal(a, b) for a, b in zip(layer.selection(u1), layer.selection(u2), strict=True)
    )


def _row(label, arch, mean, ci=0.01, baseline=0.1):
    return Row(label, arch, mean, ci, baseline, 1e-2, 3)


def test_verdicts_follow_the_rows():
    mamba = REPRODUCTIONS["mamba-selectivity"].judge
    good = {
        "S6 (selective)": _row("S6 (selective)", "ssm", 0.97),
        "S4-like (time-invariant)": _row("S4-like (time-invariant)", "ssm", 0.3),
    }
    assert mamba(good)[0] == "reproduced"
    flipped = dict(
        good, **{"S4-like (time-invariant)": _row("S4-like (time-invariant)", "ssm", 0.97)}
    )
    assert mamba(flipped)[0] == "not reproduced"

    mqar = REPRODUCTIONS["zoology-mqar"].judge
    rows = {
        f"{a} P={P}": _row(f"{a} P={P}", a, m)
        for a, ms in (("transformer", (1.0, 1.0, 0.99)), ("gru", (0.9, 0.5, 0.2)))
        for P, m in zip((4, 8, 16), ms, strict=True)
    }
    assert mqar(rows)[0] == "reproduced"
    rows["transformer P=4"] = _row("transformer P=4", "transformer", 0.5)
    assert mqar(rows)[0] == "not reproduced"

    le = REPRODUCTIONS["le2015-adding"].judge
    rows = {
        "rnn T=150": _row("rnn T=150", "rnn", 0.166, baseline=0.167),
        "lstm T=150": _row("lstm T=150", "lstm", 0.001, baseline=0.167),
    }
    assert le(rows)[0] == "reproduced"
    rows["rnn T=150"] = _row("rnn T=150", "rnn", 0.01, baseline=0.167)  # the RNN solved it
    assert le(rows)[0] == "not reproduced"


def test_a_run_stopped_by_time_is_never_judged():
    rep = REPRODUCTIONS["mamba-selectivity"]
    rows = {
        "S6 (selective)": _row("S6 (selective)", "ssm", 0.97),
        "S4-like (time-invariant)": _row("S4-like (time-invariant)", "ssm", 0.3),
    }
    assert reproduce.judged(rep, rows)[0] == "reproduced"
    rows["S6 (selective)"].stopped_by_time = 1
    verdict, why = reproduce.judged(rep, rows)
    assert verdict == "incomplete" and "stopped by time" in why


def test_an_unknown_reproduction_is_refused():
    with pytest.raises(ValueError, match="expected one of zoology-mqar"):
        reproduce.reproduction("nope")


def test_mqar_quick_is_judged_on_attention_alone():
    mqar = REPRODUCTIONS["zoology-mqar"]
    assert [label for label, _ in mqar.plan(True)] == ["transformer P=4"]
    quick = {"transformer P=4": _row("transformer P=4", "transformer", 0.995)}
    assert mqar.judge(quick)[0] == "reproduced"
    quick = {"transformer P=4": _row("transformer P=4", "transformer", 0.25)}
    assert mqar.judge(quick)[0] == "not reproduced"
    # the quick check is the default's first cell at the rate its sweep selects, outside the
    # protocol: three seeds, no sweep; the default sweeps
    quick_runs, full_runs = planned_runs("zoology-mqar", True), planned_runs("zoology-mqar")
    assert {r.seed for r in quick_runs} == {0, 1, 2} and {r.train.lr for r in quick_runs} == {3e-3}
    assert all(r.train.protocol is None for r in quick_runs)
    first = [r for r in full_runs if r.arch == "transformer" and r.task_config["n_pairs"] == 4]
    assert {r.train.lr for r in first} == {1e-3, 3e-3, 1e-2, 3e-2} and first[0].train.protocol
    assert first[0].task_config == quick_runs[0].task_config
    assert first[0].model_config == quick_runs[0].model_config
