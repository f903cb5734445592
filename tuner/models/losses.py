"""Output heads: a loss over the network's output and its gradient with respect to that output."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise ``z − logsumexp(z)``, shifted by the row maximum for stability."""
    shifted = z - z.max(axis=1, keepdims=True)
    norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    if norm.dtype != shifted.dtype:              # integer logits: promoted as ``shifted − norm``
        return shifted - norm
    shifted -= norm                              # the same subtraction, without a temporary
    return shifted


@lru_cache(maxsize=8)
def _rows(n: int) -> np.ndarray:
    """``np.arange(n)``, cached (read-only) for the row half of ``logp[rows, y]``."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def _mean(v: np.ndarray) -> float:
    """``float(v.mean())`` of a 1-D array without ``mean``'s Python overhead: for float32 and
    float64 it is the same pairwise sum in ``v``'s dtype divided by the ``intp`` count, as
    NumPy's ``mean`` does, so the result is identical bit for bit."""
    if v.dtype.type not in (np.float32, np.float64) or not v.shape[0]:
        return float(v.mean())
    total = np.add.reduce(v)
    return float(total.dtype.type(total / np.intp(v.shape[0])))


def _cross_entropy_logp(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss of :func:`cross_entropy` and ``log softmax(z)`` (a fresh array)."""
    logp = log_softmax(z)
    return -_mean(logp[_rows(z.shape[0]), y]), logp


def cross_entropy_loss(z: np.ndarray, y: np.ndarray) -> float:
    """The loss of :func:`cross_entropy` alone, bit for bit (for evaluation, no gradient)."""
    if not z.shape[0]:
        return cross_entropy(z, y)[0]            # no rows: fail as cross_entropy does
    return _cross_entropy_logp(z, y)[0]


def cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits ``z`` (n, k) for integer labels ``y`` (n,).

    ``L = −(1/n)·Σᵢ log softmax(zᵢ)[yᵢ]`` and ``∂L/∂z = (softmax(z) − onehot(y)) / n``
    (``torch.nn.CrossEntropyLoss`` with mean reduction).
    """
    n = z.shape[0]
    loss, logp = _cross_entropy_logp(z, y)
    grad = np.exp(logp, out=logp)                # softmax(z), in the log-probabilities' place
    grad[_rows(n), y] -= 1.0
    grad *= 1.0 / n
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
