"""The optimizer protocol shared by every algorithm in :mod:`tuner.optim`.

An optimizer owns a list of parameter arrays and updates them *in place*::

    opt = SGD(params, lr=0.1, momentum=0.9)
    loss, grads = model.loss_and_grads(X, y)
    opt.step(grads)          # grads in the order of params

``opt.lr`` is read and written by the schedules; ``state_dict()`` returns a deep copy of
everything the next step depends on (hyperparameters, step count, per-parameter buffers),
and ``load_state_dict`` restores it, so a run resumed from a state dict continues bit for bit.
The per-parameter buffers are named after PyTorch's (``momentum_buffer``, ``exp_avg``,
``exp_avg_sq``, ...) and one parameter group is supported.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence

import numpy as np

from .flat import FlatArrays


def check_range(name: str, value: float, low: float, high: float | None = None,
                *, low_open: bool = False, high_open: bool = True) -> None:
    """Raise ``ValueError`` unless ``low <= value < high`` (bounds' openness as given).

    The message names the argument, the value and the allowed range, e.g.
    ``Invalid momentum value: -0.1 (allowed: 0 <= momentum < 1)``.
    """
    lower = f"{low:g} {'<' if low_open else '<='} {name}"
    allowed = lower if high is None else f"{lower} {'<' if high_open else '<='} {high:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name} value: {value!r} is not a number (allowed: {allowed})")
    ok = np.isfinite(value) and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"Invalid {name} value: {value!r} (allowed: {allowed})")


def check_flag(name: str, value) -> bool:
    """``value`` as a bool, or ``ValueError`` naming the argument unless it is one (a string
    such as "false" is refused, not read as true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid {name} value: {value!r} (allowed: True or False)")
    return bool(value)


class Optimizer:
    """Base class: parameter bookkeeping, ``lr``, ``state_dict``; subclasses define ``_update``.

    Subclasses store their hyperparameters in ``self.defaults`` (PyTorch's name for them),
    validate them in ``__init__``, create their buffers for each ``(param, state)`` of
    ``self._units``, and implement ``_update(param, grad, state)``, which updates ``param`` in
    place using its ``state`` dict. A unit is one parameter array, or, when ``params`` are
    :class:`~tuner.optim.flat.FlatArrays`, their whole flat buffer (one call per step; the
    rules are elementwise, so the numbers are the same). ``self.step_count`` is the number of
    the step being taken (1 on the first call), like PyTorch's ``state["step"]``.
    """

    def __init__(self, params: Sequence[np.ndarray], defaults: dict):
        self.params = list(params)
        if not self.params:
            raise ValueError("Invalid params value: [] (allowed: a non-empty list of arrays)")
        for p in self.params:
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise ValueError(f"Invalid params value: {type(p).__name__} "
                                 "(allowed: floating-point numpy arrays, updated in place)")
        check_range("lr", defaults["lr"], 0.0)
        self.defaults = dict(defaults)
        self.initial_lr: float | None = None  # set by the first schedule attached (PyTorch's)
        self.step_count = 0
        # The arrays ``_update`` works on, each with its state: the parameters one by one, or,
        # when they are FlatArrays, their whole buffer at once (see tuner.optim.flat).
        self._flat = params if isinstance(params, FlatArrays) else None
        self._units: list[tuple[np.ndarray, dict]] = (
            [(params.flat, {})] if self._flat is not None else [(p, {}) for p in self.params])
        self._scratch: dict[int, np.ndarray] = {}

    def scratch(self, param: np.ndarray) -> np.ndarray:
        """A work array shaped like ``param``, reused across steps (not part of the state)."""
        buf = self._scratch.get(id(param))
        if buf is None:
            buf = self._scratch[id(param)] = np.empty_like(param)
        return buf

    @property
    def lr(self) -> float:
        """The learning rate used by the next step; schedules write it."""
        return self.defaults["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        check_range("lr", value, 0.0)
        self.defaults["lr"] = float(value)

    @property
    def state(self) -> list[dict]:
        """Each parameter's buffers (PyTorch's names), in the order of ``params``: the arrays
        are the optimizer's own (views, when it updates a flat buffer), not copies."""
        if self._flat is None:
            return [state for _, state in self._units]
        (_, flat_state), = self._units
        split = {k: self._flat.split(v) for k, v in flat_state.items()
                 if isinstance(v, np.ndarray)}
        return [{k: split[k][i] if k in split else v for k, v in flat_state.items()}
                for i in range(len(self.params))]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every parameter in place from ``grads`` (same order and shapes as ``params``)."""
        if (self._flat is not None and isinstance(grads, FlatArrays)
                and grads.layout == self._flat.layout):
            unit_grads: Sequence[np.ndarray] = (grads.flat,)
        else:
            self._check_grads(grads)
            unit_grads = grads if self._flat is None else (self._concatenated(grads),)
        self.step_count += 1
        self._step(unit_grads)

    def _check_grads(self, grads: Sequence[np.ndarray]) -> None:
        if len(grads) != len(self.params):
            raise ValueError(f"Invalid grads value: {len(grads)} arrays "
                             f"(allowed: one per parameter, {len(self.params)})")
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if np.shape(g) != p.shape:
                raise ValueError(f"Invalid grads value: grads[{i}] has shape {np.shape(g)} "
                                 f"(allowed: the shape of params[{i}], {p.shape})")

    def _concatenated(self, grads: Sequence[np.ndarray]) -> np.ndarray:
        """``grads`` joined into one array laid out as the flat parameters."""
        return np.concatenate([np.ravel(g) for g in grads]).astype(self._flat.flat.dtype,
                                                                   copy=False)

    def _step(self, grads: Sequence[np.ndarray]) -> None:
        """One update of every unit (a parameter, or the flat buffer) from its gradient."""
        for (p, state), g in zip(self._units, grads):
            self._update(p, g, state)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """A deep copy of the hyperparameters, the step count and every per-parameter buffer."""
        return {"defaults": dict(self.defaults), "step": self.step_count,
                "initial_lr": self.initial_lr,
                "state": copy.deepcopy(self.state), **self._extra_state()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned; the next step continues that run exactly."""
        states = state_dict["state"]
        if len(states) != len(self.params):
            raise ValueError(f"Invalid state_dict value: state for {len(states)} "
                             f"parameters (allowed: one per parameter, {len(self.params)})")
        self.defaults = dict(state_dict["defaults"])
        self.step_count = int(state_dict["step"])
        self.initial_lr = state_dict["initial_lr"]
        if self._flat is None:
            self._units = [(p, copy.deepcopy(s)) for p, s in zip(self.params, states)]
        else:   # per-parameter buffers joined into flat ones; scalars are shared by all
            self._units = [(self._flat.flat, {
                k: (np.concatenate([np.ravel(s[k]) for s in states]).astype(self._flat.flat.dtype)
                    if isinstance(v, np.ndarray) else copy.deepcopy(v))
                for k, v in states[0].items()})]
        self._load_extra_state(state_dict)

    def _extra_state(self) -> dict:
        """Optimizer-wide state beyond the per-parameter buffers (SWATS' phase, for one)."""
        return {}

    def _load_extra_state(self, state_dict: dict) -> None:
        pass

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({args})"
