"""Models and losses: backpropagation against central finite differences, the losses against
independent formulas and worked examples, dtype, seeded initialisation, predictions, errors;
and the 2-D surfaces' gradients."""

import math
import re

import numpy as np
import pytest

from tuner.models import MLP, MODELS, build_model, cross_entropy, squared_error
from tuner.tasks import SURFACES

H = 1e-6
N_IN, N_OUT, N_SAMPLES = 5, 3, 6

# Every head and every model of the registry: (id, name, build kwargs, n_outputs).
CONFIGS = [
    ("softmax_regression", "softmax_regression", {}, N_OUT),
    ("mlp_relu_2_hidden", "mlp", {"hidden": (7, 4), "activation": "relu"}, N_OUT),
    ("mlp_tanh_2_hidden", "mlp", {"hidden": (7, 4), "activation": "tanh"}, N_OUT),
    ("mlp_relu_1_hidden", "mlp", {"hidden": (6,), "activation": "relu"}, N_OUT),
    ("linear_regression", "regression", {}, 1),
    ("regression_relu_hidden", "regression", {"hidden": (7, 4), "activation": "relu"}, 1),
    ("regression_tanh_hidden", "regression", {"hidden": (7, 4), "activation": "tanh"}, 1),
    ("regression_multi_output", "regression", {"hidden": (7, 4), "activation": "tanh"}, N_OUT),
    ("linear_regression_multi_output", "regression", {}, N_OUT),
]
IDS = [c[0] for c in CONFIGS]


def test_configs_cover_every_registered_model_and_head():
    assert {c[1] for c in CONFIGS} == set(MODELS)
    assert {MODELS[c[1]]["head"] for c in CONFIGS} == {"softmax", "linear"}


def make_data(name, n_outputs, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_SAMPLES, N_IN)).astype(dtype)
    if MODELS[name]["head"] == "softmax":
        y = rng.integers(0, n_outputs, N_SAMPLES)
    elif n_outputs == 1:
        y = rng.normal(size=N_SAMPLES).astype(dtype)
    else:
        y = rng.normal(size=(N_SAMPLES, n_outputs)).astype(dtype)
    return X, y


def pre_activations(model, X):
    """Every hidden layer's pre-activation, computed independently of the model's forward."""
    acts, a = [], X
    for layer in range(model.n_layers - 1):
        z = a @ model.params[2 * layer] + model.params[2 * layer + 1]
        acts.append(z)
        a = np.maximum(z, 0) if model.activation == "relu" else np.tanh(z)
    return acts


def reference_forward(model, X):
    a = X
    for layer in range(model.n_layers):
        z = a @ model.params[2 * layer] + model.params[2 * layer + 1]
        if layer < model.n_layers - 1:
            z = np.maximum(z, 0) if model.activation == "relu" else np.tanh(z)
        a = z
    return a


def numeric_grads(model, X, y, h=H):
    """Central differences of the loss w.r.t. every parameter entry."""
    grads = []
    for p in model.params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = model.loss(model.forward(X), y)
            p[idx] = old - h
            down = model.loss(model.forward(X), y)
            p[idx] = old
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("cid, name, kwargs, n_outputs", CONFIGS, ids=IDS)
def test_gradients_match_finite_differences(cid, name, kwargs, n_outputs):
    model = build_model(name, N_IN, n_outputs, seed=3, **kwargs)
    X, y = make_data(name, n_outputs)
    if model.activation == "relu":
        # Stay away from the kinks: a perturbation of h moves a pre-activation by at most
        # h·(1 + Σ|inputs|) ≈ 1e-5, far below the smallest |pre-activation|.
        for z in pre_activations(model, X):
            assert np.abs(z).min() > 1e-3
    loss, grads = model.loss_and_grads(X, y)
    assert loss == pytest.approx(model.loss(model.forward(X), y), rel=1e-14)
    numeric = numeric_grads(model, X, y)
    assert [g.shape for g in grads] == [p.shape for p in model.params]
    for i, (g, n) in enumerate(zip(grads, numeric)):
        assert np.abs(g).max() > 1e-4, f"params[{i}]: gradient is (nearly) zero"
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-9, err_msg=f"params[{i}]")


@pytest.mark.parametrize("cid, name, kwargs, n_outputs", CONFIGS, ids=IDS)
def test_forward_matches_reference(cid, name, kwargs, n_outputs):
    model = build_model(name, N_IN, n_outputs, seed=5, **kwargs)
    X, _ = make_data(name, n_outputs)
    out = model.forward(X)
    assert out.shape == (N_SAMPLES, n_outputs)
    np.testing.assert_allclose(out, reference_forward(model, X), rtol=1e-13, atol=1e-15)
    X_copy = X.copy()
    model.loss_and_grads(X, make_data(name, n_outputs)[1])
    np.testing.assert_array_equal(X, X_copy)             # inputs untouched


def test_relu_layer_has_dead_units_with_zero_gradient():
    """A hidden unit that is off for every sample gets exactly zero gradient on its weights."""
    model = build_model("mlp", 2, 2, hidden=(3,), seed=0)
    W1, b1 = model.params[0], model.params[1]
    b1[1] = -100.0                                  # unit 1 never fires for |x| ≤ 1
    X = np.array([[0.5, -0.3], [1.0, 0.2], [-0.7, 0.9]])
    _, grads = model.loss_and_grads(X, np.array([0, 1, 1]))
    assert np.all(grads[0][:, 1] == 0) and grads[1][1] == 0
    assert np.all(grads[2][1, :] == 0)              # its outgoing weights see a zero activation
    assert W1.shape == (2, 3)


# ---------------------------------------------------------------------------------------------
# Losses alone
# ---------------------------------------------------------------------------------------------

def loss_numeric_grad(loss_fn, z, y, h=H):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        g[idx] = (loss_fn(zp, y)[0] - loss_fn(zm, y)[0]) / (2 * h)
    return g


def test_cross_entropy_worked_example():
    # Logits ln 1, ln 2, ln 3 → softmax (1/6, 2/6, 3/6).
    # Row 1, label 2: −ln(3/6) = ln 2 ≈ 0.693147; row 2, label 0: −ln(1/6) = ln 6 ≈ 1.791759.
    # Mean: (ln 2 + ln 6)/2 = ln(12)/2 ≈ 1.242453.
    # Gradient (softmax − onehot)/n: row 1 (1/6, 1/3, 1/2 − 1)/2, row 2 (1/6 − 1, 1/3, 1/2)/2.
    z = np.log(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]))
    loss, grad = cross_entropy(z, np.array([2, 0]))
    assert loss == pytest.approx(math.log(12) / 2, rel=1e-14)
    assert loss == pytest.approx(1.2424533248940002, rel=1e-14)
    np.testing.assert_allclose(grad, [[1 / 12, 1 / 6, -1 / 4], [-5 / 12, 1 / 6, 1 / 4]],
                               rtol=1e-14, atol=1e-16)


def test_cross_entropy_against_independent_formula_and_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(7, 4))
    y = rng.integers(0, 4, 7)
    loss, grad = cross_entropy(z, y)
    # −log(exp(z_y)/Σ exp(z)), computed directly (the logits are small enough)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(7), y])), rel=1e-13)
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(grad, (p - onehot) / 7, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(grad, loss_numeric_grad(cross_entropy, z, y),
                               rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-16)


def test_cross_entropy_is_stable_for_large_logits():
    z = np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 1000.0]])
    loss, grad = cross_entropy(z, np.array([0, 0, 1]))
    # rows 1 and 3 are right with certainty (loss 0), row 2 costs 1000: mean 1000/3
    assert loss == pytest.approx(1000 / 3, rel=1e-14)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [[0, 0], [-1 / 3, 1 / 3], [0, 0]], atol=1e-16)


def test_cross_entropy_does_not_modify_its_input():
    z = np.array([[0.3, -1.0, 2.0]])
    z_copy = z.copy()
    cross_entropy(z, np.array([1]))
    np.testing.assert_array_equal(z, z_copy)


def test_squared_error_worked_example():
    # One output: diffs (1, 2) → loss (1 + 4)/2 = 2.5, grad 2·diff/2 = (1, 2).
    z = np.array([[1.0], [3.0]])
    loss, grad = squared_error(z, np.array([0.0, 1.0]))
    assert loss == 2.5
    np.testing.assert_array_equal(grad, [[1.0], [2.0]])
    # Two outputs, n·k = 4: diffs (1, −1, 0, 2) → loss 6/4 = 1.5, grad 2·diff/4.
    z = np.array([[1.0, 0.0], [2.0, 4.0]])
    y = np.array([[0.0, 1.0], [2.0, 2.0]])
    loss, grad = squared_error(z, y)
    assert loss == 1.5
    np.testing.assert_array_equal(grad, [[0.5, -0.5], [0.0, 1.0]])
    np.testing.assert_array_equal(z, [[1.0, 0.0], [2.0, 4.0]])     # input untouched


@pytest.mark.parametrize("shape", [(6, 1), (6, 3)])
def test_squared_error_against_formula_and_finite_differences(shape):
    rng = np.random.default_rng(2)
    z = rng.normal(size=shape)
    y = rng.normal(size=shape[0]) if shape[1] == 1 else rng.normal(size=shape)
    loss, grad = squared_error(z, y)
    diff = z - y.reshape(shape)
    assert loss == pytest.approx(np.sum(diff ** 2) / diff.size, rel=1e-14)
    np.testing.assert_allclose(grad, loss_numeric_grad(squared_error, z, y),
                               rtol=1e-6, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# dtype, initialisation, predictions, errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cid, name, kwargs, n_outputs", CONFIGS, ids=IDS)
def test_float32_model(cid, name, kwargs, n_outputs):
    model = build_model(name, N_IN, n_outputs, dtype=np.float32, seed=3, **kwargs)
    X, y = make_data(name, n_outputs, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.params)
    assert model.forward(X).dtype == np.float32
    loss, grads = model.loss_and_grads(X, y)
    assert isinstance(loss, float)
    assert all(g.dtype == np.float32 for g in grads)
    # and agrees with the float64 model built from the same seed to float32 precision
    model64 = build_model(name, N_IN, n_outputs, seed=3, **kwargs)
    loss64, grads64 = model64.loss_and_grads(X.astype(np.float64), y)
    assert loss == pytest.approx(loss64, rel=1e-5)
    for g, g64 in zip(grads, grads64):
        np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("cid, name, kwargs, n_outputs", CONFIGS, ids=IDS)
def test_seeded_init_reproducible_and_differs_by_seed(cid, name, kwargs, n_outputs):
    a = build_model(name, N_IN, n_outputs, seed=11, **kwargs)
    b = build_model(name, N_IN, n_outputs, seed=11, **kwargs)
    c = build_model(name, N_IN, n_outputs, seed=12, **kwargs)
    for pa, pb, pc in zip(a.params, b.params, c.params):
        np.testing.assert_array_equal(pa, pb)
        assert not np.any(pa == pc)


def test_unseeded_init_differs():
    a, b = MLP(5, (7,), 3, seed=None), MLP(5, (7,), 3, seed=None)
    assert not np.array_equal(a.params[0], b.params[0])


def test_init_bounds_are_plus_minus_one_over_sqrt_fan_in():
    model = MLP(100, (400, 9), 50, seed=0)
    assert model.sizes == [100, 400, 9, 50]
    shapes = [(100, 400), (400,), (400, 9), (9,), (9, 50), (50,)]
    assert [p.shape for p in model.params] == shapes
    for layer, fan_in in enumerate([100, 400, 9]):
        bound = 1 / math.sqrt(fan_in)
        for p in model.params[2 * layer: 2 * layer + 2]:
            assert np.abs(p).max() <= bound
            assert np.abs(p).max() > 0.9 * bound        # fills the range, not a narrower one
    # Uniform on ±0.1 for the 40 000 first-layer weights: mean 0, variance 0.1²/3.
    W1 = model.params[0]
    assert abs(W1.mean()) < 0.002
    assert W1.var() == pytest.approx(0.01 / 3, rel=0.02)


@pytest.mark.parametrize("hidden", [(), (7, 4)])
def test_predict_and_predict_proba_softmax(hidden):
    name = "mlp" if hidden else "softmax_regression"
    model = build_model(name, N_IN, 4, hidden=hidden, seed=0, activation="tanh")
    X = np.random.default_rng(0).normal(size=(20, N_IN))
    logits = model.forward(X)
    proba = model.predict_proba(X)
    assert proba.shape == (20, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)
    assert np.all(proba > 0)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, rtol=1e-13)
    pred = model.predict(X)
    assert pred.shape == (20,)
    np.testing.assert_array_equal(pred, logits.argmax(axis=1))
    np.testing.assert_array_equal(pred, proba.argmax(axis=1))
    np.testing.assert_array_equal(model.forward(X), logits)   # predict_proba left no trace


def test_predict_regression_shapes():
    X = np.random.default_rng(0).normal(size=(8, N_IN))
    one = build_model("regression", N_IN, 1, hidden=(4,), seed=0)
    np.testing.assert_array_equal(one.predict(X), one.forward(X)[:, 0])
    assert one.predict(X).shape == (8,)
    many = build_model("regression", N_IN, 3, seed=0)
    assert many.predict(X).shape == (8, 3)
    np.testing.assert_array_equal(many.predict(X), many.forward(X))
    with pytest.raises(ValueError, match="predict_proba needs the softmax head"):
        one.predict_proba(X)


def test_softmax_regression_is_linear_softmax():
    model = build_model("softmax_regression", N_IN, N_OUT, seed=0)
    assert model.n_layers == 1 and model.head == "softmax"
    X = np.random.default_rng(0).normal(size=(4, N_IN))
    np.testing.assert_allclose(model.forward(X), X @ model.params[0] + model.params[1],
                               rtol=1e-14)


@pytest.mark.parametrize("call, pattern", [
    (lambda: build_model("cnn", 4, 2), "Invalid model value: 'cnn' (allowed: softmax_regression, "
     "mlp, regression)"),
    (lambda: build_model("softmax_regression", 4, 2, hidden=(8,)),
     "Invalid hidden value: (8,) for model 'softmax_regression'"),
    (lambda: build_model("mlp", 4, 2, hidden=(8,), activation="sigmoid"),
     "Invalid activation value: 'sigmoid' (allowed: relu, tanh)"),
    (lambda: MLP(4, (8,), 2, head="hinge"), "Invalid head value: 'hinge'"),
    (lambda: MLP(4, (0,), 2), "Invalid layer sizes: [4, 0, 2]"),
    (lambda: MLP(4, (8,), 2, dtype=np.float16), "Invalid dtype value"),
])
def test_build_errors(call, pattern):
    with pytest.raises(ValueError, match=re.escape(pattern)):
        call()


def test_regression_without_hidden_is_accepted():
    model = build_model("regression", 3, 1)
    assert model.sizes == [3, 1] and model.head == "linear"
    assert repr(build_model("mlp", 64, 10, hidden=(128,))) == (
        "MLP(64, (128,), 10, activation='relu', head='softmax', dtype=float64)")


@pytest.mark.parametrize("cid, name, kwargs, n_outputs", CONFIGS, ids=IDS)
def test_forward_in_chunks_and_any_batch_size(cid, name, kwargs, n_outputs):
    """More rows than a chunk, and batch sizes changing from call to call (more than the
    workspaces kept), give what each row alone gives."""
    model = build_model(name, N_IN, n_outputs, seed=2, **kwargs)
    X = np.random.default_rng(4).normal(size=(2 * MLP.CHUNK_ROWS + 37, N_IN))
    np.testing.assert_allclose(model.forward(X), reference_forward(model, X), rtol=1e-12,
                               atol=1e-14)
    y = make_data(name, n_outputs)[1]
    for n in (6, 1, 5, 3, 2, 4, 6, 1):
        Xn, yn = X[:n], y[:n]
        loss, grads = model.loss_and_grads(Xn, yn)
        assert loss == pytest.approx(model.loss(reference_forward(model, Xn), yn), rel=1e-13)
        kept = [g.copy() for g in grads]
        fresh = build_model(name, N_IN, n_outputs, seed=2, **kwargs)
        for g, f in zip(kept, fresh.loss_and_grads(Xn, yn)[1]):
            np.testing.assert_array_equal(g, f)


def test_pickled_and_copied_models_own_their_buffers():
    """A copy computes with its own parameters, laid out flat, not the original's."""
    import copy
    import pickle

    model = MLP(N_IN, (7,), N_OUT, seed=0)
    X, y = make_data("mlp", N_OUT)
    before = model.loss_and_grads(X, y)[0]
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(twin.forward(X), model.forward(X))
        assert twin.loss_and_grads(X, y)[0] == before
        twin.params.flat[:] = 0.0                       # the copy's parameters only
        assert not np.shares_memory(twin.params.flat, model.params.flat)
        np.testing.assert_allclose(twin.forward(X), 0.0, atol=0)
        assert twin.loss_and_grads(X, y)[0] == pytest.approx(math.log(N_OUT), rel=1e-14)
        assert model.loss_and_grads(X, y)[0] == before
        assert len(pickle.dumps(twin)) < 10 * model.params.flat.nbytes + 2000   # no workspaces


def test_float64_input_to_a_float32_model_computes_in_float32():
    model = MLP(N_IN, (7,), N_OUT, dtype=np.float32, seed=0)
    X, y = make_data("mlp", N_OUT)
    assert model.forward(X).dtype == np.float32
    np.testing.assert_array_equal(model.forward(X), model.forward(X.astype(np.float32)))
    assert model.loss_and_grads(X, y)[0] == model.loss_and_grads(X.astype(np.float32), y)[0]


# ---------------------------------------------------------------------------------------------
# Surfaces
# ---------------------------------------------------------------------------------------------

POINTS = [(-1.2, 1.0), (0.3, -0.7), (1.5, 2.1), (-0.4, 0.25), (2.0, -1.5), (0.9, 0.8)]


@pytest.mark.parametrize("name", list(SURFACES))
@pytest.mark.parametrize("point", POINTS)
def test_surface_gradient_matches_finite_differences(name, point):
    s = SURFACES[name]
    x, y = point
    gx, gy = s.grad(x, y)
    nx = (s.f(x + H, y) - s.f(x - H, y)) / (2 * H)
    ny = (s.f(x, y + H) - s.f(x, y - H)) / (2 * H)
    assert gx == pytest.approx(nx, rel=1e-6, abs=1e-6)
    assert gy == pytest.approx(ny, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name, minimum, value", [("rosenbrock", (1.0, 1.0), 0.0),
                                                  ("beale", (3.0, 0.5), 0.0),
                                                  ("saddle", (0.0, 1.0), -0.25)])
def test_surface_minimum_has_zero_gradient(name, minimum, value):
    s = SURFACES[name]
    assert s.minimum == minimum
    assert s.f(*minimum) == pytest.approx(value, abs=1e-15)
    assert s.grad(*minimum) == (0.0, 0.0) or np.allclose(s.grad(*minimum), 0.0, atol=1e-15)
    # and it is a minimum: every nearby point is higher
    for dx, dy in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3), (1e-3, 1e-3)]:
        assert s.f(minimum[0] + dx, minimum[1] + dy) > s.f(*minimum)


def test_surface_literal_values_and_saddle_point():
    r, b, s = SURFACES["rosenbrock"], SURFACES["beale"], SURFACES["saddle"]
    assert r.f(-1.2, 1.0) == pytest.approx(24.2)                 # 2.2² + 100·0.44²
    assert r.grad(-1.2, 1.0) == pytest.approx((-215.6, -88.0))   # −4.4 − 400·(−1.2)·(−0.44)
    assert b.f(0.0, 0.0) == pytest.approx(1.5 ** 2 + 2.25 ** 2 + 2.625 ** 2)
    assert s.f(0.0, 0.0) == 0.0 and s.grad(0.0, 0.0) == (0.0, 0.0)
    assert s.f(0.0, -1.0) == -0.25 and s.grad(0.0, -1.0) == (0.0, 0.0)
    # f is vectorised for contour plots
    xs, ys = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 2, 3))
    assert r.f(xs, ys).shape == (3, 4)
