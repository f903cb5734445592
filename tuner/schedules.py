"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s names, arguments and semantics.

A schedule is attached to an optimizer and stepped once per epoch, after the epoch's
optimizer steps; ``step()`` writes ``optimizer.lr``::

    opt = SGD(params, lr=0.1, momentum=0.9)
    sched = StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(opt)           # uses opt.lr
        sched.step()                   # ReduceLROnPlateau: sched.step(val_loss)

As in PyTorch the epoch schedules are *chainable*: each step multiplies the LR in force, so a
change made to ``opt.lr`` meanwhile (SWATS' switch to its SGD LR, for one) is scaled from then
on. ``base_lr`` is the optimizer's LR when the first schedule was attached.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from types import MappingProxyType

from .optim.optimizer import Optimizer, check_range


def check_int(name: str, value, low: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"Invalid {name} value: {value!r} (allowed: an integer >= {low})")


class LRScheduler:
    """Base of the epoch schedules: ``last_epoch`` counts steps (0 after construction)."""

    def __init__(self, optimizer: Optimizer):
        if optimizer.initial_lr is None:
            optimizer.initial_lr = optimizer.lr
        self.optimizer = optimizer
        self.base_lr = optimizer.initial_lr
        self.last_epoch = -1
        self.step()

    def step(self) -> None:
        """Advance one epoch and write the new LR (computed from the LR in force)."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()

    def restart(self) -> None:
        """Jump to epoch 0 of this schedule (closed form), as SequentialLR does at a milestone."""
        self.last_epoch = 0
        self.optimizer.lr = self.closed_form_lr()

    def get_lr(self) -> float:
        raise NotImplementedError

    def closed_form_lr(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if k not in ("optimizer", "base_lr", "last_epoch", "schedulers"))
        return f"{type(self).__name__}({args})"


class StepLR(LRScheduler):
    """``lr = base_lr · gamma^⌊epoch / step_size⌋``: decay by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        check_int("step_size", step_size, 1)
        check_range("gamma", gamma, 0.0, low_open=True)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def get_lr(self):
        lr = self.optimizer.lr
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return lr
        return lr * self.gamma

    def closed_form_lr(self):
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """``lr = base_lr · gamma^epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        check_range("gamma", gamma, 0.0, low_open=True)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self):
        return self.optimizer.lr if self.last_epoch == 0 else self.optimizer.lr * self.gamma

    def closed_form_lr(self):
        return self.base_lr * self.gamma ** self.last_epoch


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch / T_max)) / 2`` (Loshchilov & Hutter).

    Stepped in PyTorch's recursive form, which equals the closed form when nothing else
    touches the LR; past ``T_max`` the LR rises again (a cosine period is ``2·T_max``).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):  # noqa: N803
        check_int("T_max", T_max, 1)
        check_range("eta_min", eta_min, 0.0)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self):
        lr, t, T = self.optimizer.lr, self.last_epoch, self.T_max
        if t == 0:
            return lr
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (self.base_lr - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
        return ((1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - self.eta_min) + self.eta_min)

    def closed_form_lr(self):
        return (self.eta_min + (self.base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2)


class LinearLR(LRScheduler):
    """Warm-up: the factor on ``base_lr`` goes linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs, then stays: ``f = start + (end − start)·min(epoch, total_iters)/total_iters``.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5):
        check_range("start_factor", start_factor, 0.0, 1.0, low_open=True, high_open=False)
        check_range("end_factor", end_factor, 0.0, 1.0, high_open=False)
        check_int("total_iters", total_iters, 1)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def get_lr(self):
        lr, t = self.optimizer.lr, self.last_epoch
        if t == 0:
            return lr * self.start_factor
        if t > self.total_iters:
            return lr
        rise = self.end_factor - self.start_factor
        return lr * (1.0 + rise / (self.total_iters * self.start_factor + (t - 1) * rise))

    def closed_form_lr(self):
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                               * min(self.total_iters, self.last_epoch) / self.total_iters)


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from ``milestones[i − 1]`` on; each restarts from ``base_lr``.

    >>> from tuner.optim import SGD
    >>> import numpy as np
    >>> opt = SGD([np.zeros(1)], lr=1.0)
    >>> warm = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> decay = CosineAnnealingLR(opt, T_max=4)
    >>> sched = SequentialLR(opt, schedulers=[warm, decay], milestones=[3])
    >>> lrs = [opt.lr]
    >>> for _ in range(6):
    ...     sched.step(); lrs.append(round(opt.lr, 4))
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464]
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int]):
        if not schedulers:
            raise ValueError("Invalid schedulers value: [] (allowed: one or more schedules)")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or isinstance(s, SequentialLR):
                raise ValueError(f"Invalid schedulers[{i}] value: {s!r} (allowed: StepLR, "
                                 "ExponentialLR, CosineAnnealingLR or LinearLR; not ReduceLROnPlateau)")
            if s.optimizer is not optimizer:
                raise ValueError(f"Invalid schedulers[{i}] value: {s!r} is attached to another "
                                 "optimizer (allowed: schedules of this optimizer)")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Invalid milestones value: {milestones!r} (allowed: "
                             f"{len(schedulers) - 1} milestones for {len(schedulers)} schedules)")
        for m in milestones:
            check_int("milestones", m, 1)
        if list(milestones) != sorted(set(milestones)):
            raise ValueError(f"Invalid milestones value: {milestones!r} (allowed: increasing)")
        self.optimizer, self.schedulers, self.milestones = optimizer, list(schedulers), list(milestones)
        self.base_lr = optimizer.initial_lr
        self.last_epoch = 0
        optimizer.lr = optimizer.initial_lr  # undo what constructing the schedules did
        for s in self.schedulers:
            s.last_epoch -= 1
        self.schedulers[0].step()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect_right(self.milestones, self.last_epoch)
        if i > 0 and self.milestones[i - 1] == self.last_epoch:
            self.schedulers[i].restart()
        else:
            self.schedulers[i].step()

    def __repr__(self) -> str:
        return f"SequentialLR(schedulers={self.schedulers!r}, milestones={self.milestones!r})"


class ReduceLROnPlateau:
    """Multiply the LR by ``factor`` when the watched metric has not improved for more than
    ``patience`` epochs (the lecture's "halve the LR when the loss stops improving": factor 0.5).

    ``step(metric)`` once per epoch. Improvement in mode "min" means ``metric < best·(1 − threshold)``
    (``threshold_mode="rel"``) or ``metric < best − threshold`` ("abs"); "max" mirrors it. After a
    reduction, ``cooldown`` epochs pass in which bad epochs are not counted. The LR never goes
    below ``min_lr``, and a reduction smaller than ``eps`` is skipped. As ``torch.optim.lr_scheduler``.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8):
        if mode not in ("min", "max"):
            raise ValueError(f"Invalid mode value: {mode!r} (allowed: 'min', 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"Invalid threshold_mode value: {threshold_mode!r} "
                             "(allowed: 'rel', 'abs')")
        check_range("factor", factor, 0.0, 1.0, low_open=True)
        check_int("patience", patience, 0)
        check_range("threshold", threshold, 0.0)
        check_int("cooldown", cooldown, 0)
        check_range("min_lr", min_lr, 0.0)
        check_range("eps", eps, 0.0)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def is_better(self, metric: float) -> bool:
        if self.threshold_mode == "rel":
            bound = self.best * (1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold)
        else:
            bound = self.best - self.threshold if self.mode == "min" else self.best + self.threshold
        return metric < bound if self.mode == "min" else metric > bound

    def step(self, metric: float) -> None:
        metric = float(metric)
        self.last_epoch += 1
        if self.is_better(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor!r}, "
                f"patience={self.patience!r}, threshold={self.threshold!r}, "
                f"threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown!r}, "
                f"min_lr={self.min_lr!r})")


SCHEDULES = MappingProxyType({
    "constant": None,
    "step": StepLR,
    "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR,
    "plateau": ReduceLROnPlateau,
})
"""The names studies use for schedules; "constant" means no schedule."""


def create_schedule(name: str, optimizer: Optimizer, *, epochs: int, warmup_epochs: int = 0,
                    **params):
    """Build the schedule a study calls ``name``, optionally after a linear warm-up.

    Warm-up (``warmup_epochs = w > 0``, not with "plateau") ramps the LR as
    ``lr·(e + 1)/(w + 1)`` for epochs ``e = 0 … w − 1``, then runs the schedule from ``lr``
    (``SequentialLR(opt, [LinearLR(opt, 1/(w + 1), 1, w), schedule], milestones=[w])``).
    "cosine" takes ``T_max = epochs − w`` unless given. "plateau" watches the validation loss
    (mode "min"). Returns ``None`` for "constant" without warm-up.

    >>> from tuner.optim import SGD
    >>> import numpy as np
    >>> create_schedule("plateau", SGD([np.zeros(1)], lr=0.1), epochs=30, factor=0.5, patience=3)
    ReduceLROnPlateau(mode='min', factor=0.5, patience=3, threshold=0.0001, threshold_mode='rel', cooldown=0, min_lr=0.0)
    """
    if name not in SCHEDULES:
        raise ValueError(f"Invalid schedule value: {name!r} (allowed: {', '.join(SCHEDULES)})")
    check_int("epochs", epochs, 1)
    check_int("warmup_epochs", warmup_epochs, 0)
    if warmup_epochs and name == "plateau":
        raise ValueError("Invalid warmup_epochs value: warm-up before 'plateau' "
                         "(allowed: 0 with plateau; warm-up chains into step, exponential, cosine)")
    if warmup_epochs >= epochs:
        raise ValueError(f"Invalid warmup_epochs value: {warmup_epochs!r} "
                         f"(allowed: fewer than epochs, {epochs})")
    cls = SCHEDULES[name]
    if cls is CosineAnnealingLR:
        params.setdefault("T_max", epochs - warmup_epochs)
    if not warmup_epochs:
        return cls(optimizer, **params) if cls else None
    warmup = LinearLR(optimizer, start_factor=1.0 / (warmup_epochs + 1), end_factor=1.0,
                      total_iters=warmup_epochs)
    main = cls(optimizer, **params) if cls else ExponentialLR(optimizer, gamma=1.0)
    return SequentialLR(optimizer, schedulers=[warmup, main], milestones=[warmup_epochs])
