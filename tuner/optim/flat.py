"""Parameters (or gradients) stored as consecutive views of one contiguous buffer.

A model whose ``params`` and gradients are :class:`FlatArrays` lets an optimizer update all
of its parameters with one NumPy call per operation of the update rule, instead of one per
parameter array and operation: PyTorch's "foreach" idea, for the same reason (on small
networks the per-call overhead, not the arithmetic, is the cost). Every update rule in
:mod:`tuner.optim` is elementwise, so the result is the same, element for element, as
updating the arrays one by one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class FlatArrays(tuple):
    """A tuple of arrays with the given shapes, each a view of a slice of ``flat``, in order.

    >>> a = FlatArrays([(2, 3), (3,)], np.float64)
    >>> a.flat.shape, [x.shape for x in a]
    ((9,), [(2, 3), (3,)])
    >>> a[1][:] = 1.0; a.flat[-3:]
    array([1., 1., 1.])
    """

    flat: np.ndarray
    layout: tuple[tuple[int, ...], ...]

    def __new__(cls, shapes: Sequence[Sequence[int]], dtype) -> FlatArrays:
        layout = tuple(tuple(int(n) for n in shape) for shape in shapes)
        sizes = [math.prod(shape) for shape in layout]
        flat = np.zeros(sum(sizes), dtype)
        offsets = np.cumsum([0, *sizes])
        self = super().__new__(cls, (flat[start:stop].reshape(shape) for start, stop, shape
                                     in zip(offsets[:-1], offsets[1:], layout)))
        self.flat, self.layout = flat, layout
        return self

    def __reduce__(self):
        """Pickle (and deep-copy) as the buffer and the layout, so the copy is flat too."""
        return _restore, (self.flat, self.layout)

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Views of another buffer shaped like ``self.flat``, cut as these arrays are."""
        views, start = [], 0
        for shape in self.layout:
            stop = start + math.prod(shape)
            views.append(flat[start:stop].reshape(shape))
            start = stop
        return views


def _restore(flat: np.ndarray, layout: tuple[tuple[int, ...], ...]) -> FlatArrays:
    arrays = FlatArrays(layout, flat.dtype)
    arrays.flat[:] = flat
    return arrays
