"""The training loop: one seeded function that returns a history and never raises on divergence."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .metrics import METRICS
from .optim import create
from .schedules import ReduceLROnPlateau, create_schedule


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: numbered from 1; ``lr`` is the LR in force during the epoch."""

    epoch: int
    train_loss: float
    val_loss: float
    val_metric: float
    lr: float
    seconds: float


@dataclass
class History:
    """What :func:`train` returns: a record per completed epoch and how the run ended.

    ``diverged`` runs stop inside ``diverged_epoch`` (which has no record); ``stopped_epoch``
    is set when ``on_epoch`` asked to stop after that epoch (pruning).
    """

    metric: str
    records: list[EpochRecord] = field(default_factory=list)
    diverged: bool = False
    diverged_epoch: int | None = None
    stopped_epoch: int | None = None

    def column(self, name: str) -> list[float]:
        """One field of every record, e.g. ``history.column("val_metric")``."""
        return [getattr(r, name) for r in self.records]

    @property
    def final(self) -> EpochRecord | None:
        """The last completed epoch's record (None if none completed)."""
        return self.records[-1] if self.records else None

    def to_dict(self) -> dict:
        return {"metric": self.metric, "diverged": self.diverged,
                "diverged_epoch": self.diverged_epoch, "stopped_epoch": self.stopped_epoch,
                "records": [asdict(r) for r in self.records]}


def optimizer_and_schedule(config: dict, params, *, epochs: int):
    """The optimizer over ``params`` and the schedule (None for a constant LR) that a resolved
    configuration names: ``optimizer``, ``lr``, ``optimizer_args``, ``schedule``,
    ``schedule_args``, ``warmup_epochs`` (as trials store it), for a run of ``epochs``."""
    optimizer = create(config["optimizer"], params, lr=config["lr"], **config["optimizer_args"])
    schedule = create_schedule(config["schedule"], optimizer, epochs=epochs,
                               warmup_epochs=config["warmup_epochs"], **config["schedule_args"])
    return optimizer, schedule


def evaluate(model, X, y, metric: str) -> tuple[float, float]:
    """``(loss, metric)`` of ``model`` on ``X, y`` from one forward pass."""
    output = model.forward(X)
    loss = model.loss(output, y)
    return loss, METRICS[metric].score(y, output, loss)


DIVERGENCE_ROWS = 32
"""The fewest rows the divergence check judges a loss on (see :func:`train`)."""


def _recent_mean(recent: deque, loss: float, rows: int) -> float:
    """The mean loss per row over the latest batches, ``loss`` (of ``rows`` rows) the last,
    making at least ``DIVERGENCE_ROWS`` rows (fewer at the start); ``recent`` keeps them."""
    recent.append((loss, rows))
    total = sum(r for _, r in recent)
    while total - recent[0][1] >= DIVERGENCE_ROWS:
        total -= recent.popleft()[1]
    return sum(l * r for l, r in recent) / total


def train(model, optimizer, data, *, epochs: int, batch_size: int = 32, schedule=None,
          metric: str = "loss", seed: int = 0,
          on_epoch: Callable[[EpochRecord], bool | None] | None = None,
          divergence_factor: float = 10.0) -> History:
    """Train ``model`` with ``optimizer`` on ``data`` for up to ``epochs`` epochs.

    Each epoch runs minibatches over a fresh permutation of the training indices (drawn from
    ``numpy.random.default_rng(seed)``), evaluates the validation split, steps the schedule
    (``ReduceLROnPlateau`` is fed the validation loss) and calls ``on_epoch(record)``; a true
    return value stops the run after that epoch. ``data`` provides ``batches(rng, batch_size)``,
    ``start`` and ``validation``; ``model`` provides ``loss_and_grads``, ``forward`` and
    ``loss``.

    Divergence is a result, not an exception: a non-finite batch loss, or a batch loss above
    ``divergence_factor`` × the starting loss (the initial model's loss on ``data.start``, when
    that is positive), checked every batch — batches under ``DIVERGENCE_ROWS`` rows averaged
    with the ones before them up to that many rows, so that one hard sample is not a
    divergence —, or a non-finite validation loss, ends the run with ``history.diverged`` set
    and the epoch it happened in. The same seed, model and data give the same numbers bit for
    bit.
    """
    if metric not in METRICS:
        raise ValueError(f"Invalid metric value: {metric!r} (allowed: {', '.join(METRICS)})")
    rng = np.random.default_rng(seed)
    history = History(metric=metric)
    with np.errstate(all="ignore"):              # a non-finite start only loses the bound
        start = model.loss(model.forward(data.start[0]), data.start[1])
    limit = divergence_factor * start if start > 0 else math.inf
    recent: deque[tuple[float, int]] = deque()   # small batches' (loss, rows), the last ones
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        lr = optimizer.lr
        total, count = 0.0, 0
        for X, y in data.batches(rng, batch_size):
            loss, grads = model.loss_and_grads(X, y)
            n = 1 if y is None else len(y)
            checked = loss                           # a full batch, or a surface's step
            if y is not None and n < DIVERGENCE_ROWS:
                checked = _recent_mean(recent, loss, n)
            if not (loss < math.inf and checked <= limit):     # also catches NaN
                history.diverged, history.diverged_epoch = True, epoch
                return history
            optimizer.step(grads)
            total += loss * n
            count += n
        val_loss, val_metric = evaluate(model, *data.validation, metric)
        if not math.isfinite(val_loss):
            history.diverged, history.diverged_epoch = True, epoch
            return history
        if isinstance(schedule, ReduceLROnPlateau):
            schedule.step(val_loss)
        elif schedule is not None:
            schedule.step()
        record = EpochRecord(epoch, total / count, val_loss, val_metric, lr,
                             time.perf_counter() - started)
        history.records.append(record)
        if on_epoch is not None and on_epoch(record):
            history.stopped_epoch = epoch
            break
    return history
