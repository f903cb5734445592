"""The names studies use for optimizers, each mapped to a class and the flags that name fixes."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import MappingProxyType

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .swats import SWATS


@dataclass(frozen=True)
class OptimizerEntry:
    """A registry row: the class, the arguments its name fixes, and its own defaults.

    ``fixed`` cannot be changed by the caller (``nesterov=True`` for ``"nesterov"``);
    ``defaults`` override the class's defaults where the name implies another one
    (``momentum=0.9`` for ``"momentum"``, whose PyTorch default 0 would mean plain SGD).
    """

    cls: type[Optimizer]
    fixed: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)

    def hyperparameters(self) -> dict[str, object]:
        """The arguments a caller may set, with their defaults (``lr`` included)."""
        sig = inspect.signature(self.cls.__init__)
        out = {name: p.default for name, p in sig.parameters.items()
               if name not in ("self", "params") and name not in self.fixed}
        out.update(self.defaults)
        return out


OPTIMIZERS = MappingProxyType({
    "sgd": OptimizerEntry(SGD, fixed={"momentum": 0.0, "dampening": 0.0, "nesterov": False}),
    "momentum": OptimizerEntry(SGD, fixed={"nesterov": False}, defaults={"momentum": 0.9}),
    "nesterov": OptimizerEntry(SGD, fixed={"nesterov": True, "dampening": 0.0},
                               defaults={"momentum": 0.9}),
    "adagrad": OptimizerEntry(Adagrad),
    "rmsprop": OptimizerEntry(RMSprop),
    "adadelta": OptimizerEntry(Adadelta),
    "adam": OptimizerEntry(Adam, fixed={"decoupled_weight_decay": False}),
    "adamw": OptimizerEntry(AdamW),
    "nadam": OptimizerEntry(NAdam),
    "swats": OptimizerEntry(SWATS),
})


def create(name: str, params, **hyper) -> Optimizer:
    """Build the optimizer a study calls ``name`` over ``params``. Arguments the name fixes may
    be passed only with their fixed value.

    >>> import numpy as np
    >>> w = np.zeros(3)
    >>> create("nesterov", [w], lr=0.1)
    SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True)
    """
    try:
        entry = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"Invalid optimizer value: {name!r} "
                         f"(allowed: {', '.join(OPTIMIZERS)})") from None
    allowed = entry.hyperparameters()
    unknown = sorted(k for k in hyper
                     if k not in allowed and (k not in entry.fixed or hyper[k] != entry.fixed[k]))
    if unknown:
        raise ValueError(f"Invalid argument for optimizer {name!r}: "
                         f"{', '.join(f'{k}={hyper[k]!r}' for k in unknown)} (allowed: "
                         f"{', '.join(allowed)}; {name!r} fixes {entry.fixed or 'nothing'})")
    return entry.cls(params, **{**entry.defaults, **hyper, **entry.fixed})
