"""LR sensitivity (the headline view): final metric against the learning rate on a log axis,
one colour per optimizer with its smoothed median and band, diverged trials on the plot's edge
at their LR; a validation/test switch; LR × momentum as a heat map."""

import numpy as np
import streamlit as st

from tuner.dashboard import charts, session, stats
from tuner.dashboard.text import metric_label

choice = session.current()
st.title("LR sensitivity")
which = st.segmented_control("Metric", list(stats.METRICS), default="validation",
                             key="sensitivity_metric") or "validation"


@st.fragment(run_every=choice.run_every)
def sensitivity() -> None:
    view = session.open_study(choice)
    if view is None or not session.need_finished(view):
        return
    points = stats.sensitivity_points(view.trials, stats.METRICS[which])
    bands = stats.sensitivity_bands(points)
    label = metric_label(view.metric, which)
    finite = points["metric"].to_numpy(float)
    finite = finite[np.isfinite(finite)]
    log_y = bool(view.direction == "minimize" and finite.size and finite.min() > 0
                 and finite.max() / finite.min() > 100)
    counts = points["kind"].value_counts()
    st.caption(f"{counts.get('complete', 0)} complete, {counts.get('pruned', 0)} pruned "
               f"(rings, metric where they stopped), {counts.get('diverged', 0)} diverged "
               "(crosses on the edge); lines: median of the complete trials nearby, band: "
               "25–75 %.")
    st.plotly_chart(charts.lr_sensitivity(points, bands, metric_label=label,
                                          direction=view.direction, log_y=log_y),
                    width="stretch", key="lr_sensitivity_chart")
    st.subheader("LR × momentum")
    names, pooled = stats.momentum_optimizers(points)
    chosen = st.multiselect("Optimizers pooled in the map", names, default=pooled,
                            key="lr_momentum_optimizers:" + ",".join(names),
                            help="Pool only optimizers whose LR and momentum mean the same: "
                                 "SGD with momentum and Nesterov do; RMSprop's momentum acts "
                                 "on a step already scaled by the gradient's RMS.") if names else []
    grid = stats.lr_momentum_grid(points, optimizers=chosen)
    if grid.empty:
        st.info("No complete trials with a momentum argument (sgd with momentum, nesterov, "
                "rmsprop …) among the optimizers chosen to draw LR × momentum.")
    else:
        st.plotly_chart(charts.lr_momentum(grid, metric_label=label), width="stretch",
                        key="lr_momentum_chart")


sensitivity()
