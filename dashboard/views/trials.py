"""Trials: every trial in a table filtered by state, optimizer, schedule and LR range, with a
CSV download of what is shown."""

import numpy as np
import streamlit as st

from tuner.dashboard import session, stats
from tuner.dashboard.text import option

choice = session.current()
st.title("Trials")

SHOWN = ["number", "status", "value", "optimizer", "lr", "momentum", "schedule", "val_metric",
         "test_metric", "epochs", "diverged_epoch", "pruned_reason", "seconds", "seed",
         "started", "completed", "optimizer_args", "schedule_args"]


@st.fragment(run_every=choice.run_every)
def trial_table() -> None:
    view = session.open_study(choice)
    if view is None:
        return
    frame = view.trials
    a, b, c = st.columns(3)
    statuses = a.multiselect("State", sorted(frame["status"].dropna().unique()),
                             key="trials_state", format_func=option, placeholder="all")
    optimizers = b.multiselect("Optimizer", sorted(frame["optimizer"].dropna().unique()),
                               key="trials_optimizer", format_func=option, placeholder="all")
    schedules = c.multiselect("Schedule", sorted(frame["schedule"].dropna().unique()),
                              key="trials_schedule", format_func=option, placeholder="all")
    lrs = np.log10(frame["lr"].dropna().to_numpy(float))
    lr_range = None
    if lrs.size and lrs.max() > lrs.min():
        low, high = float(np.floor(lrs.min() * 10) / 10), float(np.ceil(lrs.max() * 10) / 10)
        # A new trial's LR outside the bounds makes a new slider: it starts at the range chosen
        # (none chosen: the full range, new bounds included).
        saved = st.session_state.get("trials_lr_range", (low, high))
        start = (min(max(saved[0], low), high), max(min(saved[1], high), low))
        chosen = st.slider("LR range (log10)", low, high, start, step=0.1,
                           key="trials_lr", format="1e%.1f")
        if chosen != (low, high):
            st.session_state["trials_lr_range"] = chosen
            lr_range = (10 ** chosen[0], 10 ** chosen[1])
        else:
            st.session_state.pop("trials_lr_range", None)
    shown = stats.filter_trials(frame, statuses=statuses or None, optimizers=optimizers or None,
                                schedules=schedules or None, lr_range=lr_range)[SHOWN]
    st.caption(f"{len(shown)} of {len(frame)} trials.")
    st.dataframe(shown, hide_index=True, width="stretch", height=520, column_config={
        "number": st.column_config.NumberColumn("trial"),
        "value": st.column_config.NumberColumn(format="%.4g"),
        "lr": st.column_config.NumberColumn("LR", format="%.3e"),
        "momentum": st.column_config.NumberColumn(format="%.3f"),
        "val_metric": st.column_config.NumberColumn(format="%.4g"),
        "test_metric": st.column_config.NumberColumn(format="%.4g"),
        "started": st.column_config.DatetimeColumn("started (UTC)"),
        "completed": st.column_config.DatetimeColumn("completed (UTC)")})
    st.download_button("Download CSV", shown.to_csv(index=False).encode("utf-8"),
                       file_name="trials.csv", mime="text/csv", key="trials_csv",
                       on_click="ignore")


trial_table()
