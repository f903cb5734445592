"""What every page shares: the storage URL, the sidebar's choices (study, live refresh) and the
opened study — with each problem (unreachable database, no studies, a deleted study, no trials)
shown as a one-line message instead of a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy
import streamlit as st

from tuner.errors import TunerError, UnknownStudyError
from tuner.service.storage import DEFAULT_STORAGE, mask_url

from . import charts, loaders
from .text import md, option

STUDY_KEY = "study"               # session-state key of the chosen study (the sidebar selectbox)
LIVE_KEY, EVERY_KEY = "live", "live_every"
INTERVALS = (2, 5, 10, 30, 60)    # seconds between live refreshes to choose from


def storage_url() -> str:
    """``$TUNER_STORAGE`` (set by ``tuner dashboard``), else the embedded default database."""
    return os.environ.get("TUNER_STORAGE") or DEFAULT_STORAGE


@dataclass(frozen=True)
class Choice:
    """The sidebar's choices: storage ``url``, ``study`` name (None when there is none) and
    the live refresh (``run_every`` is what ``st.fragment`` takes: seconds, or None when off)."""

    url: str
    study: str | None
    live: bool
    interval: int

    @property
    def run_every(self) -> int | None:
        return self.interval if self.live else None


def show_problem(error: Exception) -> None:
    """One message for an error: tuner's own as its text, a database error as one line."""
    if isinstance(error, UnknownStudyError):
        st.warning(md(str(error)) + " — pick another study in the sidebar.")
    elif isinstance(error, TunerError):
        st.error(md(str(error)))
    else:
        text = str(getattr(error, "orig", None) or error).strip().splitlines()
        st.error("The database could not be read: " + md(text[0] if text else type(error).__name__))


def sidebar(url: str) -> Choice:
    """Draw the sidebar (storage, study picker, live switch) and return the choices."""
    bar = st.sidebar
    bar.caption("Storage: " + md(mask_url(url)))
    names: list[str] = []
    try:
        frame = loaders.studies(url)
        names = frame.sort_values("last_update", ascending=False, na_position="last")[
            "study"].tolist()
        warning = loaders.schema_problem(url)
        if warning:
            bar.warning(md(warning))
    except (TunerError, sqlalchemy.exc.SQLAlchemyError) as e:
        with bar:
            show_problem(e)
    if not names:
        st.session_state.pop(STUDY_KEY, None)
    else:
        wanted = st.query_params.get("study")
        if STUDY_KEY not in st.session_state and wanted in names:
            st.session_state[STUDY_KEY] = wanted
        if st.session_state.get(STUDY_KEY) not in names:
            st.session_state[STUDY_KEY] = names[0]
        bar.selectbox("Study", names, key=STUDY_KEY, format_func=option,
                      help="Every study in the storage, most recently updated first.")
    live = bar.toggle("Live refresh", value=True, key=LIVE_KEY,
                      help="Re-read the study while it runs (only new and running trials).")
    interval = bar.select_slider("Refresh every", INTERVALS, value=5, key=EVERY_KEY,
                                 format_func=lambda s: f"{s} s", disabled=not live)
    bar.caption(f"Refreshing every {interval} s." if live else "Live refresh is off.")
    return Choice(url, st.session_state.get(STUDY_KEY), live, interval)


def current() -> Choice:
    """The choices made in the sidebar this run (pages call this)."""
    return Choice(storage_url(), st.session_state.get(STUDY_KEY),
                  bool(st.session_state.get(LIVE_KEY, True)),
                  int(st.session_state.get(EVERY_KEY, 5)))


@dataclass
class StudyView:
    """An opened study: its description (``info``) and trials frame, with helpers."""

    url: str
    info: dict
    trials: pd.DataFrame
    palette: dict = field(default_factory=dict)

    @property
    def study_id(self) -> int:
        return self.info["study_id"]

    @property
    def direction(self) -> str:
        return self.info["direction"]

    @property
    def metric(self) -> str:
        return self.info.get("metric") or "value"

    @property
    def finished(self) -> pd.DataFrame:
        return self.trials[self.trials["state"].isin(["COMPLETE", "PRUNED"])]

    @property
    def complete(self) -> pd.DataFrame:
        return self.trials[self.trials["state"] == "COMPLETE"]


STUDY_WIDGETS = ("curves_picked", "surface_trials", "surface_trials_early", "trials_state",
                 "trials_optimizer", "trials_schedule", "trials_lr", "trials_lr_range")
"""Session-state keys of choices made about one study's trials (trial numbers, filters): they
are dropped when another study is chosen, not carried over to trials of the same numbers."""


def _forget_other_studys_choices(url: str, study: str) -> None:
    shown = (url, study)
    if st.session_state.get("study_of_choices") != shown:
        for key in STUDY_WIDGETS:
            st.session_state.pop(key, None)
        st.session_state["study_of_choices"] = shown


def open_study(choice: Choice) -> StudyView | None:
    """The chosen study with its trials, or None after showing why there is none to show."""
    if choice.study is None:
        st.info("No studies in this database yet. Start one with `tuner launch "
                "studies/iris.toml` (or point the dashboard elsewhere with "
                "`tuner dashboard --storage URL`).")
        return None
    try:
        info = loaders.study_info(choice.url, choice.study)
        frame = loaders.trials(choice.url, info["study_id"])
    except (TunerError, sqlalchemy.exc.SQLAlchemyError) as e:
        show_problem(e)
        return None
    _forget_other_studys_choices(choice.url, info["study"])
    st.caption(f"Study **{md(info['study'])}** · task {md(info.get('task') or '?')} · "
               f"{md(info['direction'])} {md(info.get('metric') or 'value')} · "
               f"{len(frame)} trials")
    if frame.empty:
        st.info("This study has no trials yet; they appear here as workers start them.")
        return None
    return StudyView(choice.url, info, frame, charts.colours(frame["optimizer"].dropna()))


def need_finished(view: StudyView) -> bool:
    """Whether the study has a finished trial; shows a message when not."""
    if view.finished.empty:
        running = int((view.trials["state"] == "RUNNING").sum())
        st.info(f"No trial has finished yet ({running} running); results appear here as "
                "trials complete.")
        return False
    return True


def need_complete(view: StudyView) -> bool:
    """Whether the study has a complete trial; shows a message when not (e.g. all diverged)."""
    if view.complete.empty:
        diverged = int(view.trials["diverged"].sum())
        st.info(f"No trial has completed yet ({diverged} diverged, "
                f"{len(view.finished) - diverged} pruned); a best configuration appears "
                "once one completes.")
        return False
    return True
