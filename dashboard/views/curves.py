"""Learning curves: the per-epoch validation metric of the top trials and of any trial picked,
with the LR in force each epoch below (schedule steps and plateau halvings show); pruned and
diverged trials are drawn to where they stopped. Curves are read for these trials only."""

import streamlit as st

from tuner.dashboard import charts, loaders, session, stats
from tuner.dashboard.text import metric_label, number, option

choice = session.current()
st.title("Learning curves")


def trial_label(row) -> str:
    return (f"#{row.number} {row.optimizer} lr={number(row.lr, 3)} {row.schedule} "
            f"({row.status.lower()})")


@st.fragment(run_every=choice.run_every)
def learning_curves() -> None:
    view = session.open_study(choice)
    if view is None:
        return
    frame = view.trials
    labels = {int(r.number): trial_label(r) for r in frame.itertuples()}
    left, right = st.columns([1, 3])
    count = left.number_input("Top trials", min_value=0, max_value=20, value=5, step=1,
                              key="curves_top")
    picked = right.multiselect("Also show trials", list(labels), key="curves_picked",
                               format_func=lambda n: option(labels.get(n, n)),
                               placeholder="any trial: running, pruned, diverged …")
    numbers = list(dict.fromkeys(stats.top_numbers(frame, view.direction, int(count))
                                 + list(picked)))
    if not numbers:
        st.info("No trial to draw yet: none has completed; pick trials above to see them.")
        return
    curves = loaders.curves(view.url, view.study_id, tuple(sorted(numbers)))
    if curves.empty:
        st.info("These trials have no recorded epochs yet.")
        return
    order = {n: i for i, n in enumerate(numbers)}
    curves = curves.sort_values(["number", "epoch"], key=lambda s: s.map(order)
                                if s.name == "number" else s, kind="stable")
    st.plotly_chart(charts.learning_curves(curves, labels,
                                           metric_label=metric_label(view.metric)),
                    width="stretch", key="curves_chart")


learning_curves()
