"""Parameters in one flat buffer (tuner.optim.flat): the same numbers as array by array."""

import copy
import pickle

import numpy as np
import pytest

from tuner.models import build_model
from tuner.optim import OPTIMIZERS, create
from tuner.optim.flat import FlatArrays

from test_optim import ROUNDTRIP_HYPER, SHAPES, random_grads, random_params


def flat_copy(arrays, dtype=np.float64) -> FlatArrays:
    flat = FlatArrays([a.shape for a in arrays], dtype)
    for target, source in zip(flat, arrays):
        target[...] = source
    return flat


def test_flat_arrays_are_consecutive_views_of_one_buffer():
    arrays = FlatArrays(SHAPES, np.float32)
    assert arrays.flat.dtype == np.float32 and arrays.flat.shape == (7,)
    assert [a.shape for a in arrays] == SHAPES
    assert all(np.shares_memory(a, arrays.flat) for a in arrays)
    arrays[1][1, 0] = 5.0
    assert arrays.flat.tolist() == [0, 0, 0, 0, 0, 5, 0]
    assert [v.shape for v in arrays.split(np.arange(7.0))] == SHAPES


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda a: pickle.loads(pickle.dumps(a))],
                         ids=["deepcopy", "pickle"])
def test_a_copy_is_flat_and_independent(duplicate):
    arrays = flat_copy(random_params(0))
    twin = duplicate(arrays)
    assert isinstance(twin, FlatArrays) and twin.layout == arrays.layout
    assert all(np.shares_memory(a, twin.flat) for a in twin)
    assert not np.shares_memory(twin.flat, arrays.flat)
    np.testing.assert_array_equal(twin.flat, arrays.flat)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("grads_as", ["flat", "list"])
def test_a_flat_optimizer_takes_the_same_steps_as_one_array_by_array(name, grads_as):
    separate = random_params(0)
    flat = flat_copy(separate)
    by_array = create(name, separate, **ROUNDTRIP_HYPER[name])
    at_once = create(name, flat, **ROUNDTRIP_HYPER[name])
    grad_buffer = FlatArrays(SHAPES, np.float64)
    for g in random_grads(1, 12):
        by_array.step(g)
        if grads_as == "flat":
            for target, source in zip(grad_buffer, g):
                target[...] = source
            at_once.step(grad_buffer)
        else:
            at_once.step(g)
        for p, q in zip(flat, separate):
            if name == "swats":      # its switch test sums dot products in another order
                np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
            else:                     # elementwise rules: the same numbers exactly
                np.testing.assert_array_equal(p, q)
    for mine, theirs in zip(at_once.state, by_array.state):
        assert mine.keys() == theirs.keys()
        for key in mine:
            np.testing.assert_allclose(mine[key], theirs[key], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("direction", ["flat to arrays", "arrays to flat"])
def test_a_state_dict_moves_between_flat_and_array_by_array(name, direction):
    grads = random_grads(2, 8)
    source_params = random_params(0)
    if direction == "flat to arrays":
        source_params = flat_copy(source_params)
    source = create(name, source_params, **ROUNDTRIP_HYPER[name])
    for g in grads[:4]:
        source.step(g)
    saved = source.state_dict()
    assert len(saved["state"]) == len(SHAPES)
    assert all(v.shape == shape for s, shape in zip(saved["state"], SHAPES)
               for v in s.values() if isinstance(v, np.ndarray))
    target_params = [p.copy() for p in source_params]
    if direction == "arrays to flat":
        target_params = flat_copy(target_params)
    target = create(name, target_params)
    target.load_state_dict(saved)
    for g in grads[4:]:
        source.step(g)
        target.step(g)
        for p, q in zip(target_params, source_params):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)


def test_a_flat_optimizer_refuses_gradients_of_the_wrong_shape():
    opt = create("adam", flat_copy(random_params(0)))
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(4,\)"):
        opt.step([np.zeros(3), np.zeros(4)])


def test_the_mlp_keeps_params_and_gradients_flat_and_reuses_its_gradient_buffers():
    model = build_model("mlp", 4, 3, hidden=(5,), seed=0)
    assert isinstance(model.params, FlatArrays)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    _, first = model.loss_and_grads(X, y)
    kept = [g.copy() for g in first]
    _, second = model.loss_and_grads(2 * X, y)
    assert isinstance(second, FlatArrays) and second is first     # the model's own buffers
    assert not np.array_equal(first.flat, np.concatenate([g.ravel() for g in kept]))
