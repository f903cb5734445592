"""An independent cross-check of :mod:`tuner.optim` and :mod:`tuner.schedules` against PyTorch.

The same random gradients go to a tuner optimizer and to its ``torch.optim`` namesake, in
float64, for 50 steps; the parameters (and the identically named state buffers) agree to 1e-12.
The schedules are stepped for 100 epochs next to ``torch.optim.lr_scheduler``'s and must give
the same learning rates. torch is a test dependency: these tests are never skipped.
"""

import inspect

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

import tuner.schedules as tuner_sched
from tuner.optim import SGD, Adadelta, Adagrad, Adam, AdamW, NAdam, RMSprop

TORCH_TWINS = {SGD: torch.optim.SGD, Adagrad: torch.optim.Adagrad, RMSprop: torch.optim.RMSprop,
               Adadelta: torch.optim.Adadelta, Adam: torch.optim.Adam, AdamW: torch.optim.AdamW,
               NAdam: torch.optim.NAdam}
SHAPES = [(3,), (2, 2)]
STEPS = 50


@pytest.fixture(autouse=True)
def float64_torch():
    """torch keeps scalar state (NAdam's mu_product, the step counts) in the default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


CASES = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
    (Adagrad, dict(lr=0.1)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5, weight_decay=0.01,
                   eps=1e-8)),
    (RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, centered=True)),
    (RMSprop, dict(lr=0.01, momentum=0.9)),
    (RMSprop, dict(lr=0.005, alpha=0.95, eps=1e-6, centered=True, momentum=0.5, weight_decay=0.01)),
    (Adadelta, dict()),
    (Adadelta, dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
    (Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (Adam, dict(lr=0.01, weight_decay=0.1)),
    (Adam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    (AdamW, dict()),
    (AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (NAdam, dict()),
    (NAdam, dict(lr=0.01, momentum_decay=0.01, weight_decay=0.05)),
    (NAdam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05, decoupled_weight_decay=True)),
]


def case_id(case):
    cls, hyper = case
    return cls.__name__ + "-" + ("-".join(f"{k}={v}" for k, v in hyper.items()) or "defaults")


def gradients(seed):
    """Random gradients whose scale shrinks (10 → 0.3): v falls, so AMSGrad's max matters."""
    rng = np.random.default_rng(seed)
    return [[10 * 0.93 ** t * rng.normal(size=s) for s in SHAPES] for t in range(STEPS)]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch_for_50_steps(case):
    cls, hyper = case
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) for s in SHAPES]
    tparams = [torch.nn.Parameter(torch.tensor(p, dtype=torch.float64)) for p in params]
    opt = cls(params, **hyper)
    topt = TORCH_TWINS[cls](tparams, foreach=False, **hyper)

    worst = 0.0
    for grads in gradients(1):
        opt.step(grads)
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        for p, tp in zip(params, tparams):
            worst = max(worst, float(np.max(np.abs(p - tp.detach().numpy()))))
    assert worst < 1e-12
    assert all(np.max(np.abs(p - p0)) > 1e-3 for p, p0 in
               zip(params, [np.random.default_rng(0).normal(size=s) for s in SHAPES]))

    # the per-parameter buffers carry torch's names and values
    for state, tp in zip(opt.state, tparams):
        tstate = topt.state[tp]
        assert set(state) <= set(tstate) - {"step"}, (set(state), set(tstate))
        for key, value in state.items():
            np.testing.assert_allclose(value, np.asarray(tstate[key]), rtol=1e-12, atol=1e-12)


AMSGRAD_CASES = [c for c in CASES if c[1].get("amsgrad")]


@pytest.mark.parametrize("case", AMSGRAD_CASES, ids=[case_id(c) for c in AMSGRAD_CASES])
def test_amsgrad_rows_exercise_the_max(case):
    """The premise of the AMSGrad rows above: with these gradients v falls below its running max,
    and the max moves the parameters by far more than the 1e-12 the comparison allows."""
    cls, hyper = case
    finals = {}
    for amsgrad in (True, False):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=s) for s in SHAPES]
        opt = cls(params, **(hyper | dict(amsgrad=amsgrad)))
        for grads in gradients(1):
            opt.step(grads)
        finals[amsgrad] = np.concatenate([p.ravel() for p in params])
        if amsgrad:
            assert all(np.all(s["max_exp_avg_sq"] > s["exp_avg_sq"]) for s in opt.state)
    assert np.max(np.abs(finals[True] - finals[False])) > 1e-5


@pytest.mark.parametrize("cls", list(TORCH_TWINS), ids=lambda c: c.__name__)
def test_constructor_defaults_equal_torchs(cls):
    ours = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()
            if n not in ("self", "params")}
    theirs = {n: p.default for n, p in inspect.signature(TORCH_TWINS[cls].__init__).parameters.items()
              if n not in ("self", "params")}
    assert set(ours) <= set(theirs), set(ours) - set(theirs)
    assert ours == {n: theirs[n] for n in ours}


# ---------------------------------------------------------------------------------------------
# Schedules: the same constructor call on both modules, 100 epochs

EPOCHS = 100
BASE_LR = 0.1

SCHEDULES = {
    "step": lambda opt, m: m.StepLR(opt, step_size=7, gamma=0.5),
    "step_default_gamma": lambda opt, m: m.StepLR(opt, step_size=30),
    "exponential": lambda opt, m: m.ExponentialLR(opt, gamma=0.95),
    # T_max = 30 < 100 epochs: past T_max the LR rises again (the 2·T_max period)
    "cosine": lambda opt, m: m.CosineAnnealingLR(opt, T_max=30, eta_min=1e-3),
    "cosine_full": lambda opt, m: m.CosineAnnealingLR(opt, T_max=EPOCHS),
    "linear_warmup": lambda opt, m: m.LinearLR(opt, start_factor=0.25, end_factor=1.0,
                                               total_iters=10),
    "linear_decay": lambda opt, m: m.LinearLR(opt, start_factor=1.0, end_factor=0.1,
                                              total_iters=40),
    "linear_default": lambda opt, m: m.LinearLR(opt),
    "warmup_then_cosine": lambda opt, m: m.SequentialLR(
        opt, schedulers=[m.LinearLR(opt, start_factor=0.2, total_iters=5),
                         m.CosineAnnealingLR(opt, T_max=95)], milestones=[5]),
    "warmup_then_step": lambda opt, m: m.SequentialLR(
        opt, schedulers=[m.LinearLR(opt, start_factor=0.1, total_iters=10),
                         m.StepLR(opt, step_size=20, gamma=0.3)], milestones=[10]),
    "warmup_exponential_step": lambda opt, m: m.SequentialLR(
        opt, schedulers=[m.LinearLR(opt, start_factor=0.5, total_iters=4),
                         m.ExponentialLR(opt, gamma=0.9),
                         m.StepLR(opt, step_size=10, gamma=0.5)], milestones=[4, 40]),
}


def torch_optimizer():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)


def tuner_optimizer():
    return SGD([np.zeros(1)], lr=BASE_LR)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_matches_torch(name):
    opt, topt = tuner_optimizer(), torch_optimizer()
    sched, tsched = SCHEDULES[name](opt, tuner_sched), SCHEDULES[name](topt, torch_sched)
    ours, theirs = [opt.lr], [topt.param_groups[0]["lr"]]
    for _ in range(EPOCHS):
        sched.step()
        topt.step()                       # torch wants an optimizer step first (else it warns)
        tsched.step()
        ours.append(opt.lr)
        theirs.append(topt.param_groups[0]["lr"])
    assert ours == theirs                 # bit for bit, not merely close
    assert len(set(np.round(theirs, 12))) > 3             # the schedule did move the LR


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name, warmup, params, torch_main", [
    ("cosine", 5, {}, lambda o: torch_sched.CosineAnnealingLR(o, T_max=EPOCHS - 5)),
    ("step", 10, dict(step_size=15, gamma=0.5), lambda o: torch_sched.StepLR(o, 15, 0.5)),
    ("exponential", 3, dict(gamma=0.97), lambda o: torch_sched.ExponentialLR(o, 0.97)),
    ("constant", 8, {}, lambda o: torch_sched.ExponentialLR(o, 1.0)),
])
def test_create_schedule_warmup_matches_torch(name, warmup, params, torch_main):
    """create_schedule's documented warm-up: SequentialLR([LinearLR(1/(w + 1), 1, w), main], [w])."""
    opt, topt = tuner_optimizer(), torch_optimizer()
    sched = tuner_sched.create_schedule(name, opt, epochs=EPOCHS, warmup_epochs=warmup, **params)
    tsched = torch_sched.SequentialLR(
        topt, [torch_sched.LinearLR(topt, start_factor=1 / (warmup + 1), end_factor=1.0,
                                    total_iters=warmup), torch_main(topt)], milestones=[warmup])
    ours, theirs = [opt.lr], [topt.param_groups[0]["lr"]]
    for _ in range(EPOCHS):
        sched.step()
        topt.step()
        tsched.step()
        ours.append(opt.lr)
        theirs.append(topt.param_groups[0]["lr"])
    assert ours == theirs                 # bit for bit, not merely close


def metric_sequence():
    """A validation loss: steady progress, a plateau of tiny gains, a noisy stretch, a random walk."""
    rng = np.random.default_rng(7)
    steady = [1.0 - 0.01 * e for e in range(20)]                      # clear improvements
    tiny = [0.8 - 1e-6 * e for e in range(15)]                        # below every threshold
    noisy = list(0.7 + 0.03 * rng.standard_normal(15))
    walk = list(0.6 + np.cumsum(0.01 * rng.standard_normal(EPOCHS - 50)))
    return [float(x) for x in steady + tiny + noisy + walk]


PLATEAU_CASES = {
    "min_rel_cooldown_min_lr": dict(mode="min", factor=0.5, patience=3, cooldown=2, min_lr=0.01),
    "min_abs": dict(mode="min", factor=0.5, patience=2, threshold=0.02, threshold_mode="abs",
                    min_lr=0.02),
    "max_rel_patience_0": dict(mode="max", factor=0.7, patience=0, cooldown=3, threshold=1e-3,
                               min_lr=0.005),
    "max_abs": dict(mode="max", factor=0.5, patience=5, cooldown=1, threshold=0.01,
                    threshold_mode="abs"),
    "eps_skips_small_reductions": dict(mode="min", factor=0.9, patience=1, eps=0.005),
    "defaults": dict(),
}


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", PLATEAU_CASES)
def test_reduce_lr_on_plateau_matches_torch(name):
    kwargs = PLATEAU_CASES[name]
    metrics = metric_sequence()
    if kwargs.get("mode") == "max":
        metrics = [2.0 - x for x in metrics]                         # an accuracy-like score
    opt, topt = tuner_optimizer(), torch_optimizer()
    sched = tuner_sched.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch_sched.ReduceLROnPlateau(topt, **kwargs)
    ours, theirs = [], []
    for metric in metrics:
        sched.step(metric)
        topt.step()
        tsched.step(metric)
        ours.append(opt.lr)
        theirs.append(topt.param_groups[0]["lr"])
    assert ours == theirs                 # bit for bit, not merely close
    assert len(set(theirs)) >= 3                                      # at least two reductions
    if kwargs.get("min_lr"):
        assert theirs[-1] == kwargs["min_lr"]                         # and the floor was reached
