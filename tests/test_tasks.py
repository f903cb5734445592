"""Tasks: every data set loads, splits 65/15/20 as a partition of the raw scikit-learn data,
stratified and seeded, standardised with training statistics (recomputed here from the raw
data); minibatches; the surface tasks."""

import functools
import re

import numpy as np
import pytest
from sklearn import datasets as skd

from tuner.optim import SGD
from tuner.tasks import (
    DATA_TASKS,
    SURFACES,
    TASKS,
    PointModel,
    Splits,
    SurfaceTask,
    load_task,
    split_arrays,
    task_metric,
)

# name: (kind, metric, samples, features, classes or outputs, train, val, test)
# test = ⌈0.2·n⌉, then val = ⌈0.1875·rest⌉ (15% of n; scikit-learn rounds held-out shares up).
EXPECTED = {
    "iris": ("classification", "accuracy", 150, 4, 3, 97, 23, 30),
    "wine": ("classification", "accuracy", 178, 13, 3, 115, 27, 36),
    "breast_cancer": ("classification", "accuracy", 569, 30, 2, 369, 86, 114),
    "digits": ("classification", "accuracy", 1797, 64, 10, 1_167, 270, 360),
    "diabetes": ("regression", "r2", 442, 10, 1, 286, 67, 89),
    "moons": ("classification", "accuracy", 1000, 2, 2, 650, 150, 200),
    "circles": ("classification", "accuracy", 1000, 2, 2, 650, 150, 200),
    "synthetic": ("classification", "accuracy", 100_000, 100, 10, 65_000, 15_000, 20_000),
}
DATA = list(DATA_TASKS)
SMALL = [name for name in DATA if name != "synthetic"]


@functools.lru_cache(maxsize=None)
def cached(name, seed=0, dtype=np.float64):
    """Each (task, seed, dtype) is loaded once per session (the synthetic set takes seconds)."""
    return load_task(name, seed=seed, dtype=dtype)


@functools.lru_cache(maxsize=None)
def raw(name):
    X, y = DATA_TASKS[name].load()
    return np.asarray(X, dtype=np.float64), np.asarray(y)


@functools.lru_cache(maxsize=None)
def recovered(name):
    """Map every row of every split back to its raw row: (indices per split, raw X, raw y).

    The three splits together are the raw data set under one per-column affine map
    ``x ↦ (x − m)/s``; ``m, s`` follow from the means and stds of the union and of the raw
    data, rows are reconstructed, snapped column-wise to the nearest raw value and looked up
    (with their label) among the raw rows, each raw row used at most once.
    """
    data = cached(name)
    X, y = raw(name)
    splits = [(data.X_train, data.y_train), (data.X_val, data.y_val), (data.X_test, data.y_test)]
    V = np.vstack([s[0] for s in splits]).astype(np.float64)
    assert V.shape == X.shape
    s = np.where(V.std(axis=0) > 0, X.std(axis=0) / np.where(V.std(axis=0) > 0, V.std(axis=0), 1),
                 1.0)
    m = X.mean(axis=0) - s * V.mean(axis=0)
    if data.kind == "regression":
        Y = np.concatenate([sp[1] for sp in splits])
        sy = y.std() / Y.std()
        my = y.mean() - sy * Y.mean()
        y_key = y
    else:
        _, y_key = np.unique(y, return_inverse=True)
    columns = [np.unique(X[:, j]) for j in range(X.shape[1])]

    def snap(A):
        out = np.empty_like(A)
        for j, col in enumerate(columns):
            pos = np.clip(np.searchsorted(col, A[:, j]), 1, len(col) - 1)
            lo, hi = col[pos - 1], col[pos]
            out[:, j] = np.where(np.abs(A[:, j] - lo) <= np.abs(hi - A[:, j]), lo, hi)
        return out

    lookup = {}
    for i in range(len(X)):
        lookup.setdefault((X[i].tobytes(), y_key[i].item()), []).append(i)
    indices = []
    for Xs, ys in splits:
        rec = Xs.astype(np.float64) * s + m
        snapped = snap(rec)
        scale = np.abs(X).max(axis=0) + 1.0
        assert np.all(np.abs(rec - snapped) < 1e-9 * scale), f"{name}: rows not raw rows"
        if data.kind == "regression":
            labels = np.unique(y)[np.abs(np.unique(y)[None, :] - (ys * sy + my)[:, None]).argmin(1)]
        else:
            labels = ys
        idx = []
        for row, label in zip(snapped, labels):
            bucket = lookup.get((row.tobytes(), label.item()))
            assert bucket, f"{name}: a split row (with its label) is not a remaining raw row"
            idx.append(bucket.pop())
        indices.append(np.array(idx))
    return indices, X, y


@pytest.fixture(scope="module")
def synthetic():
    return cached("synthetic")


def test_tasks_registry():
    assert TASKS == tuple(DATA_TASKS) + tuple(SURFACES)
    assert set(DATA_TASKS) == set(EXPECTED)
    assert set(SURFACES) == {"rosenbrock", "beale", "saddle"}


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits", "diabetes"])
def test_bundled_loaders_are_scikit_learns(name):
    X, y = getattr(skd, f"load_{name}")(return_X_y=True)
    np.testing.assert_array_equal(raw(name)[0], X)
    np.testing.assert_array_equal(raw(name)[1], y)


@pytest.mark.parametrize("name", DATA)
def test_every_data_task_loads_with_expected_sizes(name, synthetic):
    kind, metric, n, d, k, n_train, n_val, n_test = EXPECTED[name]
    data = cached(name)
    assert isinstance(data, Splits)
    assert data.kind == kind and DATA_TASKS[name].kind == kind
    assert task_metric(name) == metric
    assert raw(name)[0].shape == (n, d)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (n_train, n_val, n_test)
    assert n_train + n_val + n_test == n
    assert abs(n_val - 0.15 * n) < 1 and abs(n_test - 0.2 * n) < 1
    assert data.X_train.shape == (n_train, d)
    assert data.X_val.shape == (n_val, d) and data.X_test.shape == (n_test, d)
    assert data.n_features == d and data.n_outputs == k
    assert data.validation[0] is data.X_val and data.test[1] is data.y_test


@pytest.mark.parametrize("name", DATA)
def test_splits_are_a_partition_of_the_raw_data(name, synthetic):
    (train, val, test), X, _ = recovered(name)
    assert len(set(train)) == len(train) and len(set(val)) == len(val)
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)
    assert set(train) | set(val) | set(test) == set(range(len(X)))


@pytest.mark.parametrize("name", DATA)
def test_standardised_with_training_statistics(name, synthetic):
    """Recompute every split from the raw rows and the raw training rows' mean and std."""
    data = cached(name)
    (train, val, test), X, y = recovered(name)
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    std = np.where(std == 0, 1.0, std)
    for idx, Xs in ((train, data.X_train), (val, data.X_val), (test, data.X_test)):
        np.testing.assert_allclose(Xs, (X[idx] - mean) / std, rtol=1e-10, atol=1e-10)
    if data.kind == "regression":
        y = y.astype(np.float64)
        y_mean, y_std = y[train].mean(), y[train].std()
        for idx, ys in ((train, data.y_train), (val, data.y_val), (test, data.y_test)):
            np.testing.assert_allclose(ys, (y[idx] - y_mean) / y_std, rtol=1e-10, atol=1e-12)
    else:
        _, labels = np.unique(y, return_inverse=True)
        for idx, ys in ((train, data.y_train), (val, data.y_val), (test, data.y_test)):
            np.testing.assert_array_equal(ys, labels[idx])


@pytest.mark.parametrize("name", DATA)
def test_training_features_have_zero_mean_unit_std(name, synthetic):
    data = cached(name)
    (train, _, _), X, _ = recovered(name)
    constant = X[train].std(axis=0) == 0                  # e.g. digits' always-blank pixels
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-12)
    std = data.X_train.std(axis=0)
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-12)
    assert np.all(std[constant] == 0)
    if name == "digits":
        assert constant.any()
    else:
        assert not constant.any()
    # validation/test use the training statistics, so they are only near 0 / 1
    assert np.abs(data.X_val.mean(axis=0)).max() < 1.0


def test_standardising_with_training_statistics_differs_from_using_all_data():
    """The recomputation above can tell: the full data's statistics give other values."""
    data = cached("wine")
    X, _ = raw("wine")
    full = (X - X.mean(axis=0)) / X.std(axis=0)
    assert not np.allclose(np.sort(data.X_val, axis=0)[:5], np.sort(full, axis=0)[:5], atol=1e-6)
    assert np.abs(data.X_val.mean(axis=0)).max() > 1e-3


def test_regression_targets_standardised():
    data = cached("diabetes")
    assert data.y_train.ndim == 1
    assert data.y_train.mean() == pytest.approx(0.0, abs=1e-12)
    assert data.y_train.std() == pytest.approx(1.0, rel=1e-12)
    assert abs(data.y_val.mean()) < 0.5 and abs(data.y_val.mean()) > 1e-6


@pytest.mark.parametrize("name", [n for n in DATA if EXPECTED[n][0] == "classification"])
def test_classification_splits_are_stratified(name, synthetic):
    data = cached(name)
    k = EXPECTED[name][4]
    labels = np.concatenate([data.y_train, data.y_val, data.y_test])
    share = np.bincount(labels, minlength=k) / len(labels)
    for ys in (data.y_train, data.y_val, data.y_test):
        counts = np.bincount(ys, minlength=k)
        # stratified: each class count within 2 of its proportional share
        # (a random split of these sizes is typically off by 4–7 for some class)
        assert np.abs(counts - share * len(ys)).max() <= 2, counts


@pytest.mark.parametrize("name", [n for n in DATA if EXPECTED[n][0] == "classification"])
def test_labels_are_0_to_k_minus_1(name, synthetic):
    data = cached(name)
    k = EXPECTED[name][4]
    for ys in (data.y_train, data.y_val, data.y_test):
        assert np.issubdtype(ys.dtype, np.integer)
        assert set(np.unique(ys)) == set(range(k))


def test_labels_are_encoded_whatever_their_values():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    # Labels are numbered in sorted order: "a" (2 of 4) → 0, "b" → 1, "c" → 2, so the 26
    # training rows (40 − 8 test − 6 validation) hold 13 : 6 : 7; 10 → 0, 20 (2 of 4) → 1,
    # 30 → 2 gives 6 : 13 : 7.
    for y, counts in ((np.array(["b", "a", "c", "a"] * 10), [13, 6, 7]),
                      (np.array([30, 10, 20, 20] * 10), [6, 13, 7])):
        data = split_arrays(X, y, "classification", seed=0)
        assert set(np.unique(data.y_train)) == {0, 1, 2} and data.n_outputs == 3
        assert data.y_train.dtype == np.int64
        assert np.bincount(data.y_train).tolist() == counts
        assert np.bincount(data.y_test).tolist() == [c // 3 for c in counts]


@pytest.mark.parametrize("name", SMALL)
def test_same_seed_same_splits_other_seed_other_splits(name):
    a, b, c = load_task(name, seed=0), load_task(name, seed=0), load_task(name, seed=1)
    for attr in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert not np.array_equal(a.X_train, c.X_train)
    assert not np.array_equal(a.X_test, c.X_test)
    assert len(c.y_train) == len(a.y_train)


@pytest.mark.parametrize("name", SMALL)
def test_float32_respected(name):
    data32 = cached(name, dtype=np.float32)
    data64 = cached(name)
    for attr in ("X_train", "X_val", "X_test"):
        assert getattr(data32, attr).dtype == np.float32
        assert getattr(data64, attr).dtype == np.float64
        np.testing.assert_allclose(getattr(data32, attr), getattr(data64, attr),
                                   rtol=1e-6, atol=1e-6)
    for attr in ("y_train", "y_val", "y_test"):
        if data32.kind == "regression":
            assert getattr(data32, attr).dtype == np.float32
        else:
            assert getattr(data32, attr).dtype == np.int64
            np.testing.assert_array_equal(getattr(data32, attr), getattr(data64, attr))


def test_unknown_task_lists_the_known_names():
    for call in (lambda: load_task("mnist"), lambda: task_metric("mnist")):
        with pytest.raises(ValueError, match=re.escape("Invalid task value: 'mnist'")) as err:
            call()
        for name in TASKS:
            assert name in str(err.value)


# ---------------------------------------------------------------------------------------------
# Minibatches
# ---------------------------------------------------------------------------------------------

def index_splits(n):
    """Splits whose training row i is [i, −i] with label i, so a batch shows its indices."""
    X = np.stack([np.arange(n, dtype=float), -np.arange(n, dtype=float)], axis=1)
    empty = np.zeros((0, 2))
    return Splits(X, np.arange(n), empty, np.zeros(0, int), empty, np.zeros(0, int),
                  "classification")


@pytest.mark.parametrize("n, batch_size, sizes", [(10, 4, [4, 4, 2]), (12, 4, [4, 4, 4]),
                                                  (10, 10, [10]), (5, 64, [5]), (7, 1, [1] * 7)])
def test_batches_cover_every_training_index_once_per_epoch(n, batch_size, sizes):
    data = index_splits(n)
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(3):
        batches = list(data.batches(rng, batch_size))
        assert [len(yb) for _, yb in batches] == sizes
        for Xb, yb in batches:
            np.testing.assert_array_equal(Xb[:, 0], yb)       # rows and labels stay paired
            np.testing.assert_array_equal(Xb[:, 1], -yb)
        order = np.concatenate([yb for _, yb in batches])
        assert sorted(order.tolist()) == list(range(n))
        orders.append(order.tolist())
    if n >= 10:
        assert orders[0] != orders[1] != orders[2]             # reshuffled every epoch
        assert orders[0] != sorted(orders[0])
    again = [yb.tolist() for _, yb in index_splits(n).batches(np.random.default_rng(0),
                                                               batch_size)]
    assert sum(again, []) == orders[0]                         # same rng seed, same order


def test_batches_of_a_real_task():
    data = cached("iris")
    batches = list(data.batches(np.random.default_rng(1), 32))
    assert [len(yb) for _, yb in batches] == [32, 32, 32, 1]
    Xs = np.vstack([Xb for Xb, _ in batches])
    ys = np.concatenate([yb for _, yb in batches])
    # the same multiset of (row, label) pairs as the training split
    key = lambda X, y: sorted(map(tuple, np.column_stack([X, y]).tolist()))  # noqa: E731
    assert key(Xs, ys) == key(data.X_train, data.y_train)


# ---------------------------------------------------------------------------------------------
# Surface tasks
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_task(name):
    task = load_task(name, steps_per_epoch=7)
    assert isinstance(task, SurfaceTask) and task.surface is SURFACES[name]
    assert task.kind == "surface" and task.metric == "loss" and task_metric(name) == "loss"
    assert task.validation == (None, None) and task.test == (None, None)
    assert list(task.batches(np.random.default_rng(0), 32)) == [(None, None)] * 7
    assert len(list(load_task(name).batches(None, 1))) == 100        # default steps_per_epoch

    model = task.model()
    assert isinstance(model, PointModel) and model.path == []
    start = SURFACES[name].start
    np.testing.assert_array_equal(model.params[0], start)
    assert model.forward() == pytest.approx(SURFACES[name].f(*start))
    opt = SGD(model.params, lr=1e-3)
    expected_path = []
    for _ in range(5):
        expected_path.append(tuple(model.params[0].tolist()))
        loss, grads = model.loss_and_grads(None, None)
        assert loss == pytest.approx(SURFACES[name].f(*model.params[0]))
        np.testing.assert_allclose(grads[0], SURFACES[name].grad(*model.params[0]))
        opt.step(grads)
    assert model.path == expected_path
    assert model.path[0] == tuple(float(v) for v in start)
    assert len(set(model.path)) == 5                                 # the point moved


def test_surface_model_dtype_and_start():
    task = load_task("beale")
    model = task.model(dtype=np.float32)
    assert model.params[0].dtype == np.float32
    _, grads = model.loss_and_grads()
    assert grads[0].dtype == np.float32
    other = PointModel(SURFACES["saddle"], start=(0.0, 0.5))
    np.testing.assert_array_equal(other.params[0], [0.0, 0.5])
    assert other.loss(other.forward()) == pytest.approx(0.5 ** 4 / 4 - 0.5 ** 2 / 2)


def test_a_feature_constant_in_training_up_to_rounding_is_left_unscaled():
    """0.1 in every row has a spread of ~3e-17 in floating point, not 0: divided by it, the
    rows became ±1 (and a test row of 0.2 would become 1e14); scikit-learn's StandardScaler
    leaves such a feature unscaled, centred here: 0."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(200, 2)), np.full(200, 0.1)]
    data = split_arrays(X, rng.integers(0, 2, 200), "classification", seed=0)
    every = np.concatenate([data.X_train[:, 2], data.X_val[:, 2], data.X_test[:, 2]])
    assert np.abs(every).max() <= 1e-12
