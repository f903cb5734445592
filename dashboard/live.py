"""A study's trial frame kept current by reading only what changed.

The first read takes every trial (without curves); each refresh after that reads the trials
created since, those that were still RUNNING or WAITING, any number missing (a trial that
committed after a later one) and the oldest finished trial, then merges them in
(:func:`dashboard.data.trial_changes`, :func:`dashboard.data.merge_trials`), or reads the
study afresh if those show it deleted and created again under the same id
(:func:`dashboard.data.study_replaced`). One :class:`LiveTrials` per (storage, study id) is shared
by every browser session through ``st.cache_resource``; a lock keeps refreshes one at a time.
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import sqlalchemy

from . import data


class LiveTrials:
    """``current(engine)`` → the study's :func:`dashboard.data.trials` frame, refreshed at most
    once per ``min_interval`` seconds; ``reads`` counts the rows read by the last refresh."""

    def __init__(self, url: str, study_id: int, *, min_interval: float = 1.0):
        self.url, self.study_id, self.min_interval = url, study_id, min_interval
        self.frame: pd.DataFrame | None = None
        self.refreshed = 0.0
        self.reads = 0
        self._lock = threading.Lock()

    def current(self, engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
        with self._lock:
            now = time.monotonic()
            if self.frame is None:
                self.frame = data.trials(self.url, self.study_id, engine=engine)
                self.reads = len(self.frame)
            elif now - self.refreshed >= self.min_interval:
                changes = data.trial_changes(self.url, self.study_id, self.frame, engine=engine)
                if data.study_replaced(self.frame, changes):       # deleted, created again
                    changes = data.trials(self.url, self.study_id, engine=engine)
                    self.frame = changes
                else:
                    self.frame = data.merge_trials(self.frame, changes)
                self.reads = len(changes)
            else:
                return self.frame
            self.refreshed = now
            return self.frame
