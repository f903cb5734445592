"""Adagrad: per-parameter step sizes shrinking with the sum of squared gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_range
from .sgd import with_weight_decay


class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad`` (Duchi et al., 2011)::

        g ← ∇θ + weight_decay·θ
        η ← lr / (1 + (t − 1)·lr_decay)
        s ← s + g²                          (s starts at initial_accumulator_value)
        θ ← θ − η·g / (√s + eps)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        check_range("lr_decay", lr_decay, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_range("initial_accumulator_value", initial_accumulator_value, 0.0)
        check_range("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))
        for p, state in self._units:
            state["sum"] = np.full_like(p, initial_accumulator_value)

    def _update(self, param, grad, state):
        d = self.defaults
        g = with_weight_decay(grad, param, d["weight_decay"])
        clr = d["lr"] / (1.0 + (self.step_count - 1) * d["lr_decay"])
        state["sum"] += g * g
        param -= clr * g / (np.sqrt(state["sum"]) + d["eps"])
