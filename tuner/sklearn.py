"""scikit-learn estimators over tuner's MLP, optimizers and schedules.

:class:`MLPClassifier` and :class:`MLPRegressor` train :func:`tuner.train.train` with any
optimizer of :data:`tuner.optim.OPTIMIZERS` and schedule of :data:`tuner.schedules.SCHEDULES`.
Like scikit-learn's own MLP they do not standardise the input: put a ``StandardScaler``
before them in a ``Pipeline`` (and scale a regression target, e.g. with
``TransformedTargetRegressor``).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .models import build_model
from .optim import create
from .schedules import create_schedule
from .tasks.datasets import Splits
from .train import train

__all__ = ["MLPClassifier", "MLPRegressor"]


class _BaseMLP(BaseEstimator):
    """Parameters, fitting and input checks shared by the classifier and the regressor."""

    _model: str    # build_model name: "mlp" (softmax head) or "regression" (linear head)
    _metric: str   # the validation metric History records

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam", lr=1e-3,
                 optimizer_params=None, schedule="constant", schedule_params=None, batch_size=32,
                 epochs=50, dtype="float64", random_state=None, validation_fraction=0.0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_params = optimizer_params
        self.schedule = schedule
        self.schedule_params = schedule_params
        self.batch_size = batch_size
        self.epochs = epochs
        self.dtype = dtype
        self.random_state = random_state
        self.validation_fraction = validation_fraction

    def _dtype(self) -> np.dtype:
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"Invalid dtype value: {self.dtype!r} (allowed: float32, float64)")
        return dtype

    def _fit(self, X, y, n_outputs: int, stratify: bool):
        """Build ``model_`` and train it on ``X, y`` (already validated and encoded)."""
        check_scalar(self.epochs, "epochs", Integral, min_val=1)
        check_scalar(self.batch_size, "batch_size", Integral, min_val=1)
        check_scalar(self.validation_fraction, "validation_fraction", Real,
                     min_val=0.0, max_val=1.0, include_boundaries="left")
        seeds = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=3)
        init_seed, shuffle_seed, split_seed = (int(s) for s in seeds)
        if self.validation_fraction > 0:
            X, X_val, y, y_val = train_test_split(X, y, test_size=self.validation_fraction,
                                                  random_state=split_seed,
                                                  stratify=y if stratify else None)
        else:  # watch the training loss, as scikit-learn's adaptive schedule does
            X_val, y_val = X, y
        data = Splits(X, y, X_val, y_val, X_val[:0], y_val[:0],
                      "classification" if stratify else "regression")

        hidden = self.hidden_layer_sizes
        hidden = tuple(hidden) if np.iterable(hidden) else (hidden,)
        model = build_model(self._model, X.shape[1], n_outputs, hidden=hidden,
                            activation=self.activation, dtype=X.dtype, seed=init_seed)
        opt_params = dict(self.optimizer_params or {})
        if "lr" in opt_params:
            raise ValueError("Invalid optimizer_params value: contains 'lr' "
                             "(allowed: the optimizer's other arguments; set lr directly)")
        optimizer = create(self.optimizer, model.params, lr=self.lr, **opt_params)
        try:
            schedule = create_schedule(self.schedule, optimizer, epochs=self.epochs,
                                       **(self.schedule_params or {}))
        except TypeError as exc:  # a missing or unknown argument of the schedule class
            msg = f"Invalid schedule_params value for {self.schedule!r}: {exc}"
            raise ValueError(msg) from None

        last_good = [p.copy() for p in model.params]

        def keep(record):
            for saved, p in zip(last_good, model.params):
                saved[...] = p

        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            history = train(model, optimizer, data, epochs=self.epochs,
                            batch_size=self.batch_size, schedule=schedule, metric=self._metric,
                            seed=shuffle_seed, on_epoch=keep)
        if history.diverged:
            for saved, p in zip(last_good, model.params):
                p[...] = saved
            warnings.warn(f"Training diverged in epoch {history.diverged_epoch} (non-finite or "
                          "exploding loss); the model keeps its parameters from before that "
                          "epoch. Lower lr or standardise the input.", ConvergenceWarning,
                          stacklevel=3)
        self.model_, self.history_ = model, history
        self.n_iter_ = len(history.records)
        self.loss_curve_ = history.column("train_loss")
        self.diverged_ = history.diverged
        return self

    def _check_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, dtype=self.model_.dtype, reset=False)


_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "tanh"}, default="relu"
    optimizer : str, default="adam"
        A name of :data:`tuner.optim.OPTIMIZERS` ("sgd", "momentum", "nesterov", "adam", ...).
    lr : float, default=1e-3
        Initial learning rate.
    optimizer_params : dict, default=None
        The optimizer's other arguments, e.g. ``{"momentum": 0.9}`` or ``{"betas": (0.9, 0.99)}``.
    schedule : str, default="constant"
        A name of :data:`tuner.schedules.SCHEDULES`, stepped once per epoch.
    schedule_params : dict, default=None
        The schedule's arguments, e.g. ``{"step_size": 10, "gamma": 0.5, "warmup_epochs": 3}``;
        "plateau" watches the validation loss.
    batch_size : int, default=32
    epochs : int, default=50
    dtype : {"float64", "float32"}, default="float64"
        Precision of the input, parameters and arithmetic.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the shuffling and the validation split.
    validation_fraction : float, default=0.0
        Share of the training data held out (stratified by class in the classifier) as the
        validation split that History records and "plateau" watches; with 0 the training data
        itself is used, like scikit-learn's loss-based adaptive schedule.

    Attributes
    ----------
    model_ : tuner.models.MLP
        The trained network.
    history_ : tuner.train.History
        One record per completed epoch (losses, validation metric, LR in force).
    n_iter_ : int
        Epochs completed.
    loss_curve_ : list of float
        Mean training loss of each completed epoch.
    diverged_ : bool
        Whether training diverged. It then stops, warns (``ConvergenceWarning``) and keeps the
        parameters of the last completed epoch, so predictions are finite but may be poor.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    classes_ : ndarray of shape (n_classes,)
        The class labels (MLPClassifier only).
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier (softmax cross-entropy) trained by tuner.

    Standardise the input, e.g. with a ``StandardScaler`` in a ``Pipeline``. ``fit`` takes no
    ``sample_weight`` (every sample weighs the same).
    PARAMETERS

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tuner.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier(
    ...     hidden_layer_sizes=(32,), optimizer="nesterov", lr=0.05,
    ...     optimizer_params={"momentum": 0.9}, epochs=20, random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test) >= 0.9
    True
    """

    _model, _metric = "mlp", "accuracy"

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        X, y = validate_data(self, X, y, dtype=self._dtype())
        check_classification_targets(y)
        self.classes_, y = np.unique(y, return_inverse=True)
        return self._fit(X, y.astype(np.intp), len(self.classes_), stratify=True)

    def predict(self, X):
        """The most probable class of each row."""
        X = self._check_X(X)
        return self.classes_[self.model_.predict(X)]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        X = self._check_X(X)
        return self.model_.predict_proba(X)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor (mean squared error) trained by tuner.

    Standardise the input (``StandardScaler`` in a ``Pipeline``) and the target
    (``TransformedTargetRegressor``). ``y`` may have several columns; predictions are 1-D
    when there is one output, as with scikit-learn's ``MLPRegressor``. ``fit`` takes no
    ``sample_weight`` (every sample weighs the same).
    PARAMETERS

    Examples
    --------
    >>> from sklearn.compose import TransformedTargetRegressor
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tuner.sklearn import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = TransformedTargetRegressor(make_pipeline(StandardScaler(), MLPRegressor(
    ...     hidden_layer_sizes=(32,), epochs=20, random_state=0)),
    ...     transformer=StandardScaler())
    >>> reg.fit(X_train, y_train).score(X_test, y_test) > 0.3
    True
    """

    _model, _metric = "regression", "r2"

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples[, n_outputs])."""
        dtype = self._dtype()
        X, y = validate_data(self, X, y, dtype=dtype, multi_output=True, y_numeric=True)
        y = y.astype(dtype)
        return self._fit(X, y, 1 if y.ndim == 1 else y.shape[1], stratify=False)

    def predict(self, X):
        """Predicted targets, shape (n_samples,) for one output, else (n_samples, n_outputs)."""
        X = self._check_X(X)
        return self.model_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


for _cls in (MLPClassifier, MLPRegressor):
    _cls.__doc__ = _cls.__doc__.replace("    PARAMETERS\n", _PARAMS_DOC)
del _cls
