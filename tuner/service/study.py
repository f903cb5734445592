"""Creating or joining a study: the spec and its hash, the budget, seed-default trials."""

from __future__ import annotations

import json
import time

import optuna

from ..errors import UsageError
from .problem import Problem
from .samplers import make_pruner, make_sampler


def open_study(storage, problem: Problem, *, n_trials: int | None = None,
               timeout: float | None = None) -> optuna.Study:
    """Create the spec's study, or join it if it exists (safe from many processes at once).

    The study stores ``spec`` (JSON), ``spec_hash``, ``n_trials`` (the study-wide budget),
    ``timeout`` and ``deadline`` in its user attributes; a spec whose hash differs is refused
    (exit 2). ``n_trials``/``timeout`` given here replace the stored budget and time limit
    (a new ``timeout`` counts from now). With ``seed_defaults`` the process that created the
    study queues its optimizers' default trials, as many as the budget allows (processes that
    join at the same moment do not queue them again).
    """
    spec = problem.spec
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = dict(study_name=spec.name, storage=storage,
                 sampler=make_sampler(spec["study.sampler"], spec["study.seed"], spec.space),
                 pruner=make_pruner(spec["study.pruner"]))
    try:                                 # Optuna's unique study name decides who created it
        study, created = optuna.create_study(direction=problem.direction, **names), True
    except optuna.exceptions.DuplicatedStudyError:
        study, created = optuna.load_study(**names), False
    attrs = study.user_attrs
    stored = attrs.get("spec_hash")
    if stored is not None and stored != spec.hash:
        raise UsageError(f"{spec.source}: study {spec.name!r} already exists with a different "
                         f"spec (hash {stored[:12]}, this spec {spec.hash[:12]}); give the study "
                         f"another name, or delete it first: tuner delete {spec.name!r}")
    budget = n_trials if n_trials is not None else attrs.get("n_trials", spec["study.n_trials"])
    if stored is None:
        study.set_user_attr("spec", json.dumps(spec.to_json()))
        study.set_user_attr("spec_hash", spec.hash)
        study.set_user_attr("task", spec["study.task"])
        study.set_user_attr("metric", problem.metric)
    if created and spec["study.seed_defaults"]:   # once; no more than the budget runs
        for params in spec.space.default_trials()[:budget]:
            study.enqueue_trial(params)
    if attrs.get("n_trials") != budget:
        study.set_user_attr("n_trials", budget)
    limit = timeout if timeout is not None else attrs.get("timeout", spec["study.timeout"])
    if limit is not None and (timeout is not None or "deadline" not in attrs):
        study.set_user_attr("timeout", limit)
        study.set_user_attr("deadline", time.time() + limit)
    return study
