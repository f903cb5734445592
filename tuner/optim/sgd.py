"""Stochastic gradient descent, plain, with momentum, or with Nesterov momentum."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_flag, check_range


def with_weight_decay(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad + weight_decay * param``: L2 regularisation folded into the gradient (PyTorch's)."""
    return grad + weight_decay * param if weight_decay else grad


class SGD(Optimizer):
    """SGD as ``torch.optim.SGD``::

        g ← ∇θ + weight_decay·θ
        if momentum ≠ 0:
            b ← g                                   (first step)
            b ← momentum·b + (1 − dampening)·g      (later steps)
            g ← g + momentum·b   if nesterov,  else  g ← b
        θ ← θ − lr·g

    The Nesterov form is PyTorch's (and Sutskever et al.'s reformulation): the gradient is
    taken at the current parameters and the look-ahead enters through ``g + momentum·b``.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        check_range("momentum", momentum, 0.0, 1.0)
        check_range("dampening", dampening, 0.0, 1.0, high_open=False)
        check_range("weight_decay", weight_decay, 0.0)
        nesterov = check_flag("nesterov", nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Invalid nesterov value: True with momentum={momentum!r}, "
                             f"dampening={dampening!r} (allowed: nesterov needs 0 < momentum < 1 "
                             "and dampening = 0)")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, param, grad, state):
        d = self.defaults
        g = with_weight_decay(grad, param, d["weight_decay"])
        if d["momentum"]:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=param.dtype, copy=True)
            else:
                buf *= d["momentum"]
                buf += (1.0 - d["dampening"]) * g if d["dampening"] else g
            if d["nesterov"]:                   # g + momentum·b, in the scratch array
                g = np.add(g, np.multiply(buf, d["momentum"], out=self.scratch(param)),
                           out=self.scratch(param))
            else:
                g = buf
        param -= np.multiply(g, d["lr"], out=self.scratch(param))
