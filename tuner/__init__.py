"""tuner: which optimizer, which learning rate, which momentum, which decay schedule?

The numerical core: :mod:`tuner.optim` (optimizers), :mod:`tuner.schedules` (LR schedules),
:mod:`tuner.models`, :mod:`tuner.tasks` and :func:`tuner.train.train`.
"""

__version__ = "0.1.0"
