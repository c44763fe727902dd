"""A kept model's directory — written, verified, loaded (see :mod:`seqarch.deploy` for how a
model gets there and what uses it).

    DIR/model.safetensors   the weights: tensors only (safetensors), no pickle to execute
    DIR/model.json          what rebuilds and feeds the model (architecture, build keywords,
                            task kind, input standardisation, class names, crop, protocol, …)
    DIR/card.md             the model card, ending with the sha256 of the two files above: a
                            directory whose files changed after saving is refused
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import BadInput
from .models import SequenceModel, build

FORMAT = "seqarch-model/1"
WEIGHTS, CONFIG, CARD = "model.safetensors", "model.json", "card.md"
HASHED = (WEIGHTS, CONFIG)
_HASH_ROW = re.compile(r"^\| `?([\w.]+)`? \| `?([0-9a-f]{64})`? \|", re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# The directory: save, verify, load


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(path: str | Path, model: SequenceModel, meta: dict, card: str) -> Path:
    """Write ``model`` and ``meta`` to the directory ``path``; ``card`` (Markdown) gets a
    closing table of the files' sha256."""
    from safetensors.torch import save_file

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS), metadata={"format": FORMAT, "arch": model.arch})
    meta = {"format": FORMAT, **meta}
    (out / CONFIG).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")
    rows = "".join(f"| `{name}` | `{sha256(out / name)}` |\n" for name in HASHED)
    files = "## Files\n\n| file | sha256 |\n|---|---|\n" + rows
    (out / CARD).write_text(card.rstrip() + "\n\n" + files, "utf-8")
    return out


def verify(path: str | Path) -> dict:
    """The directory's model.json, after checking every file against the card's sha256: a
    missing file or one changed after saving is refused in one line."""
    d = Path(path)
    if not d.is_dir():
        raise BadInput(
            f"model directory {str(d)!r} does not exist; expected a directory that "
            "`seqarch advise --data FILE` wrote"
        )
    missing = [n for n in (*HASHED, CARD) if not (d / n).is_file()]
    if missing:
        raise BadInput(
            f"{d}: has no {missing[0]}; expected {', '.join((*HASHED, CARD))} as "
            "`seqarch advise --data FILE` writes them"
        )
    recorded = dict(_HASH_ROW.findall((d / CARD).read_text("utf-8")))
    for name in HASHED:
        if recorded.get(name) != sha256(d / name):
            raise BadInput(
                f"{d / name}: its sha256 differs from the one in {d / CARD}: the file changed "
                "after saving; expected the files as seqarch wrote them (train again with "
                "`seqarch advise --data FILE`)"
            )
    meta = json.loads((d / CONFIG).read_text("utf-8"))
    if meta.get("format") != FORMAT:
        raise BadInput(f"{d / CONFIG}: format {meta.get('format')!r}; expected {FORMAT!r}")
    return meta


@dataclass
class Kept:
    """A loaded model directory: the model in evaluation mode and what feeds it."""

    path: Path
    model: SequenceModel
    meta: dict

    @property
    def kind(self) -> str:
        return self.meta["task"]["kind"]

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """x' = (x − μ) / σ per feature (classify / regress; identity if trained raw)."""
        s = self.meta["task"].get("standardise")
        if s is None:
            return x.astype(np.float32)
        return ((x - np.asarray(s["mean"])) / np.asarray(s["std"])).astype(np.float32)

    def cropped(self, seqs: list[np.ndarray]) -> list[np.ndarray]:
        """Each sequence cut to the training crop (its first ``seq_len`` steps), if any."""
        crop = self.meta["task"].get("seq_len")
        return [s[:crop] if crop else s for s in seqs]

    def outputs(self, seqs: list[np.ndarray]) -> np.ndarray:
        """(N, O): the model's output at each sequence's last step, the padded batch at once."""
        from .tasks.labelled import pad

        seqs = self.cropped(seqs)

        x, lengths = pad([self.standardise(s) for s in seqs])
        with torch.no_grad():
            y = self.model(x)[0]
        return y[torch.arange(len(seqs)), lengths - 1].numpy()

    def forecast(self, series: np.ndarray) -> np.ndarray:
        """The next h values after the end of ``series`` (raw units)."""
        t = self.meta["task"]
        T, mu, sd = t["seq_len"], t["series_mean"], t["series_std"]
        if len(series) < T:
            raise BadInput(
                f"the series has {len(series)} values; the model reads windows of {T}, "
                f"expected at least {T}"
            )
        w = (np.asarray(series[-T:], np.float64) - mu) / sd
        level = w[-1]
        x = torch.as_tensor(w - level, dtype=torch.float32).view(1, T, 1)
        with torch.no_grad():
            y = self.model(x)[0][0, -1].double().numpy()
        return (y + level) * sd + mu


def load(path: str | Path) -> Kept:
    """The model directory at ``path``, verified (see :func:`verify`) and rebuilt."""
    from safetensors.torch import load_file

    meta = verify(path)
    model = build(meta["arch"], **meta["build"])
    model.load_state_dict(load_file(str(Path(path) / WEIGHTS)))
    return Kept(Path(path), model.eval(), meta)
