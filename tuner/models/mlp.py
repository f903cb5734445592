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


class _Workspace:
    """Preallocated arrays for a batch of ``rows`` rows: the input with a column of ones
    appended (so ``[x, 1] @ [W₁; b₁] = x @ W₁ + b₁``: the first layer's bias is one more row of
    its weights, and ``[x, 1]ᵀ·δ`` yields its gradient ``Σ δ`` with the weights'), every hidden
    layer's output and ``∂L/∂a``, and the network's output transposed (``Wᵀ·aᵀ``: the
    softmax's row-wise reductions then run along contiguous memory)."""

    def __init__(self, sizes: Sequence[int], rows: int, dtype: np.dtype):
        self.x1 = np.empty((rows, sizes[0] + 1), dtype)
        self.x1[:, -1] = 1.0
        self.hidden = [np.empty((rows, width), dtype) for width in sizes[1:-1]]
        self.deltas = [np.empty((rows, width), dtype) for width in sizes[1:-1]]
        self.output_t = np.empty((sizes[-1], rows), dtype)


class MLP:
    """``x → [W₁x + b₁ → act] → … → W_L x + b_L → head``, trained through ``loss_and_grads``.

    ``params = [W₁, b₁, …, W_L, b_L]`` with ``Wₗ`` of shape (fan_in, fan_out), so a layer is
    ``a @ W + b`` (PyTorch's ``nn.Linear`` stores ``W.T``). Initialisation is PyTorch's default
    for ``nn.Linear``: every weight and bias uniform in ±1/√fan_in, drawn from
    ``numpy.random.default_rng(seed)``. The "softmax" head is cross-entropy over integer labels;
    the "linear" head is mean squared error. Inputs are cast to the model's dtype.

    The parameters are views of one buffer (:class:`~tuner.optim.flat.FlatArrays`) in which
    each ``Wₗ`` is followed by ``bₗ``: ``[W₁; b₁]`` is one (fan_in + 1, fan_out) block, which
    the first layer multiplies with its input and a column of ones in one matrix product
    (forward and backward; the widest layer, where a separate bias add and sum cost most).
    Activations live in preallocated workspaces, one per recent batch size.

    >>> net = MLP(4, (8,), 3, seed=0)
    >>> loss, grads = net.loss_and_grads(np.ones((2, 4)), np.array([0, 2]))
    >>> [g.shape for g in grads]
    [(4, 8), (8,), (8, 3), (3,)]
    """

    CHUNK_ROWS = 1024          # forward() on more rows runs in chunks of this many
    _WORKSPACES = 4            # batch shapes kept (a full batch, the last one, chunks)

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
        self._bind()

    def _bind(self) -> None:
        """The first layer's ``[W₁; b₁]`` block of the parameters and of the gradients (views
        of their buffers); no workspaces yet."""
        n_in, n_out = self.sizes[:2]
        self._first = self.params.flat[:(n_in + 1) * n_out].reshape(n_in + 1, n_out)
        self._grad_first = self._grads.flat[:(n_in + 1) * n_out].reshape(n_in + 1, n_out)
        self._workspaces: dict[int, _Workspace] = {}

    def __getstate__(self) -> dict:
        """Pickle without the views and workspaces (rebuilt on load, over the new buffer)."""
        state = self.__dict__.copy()
        for name in ("_first", "_grad_first", "_workspaces"):
            del state[name]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind()

    @property
    def n_layers(self) -> int:
        return len(self.params) // 2

    def _workspace(self, rows: int) -> _Workspace:
        """The workspace for ``rows`` rows (the oldest one dropped beyond ``_WORKSPACES``)."""
        ws = self._workspaces.get(rows)
        if ws is None:
            if len(self._workspaces) >= self._WORKSPACES:
                self._workspaces.pop(next(iter(self._workspaces)))
            ws = self._workspaces[rows] = _Workspace(self.sizes, rows, self.dtype)
        return ws

    def _affine(self, a: np.ndarray, layer: int, out: np.ndarray) -> np.ndarray:
        """``out = a @ W + b`` of ``layer``; for the first layer ``a`` is ``[x, 1]``."""
        if not layer:
            return np.matmul(a, self._first, out=out)
        np.matmul(a, self.params[2 * layer], out=out)
        out += self.params[2 * layer + 1]
        return out

    def _hidden(self, X: np.ndarray, ws: _Workspace) -> np.ndarray:
        """Run the hidden layers on ``X`` into ``ws``; return the last one's output (``[X, 1]``
        when there is none)."""
        a = ws.x1
        np.copyto(a[:, :-1], X)
        for layer, z in enumerate(ws.hidden):
            self._affine(a, layer, z)
            if self.activation == "relu":
                np.maximum(z, _zeros(z.shape[-1], z.dtype), out=z)
            else:
                np.tanh(z, out=z)
            a = z
        return a

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The network's output: logits for the softmax head, predictions for the linear head
        (a new array; more than ``CHUNK_ROWS`` rows are run in chunks)."""
        X = np.asarray(X)
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        for start in range(0, X.shape[0], self.CHUNK_ROWS):
            rows = X[start:start + self.CHUNK_ROWS]
            a = self._hidden(rows, self._workspace(rows.shape[0]))
            self._affine(a, self.n_layers - 1, out[start:start + rows.shape[0]])
        return out

    def loss(self, output: np.ndarray, y: np.ndarray) -> float:
        """The head's loss of an output of :meth:`forward`."""
        return _HEAD_LOSSES[self.head](output, y)

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, FlatArrays]:
        """Mean loss over the batch and its gradient for each parameter, by backpropagation.

        The gradients are the model's own buffers (like PyTorch's ``.grad``), laid out as
        ``params`` in one flat array, and overwritten by the next call: copy them to keep them.
        """
        X = np.asarray(X)
        ws = self._workspace(X.shape[0])
        a = self._hidden(X, ws)
        last, params, grads = self.n_layers - 1, self.params, self._grads
        if last:
            np.matmul(params[2 * last].T, a.T, out=ws.output_t)     # zᵀ = Wᵀ·aᵀ + b
            ws.output_t += params[2 * last + 1][:, None]
        else:
            np.matmul(self._first.T, a.T, out=ws.output_t)
        loss, delta = self._loss(ws.output_t.T, y)           # ∂L/∂z of the last layer
        relu = self.activation == "relu"
        for layer in range(last, 0, -1):
            a = ws.hidden[layer - 1]
            np.matmul(a.T, delta, out=grads[2 * layer])             # ∂L/∂W = aᵀ·δ
            np.add.reduce(delta, axis=0, out=grads[2 * layer + 1])  # ∂L/∂b = Σ δ
            delta = np.matmul(delta, params[2 * layer].T, out=ws.deltas[layer - 1])   # ∂L/∂a
            if relu:
                delta *= a > 0                     # relu'(z) = [z > 0] = [a > 0]
            else:
                delta *= 1.0 - a * a               # tanh'(z) = 1 − tanh²(z)
        np.matmul(ws.x1.T, delta, out=self._grad_first)       # [∂L/∂W₁; ∂L/∂b₁] = [x, 1]ᵀ·δ
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

