"""The transduction task: number words → digits on real language (num2words), decoder-only."""

from __future__ import annotations

import torch

from seqarch.tasks import make_task
from seqarch.tasks.transduce import END, SEP, VOCAB, Transduce, split_of, words


def _decode(ids) -> str:
    return "".join(VOCAB[int(i)] for i in ids)


def test_the_worked_example_and_the_separator():
    assert words(97, "de") == "siebenundneunzig"  # the units before the tens
    task = Transduce(max_digits=3, n_train=40, n_val=8, n_test=8)
    b = task.data("train")
    numbers = task.numbers("train", 40)
    for i, n in enumerate(numbers):
        L = int(b.lengths[i])
        stream = _decode(b.x[i, :L].argmax(-1)) + _decode(b.y[i, L - 1 : L])
        assert stream == words(n, "de") + SEP + str(n) + END
        assert _decode(b.y[i][b.mask[i]]) == str(n) + END  # scored: the target and its end
        assert b.x[i, L:].abs().sum() == 0 and not b.mask[i, L:].any()


def test_splits_are_disjoint_by_number():
    task = Transduce(max_digits=4, n_train=400, n_val=100, n_test=100)
    sets = {s: set(task.numbers(s, n)) for s, n in (("train", 400), ("val", 100), ("test", 100))}
    assert not sets["train"] & sets["test"] and not sets["train"] & sets["val"]
    assert not sets["val"] & sets["test"]
    assert all(split_of(n) == s for s, ns in sets.items() for n in ns)


def test_exact_match_and_chrf():
    task = make_task("transduce", max_digits=2, n_train=10, n_val=10, n_test=30)
    b = task.data("test")
    perfect = torch.nn.functional.one_hot(b.y, len(VOCAB)).float()
    m = task.evaluate(perfect, b)
    assert m["exact_match"] == 1.0 and m["chrf_tf"] == 1.0
    wrong = perfect.clone()
    first = int(b.mask[0].nonzero()[0])  # the first target character of sequence 0, wrong
    wrong[0, first] = torch.roll(wrong[0, first], 1)
    m = task.evaluate(wrong, b)
    assert abs(m["exact_match"] - 29 / 30) < 1e-6 and m["chrf_tf"] < 1.0
    assert task.baseline()["exact_match"] == 0.0
    assert task.horizon == int(b.lengths.max())
