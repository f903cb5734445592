"""2-D loss surfaces: the "parameters" are one point, so an optimizer's path can be drawn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Surface:
    """A function of (x, y) with its gradient, a customary start and a global minimum.

    ``f`` and ``grad`` accept scalars or arrays (``f`` is vectorised so a contour can be drawn
    over ``bounds``).
    """

    name: str
    f: Callable
    grad: Callable
    start: tuple[float, float]
    minimum: tuple[float, float]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    description: str


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y ** 2, 2.625 - x + x * y ** 3


def _beale(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return t1 ** 2 + t2 ** 2 + t3 ** 2


def _beale_grad(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return (2 * t1 * (y - 1) + 2 * t2 * (y ** 2 - 1) + 2 * t3 * (y ** 3 - 1),
            2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y ** 2)


def _saddle(x, y):
    return x ** 2 + y ** 4 / 4 - y ** 2 / 2


def _saddle_grad(x, y):
    return 2 * x, y ** 3 - y


SURFACES = {
    "rosenbrock": Surface("rosenbrock", _rosenbrock, _rosenbrock_grad, (-1.2, 1.0), (1.0, 1.0),
                          ((-2.0, 2.0), (-1.0, 3.0)),
                          "(1 − x)² + 100(y − x²)²: a curved narrow valley, minimum 0 at (1, 1)"),
    "beale": Surface("beale", _beale, _beale_grad, (1.0, 1.5), (3.0, 0.5),
                     ((-4.5, 4.5), (-4.5, 4.5)),
                     "Beale's function: flat plateaus and sharp ridges, minimum 0 at (3, 0.5)"),
    "saddle": Surface("saddle", _saddle, _saddle_grad, (1.0, 0.01), (0.0, 1.0),
                      ((-1.5, 1.5), (-1.5, 1.5)),
                      "x² + y⁴/4 − y²/2: a saddle point at (0, 0), minima −1/4 at (0, ±1)"),
}


class PointModel:
    """The model of a surface task: one parameter, the point ``[x, y]``.

    ``loss_and_grads`` ignores its data arguments and appends each point it is evaluated at
    to ``path`` (the start first), so the optimizer's trajectory can be drawn.
    """

    def __init__(self, surface: Surface, start=None, dtype=np.float64):
        self.surface = surface
        self.params = [np.array(start if start is not None else surface.start, dtype=dtype)]
        self.path: list[tuple[float, float]] = []

    def forward(self, X=None) -> float:
        return float(self.surface.f(*self.params[0]))

    def loss(self, output, y=None) -> float:
        return float(output)

    def loss_and_grads(self, X=None, y=None):
        x, y_ = self.params[0]
        self.path.append((float(x), float(y_)))
        gx, gy = self.surface.grad(x, y_)
        return float(self.surface.f(x, y_)), [np.array([gx, gy], dtype=self.params[0].dtype)]

    def __repr__(self) -> str:
        return f"PointModel({self.surface.name}, at={self.params[0].tolist()})"


@dataclass(frozen=True)
class SurfaceTask:
    """A surface as a training task: each epoch is ``steps_per_epoch`` full-gradient steps."""

    surface: Surface
    steps_per_epoch: int = 100
    kind: str = "surface"
    metric: str = "loss"

    start = (None, None)              # the starting loss: the surface at its start point
    validation = (None, None)
    test = (None, None)

    def batches(self, rng, batch_size) -> Iterator[tuple[None, None]]:
        for _ in range(self.steps_per_epoch):
            yield None, None

    def model(self, dtype=np.float64) -> PointModel:
        return PointModel(self.surface, dtype=dtype)
