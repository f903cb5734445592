"""Plotly figures, one function per chart, from the frames of :mod:`dashboard.stats` and
:mod:`dashboard.data`. Pure: frames in, ``go.Figure`` out.

Plotly renders names, titles and hover text as HTML, so every string that came from the
database (optimizer, schedule and study names, metric names) passes through
:func:`dashboard.text.html_text`; numbers are formatted by Plotly itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .text import html_text

PALETTE = qualitative.Plotly + qualitative.D3
WEBGL_ABOVE = 5000          # markers drawn with WebGL beyond this many points
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
          "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}}


def colours(names) -> dict:
    """A stable colour per name (sorted order), shared by every chart of a page."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


def _rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _scatter(count: int):
    return go.Scattergl if count > WEBGL_ABOVE else go.Scatter


def _exponent_ticks(low: float, high: float) -> dict:
    ticks = list(range(int(np.floor(low)), int(np.ceil(high)) + 1))
    return {"tickvals": ticks, "ticktext": [f"1e{t}" for t in ticks]}


def _edge_range(values: np.ndarray, direction: str, log: bool) -> tuple[list[float], float]:
    """The y-axis range (in axis units) and where diverged markers go: the worst edge."""
    finite = values[np.isfinite(values)]
    if log:
        finite = np.log10(finite[finite > 0])
    if finite.size == 0:
        low, high = 0.0, 1.0
    else:
        low, high = float(finite.min()), float(finite.max())
    pad = (high - low) * 0.06 or max(abs(high) * 0.06, 0.05)
    edge = low - pad if direction == "maximize" else high + pad
    axis = [low - 2 * pad, high + 2 * pad]
    return axis, (10 ** edge if log else edge)


def lr_sensitivity(points: pd.DataFrame, bands: pd.DataFrame, *, metric_label: str,
                   direction: str, log_y: bool = False) -> go.Figure:
    """Final metric against LR (log axis), one colour per optimizer: complete trials as dots,
    pruned as rings, the smoothed median line and 25–75 % band per optimizer, and diverged
    trials as crosses on the worst edge of the plot (bottom when maximizing, top when
    minimizing) at their LR, so they are seen without squashing the axis."""
    fig = go.Figure()
    palette = colours(points["optimizer"].dropna())
    axis, edge = _edge_range(points["metric"].to_numpy(float), direction, log_y)
    trace = _scatter(len(points))
    for optimizer, colour in palette.items():
        name = html_text(optimizer)
        band = bands[bands["optimizer"] == optimizer]
        if not band.empty:
            fig.add_trace(go.Scatter(x=band["lr"], y=band["high"], mode="lines",
                                     line={"width": 0}, legendgroup=name, showlegend=False,
                                     hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=band["lr"], y=band["low"], mode="lines",
                                     line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(colour, 0.15), legendgroup=name,
                                     showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=band["lr"], y=band["median"], mode="lines",
                                     line={"color": colour, "width": 2.5}, legendgroup=name,
                                     name=f"{name} median", showlegend=False,
                                     hovertemplate=f"{name} median %{{y:.4g}} at LR %{{x:.3g}}"
                                                   "<extra></extra>"))
        mine = points[points["optimizer"] == optimizer]
        for kind, symbol in (("complete", "circle"), ("pruned", "circle-open")):
            sub = mine[mine["kind"] == kind]
            if sub.empty:
                continue
            fig.add_trace(trace(
                x=sub["lr"], y=sub["metric"], mode="markers", legendgroup=name,
                name=name if kind == "complete" else f"{name} (pruned)",
                marker={"color": colour, "symbol": symbol, "size": 7, "opacity": 0.75},
                customdata=np.stack([sub["number"], sub["schedule"].fillna("").map(html_text)],
                                    axis=-1),
                hovertemplate=f"trial %{{customdata[0]}} · {name} · %{{customdata[1]}}<br>"
                              f"LR %{{x:.3g}}<br>{html_text(metric_label)} %{{y:.4g}}"
                              f"{' (pruned)' if kind == 'pruned' else ''}<extra></extra>"))
        gone = mine[mine["kind"] == "diverged"]
        if not gone.empty:
            fig.add_trace(go.Scatter(         # SVG, so the markers may sit on the edge
                x=gone["lr"], y=np.full(len(gone), edge), mode="markers", legendgroup=name,
                name=f"{name} diverged", cliponaxis=False,
                marker={"color": colour, "symbol": "x-thin-open", "size": 10,
                        "line": {"width": 2, "color": colour}},
                customdata=np.stack([gone["number"], gone["diverged_epoch"].astype("string")
                                     .fillna("?")], axis=-1),
                hovertemplate=f"trial %{{customdata[0]}} · {name}<br>LR %{{x:.3g}}<br>diverged "
                              "in epoch %{customdata[1]}<extra></extra>"))
    fig.update_layout(**LAYOUT, height=480, hovermode="closest")
    fig.update_xaxes(type="log", title_text="learning rate (log scale)")
    fig.update_yaxes(type="log" if log_y else "linear", range=axis,
                     title_text=html_text(metric_label))
    if (points["kind"] == "diverged").any():
        where = "bottom" if direction == "maximize" else "top"
        fig.add_annotation(text=f"× diverged (drawn at the {where} edge)", showarrow=False,
                           xref="paper", yref="paper", x=0, y=0 if where == "bottom" else 1,
                           xanchor="left", yanchor="bottom" if where == "bottom" else "top",
                           font={"size": 11, "color": "#555"})
    return fig


def lr_momentum(grid: pd.DataFrame, *, metric_label: str) -> go.Figure:
    """Heat map of the median final metric over log10(LR) × momentum bins (count in hover)."""
    fig = go.Figure(go.Heatmap(
        x=grid["log_lr"], y=grid["momentum"], z=grid["median"], customdata=grid["trials"],
        colorscale="Viridis", colorbar={"title": {"text": "median"}},
        hovertemplate="LR 10^%{x:.2f} · momentum %{y:.3f}<br>median "
                      f"{html_text(metric_label)} %{{z:.4g}} (%{{customdata}} trials)"
                      "<extra></extra>"))
    fig.update_layout(**LAYOUT, height=420)
    fig.update_xaxes(title_text="learning rate (log scale)",
                     **_exponent_ticks(grid["log_lr"].min(), grid["log_lr"].max()))
    fig.update_yaxes(title_text="momentum")
    return fig


def learning_curves(curves: pd.DataFrame, labels: dict, *, metric_label: str) -> go.Figure:
    """Per-epoch validation metric (top panel) and the LR in force each epoch (bottom panel,
    log axis, drawn as steps) of each trial in ``curves``; a pruned or diverged trial's lines
    end where it stopped. ``labels``: trial number → legend text (escaped here)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.65, 0.35])
    palette = colours(curves["number"].unique())
    for number, part in curves.groupby("number", sort=False):
        name = html_text(labels.get(number, f"trial {number}"))
        colour = palette[number]
        fig.add_trace(go.Scatter(x=part["epoch"], y=part["val_metric"], mode="lines+markers",
                                 name=name, legendgroup=name, marker={"size": 4},
                                 line={"color": colour},
                                 hovertemplate=f"{name}<br>epoch %{{x}}: %{{y:.4g}}"
                                               "<extra></extra>"), row=1, col=1)
        if part["lr"].notna().any():
            fig.add_trace(go.Scatter(x=part["epoch"], y=part["lr"], mode="lines", name=name,
                                     legendgroup=name, showlegend=False, line_shape="hv",
                                     line={"color": colour},
                                     hovertemplate=f"{name}<br>epoch %{{x}}: LR %{{y:.3g}}"
                                                   "<extra></extra>"), row=2, col=1)
    fig.update_layout(**LAYOUT, height=620, hovermode="closest")
    fig.update_yaxes(title_text=html_text(metric_label), row=1, col=1)
    fig.update_yaxes(title_text="LR in force", type="log", row=2, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    return fig


def distribution(frame: pd.DataFrame, by: str, column: str, *, metric_label: str) -> go.Figure:
    """Box plot of the final metric ``column`` of complete trials per value of ``by``."""
    done = frame[(frame["state"] == "COMPLETE") & np.isfinite(frame[column])]
    palette = colours(done[by].dropna())
    fig = go.Figure()
    for key, colour in palette.items():
        values = done.loc[done[by] == key, column]
        name = html_text(key)
        fig.add_trace(go.Box(y=values, name=name, marker_color=colour,
                             boxpoints="all" if len(values) <= 300 else "outliers",
                             jitter=0.4, pointpos=0, hoverinfo="y"))
    fig.update_layout(**LAYOUT, height=380, showlegend=False)
    fig.update_yaxes(title_text=html_text(metric_label))
    return fig


def importance(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of parameter importance (largest on top)."""
    ordered = frame.sort_values("importance")
    fig = go.Figure(go.Bar(x=ordered["importance"], y=ordered["param"].map(html_text),
                           orientation="h", marker_color=PALETTE[0],
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(**LAYOUT, height=max(220, 60 + 36 * len(frame)))
    fig.update_xaxes(title_text="importance (sums to 1)")
    return fig


def history(frame: pd.DataFrame, *, metric_label: str) -> go.Figure:
    """Each complete trial's value by trial number (coloured by optimizer) and the best so far."""
    palette = colours(frame["optimizer"].dropna())
    fig = go.Figure()
    trace = _scatter(len(frame))
    for optimizer, colour in palette.items():
        part = frame[frame["optimizer"] == optimizer]
        fig.add_trace(trace(x=part["number"], y=part["value"], mode="markers",
                            name=html_text(optimizer), marker={"color": colour, "size": 6},
                            hovertemplate="trial %{x}: %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=frame["number"], y=frame["best"], mode="lines", line_shape="hv",
                             name="best so far", line={"color": "#222", "width": 2}))
    fig.update_layout(**LAYOUT, height=380)
    fig.update_xaxes(title_text="trial")
    fig.update_yaxes(title_text=html_text(metric_label))
    return fig


def surface(grid: tuple, paths: pd.DataFrame, labels: dict, *, minimum, start) -> go.Figure:
    """Contour of log10(f − min f + 1e-3) over the surface's bounds with each trial's path."""
    xs, ys, z = grid
    shifted = np.log10(z - np.nanmin(z) + 1e-3)
    fig = go.Figure(go.Contour(x=xs, y=ys, z=shifted, colorscale="Greys", reversescale=True,
                               ncontours=30, showscale=False, opacity=0.6,
                               contours={"coloring": "fill"}, hoverinfo="skip"))
    palette = colours(paths["number"].unique()) if not paths.empty else {}
    for number, part in paths.groupby("number", sort=False):
        name = html_text(labels.get(number, f"trial {number}"))
        fig.add_trace(go.Scatter(x=part["x"], y=part["y"], mode="lines", name=name,
                                 line={"color": palette[number], "width": 2},
                                 hovertemplate=f"{name}<br>(%{{x:.3f}}, %{{y:.3f}})"
                                               "<extra></extra>"))
        fig.add_trace(go.Scatter(x=part["x"].iloc[-1:], y=part["y"].iloc[-1:], mode="markers",
                                 marker={"color": palette[number], "size": 9}, showlegend=False,
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name="start",
                             marker={"symbol": "square", "size": 10, "color": "#000"}))
    fig.add_trace(go.Scatter(x=[minimum[0]], y=[minimum[1]], mode="markers", name="minimum",
                             marker={"symbol": "star", "size": 14, "color": "#d62728"}))
    (x0, x1), (y0, y1) = (xs.min(), xs.max()), (ys.min(), ys.max())
    fig.update_layout(**LAYOUT, height=560)
    fig.update_xaxes(range=[x0, x1], title_text="x", constrain="domain")
    fig.update_yaxes(range=[y0, y1], title_text="y", scaleanchor="x", scaleratio=1)
    return fig
