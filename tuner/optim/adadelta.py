"""Adadelta: RMSprop whose step is rescaled by a running RMS of past updates."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_range
from .sgd import with_weight_decay


class Adadelta(Optimizer):
    """Adadelta as ``torch.optim.Adadelta`` (Zeiler, 2012)::

        g ← ∇θ + weight_decay·θ
        v ← rho·v + (1 − rho)·g²
        Δ ← √(u + eps) / √(v + eps) · g
        u ← rho·u + (1 − rho)·Δ²
        θ ← θ − lr·Δ

    ``lr`` scales Δ (PyTorch's addition; 1.0 is the paper's algorithm).
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        check_range("rho", rho, 0.0, 1.0, high_open=False)
        check_range("eps", eps, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))
        for p, state in self._units:
            state["square_avg"] = np.zeros_like(p)
            state["acc_delta"] = np.zeros_like(p)

    def _update(self, param, grad, state):
        d = self.defaults
        rho, eps = d["rho"], d["eps"]
        g = with_weight_decay(grad, param, d["weight_decay"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1.0 - rho) * g * g
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1.0 - rho) * delta * delta
        param -= d["lr"] * delta
