"""The user's own data: a CSV, ``.npy`` or ``.npz`` file, or a ``module:function`` returning X, y."""

from __future__ import annotations

import csv
import importlib
import zipfile
from pathlib import Path

import numpy as np

FILE_SUFFIXES = (".csv", ".npy", ".npz")


class TargetError(ValueError):
    """The data's target is wrong (not its features or the file): the spec's ``study.target``."""


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
        return _checked(*_call(task), task)
    path = Path(task)
    return _checked(*_read_file(path if base is None or path.is_absolute() else base / path,
                                target), path.name)


def _read_file(path: Path, target):
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, target)
    return _read_numpy(path, target)


def _np_load(path: Path):
    """``numpy.load`` without pickles; what it cannot read is a ``ValueError`` naming it."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"{path.name}: cannot be read as {path.suffix.lower()} "
                         f"({reason})") from None


def _read_numpy(path: Path, target):
    if path.suffix.lower() == ".npy":
        data = _np_load(path)
        if data.ndim != 2 or data.shape[1] < 2:
            raise ValueError(f"{path.name}: expected a 2-D array with features and a target column, "
                             f"got shape {data.shape}")
        col = -1 if target is None else _index(target, data.shape[1], path.name)
        return np.delete(data, col, axis=1), data[:, col]
    with _np_load(path) as npz:
        name = "y" if target is None else str(target)
        if name == "X":
            others = ", ".join(f for f in npz.files if f != "X") or "none"
            raise TargetError(f"{path.name}: target 'X' is the features' array (allowed: "
                              f"another array: {others})")
        missing = [k for k in ("X", name) if k not in npz.files]
        if missing:
            error = TargetError if missing == [name] and target is not None else ValueError
            raise error(f"{path.name}: no array {', '.join(map(repr, missing))} "
                        f"(arrays: {', '.join(npz.files)})")
        return npz["X"], npz[name]


def _index(target, width: int, where: str) -> int:
    try:
        col = int(target)
    except (TypeError, ValueError):
        raise TargetError(f"{where}: target {target!r} is not a column index") from None
    if not -width <= col < width:
        raise TargetError(f"{where}: target column {col} out of range (0 … {width - 1})")
    return col


def _checked(X, y, where: str):
    """``X`` as a 2-D float array of finite numbers and ``y`` as an array of one value (or row)
    per row of ``X``; ``ValueError`` saying what is wrong otherwise."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: the features are not numbers ({e})") from None
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"{where}: the features have shape {X.shape} (allowed: a 2-D array, "
                         "one row a sample)")
    if y.ndim not in (1, 2) or len(y) != len(X):
        raise TargetError(f"{where}: the target has shape {y.shape} for {len(X)} rows of "
                          "features (allowed: one value, or one row of values, a row)")
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: the features hold NaN or infinite values (allowed: finite "
                         "numbers)")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]                        # a column of values: one value a row
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise TargetError(f"{where}: the target holds NaN or infinite values (allowed: "
                          "finite numbers or class labels)")
    return X, y


def _read_csv(path: Path, target):
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if row]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path.name}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    short = next((i for i, row in enumerate(rows) if len(row) != len(rows[0])), None)
    if short is not None:
        raise ValueError(f"{path.name}: row {short + 1} has {len(rows[short])} fields, the "
                         f"header {len(rows[0])} (allowed: the same number in every row)")
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
        raise TargetError(f"{path.name}: no column {target!r} (columns: {', '.join(header)})")
    features = [i for i in range(len(header)) if i != col]
    try:
        X = np.array([[float(r[i]) for i in features] for r in body])
    except (ValueError, IndexError) as e:
        raise ValueError(f"{path.name}: a feature value is not a number ({e})") from None
    blank = next((i for i, r in enumerate(body) if not r[col].strip()), None)
    if blank is not None:
        raise TargetError(f"{path.name}: row {blank + 2} has no value in the target column "
                          f"{header[col]!r} (allowed: a value in every row)")
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
    try:
        result = func()
    except (Exception, SystemExit) as e:   # the user's code: its error, said in one line
        raise ValueError(f"{task}: calling it raised {type(e).__name__}: {e}") from None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ValueError(f"{task}: returned {type(result).__name__}, not X, y (allowed: a pair "
                         "of arrays)")
    return result


def infer_kind(y: np.ndarray) -> str:
    """"classification" for text labels or a few integer values (at most 50), else "regression"."""
    if y.dtype.kind in "OUSb":
        return "classification"
    values = np.unique(y)
    if np.all(np.mod(values, 1) == 0) and len(values) <= 50:
        return "classification"
    return "regression"
