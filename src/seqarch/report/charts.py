r"""Charts as plain specs, drawn twice: as plotly figures (interactive) and as static SVG.

A :class:`Chart` is one figure of the report: a title, a caption, the sources it was read
from (run ids, measurement ids, or "computed at report time"), and one or more
:class:`Panel`\ s. A panel holds line/marker :class:`Series` (with an optional spread band
lo..hi), reference :class:`Rule`\ s (a baseline, a floor, a crossover) or one :class:`Heatmap`.
The same spec becomes

    to_plotly(panel) -> {"data": [...], "layout": {...}}   rendered by the inlined plotly.js
    to_svg(panel)    -> "<svg ...>"                          matplotlib, inlined as the fallback

so the page reads the same with scripts off. The SVG draws text and axes in ``currentColor``
(it follows the page's light or dark colour scheme).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

PALETTE = ("#17becf", "#bcbd22", "#7f7f7f", "#8c564b", "#e377c2", "#ff7f0e")
NEUTRAL = "#888888"  # baselines, floors and other reference lines
INK = "#010203"  # sentinel colour in the SVG, replaced by currentColor
STYLES = ("line", "markers", "lines+markers", "dash")


def color_for(name: str, i: int = 0) -> str:
    """An architecture's own colour (``colour`` of its class: the same in every chart), else
    a palette colour by index (peers, variants)."""
    from ..models import MODELS

    cls = MODELS.get(name.split(" ")[0])
    return cls.colour if cls is not None else PALETTE[i % len(PALETTE)]


@dataclass
class Series:
    """One line or set of points; ``lo``/``hi`` draw a spread band (e.g. min..max over seeds)."""

    name: str
    x: list[float]
    y: list[float]
    lo: list[float] | None = None
    hi: list[float] | None = None
    style: str = "lines+markers"  # one of STYLES
    color: str | None = None
    hover: list[str] | None = None  # one text per point (e.g. the run ids behind it)
    labels: list[str] | None = None  # text drawn next to each point

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise RuntimeError(f"style {self.style!r} is not one of {STYLES} (a bug in a chart)")
        if len(self.x) != len(self.y):
            raise RuntimeError(f"series {self.name!r}: {len(self.x)} x values, {len(self.y)} y")


@dataclass
class Rule:
    """A reference line across the panel at ``x = at`` (axis "x") or ``y = at`` (axis "y")."""

    axis: str
    at: float
    label: str


@dataclass
class Heatmap:
    """z (rows × cols) over the grid x (cols) × y (rows); e.g. gate value per unit and step."""

    z: list[list[float]]
    x: list[Any]
    y: list[Any]
    zmin: float = 0.0
    zmax: float = 1.0
    colorscale: str = "Viridis"  # plotly name; matplotlib gets its lower-case twin


@dataclass
class Panel:
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    heatmap: Heatmap | None = None
    log_x: bool = False
    log_y: bool = False
    marks: list[float] = field(default_factory=list)  # x positions to shade (heatmap events)
    # x = 0, 1, … are these categories (e.g. architectures side by side at one distance): each
    # series is drawn as dots with error bars lo..hi, not as a line with a band
    categories: list[str] | None = None


@dataclass
class Chart:
    """A figure of the report. ``missing`` (what to run) replaces the panels when empty."""

    id: str
    title: str
    caption: str
    sources: list[str]
    panels: list[Panel] = field(default_factory=list)
    missing: str | None = None


# ---------------------------------------------------------------------------------------------
# plotly


def to_plotly(panel: Panel) -> dict[str, Any]:
    """A plotly figure as plain JSON-ready dicts (colours of text and grid set by the page)."""
    data: list[dict[str, Any]] = []
    for i, s in enumerate(panel.series):
        color = s.color or color_for(s.name, i)
        bars = s.lo is not None and s.hi is not None and panel.categories is not None
        if s.lo is not None and s.hi is not None and not bars:
            data.append(
                {
                    "type": "scatter",
                    "x": list(s.x) + list(reversed(s.x)),
                    "y": list(s.hi) + list(reversed(s.lo)),
                    "fill": "toself",
                    "fillcolor": _rgba(color, 0.18),
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "name": _js_safe(f"{s.name} spread"),
                }
            )
        mode = {"line": "lines", "dash": "lines"}.get(s.style, s.style)
        if s.labels is not None:
            mode += "+text"
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": mode,
            "name": _js_safe(s.name),
            "x": list(s.x),
            "y": list(s.y),
            "line": {"color": color, "width": 2, "dash": "dash" if s.style == "dash" else "solid"},
            "marker": {"color": color, "size": 8},
            "cliponaxis": False,  # labels and markers at the edge stay whole
        }
        if bars:
            trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": [h - y for h, y in zip(s.hi, s.y, strict=True)],
                "arrayminus": [y - lo for lo, y in zip(s.lo, s.y, strict=True)],
                "color": color,
                "thickness": 2,
                "width": 6,
            }
            trace["showlegend"] = False  # the category's tick names it
        if s.hover is not None:
            trace["text"] = [_js_safe(t) for t in s.hover]
            trace["hovertemplate"] = (
                "%{x}, %{y:.4g}<br>%{text}<extra>" + _js_safe(s.name) + "</extra>"
            )
        if s.labels is not None:
            trace["text"] = [_js_safe(t) for t in s.labels]
            trace["textposition"] = "top center"
        data.append(trace)
    # Reference lines are traces (not shapes): they then follow log axes and join the legend.
    xs = [x for t in panel.series for x in t.x]
    ys = [y for t in panel.series for y in t.y] + [y for t in panel.series for y in (t.hi or [])]
    for r in panel.rules:
        vertical = r.axis == "x"
        span = [min(ys), max(ys)] if vertical and ys else [min(xs), max(xs)] if xs else [0, 1]
        if panel.categories is not None and not vertical:
            span = [-0.5, len(panel.categories) - 0.5]  # across every category's slot
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": _js_safe(r.label),
                "x": [r.at, r.at] if vertical else span,
                "y": span if vertical else [r.at, r.at],
                "line": {"color": NEUTRAL, "dash": "dot", "width": 1.5},
                "hoverinfo": "name",
            }
        )
    shapes: list[dict[str, Any]] = []
    for m in panel.marks:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": m - 0.5,
                "x1": m + 0.5,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#ff4d4d", "width": 1.5},
            }
        )
    if panel.heatmap is not None:
        h = panel.heatmap
        data.append(
            {
                "type": "heatmap",
                "z": h.z,
                "x": list(h.x),
                "y": list(h.y),
                "zmin": h.zmin,
                "zmax": h.zmax,
                "colorscale": h.colorscale,
                "colorbar": {"thickness": 10},
            }
        )
    legend_rows = math.ceil(sum(1 for t in data if t.get("showlegend", True)) / 2)
    if panel.heatmap is not None:
        legend_rows = 0
    axis = {"automargin": True, "zeroline": False}
    layout: dict[str, Any] = {
        "title": {"text": _js_safe(panel.title), "font": {"size": 14}},
        "xaxis": {**axis, "title": {"text": _js_safe(panel.x_label)}},
        "yaxis": {**axis, "title": {"text": _js_safe(panel.y_label)}},
        "margin": {"l": 50, "r": 10, "t": 40, "b": 60 + 22 * legend_rows},
        "height": 320 + 22 * legend_rows,
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
        "shapes": shapes,
        "hovermode": "closest",
    }
    if panel.log_x:
        layout["xaxis"]["type"] = "log"
    if panel.log_y:
        layout["yaxis"]["type"] = "log"
    if panel.categories is not None:
        n = len(panel.categories)
        layout["xaxis"] |= {
            "tickvals": list(range(n)),
            "ticktext": [_js_safe(c) for c in panel.categories],
            "range": [-0.5, n - 0.5],
        }
    if panel.heatmap is not None:
        layout["yaxis"]["autorange"] = "reversed"
        layout["height"] = 300
        layout["margin"]["b"] = 40
    return {"data": data, "layout": layout}


def _js_safe(text: str) -> str:
    """plotly renders a small HTML subset in titles and labels: show user text as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# ---------------------------------------------------------------------------------------------
# static SVG (matplotlib)

_SVG_RC = {
    "svg.fonttype": "none",  # text stays text: small, selectable, escaped by matplotlib
    "svg.hashsalt": "seqarch",  # stable ids, so the same store gives the same page
    "font.size": 9,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "grid.color": INK,
    "grid.alpha": 0.15,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _tex_safe(text: str) -> str:
    """matplotlib reads $...$ as mathtext; user strings must not be parsed."""
    return text.replace("$", r"\$")


def to_svg(panel: Panel, prefix: str) -> str:
    """The panel as an inline ``<svg>`` (no XML prolog); ids prefixed to stay unique on the page."""
    with plt.rc_context(_SVG_RC):
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        if panel.heatmap is not None:
            h = panel.heatmap
            im = ax.imshow(
                h.z,
                aspect="auto",
                vmin=h.zmin,
                vmax=h.zmax,
                cmap=h.colorscale.lower(),
                interpolation="nearest",
            )
            fig.colorbar(im, ax=ax, fraction=0.05)
            _ticks(ax.set_xticks, ax.set_xticklabels, h.x)
            _ticks(ax.set_yticks, ax.set_yticklabels, h.y)
            for m in panel.marks:  # heatmap columns are steps 0..T-1: mark m spans m ± ½
                ax.axvspan(m - 0.5, m + 0.5, fill=False, edgecolor="#ff4d4d", lw=1.2)
        for i, s in enumerate(panel.series):
            color = s.color or color_for(s.name, i)
            fmt = {"line": "-", "dash": "--", "markers": "o", "lines+markers": "-o"}[s.style]
            if s.lo is not None and s.hi is not None and panel.categories is not None:
                err = [
                    [y - lo for lo, y in zip(s.lo, s.y, strict=True)],
                    [h - y for h, y in zip(s.hi, s.y, strict=True)],
                ]
                ax.errorbar(s.x, s.y, yerr=err, fmt="o", color=color, capsize=3, ms=5)
                continue  # no legend entry: the category's tick names it
            if s.lo is not None and s.hi is not None:
                ax.fill_between(s.x, s.lo, s.hi, color=color, alpha=0.18, lw=0)
            ax.plot(s.x, s.y, fmt, color=color, label=_tex_safe(s.name), lw=1.8, ms=4)
            for x, y, label in zip(s.x, s.y, s.labels or [], strict=False):
                ax.annotate(
                    _tex_safe(label),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 5),
                    ha="center",
                    fontsize=8,
                )
        for r in panel.rules:
            line = ax.axvline if r.axis == "x" else ax.axhline
            line(r.at, color=NEUTRAL, ls=":", lw=1.3, label=_tex_safe(r.label))
        if panel.log_x:
            ax.set_xscale("log")
        if panel.log_y:
            ax.set_yscale("log")
        if panel.categories is not None:
            ax.set_xticks(range(len(panel.categories)))
            ax.set_xticklabels([_tex_safe(c) for c in panel.categories], rotation=30, ha="right")
            ax.set_xlim(-0.5, len(panel.categories) - 0.5)
        if panel.heatmap is None:
            ax.grid(True, which="major")
        ax.set_title(_tex_safe(panel.title), fontsize=10)
        ax.set_xlabel(_tex_safe(panel.x_label))
        ax.set_ylabel(_tex_safe(panel.y_label))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        # fixed margins instead of tight_layout: one draw per figure, not two
        bottom = 0.24 if panel.categories is not None else 0.15  # room for slanted names
        fig.subplots_adjust(left=0.14, right=0.97, bottom=bottom, top=0.9)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", transparent=True)
        plt.close(fig)
    return _inline(buf.getvalue(), prefix)


def _ticks(set_ticks: Any, set_labels: Any, labels: list[Any]) -> None:
    """At most ~12 tick labels along a heatmap axis."""
    step = max(1, len(labels) // 12)
    positions = list(range(0, len(labels), step))
    set_ticks(positions)
    set_labels([_tex_safe(str(labels[i])) for i in positions])


def _inline(svg: str, prefix: str) -> str:
    """Strip the prolog, scale to the container, follow the page's text colour, unique ids."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', svg, count=1)
    svg = svg.replace(INK, "currentColor")
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
