"""scikit-learn data sets split into train/validation/test and standardised."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import importlib

import numpy as np


START_ROWS = 1024


@dataclass(eq=False)
class Splits:
    """Train, validation and test arrays of one task, standardised with training statistics.

    Features are scaled to zero mean and unit variance using the training split only; for
    regression the target is scaled the same way (so losses are in units of the target's
    training standard deviation, and R² is unchanged). Classification labels are 0 … k − 1.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    kind: str                 # "classification" or "regression"

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Classes for classification, target columns for regression."""
        if self.kind == "classification":
            return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1
        return 1 if self.y_train.ndim == 1 else self.y_train.shape[1]

    @property
    def start(self) -> tuple[np.ndarray, np.ndarray]:
        """The training rows the starting loss is measured on: at most ``START_ROWS``, evenly
        spaced over the split (data given in a sorted order included), enough that one
        unlucky sample does not set the scale."""
        n = len(self.y_train)
        rows = np.linspace(0, n - 1, min(n, START_ROWS)).round().astype(np.intp)
        return self.X_train[rows], self.y_train[rows]

    @property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X_val, self.y_val

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X_test, self.y_test

    def batches(self, rng: np.random.Generator, batch_size: int) -> Iterator[tuple]:
        """Minibatches of the training split over one shuffled permutation of its indices.

        The split is gathered in that order once per epoch (``np.take``: faster than fancy
        indexing) and the batches are slices of the copy: the same batches as indexing each."""
        n = len(self.y_train)
        order = rng.permutation(n)
        X, y = np.take(self.X_train, order, axis=0), np.take(self.y_train, order, axis=0)
        for start in range(0, n, batch_size):
            yield X[start:start + batch_size], y[start:start + batch_size]

    def __repr__(self) -> str:
        return (f"Splits({self.kind}, train={len(self.y_train)}, val={len(self.y_val)}, "
                f"test={len(self.y_test)}, features={self.n_features}, outputs={self.n_outputs})")


def split_arrays(X, y, kind: str, *, seed: int = 0, dtype=np.float64,
                 fractions: tuple[float, float] = (0.15, 0.2)) -> Splits:
    """Split ``X, y`` into train/validation/test (``fractions`` = validation and test shares,
    65/15/20 by default), stratified for classification, seeded; then standardise with
    training statistics."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if kind == "classification":
        _, y = np.unique(y, return_inverse=True)
        y = y.astype(np.int64)
    else:
        y = y.astype(np.float64)
    from sklearn.model_selection import train_test_split  # imported on use: it takes a second
    val_share, test_share = fractions
    strat = y if kind == "classification" else None
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_share, random_state=seed, stratify=strat)
    strat = y_rest if kind == "classification" else None
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_share / (1.0 - test_share), random_state=seed, stratify=strat)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    # constant in training, exactly or up to rounding (0.1 everywhere has a spread of ~3e-17):
    # left unscaled
    std[std <= len(X_train) * np.finfo(np.float64).eps * np.abs(mean)] = 1.0
    scale = (lambda a: ((a - mean) / std).astype(dtype))
    if kind == "regression":
        y_mean, y_std = y_train.mean(axis=0), y_train.std(axis=0)
        y_std = np.where(y_std == 0, 1.0, y_std)
        y_train, y_val, y_test = (((t - y_mean) / y_std).astype(dtype)
                                  for t in (y_train, y_val, y_test))
    return Splits(scale(X_train), y_train, scale(X_val), y_val, scale(X_test), y_test, kind)


@dataclass(frozen=True)
class DataTask:
    """A registered data set: how to get ``X, y``, its kind and the metric it is judged by."""

    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    kind: str
    metric: str
    description: str


def _sklearn(name: str, **kwargs) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """``sklearn.datasets.<name>(**kwargs)`` as X, y; scikit-learn is imported on first use."""
    def load():
        X, y = getattr(importlib.import_module("sklearn.datasets"), name)(**kwargs)
        return X, y
    return load


DATA_TASKS = {
    "iris": DataTask(_sklearn("load_iris", return_X_y=True), "classification", "accuracy",
                     "150 irises, 4 features, 3 classes"),
    "wine": DataTask(_sklearn("load_wine", return_X_y=True), "classification", "accuracy",
                     "178 wines, 13 features, 3 classes"),
    "breast_cancer": DataTask(_sklearn("load_breast_cancer", return_X_y=True), "classification", "accuracy",
                              "569 tumours, 30 features, 2 classes"),
    "digits": DataTask(_sklearn("load_digits", return_X_y=True), "classification", "accuracy",
                       "1797 8×8 digit images, 64 features, 10 classes"),
    "diabetes": DataTask(_sklearn("load_diabetes", return_X_y=True), "regression", "r2",
                         "442 patients, 10 features, disease progression"),
    "moons": DataTask(_sklearn("make_moons", n_samples=1000, noise=0.25, random_state=0),
                      "classification", "accuracy", "1000 points, two interleaving half circles"),
    "circles": DataTask(_sklearn("make_circles", n_samples=1000, noise=0.1, factor=0.5,
                                 random_state=0),
                        "classification", "accuracy", "1000 points, two concentric circles"),
    "synthetic": DataTask(_sklearn(
        "make_classification", n_samples=100_000, n_features=100, n_informative=50,
        n_classes=10, random_state=0),
        "classification", "accuracy",
        "make_classification: 100 000 samples, 100 features (50 informative), 10 classes"),
}
