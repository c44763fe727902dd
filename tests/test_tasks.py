"""The task suite: shapes, seeded determinism, disjoint splits, baselines against their formulas,
answers recoverable from the inputs, variable-length masking, and the user's-file errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqarch.models import build
from seqarch.tasks import TASKS, Batch, from_files, make_task
from seqarch.tasks.base import SPLITS, split_seed
from seqarch.tasks.names import VOCAB
from seqarch.tasks.stream_events import event_delays
from seqarch.tasks.ucr import load_ucr

SMALL = dict(n_train=64, n_val=32, n_test=48)
SYNTHETIC = {
    "adding": dict(seq_len=30, **SMALL),
    "copy": dict(seq_len=26, **SMALL),
    "selective_copy": dict(seq_len=24, **SMALL),
    "recall": dict(seq_len=24, **SMALL),
    "stream_events": dict(seq_len=60, **SMALL),
    "regime_switch": dict(seq_len=40, **SMALL),
}
REAL = {
    "names": dict(n_train=300, n_val=100, n_test=100),
    "ucr": dict(dataset="ItalyPowerDemand"),
    "forecast": dict(series="sunspots", seq_len=22),
}
ALL = SYNTHETIC | REAL


def perfect(task, batch: Batch) -> torch.Tensor:
    """The prediction that is right everywhere: one-hot logits, or the targets themselves."""
    if task.kind == "classify":
        return 20.0 * torch.nn.functional.one_hot(batch.y, task.output_size).float()
    return batch.y.clone()


# ---------------------------------------------------------------------------------------------
# The contract every task keeps


@pytest.mark.parametrize("name", ALL)
def test_shapes_dtypes_and_mask(name):
    task = make_task(name, **ALL[name])
    for split in SPLITS:
        b = task.data(split)
        N, T, D = b.x.shape
        assert D == task.input_size and b.x.dtype == torch.float32
        if task.kind == "classify":
            assert b.y.shape == (N, T) and b.y.dtype == torch.int64
            assert int(b.y[b.mask].max()) < task.output_size
        else:
            assert b.y.shape == (N, T, task.output_size) and b.y.dtype == torch.float32
        assert b.mask.shape == (N, T) and b.mask.dtype == torch.bool
        assert b.mask.any(dim=1).all(), "every sample has a scored position"
        assert b.lengths is None or b.lengths.shape == (N,)
    assert task.metric in task.evaluate(task.trivial_prediction(b), b)
    assert task.metric in task.baseline()


@pytest.mark.parametrize("name", ALL)
def test_same_config_same_tensors(name):
    a, b = make_task(name, **ALL[name]), make_task(name, **ALL[name])
    for split in SPLITS:
        x, y = a.data(split), b.data(split)
        assert torch.equal(x.x, y.x) and torch.equal(x.y, y.y) and torch.equal(x.mask, y.mask)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_seed_changes_the_data(name):
    a = make_task(name, **ALL[name]).data("train")
    b = make_task(name, seed=1, **ALL[name]).data("train")
    assert not torch.equal(a.x, b.x)


def test_split_seeds_come_from_disjoint_ranges():
    seeds = {s: {split_seed(k, s) for k in (0, 1, 10**9 - 1)} for s in SPLITS}
    ranges = [(min(v), max(v)) for v in seeds.values()]
    for (_, hi), (lo, _) in zip(ranges, ranges[1:], strict=False):
        assert hi < lo
    with pytest.raises(ValueError, match="seed"):
        make_task("adding", seed=10**9)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_no_sample_is_shared_between_splits(name):
    task = make_task(name, **ALL[name])
    rows = {s: {bytes(r.numpy()) for r in task.data(s).x} for s in SPLITS}
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["val"]


@pytest.mark.parametrize("name", ALL)
def test_perfect_prediction_scores_perfectly(name):
    task = make_task(name, **ALL[name])
    b = task.data("val")
    m = task.evaluate(perfect(task, b), b)
    if task.kind == "classify":
        assert m["accuracy"] == 1.0
    else:
        assert m["mse"] == 0.0
    assert task.loss(perfect(task, b), b).item() < 1e-3


def test_loss_is_a_differentiable_scalar():
    task = make_task("recall", **SYNTHETIC["recall"])
    b = task.data("train")
    y_pred = torch.zeros(*b.y.shape, task.output_size, requires_grad=True)
    loss = task.loss(y_pred, b)
    loss.backward()
    assert loss.dim() == 0 and math.isclose(loss.item(), math.log(task.output_size), rel_tol=1e-5)
    assert y_pred.grad[~b.mask].abs().max() == 0, "unscored positions get no gradient"


# ---------------------------------------------------------------------------------------------
# Baselines equal their formulas (within sampling tolerance where they are sampled)

TOLERANCE = {  # ~5 standard errors at n_test = 4000 samples
    "adding": 0.015,
    "copy": 0.015,  # xent exact (checked below); symbol accuracy sampled
    "selective_copy": 0.03,
    "recall": 0.02,
    "stream_events": 1e-9,
    "regime_switch": 0.015,  # accuracy sampled (the uniform prediction's argmax); xent exact
}


@pytest.mark.parametrize("name", TOLERANCE)
def test_trivial_predictor_matches_the_formula(name):
    task = make_task(name, n_test=4000 if name != "selective_copy" else 1000)
    test = task.data("test")
    measured = task.evaluate(task.trivial_prediction(test), test)
    for key, value in task.baseline().items():
        assert measured[key] == pytest.approx(value, abs=TOLERANCE[name]), key


def test_adding_baseline_is_one_sixth():
    assert make_task("adding").baseline()["mse"] == pytest.approx(0.167, abs=5e-4)


@pytest.mark.parametrize("T", [10, 100, 500])
def test_copy_baseline_is_10_log_8_over_T_plus_20(T):
    task = make_task("copy", seq_len=T + 20, n_test=4)
    assert task.delay == T
    test = task.data("test")
    expected = 10 * math.log(8) / (T + 20)
    assert task.baseline()["xent"] == pytest.approx(expected)
    assert task.loss(task.trivial_prediction(test), test).item() == pytest.approx(expected, 1e-5)


def test_names_baseline_is_the_unigram_below_uniform():
    task = make_task("names", **REAL["names"])
    base = task.baseline()
    assert 3.5 < base["bits_per_char"] < base["uniform_bits_per_char"] == math.log2(27)


def test_ucr_baseline_is_the_majority_training_class_on_the_archive_test_split():
    from aeon.datasets import load_classification

    task = make_task("ucr", dataset="GunPoint")
    _, y_train = load_classification("GunPoint", split="train")
    _, y_test = load_classification("GunPoint", split="test")
    labels, counts = np.unique(y_train, return_counts=True)
    majority = labels[counts.argmax()]
    assert task.baseline()["accuracy"] == pytest.approx(np.mean(y_test == majority), abs=1e-6)


def test_forecast_baseline_is_seasonal_naive_mase_on_raw_values():
    task = make_task("forecast", series="sunspots", seq_len=22)
    s, m = task.series_values(), task.season_length
    train = s[: task.boundaries()[0]]
    scale = np.abs(train[m:] - train[:-m]).mean()
    ends = task.window_ends("test")
    mase = np.abs(s[ends + 1] - s[ends + 1 - m]).mean() / scale
    assert task.baseline()["mase"] == pytest.approx(mase, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# The answer is recoverable from the input


def test_adding_target_is_the_sum_of_the_marked_values():
    b = make_task("adding", **SYNTHETIC["adding"]).data("train")
    values, markers = b.x[..., 0], b.x[..., 1]
    assert torch.equal(markers.sum(1), torch.full((len(b),), 2.0))
    assert torch.allclose((values * markers).sum(1), b.y[:, -1, 0])
    assert b.mask[:, -1].all() and b.mask.sum() == len(b)


def test_adding_distance_places_the_first_marker():
    task = make_task("adding", seq_len=40, distance=25, **SMALL)
    b = task.data("test")
    first = b.x[..., 1].argmax(dim=1)
    assert task.horizon == 25 and (first == 40 - 1 - 25).all()
    classic = make_task("adding", seq_len=40, **SMALL).data("test").x[..., 1]
    assert (classic[:, :20].sum(1) == 1).all() and (classic[:, 20:].sum(1) == 1).all()


def test_copy_reproduces_the_first_symbols_after_the_delimiter():
    task = make_task("copy", **SYNTHETIC["copy"])
    b = task.data("train")
    tokens, K, T = b.x.argmax(-1), task.n_copy, task.seq_len
    assert torch.equal(b.y[:, T - K :], tokens[:, :K])
    assert (b.y[:, : T - K] == task.blank).all()
    assert (tokens[:, T - K - 1] == task.delimiter).all()
    assert ((tokens[:, K : T - K - 1] == task.blank).all(dim=1)).all()


def test_selective_copy_outputs_the_scattered_tokens_in_order():
    task = make_task("selective_copy", **SYNTHETIC["selective_copy"])
    b = task.data("train")
    tokens = b.x.argmax(-1)[:, : task.context]
    for n in range(len(b)):
        kept = tokens[n][tokens[n] != task.noise]
        assert torch.equal(kept, b.y[n, -task.n_tokens :])
    assert b.mask.sum(1).eq(task.n_tokens).all()


def test_recall_answer_is_the_value_paired_with_the_query_key():
    task = make_task("recall", **SYNTHETIC["recall"])
    b = task.data("train")
    tokens, P = b.x.argmax(-1), task.n_pairs
    for n in range(len(b)):
        pairs = {int(k): int(v) - task.n_keys for k, v in tokens[n, : 2 * P].view(P, 2)}
        assert len(pairs) == P, "keys are distinct"
        for t in b.mask[n].nonzero().flatten():
            assert b.y[n, t] == pairs[int(tokens[n, t])]
    assert b.mask.sum(1).eq(task.queries).all()


def test_stream_events_are_local_and_detectable():
    task = make_task("stream_events", n_test=300)
    b = task.data("test")
    assert b.y.float().mean().item() == pytest.approx(task.occupancy)
    # a fixed threshold on the current value, no memory and no learning: far above the baseline
    x = b.x[..., 0]
    logits = torch.stack([torch.zeros_like(x), x - 1.8], dim=-1)
    m = task.evaluate(logits, b)
    assert m["f1"] > task.baseline()["f1"] + 0.3 and m["delay"] < task.event_len / 2


def test_event_delays_on_a_worked_example():
    y = torch.tensor([[0, 1, 1, 1, 0, 0, 1, 1]])
    pred = torch.tensor([[1, 0, 0, 1, 0, 0, 0, 0]])  # first event found 2 steps late, second missed
    assert event_delays(pred, y).tolist() == [2.0, 2.0]


def test_names_inputs_spell_the_names_and_targets_are_shifted():
    task = make_task("names", **REAL["names"])
    b = task.data("val")
    words = task.split_names("val")
    for n in (0, 1, 2, len(b) - 1):
        L = int(b.lengths[n])
        spelled = "".join(VOCAB[i] for i in b.x[n, :L].argmax(-1))
        assert spelled == "." + words[n] and L == len(words[n]) + 1
        assert "".join(VOCAB[i] for i in b.y[n, :L]) == words[n] + "."
    sets = [set(task.split_names(s)) for s in SPLITS]
    assert not sets[0] & sets[1] and not sets[0] & sets[2] and not sets[1] & sets[2]


def test_ucr_inputs_are_the_archive_series_standardised():
    task = make_task("ucr", dataset="ItalyPowerDemand")
    (_, _), (test_seqs, test_y), classes = load_ucr("ItalyPowerDemand")
    b = task.data("test")
    mu, sd = task.standardiser()
    assert np.allclose(b.x[5].numpy(), (test_seqs[5] - mu) / sd, atol=1e-5)
    assert (b.y[:, -1].numpy() == test_y).all() and classes == ("1", "2")
    train, val = task.data("train"), task.data("val")
    assert len(train) + len(val) == 67
    rows = {bytes(r.numpy()) for r in train.x}
    assert not rows & {bytes(r.numpy()) for r in val.x}


def test_forecast_targets_are_the_next_values_and_splits_follow_time():
    task = make_task("forecast", **REAL["forecast"])
    b = task.data("train")
    assert torch.equal(b.y[:, :-1, 0], b.x[:, 1:, 0])
    ends = {s: task.window_ends(s) for s in SPLITS}
    assert ends["train"].max() < ends["val"].min() and ends["val"].max() < ends["test"].min()
    assert ends["train"].max() + task.steps_ahead < task.boundaries()[0]


# ---------------------------------------------------------------------------------------------
# Variable length: right-padded, masked, and invisible to a causal model


def test_japanese_vowels_is_ragged_and_masked_at_the_last_valid_step():
    b = make_task("ucr", dataset="JapaneseVowels").data("test")
    assert b.lengths is not None and b.lengths.min() < b.lengths.max() == b.x.shape[1]
    assert torch.equal(b.mask.float().argmax(1), b.lengths - 1) and b.mask.sum() == len(b)
    steps = torch.arange(b.x.shape[1])
    assert (b.x[steps.unsqueeze(0) >= b.lengths.unsqueeze(1)] == 0).all(), "zero padding"


@pytest.mark.parametrize("arch", ["gru", "transformer"])
def test_causal_model_output_at_valid_steps_ignores_padding(arch):
    torch.manual_seed(0)
    task = make_task("names", **REAL["names"])
    b = task.data("test")[:16]
    model = build(arch, input_size=task.input_size, hidden_size=16, output_size=task.output_size)
    model.eval()
    with torch.no_grad():
        padded, _ = model(b.x)
        for n in range(len(b)):
            L = int(b.lengths[n])
            alone, _ = model(b.x[n : n + 1, :L])
            assert torch.allclose(padded[n, :L], alone[0], atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Bad input: one-line errors naming the bad value and the accepted ones


@pytest.mark.parametrize(
    "name, config, match",
    [
        ("nope", {}, "'nope' is not known; expected one of adding"),
        ("adding", {"foo": 1}, "'foo' is not accepted by task adding; expected any of seq_len"),
        ("adding", {"seq_len": "long"}, "seq_len='long' is not accepted; expected int"),
        ("adding", {"seq_len": 50, "distance": 50}, r"distance=50 .* \[1, 49\]"),
        ("copy", {"seq_len": 15}, r"seq_len=15 .* \[21"),
        ("ucr", {"dataset": "MNIST"}, "dataset='MNIST' .* GunPoint"),
        ("forecast", {"series": "gold"}, "series='gold' .* co2, sunspots"),
        ("names", {"n_train": 10**5}, "the corpus has 5163 names"),
    ],
)
def test_bad_config_is_refused(name, config, match):
    with pytest.raises(ValueError, match=match):
        make_task(name, **config)


def test_config_rebuilds_the_task():
    task = make_task("adding", seq_len=77, distance=5)
    config = task.config()
    assert make_task(config.pop("name"), **config) == task
    assert set(TASKS) >= {"adding", "copy", "selective_copy", "recall", "stream_events", "names"}


# ---------------------------------------------------------------------------------------------
# The user's own files


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_classification_round_trip(tmp_path):
    rows = [f"{i},{i + 1},{i + 2},{'up' if i % 2 else 'down'}" for i in range(20)]
    p = write(tmp_path, "seqs.csv", "a,b,c,label\n" + "\n".join(rows) + "\n")
    task = from_files(p, kind="classify", normalize=False)
    assert task.classes == ("down", "up") and task.input_size == 1 and task.output_size == 2
    parts = [task.data(s) for s in SPLITS]
    assert sum(len(b) for b in parts) == 20
    for b in parts:  # label = parity of the first value
        assert torch.equal(b.y[:, -1], (b.x[:, 0, 0].long() % 2))
    firsts = [set(b.x[:, 0, 0].tolist()) for b in parts]
    assert not firsts[0] & firsts[1] and not firsts[0] & firsts[2]


def test_npz_regression_with_lengths(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 9, 2))
    lengths = rng.integers(3, 10, size=30)
    x[0, lengths[0] :] = np.nan  # padding may hold anything
    y = np.array([x[n, : lengths[n]].sum() for n in range(30)])
    np.savez(tmp_path / "d.npz", x=x, y=y, lengths=lengths)
    task = from_files(tmp_path / "d.npz", kind="regress", normalize=False)
    assert task.kind == "regress" and task.metric == "mse" and not task.higher_is_better
    b = task.data("train")
    assert b.lengths is not None and torch.equal(b.mask.float().argmax(1), b.lengths - 1)
    sums = torch.stack([b.x[n, : b.lengths[n]].sum() for n in range(len(b))])
    assert torch.allclose(sums, b.y[:, -1, 0], atol=1e-4)


def test_csv_forecast(tmp_path):
    values = np.sin(np.arange(120) * 2 * np.pi / 12) + 0.01 * np.arange(120)
    p = write(tmp_path, "s.csv", "load\n" + "\n".join(f"{v:.6f}" for v in values) + "\n")
    task = from_files(p, kind="forecast", season=12, seq_len=24)
    b = task.data("test")
    assert b.x.shape[1:] == (24, 1) and task.baseline()["mase"] < 1.01
    assert task.baseline()["mase"] == pytest.approx(
        task.evaluate(task.trivial_prediction(b), b)["mase"]
    )


def test_date_value_csv_picks_the_only_numeric_column_and_names_the_choice(tmp_path):
    months = [f"{1949 + i // 12}-{i % 12 + 1:02d}" for i in range(72)]
    values = [100 + i + 20 * np.sin(i * 2 * np.pi / 12) for i in range(72)]
    p = write(
        tmp_path,
        "air.csv",
        "month,passengers\n"
        + "".join(f"{m},{v:.1f}\n" for m, v in zip(months, values, strict=True)),
    )
    task = from_files(p, kind="forecast", season=12, seq_len=12)  # no column named: the only one
    assert task.data("train").x.shape[1:] == (12, 1)
    two = write(
        tmp_path,
        "two.csv",
        "month,a,b\n"
        + "".join(f"{m},{v:.1f},{2 * v:.1f}\n" for m, v in zip(months, values, strict=True)),
    )
    with pytest.raises(
        ValueError, match=r"2 numeric columns \(a, b\); choose the series with --column"
    ):
        from_files(two, kind="forecast", season=12, seq_len=12)
    assert from_files(two, kind="forecast", column="b", season=12, seq_len=12).data("train")


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "is empty"),
        ("1,2,3,a\n4,5,b\n", r"row 2, column 4: the row has 3 columns, expected 4"),
        ("1,2,3,a\n4,x,6,b\n", r"row 2, column 2: 'x' is not a number"),
        ("1,2,3,a\n4,nan,6,b\n", r"1 of 6 values in the sequences are missing .*row 2 column 2"),
        ("1,2,3,a\n4,,6,b\n", r"1 of 6 values in the sequences are missing .*row 2 column 2"),
        ("t1,t2,t3,y\n1,2,3,a\n4,5,6,\n", r"row 3, column 4 \(the label\) is empty"),
    ],
    ids=["empty", "ragged", "non-numeric", "nan", "empty-cell", "empty-label"],
)
def test_bad_csv_names_file_row_and_column(tmp_path, text, match):
    p = write(tmp_path, "bad.csv", text)
    with pytest.raises(ValueError, match=match) as e:
        from_files(p, kind="classify")
    assert str(p) in str(e.value)


def test_bad_npz_names_file_row_and_column(tmp_path):
    x = np.ones((6, 5))
    x[3, 2] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.arange(6) % 2)
    with pytest.raises(
        ValueError, match=r"nan.npz: 1 of 30 values of array 'x' are missing .*x\[3, 2"
    ):
        from_files(tmp_path / "nan.npz")
    np.savez(tmp_path / "ragged.npz", x=np.array([np.ones(2), np.ones(3)], dtype=object), y=[0, 1])
    with pytest.raises(ValueError, match="ragged.npz: holds a ragged or object array"):
        from_files(tmp_path / "ragged.npz")
    np.savez(tmp_path / "text.npz", x=np.array([["1", "2"], ["3", "oops"]]), y=[0, 1])
    with pytest.raises(ValueError, match=r"text.npz: array 'x' row 1, column 1: 'oops'"):
        from_files(tmp_path / "text.npz")
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 4)), y=np.zeros(0))
    with pytest.raises(ValueError, match="empty.npz: array 'x' is empty"):
        from_files(tmp_path / "empty.npz")


def test_from_files_refuses_bad_arguments(tmp_path):
    p = write(tmp_path, "ok.csv", "\n".join(f"{i},{i}" for i in range(10)))
    with pytest.raises(ValueError, match="kind='forcast' .* classify, regress, forecast"):
        from_files(p, kind="forcast")
    with pytest.raises(ValueError, match="option 'horizon' is not accepted"):
        from_files(p, kind="regress", horizon=3)
    with pytest.raises(ValueError, match="does not exist"):
        from_files(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"expected a name ending in \.csv, \.npz"):
        from_files(tmp_path / "data.xlsx")


def test_an_edited_file_is_read_again(tmp_path):
    p = write(tmp_path, "d.csv", "\n".join(f"{i},{i},a" for i in range(10)))
    task = from_files(p, normalize=False)
    assert task.output_size == 1
    p.write_text("\n".join(f"{i},{i},{'ab'[i % 2]}" for i in range(12)))
    assert task.output_size == 2 and sum(len(task.data(s)) for s in SPLITS) == 12
