"""Writing a trial's buffered record to the RDB storage in one transaction.

Optuna's public storage API commits every intermediate value and user attribute separately
(one transaction each: 30 epochs and a dozen attributes are ~40 commits a trial). tuner buffers
them and writes them together through the same per-row helpers Optuna uses inside its own
methods (``_set_trial_intermediate_value_without_commit``, ``_set_trial_attr_without_commit``),
so rows, value encodings and the "trial is still updatable" check are Optuna's own. Where those
helpers are missing (another Optuna, another storage class) it falls back to the public API.
"""

from __future__ import annotations

from typing import Any

import optuna


def write_trial_record(storage, trial_id: int, intermediate_values: dict[int, float],
                       user_attrs: dict[str, Any]) -> None:
    """Store ``intermediate_values`` (step → value) and ``user_attrs`` of a running trial.

    Raises ``optuna.exceptions.UpdateFinishedTrialError`` if the trial is no longer running
    (failed as stale meanwhile); nothing is written then.
    """
    rdb = getattr(storage, "_backend", storage)          # unwrap Optuna's _CachedStorage
    batched = (isinstance(rdb, optuna.storages.RDBStorage)
               and hasattr(rdb, "_set_trial_intermediate_value_without_commit")
               and hasattr(rdb, "_set_trial_attr_without_commit"))
    if not batched:
        for step, value in intermediate_values.items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        for key, value in user_attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
        return
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session
    with _create_scoped_session(rdb.scoped_session, True) as session:
        for step, value in intermediate_values.items():
            rdb._set_trial_intermediate_value_without_commit(session, trial_id, step, value)
        for key, value in user_attrs.items():
            rdb._set_trial_attr_without_commit(session, models.TrialUserAttributeModel, trial_id,
                                               key, value)
