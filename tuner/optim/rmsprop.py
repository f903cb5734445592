"""RMSprop: steps divided by a running root mean square of the gradient."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_flag, check_range
from .sgd import with_weight_decay


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop`` (Hinton's lecture 6e)::

        g ← ∇θ + weight_decay·θ
        v ← alpha·v + (1 − alpha)·g²
        if centered:  ḡ ← alpha·ḡ + (1 − alpha)·g;   a ← √(v − ḡ²) + eps
        else:         a ← √v + eps
        if momentum > 0:  b ← momentum·b + g/a;   θ ← θ − lr·b
        else:             θ ← θ − lr·g/a

    eps is added outside the square root, as in PyTorch (Keras puts it inside).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        check_range("alpha", alpha, 0.0, 1.0)
        check_range("eps", eps, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_range("momentum", momentum, 0.0, 1.0)
        centered = check_flag("centered", centered)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))
        for p, state in self._units:
            state["square_avg"] = np.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if centered:
                state["grad_avg"] = np.zeros_like(p)

    def _update(self, param, grad, state):
        d = self.defaults
        alpha = d["alpha"]
        g = with_weight_decay(grad, param, d["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * g * g
        if d["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1.0 - alpha) * g
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + d["eps"]
        else:
            avg = np.sqrt(square_avg) + d["eps"]
        if d["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= d["momentum"]
            buf += g / avg
            param -= d["lr"] * buf
        else:
            param -= d["lr"] * g / avg
