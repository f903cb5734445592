"""Reference tests for :mod:`tuner.optim`: every optimizer against its documented update rule.

Each optimizer takes a few steps from fixed, injected gradients; the expected parameters are
derived in this file from the formula in the class docstring (plain Python floats, element by
element, with the first step's arithmetic written out), never by calling ``tuner.optim``.
Everything is float64 and compared to 1e-12. The PyTorch cross-check lives in test_optim_torch.py.
"""

import math
import re

import numpy as np
import pytest

from tuner.optim import (OPTIMIZERS, SGD, SWATS, Adadelta, Adagrad, Adam, AdamW, NAdam,
                         RMSprop, create)
from tuner.schedules import ExponentialLR

ATOL = 1e-12
ALL_CLASSES = [SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, NAdam, SWATS]
ADAM_FAMILY = [Adam, AdamW, NAdam, SWATS]

THETA0 = (1.0, -2.0)
GRADS = [(0.5, -1.0), (0.3, 0.2), (-0.4, 0.8), (1.0, -0.6)]   # four injected gradients


def close(actual, expected, atol=ATOL):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol)


def run(make, grads=GRADS, theta0=THETA0):
    """Step ``make([w])`` through ``grads``; return (parameters after each step, optimizer)."""
    w = np.array(theta0, dtype=np.float64)
    opt = make([w])
    path = []
    for g in grads:
        opt.step([np.array(g, dtype=np.float64)])
        path.append(w.copy())
    return np.array(path), opt


def reference(rule, grads=GRADS, theta0=THETA0):
    """Apply a scalar update ``rule(t, theta, g, state) -> theta`` to each element, in Python floats."""
    theta = [float(x) for x in theta0]
    states = [{} for _ in theta]
    path = []
    for t, g in enumerate(grads, start=1):
        theta = [rule(t, th, float(gi), st) for th, gi, st in zip(theta, g, states)]
        path.append(theta)
    return np.array(path), states


# ---------------------------------------------------------------------------------------------
# SGD: small enough to write every number out by hand (lr = 0.1, θ0 = (1, −2), GRADS above).

SGD_CASES = {
    # θ ← θ − 0.1·g
    "plain": (dict(lr=0.1), [
        [1 - 0.05, -2 + 0.1],                      # (0.95, −1.9)
        [0.95 - 0.03, -1.9 - 0.02],                # (0.92, −1.92)
        [0.92 + 0.04, -1.92 - 0.08],               # (0.96, −2.0)
        [0.96 - 0.1, -2.0 + 0.06],                 # (0.86, −1.94)
    ]),
    # b1 = g1 (no dampening on the first step), then b ← 0.9·b + 0.5·g;  θ ← θ − 0.1·b
    "momentum_dampening": (dict(lr=0.1, momentum=0.9, dampening=0.5), [
        [0.95, -1.9],                              # b = (0.5, −1)
        [0.95 - 0.06, -1.9 + 0.08],                # b = (0.45 + 0.15, −0.9 + 0.1) = (0.6, −0.8)
        [0.89 - 0.034, -1.82 + 0.032],             # b = (0.54 − 0.2, −0.72 + 0.4) = (0.34, −0.32)
        [0.856 - 0.0806, -1.788 + 0.0588],         # b = (0.306 + 0.5, −0.288 − 0.3) = (0.806, −0.588)
    ]),
    # b1 = g1, then b ← 0.9·b + g;  θ ← θ − 0.1·(g + 0.9·b)
    "nesterov": (dict(lr=0.1, momentum=0.9, nesterov=True), [
        [1 - 0.095, -2 + 0.19],                    # b = (0.5, −1), g + 0.9b = (0.95, −1.9)
        [0.905 - 0.0975, -1.81 + 0.043],           # b = (0.75, −0.7), g + 0.9b = (0.975, −0.43)
        [0.8075 + 0.01525, -1.767 - 0.0953],       # b = (0.275, 0.17), g + 0.9b = (−0.1525, 0.953)
        [0.82275 - 0.212275, -1.8623 + 0.10023],   # b = (1.2475, −0.447), g + 0.9b = (2.12275, −1.0023)
    ]),
    # g ← g + 0.1·θ;  θ ← θ − 0.1·g
    "weight_decay": (dict(lr=0.1, weight_decay=0.1), [
        [1 - 0.06, -2 + 0.12],                     # g = (0.5 + 0.1, −1 − 0.2) = (0.6, −1.2)
        [0.94 - 0.0394, -1.88 - 0.0012],           # g = (0.3 + 0.094, 0.2 − 0.188)
        [0.9006 + 0.030994, -1.8812 - 0.061188],   # g = (−0.4 + 0.09006, 0.8 − 0.18812)
        [0.931594 - 0.10931594, -1.942388 + 0.07942388],  # g = (1 + 0.0931594, −0.6 − 0.1942388)
    ]),
}


@pytest.mark.parametrize("case", SGD_CASES)
def test_sgd_by_hand(case):
    hyper, expected = SGD_CASES[case]
    path, _ = run(lambda p: SGD(p, **hyper))
    close(path, expected)


def test_sgd_momentum_buffer_is_pytorchs():
    """The buffer after the last step of "momentum_dampening" is (0.806, −0.588), as derived above."""
    _, opt = run(lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.5))
    close(opt.state[0]["momentum_buffer"], [0.806, -0.588])


# ---------------------------------------------------------------------------------------------
# Adagrad

def adagrad_rule(lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    def rule(t, theta, g, s):
        g = g + weight_decay * theta
        s["sum"] = s.get("sum", initial_accumulator_value) + g * g
        eta = lr / (1 + (t - 1) * lr_decay)
        return theta - eta * g / (math.sqrt(s["sum"]) + eps)
    return rule


@pytest.mark.parametrize("hyper, first_step", [
    # s = 0 + 0.25;  θ = 1 − 0.1·0.5/(0.5 + 1e-10)
    (dict(lr=0.1), [1 - 0.1 * 0.5 / (0.5 + 1e-10), -2 + 0.1 * 1.0 / (1.0 + 1e-10)]),
    # η1 = 0.1 (the decay starts at step 2);  s = 0.1 + 0.25 = 0.35, 0.1 + 1 = 1.1
    (dict(lr=0.1, lr_decay=0.5, initial_accumulator_value=0.1),
     [1 - 0.1 * 0.5 / (math.sqrt(0.35) + 1e-10), -2 + 0.1 * 1.0 / (math.sqrt(1.1) + 1e-10)]),
    # g = (0.5 + 0.1, −1 − 0.2);  s = 1 + g² = (1.36, 2.44)
    (dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=1.0, eps=1e-6),
     [1 - 0.1 * 0.6 / (math.sqrt(1.36) + 1e-6), -2 + 0.1 * 1.2 / (math.sqrt(2.44) + 1e-6)]),
], ids=["plain", "lr_decay_initial_accumulator", "weight_decay_eps"])
def test_adagrad_by_hand(hyper, first_step):
    full = dict(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10) | hyper
    expected, states = reference(adagrad_rule(**full))
    path, opt = run(lambda p: Adagrad(p, **hyper))
    close(path[0], first_step)
    close(path, expected)
    close(opt.state[0]["sum"], [s["sum"] for s in states])


def test_adagrad_lr_decay_schedule():
    """η_t = lr/(1 + (t − 1)·lr_decay): the decay counts from the second step.

    With an initial accumulator of 1e12 and g = 1, √s = √(1e12 + t) hardly moves, so the steps
    are in the ratio of the η_t: 1, 1/1.5, 1/2, 1/2.5 for lr_decay = 0.5.
    """
    path, _ = run(lambda p: Adagrad(p, lr=1.0, lr_decay=0.5, initial_accumulator_value=1e12),
                  grads=[(1.0, 1.0)] * 4, theta0=(0.0, 0.0))
    steps = -np.diff(np.vstack([[0.0, 0.0], path]), axis=0)[:, 0]
    close(steps / steps[0], [1.0, 1 / 1.5, 1 / 2.0, 1 / 2.5], atol=1e-10)


# ---------------------------------------------------------------------------------------------
# RMSprop

def rmsprop_rule(lr, alpha, eps, weight_decay, momentum, centered):
    def rule(t, theta, g, s):
        g = g + weight_decay * theta
        s["square_avg"] = alpha * s.get("square_avg", 0.0) + (1 - alpha) * g * g
        if centered:
            s["grad_avg"] = alpha * s.get("grad_avg", 0.0) + (1 - alpha) * g
            a = math.sqrt(s["square_avg"] - s["grad_avg"] ** 2) + eps
        else:
            a = math.sqrt(s["square_avg"]) + eps
        if momentum > 0:
            s["momentum_buffer"] = momentum * s.get("momentum_buffer", 0.0) + g / a
            return theta - lr * s["momentum_buffer"]
        return theta - lr * g / a
    return rule


@pytest.mark.parametrize("hyper, first_step", [
    # v = 0.1·g²;  a = √0.1·|g| + eps
    (dict(), [1 - 0.01 * 0.5 / (math.sqrt(0.1 * 0.25) + 1e-8),
              -2 + 0.01 * 1.0 / (math.sqrt(0.1) + 1e-8)]),
    # v − ḡ² = 0.1·g² − 0.01·g² = 0.09·g²;  a = 0.3·|g| + eps
    (dict(centered=True), [1 - 0.01 * 0.5 / (0.3 * 0.5 + 1e-8), -2 + 0.01 * 1.0 / (0.3 + 1e-8)]),
    # b = 0 + g/a: the first step equals the plain one
    (dict(momentum=0.5), [1 - 0.01 * 0.5 / (math.sqrt(0.025) + 1e-8),
                          -2 + 0.01 * 1.0 / (math.sqrt(0.1) + 1e-8)]),
    # g = (0.5 + 0.1, −1 − 0.2);  a = 0.3·|g| + eps
    (dict(centered=True, momentum=0.5, weight_decay=0.1),
     [1 - 0.01 * 0.6 / (0.3 * 0.6 + 1e-8), -2 + 0.01 * 1.2 / (0.3 * 1.2 + 1e-8)]),
], ids=["plain", "centered", "momentum", "centered_momentum_weight_decay"])
def test_rmsprop_by_hand(hyper, first_step):
    hyper = dict(lr=0.01, alpha=0.9) | hyper
    full = dict(eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) | hyper
    expected, states = reference(rmsprop_rule(**full))
    path, opt = run(lambda p: RMSprop(p, **hyper))
    close(path[0], first_step)
    close(path, expected)
    for key in states[0]:
        close(opt.state[0][key], [s[key] for s in states])


# ---------------------------------------------------------------------------------------------
# Adadelta

def adadelta_rule(lr, rho, eps, weight_decay):
    def rule(t, theta, g, s):
        g = g + weight_decay * theta
        s["square_avg"] = rho * s.get("square_avg", 0.0) + (1 - rho) * g * g
        delta = math.sqrt(s.get("acc_delta", 0.0) + eps) / math.sqrt(s["square_avg"] + eps) * g
        s["acc_delta"] = rho * s.get("acc_delta", 0.0) + (1 - rho) * delta * delta
        return theta - lr * delta
    return rule


@pytest.mark.parametrize("hyper, first_step", [
    # v = 0.1·g² = (0.025, 0.1);  Δ = √1e-6/√(v + 1e-6)·g
    (dict(), [1 - math.sqrt(1e-6) / math.sqrt(0.025 + 1e-6) * 0.5,
              -2 + math.sqrt(1e-6) / math.sqrt(0.1 + 1e-6) * 1.0]),
    # g = (0.5 + 0.1, −1 − 0.2);  v = 0.5·g² = (0.18, 0.72);  θ ← θ − 0.5·Δ
    (dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1),
     [1 - 0.5 * math.sqrt(1e-4) / math.sqrt(0.18 + 1e-4) * 0.6,
      -2 + 0.5 * math.sqrt(1e-4) / math.sqrt(0.72 + 1e-4) * 1.2]),
], ids=["defaults", "lr_rho_eps_weight_decay"])
def test_adadelta_by_hand(hyper, first_step):
    full = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0) | hyper
    expected, states = reference(adadelta_rule(**full))
    path, opt = run(lambda p: Adadelta(p, **hyper))
    close(path[0], first_step)
    close(path, expected)
    for key in ("square_avg", "acc_delta"):
        close(opt.state[0][key], [s[key] for s in states])


# ---------------------------------------------------------------------------------------------
# Adam, AMSGrad, AdamW

def adam_rule(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
              decoupled=False):
    b1, b2 = betas

    def rule(t, theta, g, s):
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        s["exp_avg"] = b1 * s.get("exp_avg", 0.0) + (1 - b1) * g
        s["exp_avg_sq"] = b2 * s.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
        v_hat = s["exp_avg_sq"]
        if amsgrad:
            v_hat = s["max_exp_avg_sq"] = max(s.get("max_exp_avg_sq", 0.0), s["exp_avg_sq"])
        return theta - lr / (1 - b1 ** t) * s["exp_avg"] / (
            math.sqrt(v_hat) / math.sqrt(1 - b2 ** t) + eps)
    return rule


def test_adam_by_hand():
    expected, states = reference(adam_rule(lr=0.1))
    path, opt = run(lambda p: Adam(p, lr=0.1))
    # step 1: m/(1 − 0.9) = g and √v/√(1 − 0.999) = |g|, so θ ← θ − 0.1·g/(|g| + 1e-8)
    close(path[0], [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 + 0.1 * 1.0 / (1.0 + 1e-8)])
    close(path, expected)
    close(opt.state[0]["exp_avg"], [s["exp_avg"] for s in states])
    close(opt.state[0]["exp_avg_sq"], [s["exp_avg_sq"] for s in states])
    assert "max_exp_avg_sq" not in opt.state[0]


def test_adam_betas_eps_by_hand():
    hyper = dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3)
    expected, _ = reference(adam_rule(**hyper))
    path, _ = run(lambda p: Adam(p, **hyper))
    close(path[0], [1 - 0.05 * 0.5 / (0.5 + 1e-3), -2 + 0.05 * 1.0 / (1.0 + 1e-3)])
    close(path, expected)


def test_amsgrad_uses_the_running_max():
    """β2 = 0.5 and a first gradient ten times the next ones: v falls, v̂ stays at its maximum.

    Element 0 (g = 1, 0.1, 0.1, 0.1):  v = 0.5, 0.25 + 0.005 = 0.255, 0.1325, 0.07125 (falling),
    so v̂ = max = 0.5 throughout. Element 1 (g = 0.2 each step): v = 0.02, 0.03, 0.035, 0.0375
    (rising), so v̂ = v and AMSGrad coincides with Adam there.
    """
    grads = [(1.0, 0.2), (0.1, 0.2), (0.1, 0.2), (0.1, 0.2)]
    hyper = dict(lr=0.1, betas=(0.9, 0.5))
    ams, opt = run(lambda p: Adam(p, amsgrad=True, **hyper), grads=grads)
    plain, _ = run(lambda p: Adam(p, **hyper), grads=grads)

    close(opt.state[0]["exp_avg_sq"], [0.07125, 0.0375])
    close(opt.state[0]["max_exp_avg_sq"], [0.5, 0.0375])
    # step 2, element 0 by hand: m = 0.9·0.1 + 0.1·0.1 = 0.1;  v̂ = 0.5 (not v = 0.255)
    theta1 = 1 - 0.1 * 1.0 / (1.0 + 1e-8)
    close(ams[1, 0], theta1 - 0.1 / (1 - 0.81) * 0.1 / (math.sqrt(0.5) / math.sqrt(0.75) + 1e-8))
    close(plain[1, 0], theta1 - 0.1 / (1 - 0.81) * 0.1 / (math.sqrt(0.255) / math.sqrt(0.75) + 1e-8))
    close(ams, reference(adam_rule(amsgrad=True, **hyper), grads=grads)[0])
    close(plain, reference(adam_rule(**hyper), grads=grads)[0])
    # the max makes the difference on element 0 only
    assert np.all(np.abs(ams[1:, 0] - plain[1:, 0]) > 1e-3)
    np.testing.assert_array_equal(ams[:, 1], plain[:, 1])


def test_adamw_decays_decoupled_adam_l2_in_the_gradient():
    hyper = dict(lr=0.1, weight_decay=0.1)
    adamw, _ = run(lambda p: AdamW(p, **hyper))
    adam_l2, _ = run(lambda p: Adam(p, **hyper))
    adam_decoupled, _ = run(lambda p: Adam(p, decoupled_weight_decay=True, **hyper))

    # AdamW, step 1: θ ← θ·(1 − 0.1·0.1), then the Adam step on the raw g (= −0.1·g/(|g| + eps))
    close(adamw[0], [0.99 - 0.1 * 0.5 / (0.5 + 1e-8), -1.98 + 0.1 * 1.0 / (1.0 + 1e-8)])
    # Adam + L2, step 1: g = (0.5 + 0.1, −1 − 0.2) enters the moments
    close(adam_l2[0], [1 - 0.1 * 0.6 / (0.6 + 1e-8), -2 + 0.1 * 1.2 / (1.2 + 1e-8)])
    close(adamw, reference(adam_rule(decoupled=True, **hyper))[0])
    close(adam_l2, reference(adam_rule(**hyper))[0])
    assert np.max(np.abs(adamw - adam_l2)) > 1e-3
    np.testing.assert_array_equal(adamw, adam_decoupled)


def test_adamw_amsgrad_by_hand():
    grads = [(1.0, 0.2), (0.1, 0.2), (0.1, 0.2), (0.1, 0.2)]
    hyper = dict(lr=0.1, betas=(0.9, 0.5), weight_decay=0.05)
    path, _ = run(lambda p: AdamW(p, amsgrad=True, **hyper), grads=grads)
    close(path, reference(adam_rule(amsgrad=True, decoupled=True, **hyper), grads=grads)[0])


# ---------------------------------------------------------------------------------------------
# NAdam

def nadam_mu(t, beta1=0.9, momentum_decay=4e-3):
    return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))


def nadam_rule(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
               decoupled=False):
    b1, b2 = betas

    def rule(t, theta, g, s):
        mu, mu_next = nadam_mu(t, b1, momentum_decay), nadam_mu(t + 1, b1, momentum_decay)
        s["mu_product"] = s.get("mu_product", 1.0) * mu
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        s["exp_avg"] = b1 * s.get("exp_avg", 0.0) + (1 - b1) * g
        s["exp_avg_sq"] = b2 * s.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
        d = math.sqrt(s["exp_avg_sq"] / (1 - b2 ** t)) + eps
        return (theta - lr * (1 - mu) / (1 - s["mu_product"]) * g / d
                - lr * mu_next / (1 - s["mu_product"] * mu_next) * s["exp_avg"] / d)
    return rule


def test_nadam_mu_schedule():
    """μ_t = 0.9·(1 − ½·0.96^(0.004·t)) and the product Π μ_t kept in the state."""
    _, opt = run(lambda p: NAdam(p, lr=0.1))
    mus = [0.9 * (1 - 0.5 * 0.96 ** 0.004), 0.9 * (1 - 0.5 * 0.96 ** 0.008),
           0.9 * (1 - 0.5 * 0.96 ** 0.012), 0.9 * (1 - 0.5 * 0.96 ** 0.016)]
    assert mus[0] == pytest.approx(0.45007348, abs=1e-8)     # just above β1/2, rising with t
    assert opt.state[0]["mu_product"] == pytest.approx(math.prod(mus), rel=1e-14, abs=0)


@pytest.mark.parametrize("hyper", [
    dict(lr=0.1),
    dict(lr=0.1, momentum_decay=0.0),           # μ_t = 0.45 for every t, Π = 0.45^t
    dict(lr=0.05, betas=(0.8, 0.9), momentum_decay=0.1, eps=1e-4),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True),
], ids=["defaults", "no_momentum_decay", "betas_eps", "l2", "decoupled"])
def test_nadam_by_hand(hyper):
    hyper = dict(hyper)
    decoupled = hyper.get("decoupled_weight_decay", False)
    rule_hyper = {k: v for k, v in hyper.items() if k != "decoupled_weight_decay"}
    expected, states = reference(nadam_rule(decoupled=decoupled, **rule_hyper))
    path, opt = run(lambda p: NAdam(p, **hyper))
    close(path, expected)
    assert opt.state[0]["mu_product"] == pytest.approx(states[0]["mu_product"], rel=1e-14, abs=0)


def test_nadam_first_step_by_hand():
    # t = 1: m = 0.1·g, √(v/(1 − 0.999)) = |g|, so with μ1, μ2 and Π1 = μ1:
    # θ ← θ − 0.1·(1 − μ1)/(1 − μ1)·g/(|g| + eps) − 0.1·μ2/(1 − μ1·μ2)·0.1·g/(|g| + eps)
    mu1, mu2 = nadam_mu(1), nadam_mu(2)
    path, _ = run(lambda p: NAdam(p, lr=0.1))
    expected = [th - 0.1 * g / (abs(g) + 1e-8) - 0.1 * mu2 / (1 - mu1 * mu2) * 0.1 * g / (abs(g) + 1e-8)
                for th, g in zip(THETA0, GRADS[0])]
    close(path[0], expected)


# ---------------------------------------------------------------------------------------------
# SWATS

def swats_reference(theta0, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, switch_eps=1e-9):
    """The class docstring's SWATS over all parameters as one flat vector, in Python floats.

    Returns one record per step: (θ, phase, lr, γ or None, λ/(1 − β2ᵗ) or None).
    """
    theta = [float(x) for x in theta0]
    n = len(theta)
    m, v, b = [0.0] * n, [0.0] * n, [0.0] * n
    lam, phase, out = 0.0, "adam", []
    for t, g in enumerate(grads, start=1):
        if phase == "sgd":
            for i in range(n):
                b[i] = beta1 * b[i] + g[i]
                theta[i] -= (1 - beta1) * lr * b[i]
            out.append((list(theta), phase, lr, None, None))
            continue
        p = []
        for i in range(n):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
            p.append(-lr / (1 - beta1 ** t) * m[i] / (math.sqrt(v[i]) / math.sqrt(1 - beta2 ** t) + eps))
            theta[i] += p[i]
        gamma = sum(x * x for x in p) / -sum(x * y for x, y in zip(p, g))
        lam = beta2 * lam + (1 - beta2) * gamma
        estimate = lam / (1 - beta2 ** t)
        if t > 1 and abs(estimate - gamma) < switch_eps and estimate > 0:
            phase, lr = "sgd", estimate
        out.append((list(theta), phase, lr, gamma, estimate))
    return out


def test_swats_constant_gradient_switches_at_step_2():
    """A constant gradient g = 0.5 on one parameter, lr = 0.01, the default switch_eps = 1e-9.

    Every Adam step is p = −0.01·ĝ/(|ĝ| + eps) with m̂ = g, √v̂ = |g|, so γ = p²/(−p·g)
    = 0.01/(0.5 + 1e-8) = c at every step, λ_t = (1 − β2ᵗ)·c and the estimate λ_t/(1 − β2ᵗ) = c.
    Step 1 already has |estimate − γ| = 0 but the test needs t > 1: the switch comes at step 2
    with lr = c. Then b ← 0.9·b + g from b = 0 and θ ← θ − 0.1·c·b.
    """
    c = 0.01 / (0.5 + 1e-8)
    w = np.array([1.0])
    opt = SWATS([w], lr=0.01)
    g = np.array([0.5])

    opt.step(g[None])
    assert (opt.phase, opt.switch_step) == ("adam", None)
    assert opt.lambda_ == pytest.approx(0.001 * c, rel=1e-14, abs=0)
    close(w, [1 - 0.01 * 0.5 / (0.5 + 1e-8)])

    opt.step(g[None])
    assert (opt.phase, opt.switch_step) == ("sgd", 2)
    lam2 = 0.999 * 0.001 * c + 0.001 * c
    assert opt.lambda_ == pytest.approx(lam2, rel=1e-14, abs=0)
    assert opt.lr == pytest.approx(lam2 / (1 - 0.999 ** 2), rel=1e-14, abs=0)
    assert opt.lr == pytest.approx(c, rel=1e-12, abs=0)   # (1 − β2²) cancels: ~1e-14 rounding
    theta2 = 1 - 2 * 0.01 * 0.5 / (0.5 + 1e-8)
    close(w, [theta2])

    opt.step(g[None])                      # b = 0.5
    close(w, [theta2 - 0.1 * c * 0.5])
    opt.step(g[None])                      # b = 0.9·0.5 + 0.5 = 0.95
    close(w, [theta2 - 0.1 * c * 0.5 - 0.1 * c * 0.95])
    close(opt.state[0]["momentum_buffer"], [0.95])
    assert opt.phase == "sgd" and opt.switch_step == 2


# Two parameters (the switch test is global): the first gradient differs from the later,
# constant ones, so γ_t settles while the averaged estimate λ_t/(1 − β2ᵗ) catches up with it.
SWATS_THETA0 = ([1.0], [0.5, -0.5])
SWATS_GRADS = [([2.0], [1.0, -1.0])] + [([1.0], [0.5, -0.5])] * 10
# The gap |λ_t/(1 − β2ᵗ) − γ_t| shrinks from 3.2e-3 at step 2 to 1.03e-3 at step 6 and 0.92e-3 at
# step 7 (lr = 0.01). switch_eps = 1e-3, chosen deliberately between those two, puts the switch at
# step 7; with the default 1e-9 this sequence switches only at step 12 833 (tested below).
SWATS_EPS, SWATS_SWITCH = 1e-3, 7


def flat(params):
    return np.concatenate([p.ravel() for p in params])


def test_swats_switches_at_a_known_step_with_chosen_switch_eps():
    ref = swats_reference(flat([np.array(p) for p in SWATS_THETA0]),
                          [flat([np.array(x) for x in g]) for g in SWATS_GRADS],
                          lr=0.01, switch_eps=SWATS_EPS)
    gaps = [abs(r[4] - r[3]) for r in ref[1:SWATS_SWITCH]]    # steps 2 … 7
    assert all(gap >= SWATS_EPS for gap in gaps[:-1]) and gaps[-1] < SWATS_EPS   # the premise

    params = [np.array(p) for p in SWATS_THETA0]
    opt = SWATS(params, lr=0.01, switch_eps=SWATS_EPS)
    path = []
    for t, (g, (theta, phase, lr, _, _)) in enumerate(zip(SWATS_GRADS, ref), start=1):
        opt.step([np.array(x) for x in g])
        path.append(flat(params))
        close(path[-1], theta)
        assert opt.phase == phase == ("adam" if t < SWATS_SWITCH else "sgd")
        assert opt.switch_step == (None if t < SWATS_SWITCH else SWATS_SWITCH)
        if t == SWATS_SWITCH:
            assert opt.lr == pytest.approx(ref[SWATS_SWITCH - 1][4], rel=1e-13, abs=0)
            assert opt.lr == pytest.approx(0.012917628, abs=1e-9)   # vs lr = 0.01 before
        assert opt.lr == pytest.approx(lr, rel=1e-13, abs=0)

    # steps 8 and 9 by hand: b = g8, then b = 0.9·g8 + g9 (g constant: 1.9·g); θ ← θ − 0.1·lr·b
    lr = opt.lr
    g = np.array([1.0, 0.5, -0.5])
    close(path[8], path[6] - 0.1 * lr * g - 0.1 * lr * 1.9 * g)
    # after the four SGD steps 8 … 11: b = (1 + 0.9 + 0.81 + 0.729)·g
    close(opt.state[0]["momentum_buffer"], 3.439 * g[:1])
    close(opt.state[1]["momentum_buffer"], 3.439 * g[1:])


def test_swats_before_the_switch_is_adam():
    rng = np.random.default_rng(3)
    w1 = rng.normal(size=3)
    w2 = w1.copy()
    swats, adam = SWATS([w1], lr=0.01), Adam([w2], lr=0.01)
    for _ in range(20):
        g = rng.normal(size=3)
        swats.step([g])
        adam.step([g])
        assert swats.phase == "adam"
        np.testing.assert_array_equal(w1, w2)


def test_swats_default_switch_eps_never_switches_on_a_quadratic():
    """f = ½·a·x² with the default switch_eps = 1e-9: SWATS stays with Adam for 500 steps.

    Measured, not assumed: on this deterministic quadratic γ_t = −p/g grows steadily (Adam's
    step shrinks more slowly than the gradient), the averaged estimate lags behind it, and the gap
    grows from 4.9e-7 at step 2, far above 1e-9. The switch test is only met when γ is (near)
    stationary, as with the constant gradient above.
    """
    a, lr, beta2 = 1.0, 1e-3, 0.999
    x = np.array([1.0])
    opt = SWATS([x], lr=lr)
    lam, gaps, gammas = 0.0, [], []
    for t in range(1, 501):
        g = a * x.copy()
        before = x.copy()
        opt.step([g])
        p = float((x - before)[0])
        gamma = p * p / (-p * float(g[0]))
        lam = beta2 * lam + (1 - beta2) * gamma
        assert opt.lambda_ == pytest.approx(lam, rel=1e-12, abs=0)
        gammas.append(gamma)
        gaps.append(abs(lam / (1 - beta2 ** t) - gamma))
    assert opt.phase == "adam" and opt.switch_step is None and opt.lr == lr
    assert min(gaps[1:]) > 1e-7
    assert np.all(np.diff(gammas) > 0) and np.all(np.diff(gaps[1:]) > 0)
    assert 0.0 < x[0] < 1.0                                 # it did descend


def test_swats_default_switch_eps_switches_once_gamma_settles():
    """SWATS_GRADS continued (constant g = (1, 0.5, −0.5) after a first (2, 1, −1)), default 1e-9.

    γ_t tends to Σp²/(−Σp·g) with p = −lr·sign(g): 3·lr²/(2·lr) = 1.5·lr, and the estimate
    follows it ever more closely: the gap is 1.0005e-9 at step 12 832 and 0.9996e-9 at step
    12 833 (from swats_reference), so the switch comes at 12 833 with lr ≈ 0.015.
    """
    steps = 12_840
    grads = [SWATS_GRADS[0]] + [SWATS_GRADS[1]] * (steps - 1)
    ref = swats_reference([1.0, 0.5, -0.5], [flat([np.array(x) for x in g]) for g in grads], lr=0.01)
    assert [r[1] for r in ref].index("sgd") + 1 == 12_833
    params = [np.array(p) for p in SWATS_THETA0]
    opt = SWATS(params, lr=0.01)
    grads = [[np.array(x) for x in g] for g in grads[:2]]
    opt.step(grads[0])
    for _ in range(steps - 1):
        opt.step(grads[1])
    assert opt.phase == "sgd" and opt.switch_step == 12_833
    assert opt.lr == pytest.approx(ref[12_832][2], rel=1e-12, abs=0)
    assert opt.lr == pytest.approx(0.015, rel=1e-6)
    close(flat(params), ref[-1][0], atol=1e-10)


@pytest.mark.parametrize("save_after", [5, 8], ids=["before_switch", "after_switch"])
def test_swats_state_dict_keeps_phase_switch_step_lambda(save_after):
    params = [np.array(p) for p in SWATS_THETA0]
    opt = SWATS(params, lr=0.01, switch_eps=SWATS_EPS)
    grads = [[np.array(x) for x in g] for g in SWATS_GRADS]
    for g in grads[:save_after]:
        opt.step(g)
    sd = opt.state_dict()
    assert sd["phase"] == opt.phase == ("adam" if save_after < SWATS_SWITCH else "sgd")
    assert sd["switch_step"] == opt.switch_step == (None if save_after < SWATS_SWITCH else SWATS_SWITCH)
    assert sd["lambda"] == opt.lambda_ != 0.0

    fresh = [p.copy() for p in params]
    opt2 = SWATS(fresh)                   # default lr and switch_eps: load_state_dict restores them
    opt2.load_state_dict(sd)
    assert (opt2.phase, opt2.switch_step, opt2.lambda_, opt2.lr) == (
        opt.phase, opt.switch_step, opt.lambda_, opt.lr)
    for g in grads[save_after:]:
        opt.step(g)
        opt2.step(g)
        for p, q in zip(params, fresh):
            np.testing.assert_array_equal(p, q)
    assert opt2.phase == "sgd" and opt2.switch_step == SWATS_SWITCH


# ---------------------------------------------------------------------------------------------
# state_dict: a resumed run continues bit for bit, for every registry name

# Non-default hyperparameters for each registry name: the fresh optimizer is built with the
# defaults, so a run only matches if load_state_dict restores these too. A new registry name
# needs a row here (the test fails with a KeyError until it has one).
ROUNDTRIP_HYPER = {
    "sgd": dict(lr=0.05, weight_decay=0.01),
    "momentum": dict(lr=0.05, momentum=0.8, dampening=0.1),
    "nesterov": dict(lr=0.05, momentum=0.8, weight_decay=0.01),
    "adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "adadelta": dict(lr=0.5, rho=0.8, eps=1e-5),
    "adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw": dict(lr=0.01, amsgrad=True, weight_decay=0.05),
    "nadam": dict(lr=0.01, momentum_decay=0.01, decoupled_weight_decay=True, weight_decay=0.01),
    "swats": dict(lr=0.01, switch_eps=1e-3),
}
SHAPES = [(3,), (2, 2)]


def random_grads(seed, steps, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in shapes] for _ in range(steps)]


def random_params(seed, shapes=SHAPES, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_round_trip(name):
    k, m = 3, 5
    grads = random_grads(1, k + m)
    params = random_params(0)
    opt = create(name, params, **ROUNDTRIP_HYPER[name])
    schedule = ExponentialLR(opt, gamma=0.9)      # sets initial_lr; the LR in force moves away
    for g in grads[:k]:
        opt.step(g)
        schedule.step()
    saved = opt.state_dict()
    saved_params = [p.copy() for p in params]
    expected = []
    for g in grads[k:]:
        opt.step(g)
        expected.append([p.copy() for p in params])

    resumed = [p.copy() for p in saved_params]
    opt2 = create(name, resumed)
    opt2.load_state_dict(saved)
    assert opt2.step_count == k and opt2.defaults == saved["defaults"]
    assert opt2.initial_lr == ROUNDTRIP_HYPER[name]["lr"] != opt2.lr
    for g, want in zip(grads[k:], expected):
        opt2.step(g)
        for p, q in zip(resumed, want):
            np.testing.assert_array_equal(p, q)


def test_every_registry_name_has_a_round_trip_row():
    assert set(ROUNDTRIP_HYPER) == set(OPTIMIZERS)


def _poison(state_dict):
    """Overwrite everything mutable in a state dict: arrays, the defaults and the step."""
    for buffers in state_dict["state"]:
        for value in buffers.values():
            if isinstance(value, np.ndarray):
                value.fill(np.nan)
    state_dict["defaults"]["lr"] = 123.0
    state_dict["state"].append({})


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_is_a_deep_copy(name):
    grads = random_grads(2, 6)
    params, twin_params = random_params(0), random_params(0)
    opt = create(name, params, **ROUNDTRIP_HYPER[name])
    twin = create(name, twin_params, **ROUNDTRIP_HYPER[name])
    for g in grads[:3]:
        opt.step(g)
        twin.step(g)

    sd = opt.state_dict()
    if name != "sgd":                                     # plain SGD keeps no buffers
        assert any(isinstance(v, np.ndarray) for s in sd["state"] for v in s.values())
    _poison(sd)                                           # changing the returned dict ...
    loaded = twin.state_dict()
    opt3_params = [p.copy() for p in params]
    opt3 = create(name, opt3_params)
    opt3.load_state_dict(loaded)
    _poison(loaded)                                       # ... or the dict given to load_state_dict
    for g in grads[3:]:                                   # ... leaves the optimizers as they were
        opt.step(g)
        twin.step(g)
        opt3.step(g)
        for p, q, r in zip(params, twin_params, opt3_params):
            np.testing.assert_array_equal(p, q)
            np.testing.assert_array_equal(r, q)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_keeps_no_reference_to_the_callers_gradients(name):
    params = random_params(0)
    opt = create(name, params, **ROUNDTRIP_HYPER[name])
    for g in random_grads(4, 3):
        opt.step(g)
        for a in g:
            a.fill(np.nan)                                # the caller reuses its buffers
    for s in opt.state_dict()["state"]:
        for value in s.values():
            assert np.all(np.isfinite(value))
    assert all(np.all(np.isfinite(p)) for p in params)


# ---------------------------------------------------------------------------------------------
# Errors: the message names the argument, the value and the allowed range

def ok_params():
    return [np.zeros(2)]


def raises(msg, whole=True):
    """pytest.raises for a ValueError whose message is ``msg`` (or starts with it)."""
    return pytest.raises(ValueError, match="^" + re.escape(msg) + ("$" if whole else ""))


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_negative_lr(cls):
    with raises("Invalid lr value: -0.1 (allowed: 0 <= lr)"):
        cls(ok_params(), lr=-0.1)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf")])
def test_lr_setter_refuses_bad_values(cls, value):
    opt = cls(ok_params(), lr=0.1)
    with raises(f"Invalid lr value: {value!r} (allowed: 0 <= lr)"):
        opt.lr = value
    assert opt.lr == 0.1
    opt.lr = 0.0                                          # the bound itself is allowed
    assert opt.lr == 0.0


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_negative_weight_decay(cls):
    with raises("Invalid weight_decay value: -0.01 (allowed: 0 <= weight_decay)"):
        cls(ok_params(), weight_decay=-0.01)


@pytest.mark.parametrize("cls", [c for c in ALL_CLASSES if c is not SGD], ids=lambda c: c.__name__)
def test_negative_eps(cls):
    with raises("Invalid eps value: -1e-08 (allowed: 0 <= eps)"):
        cls(ok_params(), eps=-1e-8)


@pytest.mark.parametrize("cls", [SGD, RMSprop], ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [-0.1, 1.0])
def test_momentum_outside_0_1(cls, value):
    with raises(f"Invalid momentum value: {value!r} (allowed: 0 <= momentum < 1)"):
        cls(ok_params(), momentum=value)


@pytest.mark.parametrize("cls", ADAM_FAMILY, ids=lambda c: c.__name__)
@pytest.mark.parametrize("betas, name, value", [
    ((-0.1, 0.999), "beta1", -0.1), ((1.0, 0.999), "beta1", 1.0),
    ((0.9, -0.1), "beta2", -0.1), ((0.9, 1.0), "beta2", 1.0),
])
def test_betas_outside_0_1(cls, betas, name, value):
    with raises(f"Invalid {name} value: {value!r} (allowed: 0 <= {name} < 1)"):
        cls(ok_params(), betas=betas)


@pytest.mark.parametrize("cls", ADAM_FAMILY, ids=lambda c: c.__name__)
def test_betas_not_a_pair(cls):
    with raises("Invalid betas value: (0.9, 0.99, 0.999) (allowed: a pair (beta1, beta2))"):
        cls(ok_params(), betas=(0.9, 0.99, 0.999))


@pytest.mark.parametrize("cls, flag", [(SGD, "nesterov"), (RMSprop, "centered"),
                                       (Adam, "amsgrad"), (Adam, "decoupled_weight_decay"),
                                       (AdamW, "amsgrad"), (NAdam, "decoupled_weight_decay")])
@pytest.mark.parametrize("value", ["false", "true", 0, 1, 0.5, None])
def test_a_flag_that_is_not_true_or_false_is_refused(cls, flag, value):
    """A flag is True or False: the string "false" is not read as true, nor 0.5 as a flag."""
    with raises(f"Invalid {flag} value: {value!r} (allowed: True or False)"):
        cls(ok_params(), momentum=0.9, **{flag: value}) if cls is SGD else \
            cls(ok_params(), **{flag: value})
    assert cls(ok_params(), **({"momentum": 0.9} if cls is SGD else {}),
               **{flag: np.bool_(True)}).defaults[flag] is True


def test_nesterov_without_momentum():
    with raises("Invalid nesterov value: True with momentum=0.0, dampening=0.0 "
                "(allowed: nesterov needs 0 < momentum < 1 and dampening = 0)"):
        SGD(ok_params(), nesterov=True)


def test_nesterov_with_dampening():
    with raises("Invalid nesterov value: True with momentum=0.9, dampening=0.1 "
                "(allowed: nesterov needs 0 < momentum < 1 and dampening = 0)"):
        SGD(ok_params(), momentum=0.9, dampening=0.1, nesterov=True)


@pytest.mark.parametrize("make, msg", [
    (lambda p: SGD(p, momentum=0.9, dampening=-0.1),
     "Invalid dampening value: -0.1 (allowed: 0 <= dampening <= 1)"),
    (lambda p: SGD(p, momentum=0.9, dampening=1.5),
     "Invalid dampening value: 1.5 (allowed: 0 <= dampening <= 1)"),
    (lambda p: Adagrad(p, lr_decay=-1.0), "Invalid lr_decay value: -1.0 (allowed: 0 <= lr_decay)"),
    (lambda p: Adagrad(p, initial_accumulator_value=-1.0),
     "Invalid initial_accumulator_value value: -1.0 (allowed: 0 <= initial_accumulator_value)"),
    (lambda p: RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1 (allowed: 0 <= alpha < 1)"),
    (lambda p: RMSprop(p, alpha=1.0), "Invalid alpha value: 1.0 (allowed: 0 <= alpha < 1)"),
    (lambda p: Adadelta(p, rho=-0.1), "Invalid rho value: -0.1 (allowed: 0 <= rho <= 1)"),
    (lambda p: Adadelta(p, rho=1.5), "Invalid rho value: 1.5 (allowed: 0 <= rho <= 1)"),
    (lambda p: NAdam(p, momentum_decay=-1e-3),
     "Invalid momentum_decay value: -0.001 (allowed: 0 <= momentum_decay)"),
    (lambda p: SWATS(p, switch_eps=0.0), "Invalid switch_eps value: 0.0 (allowed: 0 < switch_eps)"),
    (lambda p: SWATS(p, switch_eps=-1e-9),
     "Invalid switch_eps value: -1e-09 (allowed: 0 < switch_eps)"),
], ids=["dampening_neg", "dampening_gt1", "lr_decay", "initial_accumulator_value", "alpha_neg",
        "alpha_1", "rho_neg", "rho_gt1", "momentum_decay", "switch_eps_0", "switch_eps_neg"])
def test_other_hyperparameter_ranges(make, msg):
    with raises(msg):
        make(ok_params())


@pytest.mark.parametrize("make", [
    lambda p: Adadelta(p, rho=1.0),           # rho = 1 is allowed, as in PyTorch
    lambda p: SGD(p, momentum=0.9, dampening=1.0),
    lambda p: SGD(p, lr=0.0),
    lambda p: Adam(p, betas=(0.0, 0.0)),
])
def test_range_bounds_that_are_allowed(make):
    make(ok_params()).step([np.ones(2)])


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_gradient_list_must_match_params(cls):
    params = [np.ones(3), np.ones(2)]
    opt = cls(params, lr=0.1)
    with raises("Invalid grads value: 1 arrays (allowed: one per parameter, 2)"):
        opt.step([np.ones(3)])
    with raises("Invalid grads value: 3 arrays (allowed: one per parameter, 2)"):
        opt.step([np.ones(3), np.ones(2), np.ones(2)])
    with raises("Invalid grads value: grads[1] has shape (3,) (allowed: the shape of params[1], (2,))"):
        opt.step([np.ones(3), np.ones(3)])
    with raises("Invalid grads value: grads[0] has shape (3, 1) "
                "(allowed: the shape of params[0], (3,))"):
        opt.step([np.ones((3, 1)), np.ones(2)])
    # a refused step changes nothing: no parameter moved, no step counted
    assert opt.step_count == 0
    np.testing.assert_array_equal(params[0], np.ones(3))
    np.testing.assert_array_equal(params[1], np.ones(2))


@pytest.mark.parametrize("params, msg", [
    ([], "Invalid params value: [] (allowed: a non-empty list of arrays)"),
    ([np.zeros(2, dtype=int)],
     "Invalid params value: ndarray (allowed: floating-point numpy arrays, updated in place)"),
    ([[0.0, 1.0]], "Invalid params value: list (allowed: floating-point numpy arrays, updated in place)"),
], ids=["empty", "int_array", "list"])
def test_params_must_be_float_arrays(params, msg):
    with raises(msg):
        SGD(params)


def test_load_state_dict_for_another_number_of_params():
    sd = Adam([np.zeros(2)]).state_dict()
    with raises("Invalid state_dict value: state for 1 parameters (allowed: one per parameter, 2)"):
        Adam([np.zeros(2), np.zeros(2)]).load_state_dict(sd)


def test_create_unknown_name():
    with raises(f"Invalid optimizer value: 'adamax' (allowed: {', '.join(OPTIMIZERS)})"):
        create("adamax", ok_params())


def test_create_unknown_hyperparameter():
    with raises("Invalid argument for optimizer 'adam': amsgrd=True, beta1=0.9 (allowed: lr, "
                "betas, eps, weight_decay, amsgrad;", whole=False):
        create("adam", ok_params(), beta1=0.9, amsgrd=True)


# ---------------------------------------------------------------------------------------------
# The registry

@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_registry_name_builds_and_steps(name):
    entry = OPTIMIZERS[name]
    params = random_params(0)
    before = [p.copy() for p in params]
    opt = create(name, params)
    assert type(opt) is entry.cls
    for key, value in entry.fixed.items():
        assert opt.defaults[key] == value
    for key, value in entry.defaults.items():
        assert opt.defaults[key] == value
    opt.step(random_grads(0, 1)[0])
    assert all(np.any(p != b) for p, b in zip(params, before))


def test_registry_nesterov():
    opt = create("nesterov", ok_params())
    assert opt.defaults["nesterov"] is True
    assert opt.defaults["momentum"] == 0.9 and opt.defaults["dampening"] == 0.0
    assert create("nesterov", ok_params(), momentum=0.5).defaults["momentum"] == 0.5
    with raises("Invalid argument for optimizer 'nesterov': dampening=0.1, nesterov=False "
                "(allowed: lr, momentum, weight_decay;", whole=False):
        create("nesterov", ok_params(), nesterov=False, dampening=0.1)
    # a fixed argument may be repeated with its fixed value
    assert create("nesterov", ok_params(), nesterov=True, dampening=0.0).defaults["nesterov"] is True
    with raises("Invalid nesterov value: True with momentum=0.0, dampening=0.0 "
                "(allowed: nesterov needs 0 < momentum < 1 and dampening = 0)"):
        create("nesterov", ok_params(), momentum=0.0)


def test_registry_momentum():
    opt = create("momentum", ok_params())
    assert opt.defaults["momentum"] == 0.9 and opt.defaults["nesterov"] is False
    assert create("momentum", ok_params(), dampening=0.5).defaults["dampening"] == 0.5
    with raises("Invalid argument for optimizer 'momentum': nesterov=True "
                "(allowed: lr, momentum, dampening, weight_decay;", whole=False):
        create("momentum", ok_params(), nesterov=True)


def test_registry_sgd_refuses_momentum():
    opt = create("sgd", ok_params())
    assert opt.defaults["momentum"] == 0.0 and opt.defaults["nesterov"] is False
    with raises("Invalid argument for optimizer 'sgd': momentum=0.9 (allowed: lr, weight_decay; "
                "'sgd' fixes {'momentum': 0.0, 'dampening': 0.0, 'nesterov': False})"):
        create("sgd", ok_params(), momentum=0.9)
    for arg, value in (("dampening", 0.5), ("nesterov", True)):
        with raises(f"Invalid argument for optimizer 'sgd': {arg}={value!r} "
                    "(allowed: lr, weight_decay;", whole=False):
            create("sgd", ok_params(), **{arg: value})
    assert create("sgd", ok_params(), momentum=0.0).defaults["momentum"] == 0.0


def test_registry_adamw_is_decoupled_adam_is_not():
    adamw, adam = create("adamw", ok_params()), create("adam", ok_params())
    assert type(adamw) is AdamW and adamw.defaults["decoupled_weight_decay"] is True
    assert adamw.defaults["weight_decay"] == 1e-2
    assert adam.defaults["decoupled_weight_decay"] is False
    for name in ("adam", "adamw"):
        with raises(f"Invalid argument for optimizer '{name}': decoupled_weight_decay=True "
                    "(allowed: lr, betas, eps, weight_decay, amsgrad;", whole=False):
            create(name, ok_params(), decoupled_weight_decay=True)
    # and it shows in a step: θ·(1 − lr·wd) then Adam on the raw gradient
    w = np.array([1.0])
    create("adamw", [w], lr=0.1, weight_decay=0.5).step([np.array([0.5])])
    close(w, [0.95 - 0.1 * 0.5 / (0.5 + 1e-8)])


def test_registry_hyperparameters():
    assert OPTIMIZERS["nesterov"].hyperparameters() == dict(lr=1e-3, momentum=0.9, weight_decay=0.0)
    assert OPTIMIZERS["sgd"].hyperparameters() == dict(lr=1e-3, weight_decay=0.0)
    assert "decoupled_weight_decay" not in OPTIMIZERS["adam"].hyperparameters()
    assert OPTIMIZERS["nadam"].hyperparameters()["decoupled_weight_decay"] is False


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_stays_float32(name):
    params = random_params(0, dtype=np.float32)
    objs = list(params)
    opt = create(name, params, **ROUNDTRIP_HYPER[name])
    for g in random_grads(5, 4):
        opt.step([a.astype(np.float32) for a in g])
    assert all(p is q and p.dtype == np.float32 for p, q in zip(opt.params, objs))
    assert all(np.all(np.isfinite(p)) for p in params)
    for s in opt.state:
        for key, value in s.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key


# ---------------------------------------------------------------------------------------------
# Defaults: PyTorch's documented ones, written out

DEFAULTS = {
    SGD: dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    Adagrad: dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                  eps=1e-10),
    RMSprop: dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0),
    Adam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
               decoupled_weight_decay=False),
    AdamW: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                decoupled_weight_decay=True),
    NAdam: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                decoupled_weight_decay=False),
    # not in PyTorch: Adam's defaults and the paper's ε = 1e-9 for the switch test
    SWATS: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, switch_eps=1e-9),
}


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_defaults(cls):
    assert cls(ok_params()).defaults == DEFAULTS[cls]


def test_defaults_cover_every_class():
    import tuner.optim as optim
    exported = [getattr(optim, n) for n in optim.__all__]
    classes = {c for c in exported if isinstance(c, type) and issubclass(c, optim.Optimizer)}
    assert classes - {optim.Optimizer} == set(DEFAULTS)
