"""tuner: which optimizer, which learning rate, which momentum, which decay schedule?

The numerical core (no Optuna, SQL or Streamlit): :mod:`tuner.optim`, :mod:`tuner.schedules`,
:mod:`tuner.models`, :mod:`tuner.tasks`, :func:`tuner.train.train`, :mod:`tuner.sklearn`.
The service and its Python API, loaded on first use: ``tuner.launch``, ``tuner.worker``,
``tuner.check``, ``tuner.best``, ``tuner.retrain``, ``tuner.retrained``,
``tuner.best_and_retrained``, ``tuner.studies``, ``tuner.trials``, ``tuner.curve``,
``tuner.delete``.
"""

__version__ = "0.1.0"

_API = ("best", "best_and_retrained", "check", "curve", "delete", "launch", "retrain", "retrained",
        "studies", "trials", "worker")


def __getattr__(name):
    if name in _API:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'tuner' has no attribute {name!r}")


__all__ = ["__version__", *_API]
