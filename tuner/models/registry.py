"""The names studies use for models, and one factory that builds any of them."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import numpy as np

from .mlp import MLP

MODELS = MappingProxyType({
    "softmax_regression": {"head": "softmax", "hidden": False},
    "mlp": {"head": "softmax", "hidden": True},
    "regression": {"head": "linear", "hidden": True},
})
"""Model name → its head ("softmax": cross-entropy, "linear": MSE) and whether it takes hidden
layers. ``softmax_regression`` is multinomial logistic regression; ``regression`` with no hidden
layer is linear regression."""


def build_model(name: str, n_inputs: int, n_outputs: int, *, hidden: Sequence[int] = (),
                activation: str = "relu", dtype=np.float64, seed: int | None = 0) -> MLP:
    """Build the model a study calls ``name``.

    >>> build_model("mlp", 64, 10, hidden=(128,))
    MLP(64, (128,), 10, activation='relu', head='softmax', dtype=float64)
    """
    if name not in MODELS:
        raise ValueError(f"Invalid model value: {name!r} (allowed: {', '.join(MODELS)})")
    entry = MODELS[name]
    if hidden and not entry["hidden"]:
        raise ValueError(f"Invalid hidden value: {tuple(hidden)!r} for model {name!r} "
                         "(allowed: none; use 'mlp' for hidden layers)")
    return MLP(n_inputs, hidden, n_outputs, activation=activation, head=entry["head"],
               dtype=dtype, seed=seed)
