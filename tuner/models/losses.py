"""Output heads: a loss over the network's output and its gradient with respect to that output."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _rows(n: int) -> np.ndarray:
    """``np.arange(n)``, cached (read-only) for the row half of ``e[rows, y]``."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def _exp_shifted(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The mean cross-entropy, ``exp(z − max z)`` row-wise (a fresh array) and its row sums.

    With ``u = z − max z`` (for stability) and ``s = Σ exp(u)``, each row's loss is
    ``log s − u_y``; both terms are non-negative, so their sums are subtracted without
    cancellation. Float32 logits stay float32; integer ones are computed in float64.
    """
    n = z.shape[0]
    e = z - np.maximum.reduce(z, axis=1, keepdims=True)
    if e.dtype.kind != "f":
        e = e.astype(np.float64)
    picked = e[_rows(n), y]
    np.exp(e, out=e)
    s = np.add.reduce(e, axis=1, keepdims=True)
    total = np.add.reduce(np.log(s), axis=None) - np.add.reduce(picked)
    return float(total / np.intp(n)), e, s


def cross_entropy_loss(z: np.ndarray, y: np.ndarray) -> float:
    """The loss of :func:`cross_entropy` alone, bit for bit (for evaluation, no gradient)."""
    if not z.shape[0]:
        return cross_entropy(z, y)[0]            # no rows: fail as cross_entropy does
    return _exp_shifted(z, y)[0]


def cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits ``z`` (n, k) for integer labels ``y`` (n,).

    ``L = −(1/n)·Σᵢ log softmax(zᵢ)[yᵢ]`` and ``∂L/∂z = (softmax(z) − onehot(y)) / n``
    (``torch.nn.CrossEntropyLoss`` with mean reduction). The gradient is a new array with
    ``z``'s memory layout.
    """
    n = z.shape[0]
    if not n:
        raise ValueError("cross_entropy of no rows (allowed: at least one row)")
    loss, grad, s = _exp_shifted(z, y)
    s *= n
    np.divide(grad, s, out=grad)                 # softmax(z) / n
    grad[_rows(n), y] -= 1.0 / n
    return loss, grad


def squared_error_loss(z: np.ndarray, y: np.ndarray) -> float:
    """The loss of :func:`squared_error` alone, bit for bit (for evaluation, no gradient)."""
    diff = z - y.reshape(z.shape)
    if not diff.size:
        return squared_error(z, y)[0]            # nothing to average: fail as squared_error does
    return float(np.mean(diff * diff))


def squared_error(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error of predictions ``z`` (n, k) for targets ``y`` (n,) or (n, k).

    ``L = (1/(n·k))·Σ (z − y)²`` and ``∂L/∂z = 2·(z − y)/(n·k)`` (``torch.nn.MSELoss``).
    """
    diff = z - y.reshape(z.shape)
    loss = float(np.mean(diff * diff))
    diff *= 2.0 / diff.size
    return loss, diff
