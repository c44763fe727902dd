"""The HTML report: built from a small synthetic store, opened in a real headless Chromium.

Browser tests need Debian's chromium at /usr/bin/chromium and the playwright Python package
(never `playwright install`); without them they are skipped with the reason. Screenshots go
to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqarch.advise import ProblemSpec, formula_evidence, recommend
from seqarch.report import write_report
from seqarch.report.charts import Panel, Series, to_plotly, to_svg
from seqarch.report.data import TASK_TYPES, load, tradeoff_rows
from seqarch.report.figures import pareto_front
from seqarch.report.interpret import interpret
from seqarch.report.page import plotly_js
from seqarch.runs import Run
from seqarch.store import Store, run_id
from seqarch.train import RunConfig, TrainConfig

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
STEPS = 60  # Adam steps for the tiny interpretability models: fast, still learns something
ARCHS = ("rnn", "lstm", "gru", "transformer")
EVIL = "<script>window.__pwned = 1</script>"
ENV = {
    "hostname": "fixture-host",
    "cpu": "Fixture CPU @ 2 GHz",
    "cores": 2,
    "torch_threads": 1,
    "python": "3.12",
    "torch": "2.x",
    "numpy": "2.x",
    "platform": "Linux",
    "git_revision": "0123456789abcdef",
}


# -- fixture stores ---------------------------------------------------------------------------


def _put_run(store: Store, arch: str, task: str, task_config: dict, seed: int, metrics: dict):
    config = {
        "arch": arch,
        "task": task,
        "task_config": task_config,
        "model_config": {"hidden_size": 32, "num_layers": 1},
        "train": {"max_steps": 100},
        "seed": seed,
    }
    curve = [{"step": 100, "train_loss": 0.1, "val_metric": 0.1, "seconds": 1.0}]
    store.put_run(run_id(config), config, metrics, curve, ENV, 1.7e9, 1.7e9 + 10 + seed)


def fill_store(path: Path, task_name: str = "adding", measurements: bool = True) -> Path:
    """Synthetic but shaped like the real thing: runs over horizons, flow, speed, advice."""
    # how well each architecture holds a signal h steps back (mse; baseline 1/6)
    reach = {"rnn": 8, "lstm": 120, "gru": 150, "transformer": 2000}
    with Store(path) as store:
        for arch in ARCHS:
            for h in (5, 20, 60, 150):
                for seed in (0, 1, 2):
                    mse = (1 / 6) * (1 - math.exp(-h / reach[arch])) + 0.002 * (seed + 1)
                    if task_name == "adding":
                        task, tc = "adding", {"seq_len": 200, "distance": h}
                    else:
                        task, tc = task_name, {"seq_len": h + 1}
                    metrics = {
                        "mse": mse,
                        "baseline_mse": 1 / 6,
                        "metric": "mse",
                        "higher_is_better": False,
                        "train_seconds": 5.0 + h / 10,
                        "params": 1000,
                    }
                    _put_run(store, arch, task, tc, seed, metrics)
        for arch in ARCHS if measurements else ():
            k = list(range(1, 31))
            rate = {"rnn": 0.7, "lstm": 0.95, "gru": 0.97, "transformer": 1.0}[arch]
            state = None if arch == "transformer" else [rate**j for j in k]
            store.put_measurement(
                "gradient_flow",
                {
                    "arch": arch,
                    "seq_len": 40,
                    "k_max": 30,
                    "hidden_size": 32,
                    "input_size": 8,
                    "seeds": [0],
                    "trained": False,
                },
                {"k": k, "state": state, "input": [0.5 * rate**j for j in k]},
                env=ENV,
            )
            gates = {"rnn": 1, "lstm": 4, "gru": 3, "transformer": 12}[arch]
            for H in (64, 128, 256, 512, 1024):  # rows as seqarch.measure.stream_latency writes
                contexts = (64, 256, 1024, 4096) if arch == "transformer" else (None,)
                for T in contexts:
                    p50 = 2 + gates * H * H / 2e4 + (T or 0) * H / 2e4
                    row = {
                        "arch": arch,
                        "hidden_size": H,
                        "input_size": 32,
                        "num_layers": 1,
                        "context": T,
                        "p50_us": p50,
                        "p99_us": 1.3 * p50,
                        "floor_gemv_us": 1 + gates * H * H / 4e4,
                    }
                    if T is None:
                        row["how"] = "stream (NumpyGRU)"
                    else:
                        row |= {"how": "decode step (KV cache)", "recompute_p50_us": p50 * T / 8}
                    key = {k: row[k] for k in ("arch", "hidden_size", "how", "context")}
                    store.put_measurement("latency", key, row, env=ENV)
            for T in (64, 256, 1024, 4096):
                for mode in ("inference", "training"):
                    tps = 6e5 / (1 + T / 500) if arch == "transformer" else 5e5 / 1.1
                    row = {
                        "arch": arch,
                        "hidden_size": 128,
                        "seq_len": T,
                        "batch_size": 8,
                        "mode": mode,
                        "tokens_per_s": tps / (3 if mode == "training" else 1),
                    }
                    store.put_measurement("throughput", row, row, env=ENV)
                grows = arch == "transformer"
                row = {
                    "arch": arch,
                    "seq_len": T,
                    "batch_size": 8,
                    "measured_activation_bytes": 1e6 + (T * T * 8 if grows else T * 512),
                    "measured_state_bytes": 2 * T * 128 * 4 if grows else 512,
                }
                store.put_measurement("memory", {"arch": arch, "seq_len": T}, row, env=ENV)
        if not measurements:
            return path
        cross = {"arch": "transformer", "formula_T": 900.0, "measured_T": 700.0}
        store.put_measurement("crossover", {"arch": "transformer"}, cross, env=ENV)
        spec = ProblemSpec(seq_len=200, horizon=150, streaming=True, latency_us=100.0)
        rec = recommend(spec, {a: formula_evidence(spec, a) for a in ARCHS})
        store.put_measurement("advice", spec.to_dict(), rec.to_dict(), env=ENV)
        rows = [
            {
                "label": f"{a} P={P}",
                "arch": a,
                "mean": m,
                "ci": 0.01,
                "baseline": 1 / 64,
                "lr": 1e-2,
                "seeds": 3,
                "state_values": s * P,
                "run_ids": ["abcdef0123"],
            }
            for a, s, ms in (
                ("transformer", 1024, (1.0, 0.99, 0.99)),
                ("gru", 128, (0.9, 0.5, 0.2)),
            )
            for P, m in zip((4, 8, 16), ms, strict=True)
        ]
        done = {
            "name": "zoology-mqar",
            "quick": False,
            "paper": {},
            "differences": [],
            "rows": rows,
            "verdict": "reproduced",
            "why": "attention 1.00 → 0.99 → 0.99",
        }
        store.put_measurement(
            "reproduction", {"name": "zoology-mqar", "quick": False}, done, env=ENV
        )

        def point(mean: float) -> dict:
            return {"metric": "accuracy", "mean": mean, "lo": mean - 0.05, "hi": mean + 0.05}

        means = {1: 0.5, 2: 0.52, 4: 0.55, 8: 0.9, 16: 0.91}
        lag = {
            "arch": "gru",
            "k": 8,
            "T": 32,
            "full": {**point(0.92), "baseline": 0.5},
            "curve": {str(k): point(m) for k, m in means.items()},
        }
        store.put_measurement("signal_lag", {"arch": "gru", "data": "mine.csv"}, lag, env=ENV)
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """index.html of a full store, an empty (missing) store, and one with a hostile task name."""
    root = tmp_path_factory.mktemp("report")
    full = write_report(fill_store(root / "full.db"), root / "full", interpret_steps=STEPS)
    empty = write_report(root / "missing.db", root / "empty", interpret_steps=STEPS)
    evil = write_report(
        fill_store(root / "evil.db", EVIL, measurements=False), root / "evil", interpret_steps=STEPS
    )
    return {"full": full, "empty": empty, "evil": evil}


# -- without a browser ------------------------------------------------------------------------


def test_page_is_self_contained(pages: dict[str, Path]) -> None:
    html = pages["full"].read_text(encoding="utf-8")
    assert plotly_js() in html  # plotly.js inlined
    ours = html.replace(plotly_js(), "")
    for remote in ("src=", 'href="http', "cdn.plot.ly", "<link"):
        assert remote not in ours


def test_a_build_reads_the_store_once_and_decides_each_row_once(tmp_path, monkeypatch) -> None:
    """One snapshot per report build: the ledger, both trade-off tables and the conditions read
    it; each row of each table (the ledger's over the source's four models, the report's over
    every model) is decided once."""
    import sys

    from seqarch import store as store_mod
    from seqarch.advise import TEXTBOOK, TEXTBOOK_REAL

    db = fill_store(tmp_path / "s.db")
    opened, decided = [], []
    init = store_mod.Store.__init__

    def counted_init(self, *a, **k):
        opened.append(a)
        init(self, *a, **k)

    monkeypatch.setattr(store_mod.Store, "__init__", counted_init)
    evaluate = sys.modules["seqarch.advise.evaluate"]
    advise = evaluate.advise

    def counted_advise(spec, *a, **k):
        decided.append(spec)
        return advise(spec, *a, **k)

    monkeypatch.setattr(evaluate, "advise", counted_advise)
    tradeoff_rows(load(db))
    assert len(opened) == 1
    assert len(decided) == 2 * (len(TEXTBOOK) + len(TEXTBOOK_REAL))


def test_tradeoff_rows_follow_the_document_and_the_advisors_rule(tmp_path: Path) -> None:
    """The report's table is ``advise --table`` on the stored evidence: the same answers."""
    from seqarch.advise import textbook_table

    db = fill_store(tmp_path / "s.db")
    rows = tradeoff_rows(load(db))
    assert [r.task_type for r in rows] == [t[0] for t in TASK_TYPES]
    table = textbook_table(db, run=False, keep=False)
    table += textbook_table(db, run=False, keep=False, real=True)
    for row, t in zip(rows, table, strict=True):
        assert row.decided_on == t.proxy
        assert row.measured == (t.measured if t.has_quality else None)
        if row.measured is None:
            assert "seqarch advise --table" in row.why
        else:
            assert row.why.startswith(t.measured_why)
    assert all(s.startswith(("run:", "measurement:", "formula:")) for r in rows for s in r.sources)


def test_empty_store_says_what_to_run(pages: dict[str, Path], tmp_path: Path) -> None:
    html = pages["empty"].read_text(encoding="utf-8")
    assert "The store is empty" in html
    for command in ("seqarch study", "seqarch bench", "seqarch derive flow", "seqarch advise"):
        assert command in html
    assert not (tmp_path / "missing.db").exists()  # reading never creates a store


def test_pareto_front_keeps_only_undominated_points() -> None:
    pts = [(1.0, 0.2), (2.0, 0.9), (3.0, 0.5), (4.0, 0.95), (0.5, 0.1)]
    assert pareto_front(pts) == [(0.5, 0.1), (1.0, 0.2), (2.0, 0.9), (4.0, 0.95)]


def test_svg_fallback_escapes_text_and_follows_the_colour_scheme() -> None:
    panel = Panel("a $5 <b>", "x", "y", series=[Series("<script>x</script>", [1, 2], [3, 4])])
    svg = to_svg(panel, "p0")
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    assert "currentColor" in svg and 'id="p0-' in svg
    fig = to_plotly(panel)
    assert "<script>" not in fig["data"][0]["name"]


def test_interpretation_reads_gates_and_attention() -> None:
    lstm = interpret("lstm", STEPS)
    assert set(lstm.maps) == {"input", "forget", "output"}
    T = len(lstm.values)
    for z in lstm.maps.values():
        assert len(z) == 16 and len(z[0]) == T and all(0 <= v <= 1 for row in z for v in row)
    att = interpret("transformer", STEPS)
    for A in att.maps.values():  # causal rows summing to one
        assert all(abs(sum(row) - 1) < 1e-5 for row in A)
        assert all(A[i][j] == 0 for i in range(T) for j in range(i + 1, T))
    assert len(lstm.markers) == 2
    with pytest.raises(ValueError, match="rnn"):
        interpret("rnn", STEPS)


def test_cli_report_writes_the_page_and_refuses_a_file_as_out(tmp_path: Path) -> None:
    from seqarch.cli import app
    from seqarch.store import Store

    runner = CliRunner()
    Store(tmp_path / "none.db").close()  # an empty store (a missing one is refused)
    res = runner.invoke(
        app,
        [
            "report",
            "--db",
            str(tmp_path / "none.db"),
            "--out",
            str(tmp_path / "r"),
            "--interpret-steps",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "index.html").exists() and "index.html" in res.output
    (tmp_path / "file").write_text("x")
    res = runner.invoke(
        app, ["report", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "file")]
    )
    assert res.exit_code == 2 and "expected a directory" in res.output


# -- in a real browser ------------------------------------------------------------------------

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


def _open(browser, path: Path, **context):
    """A page at path with its console errors and uncaught exceptions collected."""
    on_request = context.pop("on_request", None)
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    if on_request is not None:
        page.on("request", lambda r: on_request(r.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return ctx, page, errors


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


PLOTS_RENDERED = """() => Array.from(document.querySelectorAll('.plot')).map(el => {
  const svg = el.querySelector('svg.main-svg');
  return {id: el.id, live: el.classList.contains('live'),
          marks: svg ? svg.querySelectorAll('path, image, text').length : 0,
          width: el.getBoundingClientRect().width};
})"""


def test_full_report_renders_every_chart(browser, pages: dict[str, Path]) -> None:
    requests: list[str] = []
    ctx, page, errors = _open(
        browser,
        pages["full"],
        viewport={"width": 1280, "height": 900},
        offline=True,
        on_request=requests.append,
    )
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
    plots = page.evaluate(PLOTS_RENDERED)
    charts = page.eval_on_selector_all("section.chart", "els => els.map(e => e.id)")
    assert set(charts) == {
        "quality",
        "pareto",
        "gradient-flow",
        "latency",
        "throughput-memory",
        "interpretability",
        "reproductions",
        "signal-lag",
        "claims",
    }
    for chart in charts:  # every chart has at least one drawn plot
        assert any(p["id"].startswith(chart + "-") for p in plots), chart
    assert plots and all(p["live"] and p["marks"] > 5 and p["width"] > 200 for p in plots), plots
    rows = page.eval_on_selector_all(
        "table.tradeoff tbody tr", "els => els.map(e => e.dataset.taskType)"
    )
    assert rows == [t[0] for t in TASK_TYPES]
    assert page.locator("table.per-task tbody tr").count() == 1  # one stored task: adding
    assert "slower than recurrent from T=256" in page.inner_text("#throughput-memory")
    assert "attention dominates, T≈700 (measured)" in page.inner_text("#throughput-memory")
    assert "rnn GEMV floor" in page.inner_text("#latency")
    assert page.locator("#advice .defense").count() >= 1
    assert "Fixture CPU" in page.inner_text("#environment")
    assert "From 48 runs" in page.inner_text("#quality")
    assert "zoology-mqar: reproduced" in page.inner_text("#reproductions")
    assert "mine.csv: k̂ = 8 of T = 32" in page.inner_text("#signal-lag")
    claim_rows = page.eval_on_selector_all(
        "table.claims tbody tr", "els => els.map(e => e.dataset.claim)"
    )
    assert claim_rows[:3] == ["rnn-streaming", "lstm-stable", "gru-simpler"]
    shot = _screenshot(page, "report-full.png")
    assert shot.stat().st_size > 10_000
    assert errors == []
    ctx.close()


def test_report_reads_with_scripts_off_and_in_dark_mode_at_phone_width(
    browser, pages: dict[str, Path]
) -> None:
    ctx, page, errors = _open(browser, pages["full"], java_script_enabled=False)
    counts = page.eval_on_selector_all(
        ".plot", "els => els.map(e => e.querySelectorAll('svg path').length)"
    )
    assert counts and all(c > 3 for c in counts)  # the static SVG of every panel is there
    ctx.close()
    ctx, page, errors = _open(
        browser, pages["full"], viewport={"width": 390, "height": 844}, color_scheme="dark"
    )
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(18, 19, 23)"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1  # no sideways scrolling at phone width (tables scroll in themselves)
    _screenshot(page, "report-phone-dark.png")
    assert errors == []
    ctx.close()


def test_empty_report_in_the_browser(browser, pages: dict[str, Path]) -> None:
    ctx, page, errors = _open(browser, pages["empty"], viewport={"width": 1000, "height": 800})
    text = page.inner_text("body")
    assert "The store is empty" in text and "seqarch study --preset quick" in text
    assert page.locator("table.tradeoff tbody tr").count() == len(TASK_TYPES)
    assert page.locator("section.chart .missing").count() == 8  # all but interpretability
    _screenshot(page, "report-empty.png")
    assert errors == []
    ctx.close()


def test_hostile_task_name_is_shown_as_text(browser, pages: dict[str, Path]) -> None:
    ctx, page, errors = _open(browser, pages["evil"])
    assert page.evaluate("window.__pwned") is None
    assert EVIL in page.inner_text("table.per-task")
    assert EVIL in page.inner_text("#quality")  # the chart's title, as text
    assert errors == []
    ctx.close()


def test_a_point_averages_the_runs_the_advisor_counts():
    """Seeds of two recipes (a preset's changed budget) are never averaged together, and the
    report's point is the recipe the advisor counts (seqarch.readings): the one with more
    finished runs, the newest only on a tie."""
    from seqarch import readings
    from seqarch.report.data import quality_points, quality_rows

    def run(i: int, mse: float, steps: int, finished: float) -> Run:
        config = RunConfig(
            arch="gru", task="adding", task_config={"seq_len": 50},
            train=TrainConfig(max_steps=steps), seed=i,
        ).to_dict()  # fmt: skip
        metrics = {"metric": "mse", "higher_is_better": False, "mse": mse, "baseline_mse": 0.16}
        return Run.of(config, metrics, id=f"r{i}", finished=finished)

    old = [run(i, 0.10, 300, 100.0 + i) for i in range(3)]
    new = [run(3 + i, 0.01, 1500, 200.0 + i) for i in range(2)]
    counted = {r.id for g in readings.comparisons(old + new).values() for r in g}
    (point,) = quality_points(quality_rows(old + new), counted)
    assert point.run_ids == ["r0", "r1", "r2"] and point.mean == pytest.approx(0.10)
    newer = [*new, run(5, 0.01, 1500, 300.0)]  # a tie in runs: the newest recipe
    counted = {r.id for g in readings.comparisons(old + newer).values() for r in g}
    (point,) = quality_points(quality_rows(old + newer), counted)
    assert point.run_ids == ["r3", "r4", "r5"] and point.mean == pytest.approx(0.01)


def test_real_tasks_stand_beside_their_peers_from_the_store(tmp_path: Path) -> None:
    """The report's real-task section reads the real preset's stored runs and the peers'
    stored results on the same test streams; nothing is run or timed to draw it."""
    from seqarch import peers
    from seqarch.report.page import _real_tasks
    from seqarch.study import load_study

    db = tmp_path / "real.db"
    vad = [r for r in load_study("real") if r.task == "vad" and r.arch == "rnn"]
    with Store(db) as store:
        for i, r in enumerate(vad):
            config = r.to_dict()
            metrics = {"metric": "f1", "higher_is_better": True, "val_f1": 0.8 + 0.01 * i}
            metrics |= {"f1": 0.9, "f1_snr0": 0.85, "f1_snr20": 0.95, "auc": 0.97, "params": 2432}
            store.put_run(r.id, config, metrics, [], ENV, 1.7e9, 1.7e9 + i)
        key = peers.peer_key("webrtcvad-3", "vad", vad[0].task_config)
        store.put_measurement(
            peers.PEER_KIND, key, {"value": 0.8, "f1_snr0": 0.7, "metric": "f1"}, env=ENV
        )
    data = load(db)
    names = [(r["name"], r["kind"]) for r in data.conditions]
    assert names == [("rnn", "model"), ("webrtcvad-3", "peer")]
    model = data.conditions[0]
    assert model["runs"] == [vad[-1].id]  # the sweep's best on validation
    assert model["f1_snr0"] == pytest.approx(0.85)
    assert model["us_per_frame"] is None  # the report never times
    html = _real_tasks(data)
    assert "Real tasks against outside peers" in html and "webrtcvad-3 (peer)" in html
    assert _real_tasks(load(tmp_path / "none.db")) == ""
