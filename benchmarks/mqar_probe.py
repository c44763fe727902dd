"""Does a 2-layer attention model leave MQAR's 1/P plateau within a CPU budget? One run,
printed every 500 steps: the investigation behind `seqarch reproduce zoology-mqar`'s verdict.

    python benchmarks/mqar_probe.py --pos-std 0.02 --lr 1e-3 --steps 3000 [--vocab 64]
        [--n-train 8000] [--batch 32] [--seed 0] [--pairs 4] [--one-hot]

The model is seqarch's Transformer as the reproduction builds it (2 layers, 1 head, width 64,
learned positions, tokens read through an embedding as the reproduction reads them — or, with
``--one-hot``, through the old default ``Linear`` read-in; ``--pos-std`` re-initialises the
positions, PyTorch's default being 1.0),
trained with AdamW (weight decay 0.1), a constant rate, clipping at 1, on seqarch's `recall` task
(T = 64, ``--pairs`` key-value pairs); the loss is cross-entropy at the query positions only.
Not a timing script: it prints the test accuracy against steps (1/P is the bag-of-values
plateau).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from seqarch.models import build
from seqarch.tasks import make_task


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pos-std", type=float, default=None)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--n-train", type=int, default=8000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pairs", type=int, default=4)
    p.add_argument("--one-hot", action="store_true", help="the read-in before the fix")
    a = p.parse_args()
    torch.set_num_threads(1)
    task = make_task(
        "recall", seq_len=64, n_pairs=a.pairs, n_keys=a.vocab, n_values=a.vocab, n_train=a.n_train
    )
    tr, te = task.data("train"), task.data("test")
    torch.manual_seed(a.seed)
    model = build(
        "transformer",
        input_size=task.input_size,
        hidden_size=64,
        num_layers=2,
        output_size=task.output_size,
        positions="learned",
        num_heads=1,
        max_len=64,
        **({} if a.one_hot else {"tokens": True}),
    )
    if a.pos_std is not None:
        with torch.no_grad():
            model.pos.weight.normal_(0, a.pos_std)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.1)
    g = torch.Generator().manual_seed(a.seed)
    t0 = time.time()
    for step in range(1, a.steps + 1):
        idx = torch.randint(0, tr.x.shape[0], (a.batch,), generator=g)
        y, _ = model(tr.x[idx])
        mask = tr.mask[idx]
        loss = F.cross_entropy(y[mask], tr.y[idx][mask])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 500 == 0:
            with torch.no_grad():
                yt, _ = model(te.x[:500])
                m = te.mask[:500]
                acc = (yt.argmax(-1)[m] == te.y[:500][m]).float().mean()
            print(
                f"step {step}: train loss {loss.item():.3f}, test accuracy {acc:.3f} "
                f"({time.time() - t0:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
