r"""The page: one self-contained HTML file (plotly.js, data and SVG fallbacks inline).

    <header>     what the store holds, or — when empty — the commands that fill it
    advice       the latest stored recommendation: ranking, defense, flips, caveats
    trade-offs   the source document's table beside the measured one; quality per task
    figures      quality vs dependency length, Pareto front, gradient flow, latency,
                 throughput and memory, gate activations and attention maps
    environment  the machines and versions the numbers came from

Every user-provided string (task and data set names, file names, spec fields, advice text)
passes through :func:`esc` (html.escape) before it reaches the HTML; data for the charts is
JSON inside ``<script type="application/json">`` with ``<`` written as ``\u003c``, so no
string can close the script element. Each figure is drawn as static SVG first and replaced by
the interactive plotly figure when scripts run: with scripts off the page still reads.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path
from typing import Any

from .charts import Chart, to_plotly, to_svg
from .data import ReportData, TradeoffRow, tradeoff_rows

PLOTLY_JS = "plotly.min.js"  # shipped inside the plotly Python package


def esc(value: Any) -> str:
    """Any value as HTML text: <, >, &, quotes escaped."""
    return html.escape(str(value), quote=True)


def _when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _num(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "—" if v is None else ("yes" if v else "no")
    if isinstance(v, int | float):
        return f"{v:.3g}" if math.isfinite(v) else "—"
    return esc(v)


def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (works offline)."""
    import plotly

    js = (Path(plotly.__file__).parent / "package_data" / PLOTLY_JS).read_text(encoding="utf-8")
    return js.replace("</script", "<\\/script")


def _json_for_script(obj: Any) -> str:
    """JSON that is safe inside <script>: non-finite numbers become null, '<' is escaped."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), separators=(",", ":")).replace("<", "\\u003c")


# ---------------------------------------------------------------------------------------------
# Sections


def _sources(sources: list[str]) -> str:
    runs = [s for s in sources if s.startswith("run:")]
    meas = [s for s in sources if s.startswith("measurement:")]
    other = [s for s in sources if s not in runs and s not in meas]
    parts = []
    if runs:
        parts.append(f"{len(runs)} run{'s' if len(runs) != 1 else ''}")
    if meas:
        parts.append(f"{len(meas)} measurement{'s' if len(meas) != 1 else ''}")
    parts += other
    ids = " ".join(f"<code>{esc(s)}</code>" for s in runs + meas)
    summary = "From " + esc(", ".join(parts)) if parts else "No sources"
    if not ids:
        return f'<p class="sources">{summary}.</p>'
    return f'<details class="sources"><summary>{summary}</summary><p>{ids}</p></details>'


def chart_html(chart: Chart, figures: dict[str, dict]) -> str:
    """A figure section; registers each panel's plotly figure under its element id."""
    body = [f'<section class="chart" id="{esc(chart.id)}" data-chart="{esc(chart.id)}">']
    body.append(f'<h2>{esc(chart.title)}</h2><p class="caption">{esc(chart.caption)}</p>')
    if chart.missing or not chart.panels:
        body.append(f'<p class="missing">{esc(chart.missing or "Nothing to show yet.")}</p>')
    else:
        body.append('<div class="panels">')
        for i, panel in enumerate(chart.panels):
            pid = f"{chart.id}-{i}"
            figures[pid] = to_plotly(panel)
            body.append(
                f'<figure class="panel"><div class="plot" id="{esc(pid)}" data-fig="{esc(pid)}">'
                f"{to_svg(panel, pid)}</div></figure>"
            )
        body.append("</div>")
    body.append(_sources(chart.sources))
    body.append("</section>")
    return "\n".join(body)


def _empty_notice(data: ReportData) -> str:
    if not data.empty:
        return ""
    return (
        '<div class="notice"><strong>The store is empty.</strong> Fill it, then run '
        "<code>seqarch report</code> again:<ol>"
        "<li><code>seqarch study --preset quick</code> — train every model on the tasks "
        "(quality against dependency length, the trade-off table, the Pareto front)</li>"
        "<li><code>seqarch bench</code> — latency, throughput and memory on this machine</li>"
        "<li><code>seqarch derive flow --db PATH</code> — measured gradient flow</li>"
        "<li><code>seqarch advise</code> — a recommendation with its defense</li></ol></div>"
    )


def _tradeoff_table(rows: list[TradeoffRow]) -> str:
    out = [
        '<section id="tradeoffs"><h2>The trade-off table, measured</h2>',
        '<p class="caption">The source document\'s table (left) beside what the evidence in '
        "this store says (right), decided by the advisor's rule: a model is good enough when "
        "its skill interval (0 = trivial baseline, 1 = perfect) overlaps the best one's, and "
        "the cheapest good-enough model wins (per-step latency when streaming). Each row is "
        "decided twice: on the adding problem with its signal at the row's distance, and on "
        "the source's own example tasks with real data (voice activity detection, a sensor "
        "stream, number words → digits).</p>",
        '<div class="scroll"><table class="tradeoff"><thead><tr><th>Task type</th>'
        "<th>Document says</th><th>Why (document)</th><th>Decided on</th><th>Measured best</th>"
        "<th>Why (measured)</th><th>Sources</th></tr></thead><tbody>",
    ]
    for r in rows:
        verdict = (
            "—"
            if r.measured is None
            else (
                f"{esc(r.measured)}"
                + (
                    ' <span class="agree">agrees</span>'
                    if r.measured.lower() in r.document_says.lower()
                    else ' <span class="differs">differs</span>'
                )
            )
        )
        out.append(
            f'<tr data-task-type="{esc(r.task_type)}"><th scope="row">{esc(r.task_type)}</th>'
            f"<td>{esc(r.document_says)}</td><td>{esc(r.document_why)}</td>"
            f"<td>{esc(r.decided_on)}</td><td>{verdict}</td><td>{esc(r.why)}</td><td>{_sources(r.sources)}</td></tr>"
        )
    out.append("</tbody></table></div></section>")
    return "\n".join(out)


def _claims_table(data: ReportData) -> str:
    """The claims ledger (``seqarch claims`` on this store): one row per claim of the source."""
    out = ['<section id="claims-table"><h2>The source\'s claims, measured</h2>']
    if data.claims is None:
        out.append('<p class="missing">No store: run <code>seqarch claims --run</code>.</p>')
        return "\n".join(out + ["</section>"])
    out += [
        '<p class="caption">Every claim of the source document, judged on this store by the '
        "rules of <code>seqarch.claims.evidence</code> (<code>seqarch claims</code>): holds, "
        "breaks, depends (and where it flips), unresolved (the intervals cannot tell) or "
        "missing (<code>seqarch claims --run</code> produces it).</p>",
        '<div class="scroll"><table class="claims"><thead><tr><th>Claim</th><th>Source</th>'
        "<th>Verdict</th><th>Why (measured)</th><th>Numbers</th></tr></thead><tbody>",
    ]
    for e in data.claims.entries:
        numbers = "".join(
            f"<li>{esc(n.label)} {esc(n.value)} <small>[{esc(n.source)}]</small></li>"
            for n in e.numbers
        )
        out.append(
            f'<tr data-claim="{esc(e.claim.id)}"><th scope="row">{esc(e.claim.words)}</th>'
            f'<td>{esc(e.claim.place)}</td><td class="verdict-{esc(e.verdict)}">'
            f"{esc(e.verdict)}</td><td>{esc(e.why)}</td><td><ul>{numbers}</ul></td></tr>"
        )
    out.append("</tbody></table></div></section>")
    return "\n".join(out)


def _quality_table(data: ReportData) -> str:
    """Per task, each architecture at the task's longest stored horizon."""
    if not data.points:
        return ""
    archs = list(dict.fromkeys(p.arch for p in data.points))
    head = "".join(f"<th>{esc(a)}</th>" for a in archs)
    out = [
        '<section id="per-task"><h2>Quality per task</h2>',
        '<p class="caption">Each task at its longest stored dependency length: mean test metric '
        "± its 95 % interval over seeds (the protocol's selected learning rate), and the "
        "skill.</p>",
        '<div class="scroll"><table class="per-task"><thead><tr><th>Task</th><th>Metric</th>'
        f"<th>Horizon</th><th>Baseline</th>{head}</tr></thead><tbody>",
    ]
    for task in dict.fromkeys(p.task for p in data.points):
        pts = [p for p in data.points if p.task == task]
        h = max(p.horizon for p in pts)
        at = {p.arch: p for p in pts if p.horizon == h}
        ref = next(iter(at.values()))
        cells = []
        for a in archs:
            p = at.get(a)
            cells.append(
                "<td>—</td>"
                if p is None
                else f'<td title="{esc(" ".join(p.run_ids))}">{_num(p.mean)}'
                + (f" ± {_num(p.ci)}" if math.isfinite(p.ci) else " (1 seed)")
                + f"<br><small>skill {_num(p.skill)}</small></td>"
            )
        arrow = "↑" if ref.higher_is_better else "↓"
        out.append(
            f'<tr><th scope="row">{esc(task)}</th><td>{esc(ref.metric)} {arrow}</td>'
            f"<td>{h}</td><td>{_num(ref.baseline)}</td>{''.join(cells)}</tr>"
        )
    out.append("</tbody></table></div></section>")
    return "\n".join(out)


def _real_tasks(data: ReportData) -> str:
    """The real tasks with classical peers (voice activity detection: WebRTC VAD, Silero VAD)
    beside every architecture, on the same test streams, every metric per condition."""
    if not data.conditions:
        return ""
    out = [
        '<section id="real-tasks"><h2>Real tasks against outside peers</h2>',
        '<p class="caption">The same test streams for every model and peer '
        "(<code>seqarch study --preset real</code>): each architecture's selected seeds "
        "(mean), the peers as shipped; F1 and ROC-AUC overall and per condition (SNR in dB). "
        "Hover a model for its runs.</p>",
    ]
    for task in dict.fromkeys(r["task"] for r in data.conditions):
        rows = [r for r in data.conditions if r["task"] == task]
        keys = list(dict.fromkeys(k for r in rows for k in r if k.startswith(("f1", "auc"))))
        keys.sort(key=lambda k: (k.split("_")[0] != "f1", k.count("_"), _condition_key(k)))
        head = "".join(f"<th>{esc(k.replace('_snr', ' @ ').replace('_', ' '))}</th>" for k in keys)
        out.append(
            f'<h3>{esc(task)}</h3><div class="scroll"><table class="real-task"><thead><tr>'
            f"<th>Model or peer</th>{head}<th>Params</th></tr></thead><tbody>"
        )
        for r in rows:
            who = r["name"] + (" (peer)" if r["kind"] == "peer" else "")
            ids = " ".join(r.get("runs") or [r.get("id", "")])
            cells = "".join(f"<td>{_num(r.get(k))}</td>" for k in keys)
            out.append(
                f'<tr data-kind="{esc(r["kind"])}"><th scope="row" title="{esc(ids)}">'
                f"{esc(who)}</th>{cells}<td>{_num(r.get('params'))}</td></tr>"
            )
        out.append("</tbody></table></div>")
    out.append("</section>")
    return "\n".join(out)


def _condition_key(key: str) -> float:
    digits = "".join(c for c in key.rsplit("_", 1)[-1] if c.isdigit())
    return float(digits) if digits else -1.0


def _advice(data: ReportData) -> str:
    if data.advice is None:
        return (
            '<section id="advice"><h2>The latest advice</h2><p class="missing">No advice is '
            "stored yet: run <code>seqarch advise --seq-len … --horizon …</code>.</p></section>"
        )
    a = data.advice["value"]
    spec = a.get("spec", {})
    out = [
        '<section id="advice"><h2>The latest advice</h2>',
        f'<p class="verdict"><strong>{esc(a.get("recommendation", "?"))}</strong>'
        f" (runner-up {esc(a.get('runner_up') or '—')}; deciding reason "
        f"{esc(str(a.get('key_reason', '')).replace('_', ' '))}; confidence "
        f"{esc(a.get('confidence', '?'))}: {esc(a.get('confidence_basis', ''))})</p>",
        '<p class="caption">For the problem '
        + esc(", ".join(f"{k}={v}" for k, v in spec.items() if v is not None))
        + f" — stored {_when(data.advice.get('created'))}.</p>",
    ]
    for para in str(a.get("defense", "")).split("\n\n"):
        if para.strip():
            out.append(f'<p class="defense">{esc(para)}</p>')
    ranking = a.get("ranking", [])
    if ranking:
        out.append(
            '<div class="scroll"><table class="ranking"><thead><tr><th>#</th><th>Arch</th>'
            "<th>Feasible</th><th>Standing</th><th>Skill ± 95 %</th><th>lr</th><th>Step µs</th>"
            "<th>Reasons</th></tr></thead><tbody>"
        )
        for i, v in enumerate(ranking, 1):
            exp, cost = v.get("expected", {}), v.get("cost", {})
            reasons = "<br>".join(esc(r) for r in v.get("reasons", []))
            out.append(
                f'<tr><td>{i}</td><th scope="row">{esc(v.get("arch"))}</th>'
                f"<td>{_num(v.get('feasible'))}</td><td>{esc(v.get('standing', '—'))}</td>"
                f"<td>{_num(exp.get('skill'))}"
                + (f" ± {_num(exp['skill_spread'])}" if exp.get("skill_spread") is not None else "")
                + f"</td><td>{_num(exp.get('lr'))}</td><td>{_num(cost.get('step_us'))}</td>"
                f"<td>{reasons}</td></tr>"
            )
        out.append("</tbody></table></div>")
    peers = a.get("peers") or []
    if peers:
        out.append(
            "<h3>Classical peers, on the same splits</h3>"
            '<div class="scroll"><table class="peers"><thead><tr><th>Peer</th><th>Metric</th>'
            "<th>Skill ± 95 %</th><th>Splits</th><th>Source</th></tr></thead><tbody>"
        )
        for p in peers:
            hw = p.get("skill_interval")
            out.append(
                f'<tr><th scope="row">{esc(p.get("peer"))}</th>'
                f"<td>{esc(p.get('metric'))} {_num(p.get('value'))}</td>"
                f"<td>{_num(p.get('skill'))}"
                + (f" ± {_num(hw)}" if p.get("splits", 1) > 1 else "")
                + f"</td><td>{_num(p.get('splits'))}</td><td>{esc(p.get('source'))}</td></tr>"
            )
        out.append("</tbody></table></div>")
    for title, key in (
        ("When the answer would flip", "flips"),
        ("Caveats", "caveats"),
        ("Common misunderstandings, checked", "misunderstandings"),
        ("Missing evidence", "missing_evidence"),
    ):
        items = a.get(key) or []
        if items:
            lis = "".join(f"<li>{esc(x)}</li>" for x in items)
            out.append(f"<h3>{esc(title)}</h3><ul>{lis}</ul>")
    out.append(_sources([f"measurement:{data.advice['id']}"]))
    out.append("</section>")
    return "\n".join(out)


def _environment(data: ReportData) -> str:
    out = ['<section id="environment"><h2>Environment</h2>']
    if not data.environments:
        out.append('<p class="missing">No evidence stored, so no machine to describe.</p>')
    else:
        out.append(
            '<p class="caption">The machines and versions every stored number came from.</p>'
            '<div class="scroll"><table class="env"><thead><tr><th>Machine</th><th>CPU</th>'
            "<th>Cores / threads</th><th>Python</th><th>torch</th><th>numpy</th>"
            "<th>git</th><th>Evidence</th><th>When</th></tr></thead><tbody>"
        )
        for e in data.environments:
            git = (e.get("git_revision") or "—")[:10]
            out.append(
                f"<tr><td>{esc(e.get('hostname') or '—')}<br><small>{esc(e.get('platform') or '')}"
                f"</small></td><td>{esc(e.get('cpu') or '—')}</td>"
                f"<td>{esc(e.get('cores'))} / {esc(e.get('torch_threads'))}</td>"
                f"<td>{esc(e.get('python'))}</td><td>{esc(e.get('torch'))}</td>"
                f"<td>{esc(e.get('numpy'))}</td><td><code>{esc(git)}</code></td>"
                f"<td>{e['runs']} runs, {e['measurements']} measurements</td>"
                f"<td>{_when(e['first'])} – {_when(e['last'])}</td></tr>"
            )
        out.append("</tbody></table></div>")
    out.append("</section>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The whole page

CSS = """
:root { color-scheme: light dark; --bg: #fbfbfd; --fg: #1d1d24; --muted: #5e6070;
  --card: #ffffff; --line: #dcdde3; --accent: #3559c7; --warn-bg: #fff6df; --warn: #7a5a00;
  --ok: #1d7a3a; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --bg: #121317; --fg: #e7e7ec; --muted: #a4a6b4;
  --card: #1b1c22; --line: #32343d; --accent: #8fa8ff; --warn-bg: #2e2713; --warn: #f0cd6e;
  --ok: #6fd08c; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 1rem clamp(0.6rem, 3vw, 2rem) 3rem; }
header h1 { margin: 0.4rem 0 0.2rem; font-size: 1.6rem; }
header p { margin: 0.2rem 0; color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin: 0.8rem 0; font-size: 0.9rem; }
nav a, a { color: var(--accent); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 0.8rem clamp(0.6rem, 2vw, 1.2rem); margin: 1rem 0; }
h2 { font-size: 1.2rem; margin: 0.2rem 0 0.4rem; }
h3 { font-size: 1rem; margin: 0.8rem 0 0.2rem; }
.caption, .sources, small { color: var(--muted); font-size: 0.88rem; }
.missing, .notice { background: var(--warn-bg); color: var(--warn); border-radius: 8px;
  padding: 0.6rem 0.8rem; }
.notice { margin: 1rem 0; }
.panels { display: grid; gap: 0.6rem;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); }
figure.panel { margin: 0; min-width: 0; }
.plot { width: 100%; min-height: 220px; }
.plot > svg { width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.5rem;
  border-bottom: 1px solid var(--line); }
thead th { font-weight: 600; border-bottom: 2px solid var(--line); white-space: nowrap; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.85em;
  word-break: break-all; }
details.sources summary { cursor: pointer; }
.agree { color: var(--ok); font-weight: 600; }
.differs { color: var(--bad); font-weight: 600; }
.verdict { font-size: 1.1rem; }
.defense { max-width: 80ch; }
"""

JS = """
(function () {
  if (typeof Plotly === "undefined") return;  // keep the static SVGs
  var figures = JSON.parse(document.getElementById("figure-data").textContent);
  var query = window.matchMedia("(prefers-color-scheme: dark)");
  function colours() {
    var dark = query.matches;
    return { fg: dark ? "#e7e7ec" : "#1d1d24",
             grid: dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.10)" };
  }
  function themed(layout) {
    var c = colours();
    layout.paper_bgcolor = "rgba(0,0,0,0)";
    layout.plot_bgcolor = "rgba(0,0,0,0)";
    layout.font = { color: c.fg, family: "system-ui, sans-serif", size: 12 };
    ["xaxis", "yaxis"].forEach(function (a) {
      layout[a].gridcolor = c.grid; layout[a].linecolor = c.grid; layout[a].zerolinecolor = c.grid;
    });
    return layout;
  }
  var config = { responsive: true, displaylogo: false,
                 modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  document.querySelectorAll(".plot[data-fig]").forEach(function (el) {
    var fig = figures[el.dataset.fig];
    el.replaceChildren();
    Plotly.newPlot(el, fig.data, themed(JSON.parse(JSON.stringify(fig.layout))), config);
    el.classList.add("live");
  });
  query.addEventListener("change", function () {
    var c = colours();
    document.querySelectorAll(".plot.live").forEach(function (el) {
      Plotly.relayout(el, { "font.color": c.fg, "xaxis.gridcolor": c.grid,
                            "yaxis.gridcolor": c.grid });
    });
  });
})();
"""


def render_page(data: ReportData, charts: list[Chart], generated: float | None = None) -> str:
    """The whole HTML document for ``data`` and its ``charts``."""
    import time

    generated = time.time() if generated is None else generated
    figures: dict[str, dict] = {}
    chart_sections = [chart_html(c, figures) for c in charts]
    toc = [("advice", "Advice"), ("tradeoffs", "Trade-offs"), ("claims-table", "Claims")]
    toc += [("per-task", "Per task")]
    toc += [(c.id, c.title) for c in charts] + [("environment", "Environment")]
    if not data.points:
        toc.remove(("per-task", "Per task"))
    if data.conditions:
        toc.insert(3, ("real-tasks", "Real tasks"))
    nav = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t in toc)
    n_meas = sum(e["measurements"] for e in data.environments)
    summary = (
        f"{len(data.runs)} runs and {n_meas} measurements from <code>{esc(data.db)}</code>, "
        f"generated {_when(generated)}."
    )
    body = [
        "<header><h1>seqarch: which sequence model, and why</h1>",
        f"<p>{summary}</p>",
        "<p>Every number below is read from the store or computed by a formula in code, and "
        "each figure says which.</p></header>",
        f"<nav>{nav}</nav>",
        _empty_notice(data),
        _advice(data),
        _tradeoff_table(tradeoff_rows(data)),
        _claims_table(data),
        _quality_table(data),
        _real_tasks(data),
        *chart_sections,
        _environment(data),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>seqarch report — {esc(Path(data.db).name)}</title><style>{CSS}</style></head>"
        "<body><main>\n" + "\n".join(b for b in body if b) + "\n</main>\n"
        f'<script type="application/json" id="figure-data">{_json_for_script(figures)}</script>\n'
        f"<script>{plotly_js()}</script>\n<script>{JS}</script>\n</body></html>\n"
    )
