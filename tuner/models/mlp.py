"""A multilayer perceptron with hand-written backpropagation; softmax regression and a
regression head are its two smallest cases."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ..optim.flat import FlatArrays
from .losses import cross_entropy, cross_entropy_loss, squared_error, squared_error_loss

ACTIVATIONS = ("relu", "tanh")
HEADS = {"softmax": cross_entropy, "linear": squared_error}
_HEAD_LOSSES = {"softmax": cross_entropy_loss, "linear": squared_error_loss}   # no gradient


@lru_cache(maxsize=32)
def _zeros(width: int, dtype: np.dtype) -> np.ndarray:
    """A read-only row of zeros for ``np.maximum(z, row, out=z)``.

    The same ReLU as ``np.maximum(z, 0, out=z)``, value for value, but NumPy runs the
    array-by-array loop with SIMD where its float32 array-by-scalar loop does not (2.5× faster
    on a 256×256 float32 batch with NumPy 2.4); float64 is as fast either way.
    """
    row = np.zeros(width, dtype)
    row.flags.writeable = False
    return row


class MLP:
    """``x → [W₁x + b₁ → act] → … → W_L x + b_L → head``, trained through ``loss_and_grads``.

    ``params = [W₁, b₁, …, W_L, b_L]`` with ``Wₗ`` of shape (fan_in, fan_out), so a layer is
    ``a @ W + b`` (PyTorch's ``nn.Linear`` stores ``W.T``). Initialisation is PyTorch's default
    for ``nn.Linear``: every weight and bias uniform in ±1/√fan_in, drawn from
    ``numpy.random.default_rng(seed)``. The "softmax" head is cross-entropy over integer labels;
    the "linear" head is mean squared error.

    >>> net = MLP(4, (8,), 3, seed=0)
    >>> loss, grads = net.loss_and_grads(np.ones((2, 4)), np.array([0, 2]))
    >>> [g.shape for g in grads]
    [(4, 8), (8,), (8, 3), (3,)]
    """

    def __init__(self, n_inputs: int, hidden: Sequence[int], n_outputs: int, *,
                 activation: str = "relu", head: str = "softmax", dtype=np.float64,
                 seed: int | None = 0):
        if activation not in ACTIVATIONS:
            raise ValueError(f"Invalid activation value: {activation!r} "
                             f"(allowed: {', '.join(ACTIVATIONS)})")
        if head not in HEADS:
            raise ValueError(f"Invalid head value: {head!r} (allowed: {', '.join(HEADS)})")
        sizes = [int(n_inputs), *(int(h) for h in hidden), int(n_outputs)]
        if min(sizes) < 1:
            raise ValueError(f"Invalid layer sizes: {sizes} (allowed: integers >= 1)")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"Invalid dtype value: {dtype!r} (allowed: float32, float64)")
        self.sizes, self.activation, self.head = sizes, activation, head
        self._loss = HEADS[head]
        rng = np.random.default_rng(seed)
        shapes = [shape for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
                  for shape in ((fan_in, fan_out), (fan_out,))]
        self.params = FlatArrays(shapes, self.dtype)     # one buffer: see tuner.optim.flat
        self._grads = FlatArrays(shapes, self.dtype)
        for weight, bias in zip(self.params[::2], self.params[1::2]):
            bound = 1.0 / np.sqrt(weight.shape[0])
            weight[...] = rng.uniform(-bound, bound, weight.shape).astype(self.dtype)
            bias[...] = rng.uniform(-bound, bound, bias.shape).astype(self.dtype)

    @property
    def n_layers(self) -> int:
        return len(self.params) // 2

    def _forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's output, the input first and the head's input (logits) last."""
        params = self.params
        last = len(params) // 2 - 1
        relu = self.activation == "relu"
        outs = [X]
        for layer in range(last + 1):
            z = outs[-1] @ params[2 * layer]
            z += params[2 * layer + 1]
            if layer < last:
                if relu:
                    np.maximum(z, _zeros(z.shape[-1], z.dtype), out=z)
                else:
                    np.tanh(z, out=z)
            outs.append(z)
        return outs

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The network's output: logits for the softmax head, predictions for the linear head."""
        return self._forward(X)[-1]

    def loss(self, output: np.ndarray, y: np.ndarray) -> float:
        """The head's loss of an output of :meth:`forward`."""
        return _HEAD_LOSSES[self.head](output, y)

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, FlatArrays]:
        """Mean loss over the batch and its gradient for each parameter, by backpropagation.

        The gradients are the model's own buffers (like PyTorch's ``.grad``), laid out as
        ``params`` in one flat array, and overwritten by the next call: copy them to keep them.
        """
        outs = self._forward(X)
        loss, delta = self._loss(outs[-1], y)          # ∂L/∂z of the last layer
        params, grads = self.params, self._grads
        relu = self.activation == "relu"
        for layer in reversed(range(len(params) // 2)):
            a = outs[layer]
            np.matmul(a.T, delta, out=grads[2 * layer])             # ∂L/∂W = aᵀ·δ
            np.add.reduce(delta, axis=0, out=grads[2 * layer + 1])  # ∂L/∂b = Σ δ
            if layer:
                delta = delta @ params[2 * layer].T   # ∂L/∂a
                if relu:
                    delta *= a > 0                     # relu'(z) = [z > 0] = [a > 0]
                else:
                    delta *= 1.0 - a * a               # tanh'(z) = 1 − tanh²(z)
        return loss, grads

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class indices (softmax head) or predicted values, shape (n,) for one output."""
        out = self.forward(X)
        if self.head == "softmax":
            return out.argmax(axis=1)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, softmax of the logits (softmax head only)."""
        if self.head != "softmax":
            raise ValueError("predict_proba needs the softmax head")
        z = self.forward(X)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def __repr__(self) -> str:
        return (f"MLP({self.sizes[0]}, {tuple(self.sizes[1:-1])}, {self.sizes[-1]}, "
                f"activation={self.activation!r}, head={self.head!r}, dtype={self.dtype.name})")

