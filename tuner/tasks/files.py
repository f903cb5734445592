"""The user's own data: a CSV, ``.npy`` or ``.npz`` file, or a ``module:function`` returning X, y."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path

import numpy as np

FILE_SUFFIXES = (".csv", ".npy", ".npz")


def is_user_data(task: str) -> bool:
    """Whether ``task`` names the user's data rather than a built-in task."""
    return task.lower().endswith(FILE_SUFFIXES) or ":" in task


def load_arrays(task: str, target: str | int | None = None, base: Path | None = None):
    """Read ``X, y`` from the user's data (relative paths resolved against ``base``).

    - ``.csv``: a header row; ``target`` is the target column's name or index (default: last);
      every other column is a numeric feature.
    - ``.npy``: a 2-D array; ``target`` is the target column's index (default: last).
    - ``.npz``: arrays ``X`` and ``y``, or ``target`` names the target array (features in ``X``).
    - ``module:function``: the function is called with no argument and returns ``X, y``.

    Raises ``ValueError`` with a one-line reason when the data cannot be read.
    """
    if not task.lower().endswith(FILE_SUFFIXES):
        return _call(task)
    path = Path(task)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, target)
    if suffix == ".npy":
        data = np.load(path, allow_pickle=False)
        if data.ndim != 2 or data.shape[1] < 2:
            raise ValueError(f"{path.name}: expected a 2-D array with features and a target column, "
                             f"got shape {data.shape}")
        col = -1 if target is None else _index(target, data.shape[1], path.name)
        return np.delete(data, col, axis=1), data[:, col]
    with np.load(path, allow_pickle=False) as npz:
        name = "y" if target is None else str(target)
        missing = [k for k in ("X", name) if k not in npz.files]
        if missing:
            raise ValueError(f"{path.name}: no array {', '.join(map(repr, missing))} "
                             f"(arrays: {', '.join(npz.files)})")
        return npz["X"], npz[name]


def _index(target, width: int, where: str) -> int:
    try:
        col = int(target)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: target {target!r} is not a column index") from None
    if not -width <= col < width:
        raise ValueError(f"{where}: target column {col} out of range (0 … {width - 1})")
    return col


def _read_csv(path: Path, target):
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise ValueError(f"{path.name}: expected a header row and data rows")
    header, body = rows[0], rows[1:]
    if target is None:
        col = len(header) - 1
    elif isinstance(target, str) and target in header:
        col = header.index(target)
    elif isinstance(target, int):
        col = _index(target, len(header), path.name) % len(header)
    else:
        raise ValueError(f"{path.name}: no column {target!r} (columns: {', '.join(header)})")
    features = [i for i in range(len(header)) if i != col]
    try:
        X = np.array([[float(r[i]) for i in features] for r in body])
    except (ValueError, IndexError) as e:
        raise ValueError(f"{path.name}: a feature value is not a number ({e})") from None
    y = np.array([r[col] for r in body])
    try:
        y = y.astype(np.float64)
    except ValueError:
        pass  # text class labels
    return X, y


def _call(task: str):
    module_name, _, func_name = task.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot load {task!r}: {e}") from None
    X, y = func()
    return np.asarray(X), np.asarray(y)


def infer_kind(y: np.ndarray) -> str:
    """"classification" for text labels or a few integer values (at most 50), else "regression"."""
    if y.dtype.kind in "OUSb":
        return "classification"
    values = np.unique(y)
    if np.all(np.mod(values, 1) == 0) and len(values) <= 50:
        return "classification"
    return "regression"
