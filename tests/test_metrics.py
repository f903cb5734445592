"""Validation metrics on small literal examples; r2 against scikit-learn's r2_score."""

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, r2_score

from tuner.metrics import METRICS, Metric, accuracy, model_loss, mse, r2


def test_registry_and_directions():
    assert set(METRICS) == {"accuracy", "r2", "mse", "loss"}
    assert all(isinstance(m, Metric) for m in METRICS.values())
    assert METRICS["accuracy"].greater_is_better and METRICS["r2"].greater_is_better
    assert not METRICS["mse"].greater_is_better and not METRICS["loss"].greater_is_better
    assert METRICS["accuracy"].score is accuracy and METRICS["r2"].score is r2
    assert METRICS["mse"].score is mse and METRICS["loss"].score is model_loss


def test_accuracy_literal():
    logits = np.array([[2.0, 1.0, 0.0],     # argmax 0
                       [0.0, 3.0, 1.0],     # argmax 1
                       [0.5, 0.2, 0.9],     # argmax 2
                       [1.0, 0.0, -1.0]])   # argmax 0
    y = np.array([0, 1, 1, 2])              # right, right, wrong, wrong → 2/4
    assert accuracy(y, logits, 0.0) == 0.5
    assert accuracy(np.array([0, 1, 2, 0]), logits, 0.0) == 1.0
    assert accuracy(np.array([1, 0, 0, 1]), logits, 0.0) == 0.0
    assert isinstance(accuracy(y, logits, 0.0), float)


def test_accuracy_binary_three_of_five():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.45, 0.55]])
    assert accuracy(np.array([1, 0, 0, 1, 1]), logits, 0.0) == pytest.approx(0.6)


def test_r2_literal():
    # y = (1, 2, 3, 4): mean 2.5, Σ(y − ȳ)² = 2.25 + 0.25 + 0.25 + 2.25 = 5
    # ŷ = (1, 2, 3, 5): Σ(y − ŷ)² = 1 → R² = 1 − 1/5 = 0.8
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2(y, np.array([[1.0], [2.0], [3.0], [5.0]]), 0.0) == pytest.approx(0.8, rel=1e-14)
    assert r2(y, y[:, None].copy(), 0.0) == 1.0
    # predicting the mean gives 0, worse than the mean is negative: ŷ = 4 − y → Σ = 9+1+1+9 = 20
    assert r2(y, np.full((4, 1), 2.5), 0.0) == 0.0
    assert r2(y, (5.0 - y)[:, None], 0.0) == pytest.approx(1 - 20 / 5, rel=1e-14)


@pytest.mark.parametrize("k", [1, 3])
def test_r2_matches_scikit_learn(k):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(30, k))
    out = y + rng.normal(scale=0.5, size=(30, k))
    expected = r2_score(y, out)               # uniform average over outputs
    y_in = y[:, 0] if k == 1 else y
    assert r2(y_in, out, 0.0) == pytest.approx(expected, rel=1e-12)


def test_r2_with_a_constant_target_matches_scikit_learn():
    """The docstring promises scikit-learn's r2_score, which (force_finite) scores a constant
    target 1.0 if predicted exactly and 0.0 otherwise."""
    y = np.array([1.0, 1.0, 1.0])
    assert r2(y, np.array([[1.0], [1.0], [1.0]]), 0.0) == r2_score(y, [1.0, 1.0, 1.0]) == 1.0
    out = np.array([[1.0], [1.5], [1.0]])
    assert r2(y, out, 0.0) == r2_score(y, out[:, 0]) == 0.0
    # multi-output: column 1 constant and mispredicted, column 0 an ordinary R² of 0.8
    Y = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0], [4.0, 2.0]])
    O = np.array([[1.0, 2.0], [2.0, 2.5], [3.0, 2.0], [5.0, 2.0]])
    assert r2(Y, O, 0.0) == pytest.approx(r2_score(Y, O), rel=1e-12)   # (0.8 + 0)/2 = 0.4


def test_mse_literal_and_against_scikit_learn():
    # diffs (0, 1, −2, 3) → (0 + 1 + 4 + 9)/4 = 3.5
    y = np.array([1.0, 2.0, 3.0, 4.0])
    out = np.array([[1.0], [3.0], [1.0], [7.0]])
    assert mse(y, out, 0.0) == 3.5
    assert mse(y, out, 0.0) == pytest.approx(mean_squared_error(y, out[:, 0]), rel=1e-15)
    Y = np.array([[0.0, 1.0], [2.0, 2.0]])
    O = np.array([[1.0, 1.0], [2.0, 0.0]])          # diffs 1, 0, 0, −2 → 5/4
    assert mse(Y, O, 0.0) == 1.25
    assert isinstance(mse(y, out, 0.0), float)


def test_loss_metric_is_the_models_loss():
    assert model_loss(None, None, 0.25) == 0.25
    assert model_loss(np.zeros(3), np.zeros((3, 1)), np.float32(1.5)) == 1.5
    assert isinstance(model_loss(None, None, np.float64(2.0)), float)
