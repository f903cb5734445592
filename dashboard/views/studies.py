"""Studies: every study in the storage with its task, state, trial counts, best value and last
update; pick one (click a row, or the sidebar)."""

import sqlalchemy
import streamlit as st

from tuner.dashboard import loaders, session
from tuner.errors import TunerError

choice = session.current()
st.title("Studies")


def _pick() -> None:
    rows = st.session_state["studies_table"]["selection"]["rows"]
    names = st.session_state.get("studies_shown", [])
    if rows and rows[0] < len(names):
        st.session_state[session.STUDY_KEY] = names[rows[0]]
        st.session_state["studies_picked"] = True


@st.fragment(run_every=choice.run_every)
def studies_table() -> None:
    if st.session_state.pop("studies_picked", False):
        st.rerun()
    try:
        frame = loaders.studies(choice.url)
    except (TunerError, sqlalchemy.exc.SQLAlchemyError) as e:
        session.show_problem(e)
        return
    if frame.empty:
        st.info("No studies in this database yet. Start one with `tuner launch "
                "studies/iris.toml`, or point the dashboard elsewhere with "
                "`tuner dashboard --storage URL`.")
        return
    frame = frame.sort_values("last_update", ascending=False, na_position="last")
    st.session_state["studies_shown"] = frame["study"].tolist()
    running = int((frame["state"] == "running").sum())
    st.caption(f"{len(frame)} studies, {running} running. Click a row to open a study; the "
               "other pages show the study chosen in the sidebar.")
    st.dataframe(
        frame.drop(columns=["study_id"]), hide_index=True, width="stretch",
        on_select=_pick, selection_mode="single-row", key="studies_table",
        column_config={
            "n_trials": st.column_config.NumberColumn("budget"),
            "pruned": st.column_config.NumberColumn("pruned", help="stopped by the pruner or "
                                                    "a time limit (diverged runs not counted)"),
            "best_value": st.column_config.NumberColumn("best value", format="%.4g"),
            "last_update": st.column_config.DatetimeColumn("last update (UTC)",
                                                           format="YYYY-MM-DD HH:mm:ss"),
        })


studies_table()
