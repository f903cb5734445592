"""Derived frames for the charts, computed from a :func:`dashboard.data.trials` frame. No I/O.

The "final metric" of a trial is its ``val_metric`` or ``test_metric`` (as stored in its
``run`` attribute): for a complete trial the metric after its last epoch, for a pruned one after
the epoch where it stopped; diverged trials have none and are shown apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = {"validation": "val_metric", "test": "test_metric"}
"""Metric switch label → trials-frame column."""


def sensitivity_points(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The trials an LR-sensitivity chart shows: finished (COMPLETE or PRUNED) with an LR, with
    ``kind`` = ``complete`` / ``pruned`` / ``diverged`` and ``metric`` = ``frame[column]``
    (NaN for diverged ones)."""
    shown = frame[frame["state"].isin(["COMPLETE", "PRUNED"]) & frame["lr"].gt(0)].copy()
    shown["kind"] = np.where(shown["diverged"], "diverged",
                             np.where(shown["state"] == "COMPLETE", "complete", "pruned"))
    shown["metric"] = shown[column].where(~shown["diverged"])
    shown = shown[shown["diverged"] | np.isfinite(shown["metric"])]
    return shown


def sensitivity_bands(points: pd.DataFrame, *, grid: int = 40, width: float | None = None,
                      min_points: int = 3) -> pd.DataFrame:
    """Per optimizer, a smoothed median and 25–75 % band of the metric against log10(LR):
    at ``grid`` LRs spanning the optimizer's range, the median and quartiles of the complete
    trials within ``width`` decades (default: a sixth of the range, at least 0.15) — points
    with fewer than ``min_points`` neighbours are left out. Columns ``optimizer``, ``lr``,
    ``median``, ``low``, ``high``."""
    out = []
    done = points[(points["kind"] == "complete") & np.isfinite(points["metric"])]
    for optimizer, group in done.groupby("optimizer", sort=True):
        x = np.log10(group["lr"].to_numpy(float))
        y = group["metric"].to_numpy(float)
        if len(x) < min_points or x.max() == x.min():
            continue
        half = width if width is not None else max((x.max() - x.min()) / 6, 0.15)
        for centre in np.linspace(x.min(), x.max(), grid):
            near = y[np.abs(x - centre) <= half]
            if len(near) >= min_points:
                low, median, high = np.percentile(near, [25, 50, 75])
                out.append({"optimizer": optimizer, "lr": 10 ** centre, "median": median,
                            "low": low, "high": high})
    return pd.DataFrame(out, columns=["optimizer", "lr", "median", "low", "high"])


SGD_FAMILY = ("momentum", "nesterov", "sgd")
"""Optimizers whose momentum and LR mean the same (SGD's heavy ball, with or without Nesterov)."""


def _with_momentum(points: pd.DataFrame) -> pd.DataFrame:
    """The complete trials with a finite metric and a momentum above 0 (plain SGD's fixed 0
    is left out)."""
    return points[(points["kind"] == "complete") & np.isfinite(points["metric"])
                  & points["momentum"].gt(0)]


def momentum_optimizers(points: pd.DataFrame) -> tuple[list[str], list[str]]:
    """``(optimizers, pooled by default)``: the optimizers with complete trials with a
    momentum, and those of them an LR × momentum map pools at first — the SGD family, whose
    LR and momentum mean the same (RMSprop's momentum acts on a step already divided by the
    gradient's RMS: its LR scale differs), else the first one."""
    names = sorted(_with_momentum(points)["optimizer"].dropna().unique())
    family = [n for n in names if n in SGD_FAMILY]
    return names, family or names[:1]


def lr_momentum_grid(points: pd.DataFrame, *, bins: int = 10,
                     optimizers=None) -> pd.DataFrame:
    """Median metric of the complete trials with a momentum (above 0: plain SGD's fixed 0 is
    left out), of ``optimizers`` (None: all), binned by log10(LR) and momentum: columns
    ``log_lr`` and ``momentum`` (bin centres), ``median``, ``trials``; empty if fewer than two
    such trials."""
    done = _with_momentum(points)
    if optimizers is not None:
        done = done[done["optimizer"].isin(list(optimizers))]
    columns = ["log_lr", "momentum", "median", "trials"]
    if len(done) < 2:
        return pd.DataFrame(columns=columns)
    x = np.log10(done["lr"].to_numpy(float))
    m = done["momentum"].to_numpy(float)
    x_edges = np.linspace(x.min(), x.max() + 1e-9, bins + 1)
    m_edges = np.linspace(m.min(), m.max() + 1e-9, bins + 1)
    binned = pd.DataFrame({
        "log_lr": ((x_edges[:-1] + x_edges[1:]) / 2)[np.clip(np.digitize(x, x_edges) - 1, 0,
                                                              bins - 1)],
        "momentum": ((m_edges[:-1] + m_edges[1:]) / 2)[np.clip(np.digitize(m, m_edges) - 1, 0,
                                                               bins - 1)],
        "metric": done["metric"].to_numpy(float)})
    return (binned.groupby(["log_lr", "momentum"]).agg(median=("metric", "median"),
                                                       trials=("metric", "size"))
            .reset_index()[columns])


def best_so_far(frame: pd.DataFrame, direction: str) -> pd.DataFrame:
    """The COMPLETE trials in number order with ``value`` and ``best`` (the best value up to
    and including each), for an optimization-history chart."""
    done = frame[(frame["state"] == "COMPLETE") & np.isfinite(frame["value"])]
    done = done.sort_values("number")[["number", "value", "optimizer"]].copy()
    done["best"] = (done["value"].cummax() if direction == "maximize"
                    else done["value"].cummin())
    return done


def group_summary(frame: pd.DataFrame, by: str, column: str, direction: str) -> pd.DataFrame:
    """Per value of ``by`` (optimizer or schedule): ``trials`` (finished: ``complete`` +
    ``pruned`` + ``diverged``; running and waiting trials and failed attempts, whose retries
    are counted when they finish, are not), ``best`` and ``median`` of the final metric
    ``column`` over complete trials, best group first."""
    rows = []
    for key, group in frame.groupby(by, sort=True):
        done = group.loc[group["state"] == "COMPLETE", column].dropna()
        rows.append({by: key, "trials": int(group["state"].isin(["COMPLETE", "PRUNED"]).sum()),
                     "complete": int((group["state"] == "COMPLETE").sum()),
                     "pruned": int(((group["state"] == "PRUNED") & ~group["diverged"]).sum()),
                     "diverged": int(group["diverged"].sum()),
                     "best": (done.max() if direction == "maximize" else done.min())
                     if len(done) else np.nan,
                     "median": done.median() if len(done) else np.nan})
    out = pd.DataFrame(rows, columns=[by, "trials", "complete", "pruned", "diverged", "best",
                                      "median"])
    return out.sort_values("best", ascending=direction != "maximize", na_position="last",
                           kind="stable").reset_index(drop=True)


def filter_trials(frame: pd.DataFrame, *, statuses=None, optimizers=None, schedules=None,
                  lr_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """The rows of a trials frame matching every given filter (None: no filter on that);
    ``lr_range`` is inclusive, trials without an LR are kept only when it is None."""
    keep = pd.Series(True, index=frame.index)
    if statuses is not None:
        keep &= frame["status"].isin(list(statuses))
    if optimizers is not None:
        keep &= frame["optimizer"].isin(list(optimizers))
    if schedules is not None:
        keep &= frame["schedule"].isin(list(schedules))
    if lr_range is not None:
        keep &= frame["lr"].between(lr_range[0], lr_range[1])
    return frame[keep]


def ranked_complete(frame: pd.DataFrame, direction: str) -> pd.DataFrame:
    """The COMPLETE trials with a finite value, best first (ties in number order, so the first
    is Optuna's ``best_trial``)."""
    done = frame[(frame["state"] == "COMPLETE") & np.isfinite(frame["value"].astype(float))]
    return done.sort_values(["value", "number"], ascending=[direction != "maximize", True],
                            kind="stable")


def top_numbers(frame: pd.DataFrame, direction: str, count: int) -> list[int]:
    """Numbers of the ``count`` best COMPLETE trials, best first."""
    return [int(n) for n in ranked_complete(frame, direction)["number"].head(count)]
