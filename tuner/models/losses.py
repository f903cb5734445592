"""Output heads: a loss over the network's output and its gradient with respect to that output."""

from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise ``z − logsumexp(z)``, shifted by the row maximum for stability."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits ``z`` (n, k) for integer labels ``y`` (n,).

    ``L = −(1/n)·Σᵢ log softmax(zᵢ)[yᵢ]`` and ``∂L/∂z = (softmax(z) − onehot(y)) / n``
    (``torch.nn.CrossEntropyLoss`` with mean reduction).
    """
    n = z.shape[0]
    logp = log_softmax(z)
    rows = np.arange(n)
    loss = -float(logp[rows, y].mean())
    grad = np.exp(logp)
    grad[rows, y] -= 1.0
    grad *= 1.0 / n
    return loss, grad


def squared_error(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error of predictions ``z`` (n, k) for targets ``y`` (n,) or (n, k).

    ``L = (1/(n·k))·Σ (z − y)²`` and ``∂L/∂z = 2·(z − y)/(n·k)`` (``torch.nn.MSELoss``).
    """
    diff = z - y.reshape(z.shape)
    loss = float(np.mean(diff * diff))
    diff *= 2.0 / diff.size
    return loss, diff
