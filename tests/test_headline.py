"""A classical peer first when it wins: the headline, the ranking kept for sequence models, and
the kept model told which peer it lost to. Peers and models are compared by the paired
difference of their per-seed skills (seqarch.rules.paired_difference)."""

from __future__ import annotations

from rich.markup import escape

from seqarch import advise as A
from seqarch import protocol
from seqarch.advise.evidence import Peer
from seqarch.advise.headline import headline, lost_to
from seqarch.advise.render import advice

SPEC = A.ProblemSpec(seq_len=50, horizon=10, output_size=10)


def planted(models: dict[str, list[float]], peer: list[float]) -> dict[str, A.Evidence]:
    """Formula evidence for ``models`` with these per-seed skills, and MiniRocket beside them."""
    out = {}
    for arch, skills in models.items():
        ev = A.formula_evidence(SPEC, arch)
        iv = protocol.interval(skills)
        ev.quality = A.Quality(
            skill=A.Figure(iv.mean, "", f"run:{arch}01"),
            spread=iv.half_width,
            metric="accuracy",
            value=0.1 + 0.9 * iv.mean,
            baseline=0.1,
            task="file_sequences",
            horizon=10,
            seq_len=50,
            run_ids=[f"{arch}{s:02d}" for s in range(len(skills))],
            train_seconds=1.0,
        )
        ev.quality.seed_skills = dict(enumerate(skills))
        out[arch] = ev
    p = Peer(
        name="minirocket",
        metric="accuracy",
        value=0.1 + 0.9 * sum(peer) / len(peer),
        skill=protocol.interval(peer),
        source="measurement:aaaa,bbbb,cccc",
        seed_skills=dict(enumerate(peer)),
    )
    for ev in out.values():
        ev.peers = [p]
    return out


def test_a_peer_that_beats_every_sequence_model_comes_first() -> None:
    ev = planted({"gru": [0.65, 0.70, 0.75], "lstm": [0.5, 0.6, 0.7]}, [0.85, 0.90, 0.95])
    rec = A.recommend(SPEC, ev)
    assert rec.recommendation in ("gru", "lstm")  # the advice stays a sequence model
    win = rec.peer_win
    assert win["peer"] == "minirocket" and win["beaten"] == ["gru", "lstm"]
    line = headline(win)
    assert line.startswith("minirocket (not a sequence model): accuracy 0.91, skill 0.90 ± ")
    assert f"the best sequence model, {rec.recommendation}: accuracy" in line
    assert "paired over 3 seeds" in line
    assert advice(rec)[0] == f"[bold]{escape(line)}[/]"  # before the table
    assert A.to_markdown(rec).splitlines()[0] == f"# seqarch advice: {line}"
    assert rec.to_dict()["peer_win"]["peer"] == "minirocket"
    said = lost_to(win, rec.recommendation)
    assert (
        f"{rec.recommendation}, the best sequence model here, lost to the classical peer " in said
    )
    assert "[" not in said  # printed through rich: no markup
    other = "lstm" if rec.recommendation == "gru" else "gru"
    assert lost_to(win, other).startswith(f"{other} lost to the classical peer minirocket")


def test_overlapping_marginal_intervals_still_lose_on_the_paired_difference() -> None:
    """Seeds that move together: the marginal intervals overlap almost wholly, the paired
    difference (+0.05 on every split) does not straddle zero."""
    model, peer = [0.3, 0.6, 0.9], [0.35, 0.65, 0.95]
    assert protocol.interval(model).mean + protocol.interval(model).half_width > min(peer)
    rec = A.recommend(SPEC, planted({"gru": model}, peer))
    assert rec.peer_win is not None and abs(rec.peer_win["difference"] - 0.05) < 1e-12
    assert "No neural model beats the classical peer minirocket" in rec.caveats[0]


def test_no_headline_when_one_sequence_model_holds_its_own() -> None:
    ev = planted({"gru": [0.86, 0.91, 0.96], "lstm": [0.5, 0.6, 0.7]}, [0.85, 0.90, 0.95])
    rec = A.recommend(SPEC, ev)
    assert rec.peer_win is None and headline(rec.peer_win) is None
    assert A.to_markdown(rec).splitlines()[0] == f"# seqarch advice: {rec.recommendation}"
    assert not str(advice(rec)[0]).startswith("[bold]minirocket")
    assert lost_to(rec.peer_win, "gru") is None


def test_a_peer_on_one_time_split_is_paired_with_every_seed_of_the_model() -> None:
    """A forecast's peer runs once (the series is split by time); a model raced to 5 seeds is
    compared with it over all 5."""
    ev = planted({"gru": [0.70, 0.71, 0.72, 0.70, 0.71]}, [0.80])
    for e in ev.values():
        e.peers[0].skill = protocol.Interval(0.80, 0.0, 1)
        e.peers[0].seed_skills = {0: 0.80, 1: 0.80, 2: 0.80}
    win = A.recommend(SPEC, ev).peer_win
    assert win is not None and win["difference_how"] == "paired over 5 seeds"


def test_a_model_the_data_cannot_place_does_not_hide_the_peers_win() -> None:
    """UCR ArrowHead, shaped: the peer clearly beats the recommended model; another model's
    interval is too wide to say anything. The headline names the peer; the unplaced model is
    not among those beaten."""
    ev = planted({"lstm": [0.30, 0.36, 0.42], "gru": [-0.6, 0.2, 0.8]}, [0.90, 0.93, 0.96])
    rec = A.recommend(SPEC, ev)
    win = rec.peer_win
    assert win is not None and win["peer"] == "minirocket" and win["arch"] == "lstm"
    assert win["beaten"] == ["lstm"]
    assert lost_to(win, "gru") is None
