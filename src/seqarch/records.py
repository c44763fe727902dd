"""The measurement records: one dataclass per kind, declared once, written by the producers
(:mod:`seqarch.measure`) and read back by the advisor, the report and the command line.

Each record says its ``kind`` and its ``key_fields`` — what identifies a measurement of that
kind in the store, so a newer one with the same key on the same machine replaces the older.
:meth:`Record.read` turns a stored measurement back into its record (fields a newer version
added read as their defaults; unknown stored fields are ignored). Records also answer
``r["field"]`` and ``r.get("field")``, for callers that treat rows as mappings (JSON output).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, TypeVar

from .errors import BadInput

R = TypeVar("R", bound="Record")


@dataclass
class Record:
    kind: ClassVar[str]
    key_fields: ClassVar[tuple[str, ...]]

    id: str = ""  # the store's id, once saved or read
    created: float = 0.0

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def key(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.key_fields}

    def value(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("id", "created")}

    @classmethod
    def read(cls: type[R], m: dict[str, Any]) -> R:
        """The record of a stored measurement ``m`` (``{id, created, key, value}``)."""
        names = {f.name for f in fields(cls)}
        merged = {**m.get("value", {}), **m.get("key", {})}
        found = {k: v for k, v in merged.items() if k in names}
        found.update(id=m.get("id", ""), created=m.get("created", 0.0))
        return cls(**found)

    def save(self, store: Any, env: dict[str, Any] | None = None) -> str:
        self.id = store.put_measurement(self.kind, self.key(), self.value(), env)
        return self.id


@dataclass
class _Model(Record):
    """A measurement of one architecture at one size."""

    arch: str = ""
    hidden_size: int = 0
    input_size: int = 0


@dataclass
class Latency(_Model):
    """One per-step latency at batch 1, state carried (:func:`seqarch.measure.stream_latency`).
    ``context`` is None for a constant-state model, else the KV-cache length of a decode step
    (then ``recompute_p50_us`` is the whole prefix recomputed without a cache)."""

    kind: ClassVar[str] = "latency"
    key_fields: ClassVar[tuple[str, ...]] = (
        "arch",
        "hidden_size",
        "input_size",
        "num_layers",
        "how",
        "context",
    )

    num_layers: int = 1
    how: str = "eager step"  # "eager step", "stream fast", "stream via step", "KV-cache step"
    context: int | None = None
    p50_us: float = 0.0
    p99_us: float | None = None
    mean_us: float | None = None
    spread_us: float = 0.0  # IQR of block medians: two latencies closer than this are a tie
    n: int = 0
    flops_per_step: float | None = None
    floor_gemv_us: float | None = None  # one fused GEMV with the step's multiply-adds
    floor_gemv_n: int | None = None
    ratio_to_floor: float | None = None
    state_bytes: float | None = None
    recompute_p50_us: float | None = None
    recompute_over_step: float | None = None
    receptive_field: int | None = None  # a bounded window's R, the steps it sees; None: unbounded

    def key(self) -> dict[str, Any]:
        """A bounded window's R is part of what was measured (one TCN at R = 7 and another at
        R = 2047 are different steps); an unbounded model's key is as it always was."""
        key = super().key()
        if self.receptive_field is not None:
            key["receptive_field"] = self.receptive_field
        return key

    @property
    def streams(self) -> bool:
        """Measured through seqarch's streaming runtime (what one would deploy)."""
        return self.how.startswith("stream")


@dataclass
class Throughput(_Model):
    """Tokens per second of a whole batch of sequences (:func:`seqarch.measure.throughput`);
    ``skipped`` says why a configuration was not timed."""

    kind: ClassVar[str] = "throughput"
    key_fields: ClassVar[tuple[str, ...]] = (
        "arch",
        "hidden_size",
        "input_size",
        "seq_len",
        "batch_size",
        "mode",
    )

    seq_len: int = 0
    batch_size: int = 1
    mode: str = "inference"  # "inference" | "training"
    seconds: float | None = None
    spread_seconds: float | None = None
    tokens_per_s: float | None = None
    gflops: float | None = None
    mfu: float | None = None
    skipped: str | None = None


@dataclass
class Memory(_Model):
    """Training activations and inference state against T, measured beside the formulas
    (:func:`seqarch.measure.memory`)."""

    kind: ClassVar[str] = "memory"
    key_fields: ClassVar[tuple[str, ...]] = (
        "arch",
        "hidden_size",
        "input_size",
        "seq_len",
        "batch_size",
    )

    seq_len: int = 0
    batch_size: int = 1
    params_bytes: int | None = None
    formula_activation_bytes: float | None = None
    formula_state_bytes: float | None = None
    measured_state_bytes: float | None = None
    measured_activation_bytes: float | None = None  # None: skipped (over the memory budget)
    skipped: str | None = None


@dataclass
class Crossover(_Model):
    """Where the T-dependent (attention) term of a model's cost starts to dominate."""

    kind: ClassVar[str] = "crossover"
    key_fields: ClassVar[tuple[str, ...]] = ("arch", "hidden_size", "input_size")

    formula_T: float | None = None
    formula: str = ""
    measured_T: float | None = None
    seq_lens: list[int] | None = None
    seconds_per_token: list[float] | None = None


@dataclass
class Export(_Model):
    """A freshly initialised model written to ONNX and run in onnxruntime against PyTorch
    (:func:`seqarch.export.deployment`): how it exports (``sequence``: ONNX's own RNN / LSTM /
    GRU operator; ``step``: its step traced into primitives; ``refused``: no fixed-size graph)
    and how close onnxruntime came."""

    kind: ClassVar[str] = "export"
    key_fields: ClassVar[tuple[str, ...]] = ("arch", "hidden_size", "input_size")

    form: str = ""  # "sequence" | "step" | "refused"
    max_error: float | None = None  # max |onnxruntime − PyTorch| over y and the final state
    onnx_bytes: int | None = None
    opset: int | None = None
    why: str = ""  # why it was refused


KINDS: dict[str, type[Record]] = {
    c.kind: c for c in (Latency, Throughput, Memory, Crossover, Export)
}


def record_class(kind: str) -> type[Record]:
    if kind not in KINDS:
        raise BadInput(f"kind {kind!r} is not accepted; expected one of {', '.join(KINDS)}")
    return KINDS[kind]
