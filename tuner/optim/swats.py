"""SWATS: start with Adam, switch once to SGD with momentum (Keskar & Socher, 2017)."""

from __future__ import annotations

import numpy as np

from .adam import Adam, adam_defaults
from .optimizer import Optimizer, check_range


class SWATS(Adam):
    """Adam until the switch test passes, then SGD with momentum at the LR Adam's steps imply.

    Adam phase (the Adam step ``p`` of :class:`Adam`, over all parameters as one vector)::

        θ ← θ + p
        if pᵀg ≠ 0:
            γ ← pᵀp / (−pᵀg)                    (the SGD LR whose step projects onto p)
            λ ← beta2·λ + (1 − beta2)·γ
            if t > 1 and |λ/(1 − beta2ᵗ) − γ| < switch_eps:
                switch to SGD;  lr ← λ/(1 − beta2ᵗ)

    SGD phase (after the switch; ``lr`` is now the SGD LR, which schedules scale)::

        b ← beta1·b + g
        θ ← θ − (1 − beta1)·lr·b

    The switch is global (one test over all parameters), as in the paper's Algorithm 1. Two
    departures: the Adam step is PyTorch's (eps outside the bias-corrected root, so a run before
    the switch equals :class:`Adam`), and L2 ``weight_decay`` is added to g in both phases.
    ``phase`` ("adam" or "sgd"), ``switch_step`` and the running ``lambda`` are in ``state_dict``.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, switch_eps: float = 1e-9):
        check_range("switch_eps", switch_eps, 0.0, low_open=True)
        Optimizer.__init__(self, params, adam_defaults(lr, betas, eps, weight_decay,
                                                       switch_eps=switch_eps))
        self._init_moments()
        self.phase = "adam"
        self.switch_step: int | None = None
        self.lambda_ = 0.0

    def _step(self, grads):
        gs = [self._decay(p, g) for (p, _), g in zip(self._units, grads)]
        if self.phase == "sgd":
            beta1 = self.defaults["betas"][0]
            for (p, state), g in zip(self._units, gs):
                buf = state.setdefault("momentum_buffer", np.zeros_like(p))
                buf *= beta1
                buf += g
                p -= (1.0 - beta1) * self.defaults["lr"] * buf
            return
        p_dot_g = p_dot_p = 0.0
        for (p, state), g in zip(self._units, gs):
            step = self._adam_step(g, state, self.scratch(p))
            p += step
            p_dot_g += float(np.vdot(step, g))
            p_dot_p += float(np.vdot(step, step))
        if p_dot_g != 0.0:
            self._switch_test(p_dot_p / -p_dot_g)

    def _switch_test(self, gamma: float) -> None:
        beta2 = self.defaults["betas"][1]
        t = self.step_count
        self.lambda_ = beta2 * self.lambda_ + (1.0 - beta2) * gamma
        estimate = self.lambda_ / (1.0 - beta2 ** t)
        if t > 1 and abs(estimate - gamma) < self.defaults["switch_eps"] and estimate > 0:
            self.phase, self.switch_step = "sgd", t
            self.lr = estimate

    def _extra_state(self):
        return {"phase": self.phase, "switch_step": self.switch_step, "lambda": self.lambda_}

    def _load_extra_state(self, state_dict):
        self.phase = state_dict["phase"]
        self.switch_step = state_dict["switch_step"]
        self.lambda_ = float(state_dict["lambda"])

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, phase={self.phase!r})"
