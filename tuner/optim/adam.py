"""Adam and AdamW: adaptive per-parameter steps with momentum (Kingma & Ba, 2014)."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, check_flag, check_range
from .sgd import with_weight_decay


def adam_defaults(lr, betas, eps, weight_decay, **flags) -> dict:
    """Validated hyperparameters shared by the Adam family; ``flags`` are the variant's own."""
    if len(betas) != 2:
        raise ValueError(f"Invalid betas value: {betas!r} (allowed: a pair (beta1, beta2))")
    beta1, beta2 = (float(b) for b in betas)
    check_range("beta1", beta1, 0.0, 1.0)
    check_range("beta2", beta2, 0.0, 1.0)
    check_range("eps", eps, 0.0)
    check_range("weight_decay", weight_decay, 0.0)
    return dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, **flags)


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam``::

        g ← ∇θ + weight_decay·θ          (L2; with decoupled_weight_decay: θ ← θ·(1 − lr·weight_decay))
        m ← beta1·m + (1 − beta1)·g
        v ← beta2·v + (1 − beta2)·g²
        v̂ ← max(v̂, v) if amsgrad, else v
        θ ← θ − lr/(1 − beta1ᵗ) · m / (√v̂ / √(1 − beta2ᵗ) + eps)

    eps sits outside the bias-corrected square root, as in PyTorch.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, adam_defaults(
            lr, betas, eps, weight_decay, amsgrad=check_flag("amsgrad", amsgrad),
            decoupled_weight_decay=check_flag("decoupled_weight_decay", decoupled_weight_decay)))
        self._init_moments()

    def _init_moments(self) -> None:
        for p, state in self._units:
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.defaults.get("amsgrad"):
                state["max_exp_avg_sq"] = np.zeros_like(p)

    def _decay(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Apply weight decay: decoupled (shrink ``param`` in place) or L2 (returned gradient)."""
        d = self.defaults
        if d.get("decoupled_weight_decay"):
            if d["weight_decay"]:
                param *= 1.0 - d["lr"] * d["weight_decay"]
            return grad
        return with_weight_decay(grad, param, d["weight_decay"])

    def _moments(self, g: np.ndarray, state: dict, work: np.ndarray):
        """Update and return the first and second moment estimates ``m`` and ``v`` in place
        (``work``: a scratch array shaped like ``g``)."""
        beta1, beta2 = self.defaults["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += np.multiply(g, 1.0 - beta1, out=work)
        v *= beta2
        np.multiply(g, g, out=work)
        work *= 1.0 - beta2
        v += work
        return m, v

    def _adam_step(self, g: np.ndarray, state: dict, work: np.ndarray) -> np.ndarray:
        """The Adam increment for gradient ``g``, written into ``work`` and returned."""
        d = self.defaults
        beta1, beta2 = d["betas"]
        t = self.step_count
        m, v = self._moments(g, state, work)
        if d.get("amsgrad"):
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # lr/(1 − β₁ᵗ) · m / (√v/c + eps) with c = √(1 − β₂ᵗ), computed as
        # lr·c/(1 − β₁ᵗ) · m / (√v + eps·c): one pass over the arrays fewer.
        c = math.sqrt(1.0 - beta2 ** t)
        denom = np.sqrt(v, out=work)
        denom += d["eps"] * c
        step = np.divide(m, denom, out=work)
        step *= -(d["lr"] * c / (1.0 - beta1 ** t))
        return step

    def _update(self, param, grad, state):
        g = self._decay(param, grad)
        param += self._adam_step(g, state, self.scratch(param))


class AdamW(Adam):
    """AdamW as ``torch.optim.AdamW`` (Loshchilov & Hutter, 2019): Adam with decoupled decay::

        θ ← θ·(1 − lr·weight_decay), then the Adam step on the raw gradient.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, decoupled_weight_decay=True)
