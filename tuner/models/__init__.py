"""NumPy models with hand-written backpropagation: ``loss_and_grads(X, y) -> (loss, grads)``."""

from .losses import cross_entropy, squared_error
from .mlp import MLP
from .registry import MODELS, build_model

__all__ = ["MLP", "MODELS", "build_model", "cross_entropy", "squared_error"]
