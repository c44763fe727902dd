r"""Voice activity detection on real speech: a speech / non-speech label every 10 ms.

Speech: Debian's ``pocketsphinx-testdata`` (installed by the README's set-up with apt): 14 real
16 kHz recordings, ~46 s — LibriVox excerpts of *Sense and Sensibility*, spoken card names,
digit strings, short commands. Each recording belongs to one split (``SPLITS_BY_NAME``), so no
voice sentence is heard in training and at test.

A stream of ``seq_len`` frames is built from its split's recordings: silence gaps of 0.2–1 s
between excerpts of 0.5–2 s, each excerpt scaled to unit RMS over its voiced frames; then noise
— white or pink (1/f), chosen per stream — at an SNR against that unit speech power, and a
random overall gain. Labels come by construction from the *clean* stream: a 25 ms frame is
speech when its energy is within ``THRESHOLD_DB`` of the unit speech level, widened by one
frame on each side (the onset and the tail of a word are quiet).

    frame t covers samples [160 t, 160 t + 400)  (10 ms hop, 25 ms window, no look-ahead
                                                 beyond the window: a stream can run it)
    x_t = log-mel energies (40 bands, librosa's filter bank), standardised with the training
          split's mean and deviation per band
    y_t = 1 if the clean frame is speech

SNRs: training streams draw one of ``SNRS`` dB; the test split cycles through them, so
``evaluate`` reports F1 and ROC-AUC per SNR (``f1_snr0`` …) beside the overall F1.

Worked example (a 1 s excerpt between two 0.5 s gaps, 20 dB white noise): frames 0–49 and
150–199 are labelled 0 (silence, noise only), frames 50–149 are 1 where the excerpt's energy
says voice — the pauses inside the excerpt stay 0.

Baseline: always "speech" — F1 = 2p / (1 + p) with p the speech share of the test frames.
"""

from __future__ import annotations

import functools
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from ..errors import BadInput
from .base import Batch, Task, check_range, split_seed

SPEECH_DIR = Path("/usr/share/pocketsphinx/test/data")
RATE, HOP, WINDOW = 16000, 160, 400  # 16 kHz; 10 ms hop; 25 ms window
SNRS = (0.0, 5.0, 10.0, 20.0)
THRESHOLD_DB = -20.0  # a clean frame within 20 dB of the unit speech level is speech
NOISES = ("white", "pink")
# Recordings held out by name: one LibriVox excerpt, one card, one command each for val / test.
SPLITS_BY_NAME = {
    "val": ("librivox/sense_and_sensibility_01_austen_64kb-0880.wav", "cards/002.wav"),
    "test": (
        "librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
        "cards/004.wav",
        "goforward.raw",
        "tidigits/dhd.2934z.raw",
    ),
}


def recordings() -> list[str]:
    """The speech recordings shipped by pocketsphinx-testdata, by relative name."""
    if not SPEECH_DIR.is_dir():
        raise BadInput(
            f"{SPEECH_DIR} does not exist; expected Debian's pocketsphinx-testdata (the README's "
            "set-up installs it: apt-get install pocketsphinx-testdata)"
        )
    names = [p for p in SPEECH_DIR.rglob("*") if p.suffix in (".wav", ".raw")]
    return sorted(str(p.relative_to(SPEECH_DIR)) for p in names)


def split_recordings(split: str) -> list[str]:
    held = {n for names in SPLITS_BY_NAME.values() for n in names}
    if split in SPLITS_BY_NAME:
        return [n for n in recordings() if n in SPLITS_BY_NAME[split]]
    return [n for n in recordings() if n not in held]


@functools.lru_cache(maxsize=32)
def load(name: str) -> np.ndarray:
    """A recording as float32 in [−1, 1] at 16 kHz (a .raw file is 16-bit little-endian PCM)."""
    path = SPEECH_DIR / name
    if path.suffix == ".wav":
        with wave.open(str(path)) as w:
            if w.getframerate() != RATE or w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise BadInput(f"{path}: expected 16 kHz 16-bit mono")
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    else:
        pcm = np.fromfile(path, dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def frame_energy_db(audio: np.ndarray) -> np.ndarray:
    """10·log10 of the mean square of every 25 ms frame at a 10 ms hop."""
    n = 1 + (len(audio) - WINDOW) // HOP
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(n)[:, None]
    return 10 * np.log10(np.mean(audio[idx] ** 2, axis=1) + 1e-12)


@functools.lru_cache(maxsize=32)
def unit_speech(name: str) -> np.ndarray:
    """The recording scaled to unit RMS over its voiced frames (those within 30 dB of its
    loudest frame)."""
    a = load(name)
    e = frame_energy_db(a)
    voiced = e > e.max() - 30
    power = float(np.mean(10 ** (e[voiced] / 10)))
    return (a / np.sqrt(power)).astype(np.float32)


def labels_of(clean: np.ndarray) -> np.ndarray:
    """Speech (1) where a clean frame is within THRESHOLD_DB of unit power, widened by one
    frame each side."""
    speech = frame_energy_db(clean) > THRESHOLD_DB
    wide = speech.copy()
    wide[1:] |= speech[:-1]
    wide[:-1] |= speech[1:]
    return wide.astype(np.int64)


def noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power white or pink (1/f power spectrum) noise of n samples."""
    w = rng.standard_normal(n)
    if kind == "pink":
        spec = np.fft.rfft(w)
        f = np.arange(len(spec))
        spec[1:] /= np.sqrt(f[1:])
        spec[0] = 0
        w = np.fft.irfft(spec, n)
    return (w / (w.std() or 1.0)).astype(np.float32)


def log_mel(audio: np.ndarray, n_mels: int) -> np.ndarray:
    """(frames, n_mels) log-mel energies: librosa's filter bank on a 25 ms / 10 ms STFT, no
    centring (frame t ends at sample 160 t + 400: causal up to its own window)."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=audio, sr=RATE, n_fft=WINDOW, hop_length=HOP, n_mels=n_mels, center=False, power=2.0
    )
    return np.log(mel + 1e-6).T.astype(np.float32)


class FrameFeatures:
    """One frame's log-mel energies in a stream: the periodic Hann window, |rfft|², librosa's
    filter bank (computed once), log — :func:`log_mel` one window at a time."""

    def __init__(self, n_mels: int):
        import librosa

        self.bank = librosa.filters.mel(sr=RATE, n_fft=WINDOW, n_mels=n_mels).astype(np.float32)
        self.hann = librosa.filters.get_window("hann", WINDOW, fftbins=True).astype(np.float32)

    def __call__(self, window: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(window * self.hann)) ** 2
        return np.log(self.bank @ power.astype(np.float32) + 1e-6)


@dataclass(frozen=True)
class VAD(Task):
    """Frame-level voice activity detection on real speech in noise (log-mel features)."""

    name: ClassVar[str] = "vad"
    proxy_mode: ClassVar[str | None] = "streaming"
    proxy_words: ClassVar[str] = "real speech in noise, a speech/non-speech label every 10 ms frame"
    kind: ClassVar[str] = "classify"
    metric: ClassVar[str] = "f1"
    higher_is_better: ClassVar[bool] = True
    inputs: ClassVar[str] = "signal"
    peers: ClassVar[tuple[str, ...]] = (
        "webrtcvad-0",
        "webrtcvad-1",
        "webrtcvad-2",
        "webrtcvad-3",
        "silero-vad",
    )

    seq_len: int = 300  # frames of 10 ms: 3 s streams
    n_mels: int = 40
    seed: int = 0
    n_train: int = 400
    n_val: int = 64
    n_test: int = 128

    def validate(self) -> None:
        check_range("seq_len", self.seq_len, 20)
        check_range("n_mels", self.n_mels, 4, 128)

    @property
    def input_size(self) -> int:
        return self.n_mels

    @property
    def output_size(self) -> int:
        return 2

    @property
    def horizon(self) -> int:
        return 3  # a frame's label is in its own window; a word's edges one frame either side

    def streams(self, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(audio (N, samples) float32 — noisy, gained; labels (N, seq_len); snr (N,))."""
        return _streams(self, split)

    def _features(self, split: str) -> np.ndarray:
        return _features(self, split)

    def _generate(self, split: str) -> Batch:
        feats = self._features(split)
        mu, sd = _standardiser(self)
        x = torch.as_tensor((feats - mu) / sd)
        _, y, _ = self.streams(split)
        y = torch.as_tensor(y)
        return Batch(x, y, torch.ones_like(y, dtype=torch.bool))

    def evaluate(self, y_pred: Tensor, batch: Batch) -> dict[str, float]:
        out = super().evaluate(y_pred, batch)
        p = torch.softmax(y_pred.detach().cpu().float(), dim=-1)[..., 1].numpy()
        y = batch.y.cpu().numpy()
        _, test_y, snr = self.streams("test")
        if y.shape == test_y.shape and np.array_equal(y, test_y):  # the test split: by SNR
            return out | scores_by_snr(p, y, snr)
        return out | scores(p, y)

    def frame_seconds(self) -> float:
        """Median seconds to compute one frame's features here, as a stream would: the log-mel
        of one 25 ms window by :class:`FrameFeatures` (equal to :func:`log_mel`'s frame)."""
        from ..measure import latency_samples

        features = FrameFeatures(self.n_mels)
        window = np.random.default_rng(0).standard_normal(WINDOW).astype(np.float32)
        return float(np.median(latency_samples(lambda: features(window))))

    def trivial_prediction(self, batch: Batch) -> Tensor:
        logits = torch.zeros(*batch.y.shape, 2)
        logits[..., 1] = 1.0  # always "speech"
        return logits

    def baseline_formula(self) -> str:
        return "always 'speech': F1 = 2p/(1+p) with p the speech share of the test frames"


def scores(prob: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Frame F1 of prob > 0.5 and ROC-AUC of prob against labels y (any shapes, flattened)."""
    from sklearn.metrics import roc_auc_score

    p, t = np.ravel(prob), np.ravel(y).astype(bool)
    pred = p > 0.5
    tp, fp, fn = int((pred & t).sum()), int((pred & ~t).sum()), int((~pred & t).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    auc = float(roc_auc_score(t, p)) if 0 < t.sum() < t.size else float("nan")
    return {"f1": f1, "auc": auc}


def scores_by_snr(prob: np.ndarray, y: np.ndarray, snr: np.ndarray) -> dict[str, float]:
    """:func:`scores` over every stream, then per SNR (``f1_snr0``, ``auc_snr0`` …)."""
    out = scores(prob, y)
    for s in SNRS:
        out |= {f"{k}_snr{s:g}": v for k, v in scores(prob[snr == s], y[snr == s]).items()}
    return out


@functools.lru_cache(maxsize=8)
def _streams(task: VAD, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = {"train": task.n_train, "val": task.n_val, "test": task.n_test}[split]
    rng = np.random.default_rng(split_seed(task.seed, split))
    names = split_recordings(split)
    samples = (task.seq_len - 1) * HOP + WINDOW
    audio = np.zeros((N, samples), np.float32)
    labels = np.zeros((N, task.seq_len), np.int64)
    snrs = np.zeros(N)
    for i in range(N):
        clean = np.zeros(samples, np.float32)
        pos = HOP * int(rng.integers(20, 100))  # a first gap of 0.2-1 s
        while pos < samples:
            rec = unit_speech(names[int(rng.integers(len(names)))])
            length = min(len(rec), HOP * int(rng.integers(50, 200)))
            start = HOP * int(rng.integers(0, max(1, (len(rec) - length) // HOP + 1)))
            piece = rec[start : start + length][: samples - pos]
            clean[pos : pos + len(piece)] = piece
            pos += len(piece) + HOP * int(rng.integers(20, 100))
        snr = SNRS[i % len(SNRS)] if split == "test" else SNRS[int(rng.integers(len(SNRS)))]
        kind = NOISES[int(rng.integers(len(NOISES)))]
        noisy = clean + noise(kind, samples, rng) * np.float32(10 ** (-snr / 20))
        gain = np.float32(10 ** rng.uniform(-1.0, -0.3)) / max(1.0, float(np.abs(noisy).max()))
        audio[i] = noisy * gain
        labels[i] = labels_of(clean)
        snrs[i] = snr
    return audio, labels, snrs


@functools.lru_cache(maxsize=8)
def _features(task: VAD, split: str) -> np.ndarray:
    audio = task.streams(split)[0]
    return np.stack([log_mel(a, task.n_mels) for a in audio])


@functools.lru_cache(maxsize=8)
def _standardiser(task: VAD) -> tuple[np.ndarray, np.ndarray]:
    f = task._features("train").reshape(-1, task.n_mels)
    return f.mean(axis=0), f.std(axis=0) + 1e-6
