"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

from __future__ import annotations

import numpy as np

from .adam import Adam, adam_defaults
from .optimizer import Optimizer, check_flag, check_range


class NAdam(Adam):
    """NAdam as ``torch.optim.NAdam``, built on Adam's decay and moments::

        μₜ ← beta1·(1 − ½·0.96^(t·momentum_decay)),   Πₜ ← Πₜ₋₁·μₜ
        m, v ← Adam's moments of g
        d ← √(v / (1 − beta2ᵗ)) + eps
        θ ← θ − lr·(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False):
        check_range("momentum_decay", momentum_decay, 0.0)
        Optimizer.__init__(self, params, adam_defaults(
            lr, betas, eps, weight_decay, momentum_decay=momentum_decay,
            decoupled_weight_decay=check_flag("decoupled_weight_decay", decoupled_weight_decay)))
        self._init_moments()
        for _, state in self._units:
            state["mu_product"] = 1.0

    def _update(self, param, grad, state):
        d = self.defaults
        beta1, beta2 = d["betas"]
        t, lr = self.step_count, d["lr"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * d["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * d["momentum_decay"]))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        g = self._decay(param, grad)
        work = self.scratch(param)
        m, v = self._moments(g, state, work)
        denom = np.sqrt(v * (1.0 / (1.0 - beta2 ** t)))
        denom += d["eps"]
        param -= np.multiply(np.divide(g, denom, out=work),
                             lr * (1.0 - mu) / (1.0 - mu_product), out=work)
        param -= np.multiply(np.divide(m, denom, out=work),
                             lr * mu_next / (1.0 - mu_product * mu_next), out=work)
