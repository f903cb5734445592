"""The Streamlit caches around :mod:`dashboard.data`: the engine as a resource, reads as data
with a time to live. Every function takes what it reads as arguments (never a global), so the
storage URL and study id are part of each cache key.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy
import streamlit as st

from tuner import tables

from . import data
from .live import LiveTrials

STUDIES_TTL = 2.0        # seconds a studies list or a study's description is reused
CURVES_TTL = 5.0         # per-trial curves and paths (a running trial's grow)
IMPORTANCE_TTL = 120.0   # importance is recomputed when complete trials are added, or after


@st.cache_resource(show_spinner=False)
def engine(url: str) -> sqlalchemy.Engine:
    """One read-only engine (and connection pool) per storage URL for the whole server."""
    return tables.create_engine(url)


@st.cache_data(ttl=STUDIES_TTL, show_spinner=False)
def studies(url: str) -> pd.DataFrame:
    """:func:`dashboard.data.studies`."""
    return data.studies(url, engine=engine(url))


@st.cache_data(ttl=STUDIES_TTL, show_spinner=False)
def study_info(url: str, study: str) -> dict:
    """:func:`dashboard.data.study_info` (raises ``UnknownStudyError`` when deleted)."""
    return data.study_info(url, study, engine=engine(url))


@st.cache_resource(show_spinner=False, max_entries=32)
def live_trials(url: str, study_id: int) -> LiveTrials:
    """The shared incrementally refreshed trial frame of one study."""
    return LiveTrials(url, study_id)


def trials(url: str, study_id: int) -> pd.DataFrame:
    """The study's trials, reading only what changed since the last call (see :mod:`.live`)."""
    return live_trials(url, study_id).current(engine(url))


@st.cache_data(ttl=CURVES_TTL, show_spinner=False, max_entries=256)
def curves(url: str, study_id: int, numbers: tuple[int, ...]) -> pd.DataFrame:
    """:func:`dashboard.data.curves` of the trials shown."""
    return data.curves(url, study_id, numbers, engine=engine(url))


@st.cache_data(ttl=CURVES_TTL, show_spinner=False, max_entries=64)
def paths(url: str, study_id: int, numbers: tuple[int, ...]) -> pd.DataFrame:
    """:func:`dashboard.data.paths` of the trials shown."""
    return data.paths(url, study_id, numbers, engine=engine(url))


@st.cache_data(ttl=CURVES_TTL, show_spinner=False, max_entries=64)
def trial_params(url: str, study_id: int, number: int) -> dict:
    """:func:`dashboard.data.trial_params`."""
    return data.trial_params(url, study_id, number, engine=engine(url))


@st.cache_data(ttl=IMPORTANCE_TTL, show_spinner=False, max_entries=16)
def importances(url: str, study_id: int, direction: str, complete: int) -> pd.DataFrame:
    """:func:`dashboard.data.importances`; ``complete`` (the number of complete trials it was
    asked for) is part of the key, so new results are taken into account when asked again."""
    return data.importances(url, study_id, direction, engine=engine(url))


@st.cache_data(show_spinner=False, max_entries=8)
def surface_grid(task: str):
    """:func:`dashboard.data.surface_grid`."""
    return data.surface_grid(task)


@st.cache_data(ttl=60.0, show_spinner=False)
def schema_problem(url: str) -> str | None:
    """:func:`tuner.tables.schema_problem` (a warning when Optuna's schema moved on)."""
    return tables.schema_problem(engine(url))
