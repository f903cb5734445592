"""Comparisons: best and distribution of the final metric per optimizer and per schedule,
parameter importance (Optuna's default evaluator) and the optimization history."""

import streamlit as st

from tuner.dashboard import charts, loaders, session, stats
from tuner.dashboard.text import metric_label

choice = session.current()
st.title("Comparisons")
which = st.segmented_control("Metric", list(stats.METRICS), default="validation",
                             key="compare_metric") or "validation"


def importance_section(view: session.StudyView) -> None:
    importance = loaders.importances(view.url, view.study_id, view.direction, len(view.complete))
    if importance.empty:
        st.info("Parameter importance needs at least two complete trials with searched "
                "parameters.")
        return
    st.caption("optuna.importance.get_param_importances with Optuna's default evaluator, over "
               f"the {len(view.complete)} complete trials.")
    st.plotly_chart(charts.importance(importance), width="stretch", key="importance_chart")


@st.fragment(run_every=choice.run_every)
def comparisons() -> None:
    view = session.open_study(choice)
    if view is None or not session.need_finished(view):
        return
    column, label = stats.METRICS[which], metric_label(view.metric, which)
    for by, title in (("optimizer", "Per optimizer"), ("schedule", "Per schedule")):
        st.subheader(title)
        left, right = st.columns([2, 3])
        left.dataframe(stats.group_summary(view.trials, by, column, view.direction),
                       hide_index=True, width="stretch", column_config={
                           "best": st.column_config.NumberColumn(format="%.4g"),
                           "median": st.column_config.NumberColumn(format="%.4g")})
        right.plotly_chart(charts.distribution(view.trials, by, column, metric_label=label),
                           width="stretch", key=f"distribution_{by}")
    st.subheader("Parameter importance")
    importance_section(view)
    st.subheader("Optimization history")
    history = stats.best_so_far(view.trials, view.direction)
    if history.empty:
        st.info("No complete trial yet.")
    else:
        st.plotly_chart(charts.history(history, metric_label=metric_label(view.metric)),
                        width="stretch", key="history_chart")


comparisons()
