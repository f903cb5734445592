"""LR schedules: whole 100-epoch sequences against literal values and closed forms written here,
ReduceLROnPlateau worked out epoch by epoch, chaining, and every constructor validation.

Convention throughout: ``lrs[e]`` is the LR in force during epoch ``e``. The epoch schedules
write epoch 0's LR when constructed and ``step()`` is called after each epoch; the plateau
schedule leaves the LR alone when constructed and ``step(metric[e])`` is called after epoch ``e``.
"""

import math
import re

import numpy as np
import pytest

from tuner.optim import SGD
from tuner.schedules import (
    SCHEDULES,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
    create_schedule,
)

EPOCHS = 100


def make_opt(lr=0.1):
    return SGD([np.zeros(3)], lr=lr)


def run(opt, sched, epochs=EPOCHS):
    """The LR of each of ``epochs`` epochs, stepping the schedule after each."""
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.lr)
        sched.step()
    return lrs


def run_plateau(opt, sched, metrics):
    """The LR of each epoch, feeding ``metrics[e]`` to the schedule after epoch ``e``."""
    lrs = []
    for m in metrics:
        lrs.append(opt.lr)
        sched.step(m)
    return lrs


def assert_sequence(lrs, expected, rel=1e-12):
    assert len(lrs) == len(expected)
    for e, (got, want) in enumerate(zip(lrs, expected)):
        assert got == pytest.approx(want, rel=rel, abs=1e-15), f"epoch {e}: {got!r} != {want!r}"


# ---------------------------------------------------------------------------------------------
# StepLR, ExponentialLR, CosineAnnealingLR, LinearLR alone
# ---------------------------------------------------------------------------------------------

def test_step_lr_100_epochs():
    opt = make_opt(0.1)
    lrs = run(opt, StepLR(opt, step_size=10, gamma=0.5))
    # Literal checkpoints: 0.1 for epochs 0–9, 0.05 for 10–19, 0.025 for 20–29, ...
    assert lrs[0] == lrs[9] == 0.1
    assert lrs[10] == lrs[19] == 0.05
    assert lrs[20] == 0.025
    assert lrs[29] == 0.025
    assert lrs[30] == 0.0125
    assert lrs[99] == pytest.approx(0.1 / 512, rel=1e-15)   # 0.1·0.5⁹
    # Closed form for every epoch (halving is exact in binary floating point).
    assert_sequence(lrs, [0.1 * 0.5 ** (e // 10) for e in range(EPOCHS)], rel=1e-15)


def test_step_lr_gamma_default_is_one_tenth():
    opt = make_opt(1.0)
    lrs = run(opt, StepLR(opt, step_size=3), epochs=10)
    assert_sequence(lrs, [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001])


def test_exponential_lr_100_epochs():
    opt = make_opt(0.1)
    lrs = run(opt, ExponentialLR(opt, gamma=0.95))
    assert lrs[0] == 0.1
    assert lrs[1] == pytest.approx(0.095, rel=1e-15)
    assert lrs[2] == pytest.approx(0.09025, rel=1e-14)
    assert lrs[3] == pytest.approx(0.0857375, rel=1e-14)
    assert_sequence(lrs, [0.1 * 0.95 ** e for e in range(EPOCHS)])


def cosine(e, base, T, eta_min=0.0):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T)) / 2


def test_cosine_lr_100_epochs_with_eta_min():
    opt = make_opt(0.1)
    lrs = run(opt, CosineAnnealingLR(opt, T_max=100, eta_min=0.001))
    assert lrs[0] == 0.1
    # e = 25: 0.001 + 0.099·(1 + cos(π/4))/2 = 0.001 + 0.099·0.8535533905932737
    assert lrs[25] == pytest.approx(0.0855017856687341, rel=1e-12)
    # e = T/2: exactly the midpoint (0.1 + 0.001)/2
    assert lrs[50] == pytest.approx(0.0505, rel=1e-12)
    # e = 75: 0.001 + 0.099·(1 + cos(3π/4))/2
    assert lrs[75] == pytest.approx(0.0154982143312659, rel=1e-12)
    assert_sequence(lrs, [cosine(e, 0.1, 100, 0.001) for e in range(EPOCHS)])
    assert all(a > b for a, b in zip(lrs, lrs[1:]))            # strictly decreasing up to T_max


def test_cosine_lr_past_t_max_rises_again():
    """T_max = 30 over 100 epochs: down to eta_min at 30, back to base at 60, down at 90."""
    opt = make_opt(0.1)
    lrs = run(opt, CosineAnnealingLR(opt, T_max=30))
    assert lrs[1] == pytest.approx(0.09972609476841367, rel=1e-12)  # 0.05·(1 + cos(π/30))
    assert lrs[15] == pytest.approx(0.05, rel=1e-12)
    assert lrs[30] == 0.0                                          # (1 + cos π) = 0 exactly
    assert lrs[31] == pytest.approx(0.0002739052315863355, rel=1e-12)  # 0.05·(1 − cos(π/30))
    assert lrs[45] == pytest.approx(0.05, rel=1e-12)
    assert lrs[60] == pytest.approx(0.1, rel=1e-12)
    assert lrs[90] == pytest.approx(0.0, abs=1e-15)
    assert_sequence(lrs, [cosine(e, 0.1, 30) for e in range(EPOCHS)])


def test_cosine_eta_min_with_period_to_1e_12():
    opt = make_opt(0.5)
    lrs = run(opt, CosineAnnealingLR(opt, T_max=17, eta_min=0.02))
    for e, lr in enumerate(lrs):
        assert abs(lr - cosine(e, 0.5, 17, 0.02)) < 1e-12, e


def test_linear_lr_warm_up_alone():
    opt = make_opt(0.2)
    lrs = run(opt, LinearLR(opt, start_factor=0.25, total_iters=4))
    # factor 0.25, 0.4375, 0.625, 0.8125, 1 → 0.05, 0.0875, 0.125, 0.1625, 0.2, then 0.2 stays
    assert_sequence(lrs[:6], [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2])
    assert_sequence(lrs, [0.2 * (0.25 + 0.75 * min(e, 4) / 4) for e in range(EPOCHS)])


def test_linear_lr_default_factors():
    opt = make_opt(0.3)
    lrs = run(opt, LinearLR(opt), epochs=8)     # start 1/3, end 1, 5 epochs
    assert_sequence(lrs, [0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3, 0.3])


def test_linear_lr_decay_to_half_and_to_zero():
    opt = make_opt(0.1)
    lrs = run(opt, LinearLR(opt, start_factor=1.0, end_factor=0.5, total_iters=10))
    assert_sequence(lrs[:3], [0.1, 0.095, 0.09])
    assert_sequence(lrs, [0.1 * (1 - 0.5 * min(e, 10) / 10) for e in range(EPOCHS)])
    opt = make_opt(0.1)
    lrs = run(opt, LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=5), epochs=8)
    assert_sequence(lrs, [0.1, 0.08, 0.06, 0.04, 0.02, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------------------------------------
# SequentialLR and create_schedule
# ---------------------------------------------------------------------------------------------

def test_warm_up_chained_into_cosine():
    opt = make_opt(0.1)
    warm = LinearLR(opt, start_factor=0.1, total_iters=5)
    decay = CosineAnnealingLR(opt, T_max=95)
    lrs = run(opt, SequentialLR(opt, schedulers=[warm, decay], milestones=[5]))
    # Warm-up factor 0.1 + 0.9·e/5 for e = 0…4, then the cosine restarts from 0.1 at e = 5
    # and e = 6 is 0.05·(1 + cos(π/95)).
    assert_sequence(lrs[:7], [0.01, 0.028, 0.046, 0.064, 0.082, 0.1, 0.09997266286704631])
    assert_sequence(lrs[5:], [cosine(e - 5, 0.1, 95) for e in range(5, EPOCHS)])
    assert lrs[99] == pytest.approx(2.7337132953697554e-05, rel=1e-10)  # 0.05(1 + cos(94π/95))


def test_sequential_three_schedules():
    opt = make_opt(1.0)
    scheds = [LinearLR(opt, start_factor=0.5, total_iters=2), ExponentialLR(opt, gamma=0.5),
              StepLR(opt, step_size=2, gamma=0.1)]
    lrs = run(opt, SequentialLR(opt, scheds, milestones=[2, 4]), epochs=9)
    # linear 0.5, 0.75 | exponential restarts at 1: 1, 0.5 | step restarts at 1: 1, 1, .1, .1, .01
    assert_sequence(lrs, [0.5, 0.75, 1.0, 0.5, 1.0, 1.0, 0.1, 0.1, 0.01])


def test_sequential_decay_then_linear_restart():
    opt = make_opt(1.0)
    scheds = [ExponentialLR(opt, gamma=0.9), LinearLR(opt, start_factor=0.5, total_iters=4)]
    lrs = run(opt, SequentialLR(opt, scheds, milestones=[3]), epochs=9)
    # 1, 0.9, 0.81 | linear restarts from base 1.0 at factor 0.5: 0.5, 0.625, 0.75, 0.875, 1, 1
    assert_sequence(lrs, [1.0, 0.9, 0.81, 0.5, 0.625, 0.75, 0.875, 1.0, 1.0])


def test_create_schedule_cosine_with_warm_up():
    opt = make_opt(0.1)
    sched = create_schedule("cosine", opt, epochs=100, warmup_epochs=5)
    lrs = run(opt, sched)
    # Ramp lr·(e + 1)/(w + 1): 0.1/6, 0.2/6, 0.3/6, 0.4/6, 0.5/6, then cosine with T_max = 95.
    assert_sequence(lrs[:6], [0.1 / 6, 0.2 / 6, 0.3 / 6, 0.4 / 6, 0.5 / 6, 0.1])
    assert_sequence(lrs[:5], [0.1 * (e + 1) / 6 for e in range(5)])
    assert_sequence(lrs[5:], [cosine(e - 5, 0.1, 95) for e in range(5, EPOCHS)])


def test_create_schedule_cosine_without_warm_up_takes_all_epochs():
    opt = make_opt(0.1)
    sched = create_schedule("cosine", opt, epochs=100)
    assert isinstance(sched, CosineAnnealingLR) and sched.T_max == 100
    assert_sequence(run(opt, sched), [cosine(e, 0.1, 100) for e in range(EPOCHS)])
    opt = make_opt(0.1)
    sched = create_schedule("cosine", opt, epochs=100, warmup_epochs=10, T_max=20, eta_min=0.01)
    lrs = run(opt, sched)
    assert_sequence(lrs[10:], [cosine(e - 10, 0.1, 20, 0.01) for e in range(10, EPOCHS)])


def test_create_schedule_step_and_exponential_with_warm_up():
    opt = make_opt(0.1)
    lrs = run(opt, create_schedule("step", opt, epochs=100, warmup_epochs=3, step_size=10,
                                   gamma=0.5))
    assert_sequence(lrs[:4], [0.025, 0.05, 0.075, 0.1])
    assert_sequence(lrs[3:], [0.1 * 0.5 ** ((e - 3) // 10) for e in range(3, EPOCHS)])
    opt = make_opt(0.1)
    lrs = run(opt, create_schedule("exponential", opt, epochs=100, warmup_epochs=1, gamma=0.9))
    assert_sequence(lrs, [0.05] + [0.1 * 0.9 ** (e - 1) for e in range(1, EPOCHS)])


def test_create_schedule_constant():
    assert create_schedule("constant", make_opt(), epochs=100) is None
    opt = make_opt(0.1)
    lrs = run(opt, create_schedule("constant", opt, epochs=100, warmup_epochs=4))
    assert_sequence(lrs, [0.02, 0.04, 0.06, 0.08] + [0.1] * 96)


def test_create_schedule_builds_every_registered_name():
    expected = {"constant": type(None), "step": StepLR, "exponential": ExponentialLR,
                "cosine": CosineAnnealingLR, "plateau": ReduceLROnPlateau}
    assert set(SCHEDULES) == set(expected)
    params = {"step": {"step_size": 5}, "exponential": {"gamma": 0.9}}
    for name in SCHEDULES:
        sched = create_schedule(name, make_opt(), epochs=20, **params.get(name, {}))
        assert isinstance(sched, expected[name]), name
        if name != "plateau":
            sched = create_schedule(name, make_opt(), epochs=20, warmup_epochs=2,
                                    **params.get(name, {}))
            assert isinstance(sched, SequentialLR), name


def test_create_schedule_plateau():
    opt = make_opt(0.1)
    sched = create_schedule("plateau", opt, epochs=30, factor=0.5, patience=3)
    assert isinstance(sched, ReduceLROnPlateau)
    assert (sched.mode, sched.factor, sched.patience) == ("min", 0.5, 3)
    assert opt.lr == 0.1
    lrs = run_plateau(opt, sched, [1.0] * 10)
    # improvement at e0; bad epochs 1..4, the 4th (> patience 3) halves the LR for epoch 5;
    # bad epochs 5..8 halve it again for epoch 9.
    assert_sequence(lrs, [0.1] * 5 + [0.05] * 4 + [0.025])


# ---------------------------------------------------------------------------------------------
# Chainability: a hand-made change of opt.lr is scaled from then on
# ---------------------------------------------------------------------------------------------

def test_step_lr_scales_a_hand_set_lr():
    opt = make_opt(0.1)
    sched = StepLR(opt, step_size=10, gamma=0.5)
    lrs = []
    for e in range(40):
        if e == 5:
            opt.lr = 0.3          # as SWATS does when it switches to SGD
        lrs.append(opt.lr)
        sched.step()
    assert_sequence(lrs, [0.1] * 5 + [0.3] * 5 + [0.15] * 10 + [0.075] * 10 + [0.0375] * 10,
                    rel=1e-15)


def test_exponential_lr_scales_a_hand_set_lr():
    opt = make_opt(0.1)
    sched = ExponentialLR(opt, gamma=0.5)
    lrs = []
    for e in range(6):
        if e == 3:
            opt.lr = 1.0
        lrs.append(opt.lr)
        sched.step()
    assert_sequence(lrs, [0.1, 0.05, 0.025, 1.0, 0.5, 0.25])


def test_base_lr_is_the_lr_when_the_first_schedule_was_attached():
    opt = make_opt(0.1)
    StepLR(opt, step_size=2)
    opt.lr = 0.7
    second = StepLR(opt, step_size=2)
    assert second.base_lr == 0.1 and opt.initial_lr == 0.1


# ---------------------------------------------------------------------------------------------
# ReduceLROnPlateau, epoch by epoch
# ---------------------------------------------------------------------------------------------

def test_plateau_patience_cooldown_min_lr():
    """factor 0.5, patience 3, cooldown 2, min_lr 0.0125, rel threshold 1e-4, from lr 0.1.

    Rules (per step(metric)): better → best = metric, bad = 0, else bad += 1; if in cooldown:
    cooldown −= 1 and bad = 0; if bad > patience: lr ← max(lr·factor, min_lr) (skipped if the
    change ≤ eps), cooldown = 2, bad = 0. A reduction after epoch e applies from epoch e + 1.

    e 0–4   1.0 … 0.6  improving; best 0.6
    e 5–8   0.6        bad 1, 2, 3, 4 → 4 > 3: lr 0.1 → 0.05 from e 9; cooldown 2
    e 9     0.6        bad 1, cooldown 2 → 1, bad 0
    e 10    0.6        bad 1, cooldown 1 → 0, bad 0
    e 11–12 0.6        bad 1, 2
    e 13    0.5        better: best 0.5, bad 0 (the count is reset before it fires)
    e 14–17 0.5        bad 1, 2, 3, 4 → lr 0.05 → 0.025 from e 18; cooldown 2
    e 18    0.45       better during cooldown: best 0.45; cooldown → 1, bad 0
    e 19    0.45       bad 1, cooldown → 0, bad 0
    e 20–23 0.45       bad 1, 2, 3, 4 → lr 0.025 → 0.0125 (= min_lr) from e 24; cooldown 2
    e 24–25            cooldown
    e 26–29            bad 1..4 → max(0.00625, 0.0125) = 0.0125: no change (0 ≤ eps); held
    … every 6 epochs the same: the LR stays at min_lr to e 99.
    """
    metrics = [1.0, 0.9, 0.8, 0.7, 0.6] + [0.6] * 8 + [0.5] * 5 + [0.45] * 82
    assert len(metrics) == EPOCHS
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=3, cooldown=2, min_lr=0.0125)
    assert opt.lr == 0.1                  # construction leaves the LR alone
    lrs = run_plateau(opt, sched, metrics)
    expected = [0.1] * 9 + [0.05] * 9 + [0.025] * 6 + [0.0125] * 76
    assert lrs == expected                # halving is exact: compare literally
    assert sched.best == 0.45


def test_plateau_without_cooldown_reduces_every_patience_plus_one_epochs():
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=3)
    lrs = run_plateau(opt, sched, [1.0] * 14)
    # e0 better; bad e1..e4 → reduce from e5; bad e5..e8 → from e9; e9..e12 → from e13
    assert lrs == [0.1] * 5 + [0.05] * 4 + [0.025] * 4 + [0.0125]


def test_plateau_min_lr_clamps_and_holds():
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, min_lr=0.03)
    lrs = run_plateau(opt, sched, [1.0] * 8)
    # e0 better; e1 bad → 0.05 from e2; e2 → max(0.025, 0.03) = 0.03 from e3; then held
    assert lrs == [0.1, 0.1, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03]


def test_plateau_mode_max():
    metrics = [0.5, 0.6, 0.7, 0.7, 0.65, 0.7, 0.7, 0.69, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8]
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=2)
    lrs = run_plateau(opt, sched, metrics)
    # e0–2 better (0.5 > −inf, 0.6, 0.7); e3 0.7 bad 1, e4 0.65 (lower is worse) bad 2,
    # e5 bad 3 > 2 → 0.1 from e6; e6–8 bad 1, 2, 3 → 0.01 from e9; e9 0.8 better;
    # e10–12 bad 1, 2, 3 → 0.001 from e13.
    assert_sequence(lrs, [1.0] * 6 + [0.1] * 3 + [0.01] * 4 + [0.001])
    assert sched.best == 0.8
    # The same metrics in mode "min": only e0 is an improvement.
    opt = make_opt(1.0)
    lrs = run_plateau(opt, ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=2), metrics)
    assert_sequence(lrs[:5], [1.0, 1.0, 1.0, 1.0, 0.1])


@pytest.mark.parametrize("threshold_mode, expected", [
    # abs: better means metric < best − 0.1.
    # e0 10 best; e1 9.5 < 9.9 best; e2 9.45 ≥ 9.4 bad 1; e3 9.42 bad 2 > 1 → 0.5 from e4;
    # e4 9.3 < 9.4 best; e5 9.25 ≥ 9.2 bad 1; e6 9.21 bad 2 → 0.25 from e7.
    ("abs", [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]),
    # rel: better means metric < best·0.9 = 9.0; only e0 is better.
    # bad e1, e2 → 0.5 from e3; e3, e4 → 0.25 from e5; e5, e6 → 0.125 from e7.
    ("rel", [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]),
])
def test_plateau_threshold_mode(threshold_mode, expected):
    metrics = [10.0, 9.5, 9.45, 9.42, 9.3, 9.25, 9.21, 9.0]
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.1,
                              threshold_mode=threshold_mode)
    assert run_plateau(opt, sched, metrics) == expected


def test_plateau_relative_threshold_ignores_tiny_improvements():
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=2)        # threshold 1e-4 rel
    # 1.0 then decreases of 1e-6 (< 1e-4 relative) count as bad; 0.5 is a real improvement.
    metrics = [1.0, 1.0 - 1e-6, 1.0 - 2e-6, 1.0 - 3e-6, 0.5, 0.5]
    assert run_plateau(opt, sched, metrics) == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05]
    assert sched.best == 0.5
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.0)
    # threshold 0: every strict decrease is an improvement, so no reduction
    assert run_plateau(opt, sched, metrics) == [0.1] * 6


def test_plateau_eps_skips_small_reductions():
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=0.04)
    # e1: 0.1 → 0.05 (change 0.05 > 0.04); e2: 0.05 → 0.025 would change by 0.025 ≤ 0.04: skipped
    assert run_plateau(opt, sched, [1.0] * 6) == [0.1, 0.1, 0.05, 0.05, 0.05, 0.05]
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=0.06)
    assert run_plateau(opt, sched, [1.0] * 4) == [0.1] * 4
    # default eps 1e-8: 3e-8 → 1.5e-8 (change 1.5e-8), then 7.5e-9 is skipped
    opt = make_opt(3e-8)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    assert_sequence(run_plateau(opt, sched, [1.0] * 5), [3e-8, 3e-8, 1.5e-8, 1.5e-8, 1.5e-8])


def test_plateau_accepts_numpy_scalars():
    opt = make_opt(0.1)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    run_plateau(opt, sched, [np.float32(1.0), np.float64(1.0), np.array(1.0)])
    assert opt.lr == 0.025


# ---------------------------------------------------------------------------------------------
# Validation: ValueError naming the argument and the value
# ---------------------------------------------------------------------------------------------

def message(name, value):
    return re.escape(f"Invalid {name} value: {value!r}")


@pytest.mark.parametrize("build, name, value", [
    (lambda o: StepLR(o, step_size=0), "step_size", 0),
    (lambda o: StepLR(o, step_size=-3), "step_size", -3),
    (lambda o: StepLR(o, step_size=2.5), "step_size", 2.5),
    (lambda o: StepLR(o, step_size=True), "step_size", True),
    (lambda o: StepLR(o, step_size=5, gamma=0.0), "gamma", 0.0),
    (lambda o: StepLR(o, step_size=5, gamma=-0.5), "gamma", -0.5),
    (lambda o: StepLR(o, step_size=5, gamma=math.inf), "gamma", math.inf),
    (lambda o: ExponentialLR(o, gamma=0.0), "gamma", 0.0),
    (lambda o: ExponentialLR(o, gamma=-1.0), "gamma", -1.0),
    (lambda o: ExponentialLR(o, gamma=math.nan), "gamma", math.nan),
    (lambda o: CosineAnnealingLR(o, T_max=0), "T_max", 0),
    (lambda o: CosineAnnealingLR(o, T_max=-10), "T_max", -10),
    (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=-0.1), "eta_min", -0.1),
    (lambda o: LinearLR(o, start_factor=0.0), "start_factor", 0.0),
    (lambda o: LinearLR(o, start_factor=1.5), "start_factor", 1.5),
    (lambda o: LinearLR(o, end_factor=-0.1), "end_factor", -0.1),
    (lambda o: LinearLR(o, end_factor=1.1), "end_factor", 1.1),
    (lambda o: LinearLR(o, total_iters=0), "total_iters", 0),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), "factor", 1.0),
    (lambda o: ReduceLROnPlateau(o, factor=1.5), "factor", 1.5),
    (lambda o: ReduceLROnPlateau(o, factor=0.0), "factor", 0.0),
    (lambda o: ReduceLROnPlateau(o, patience=-1), "patience", -1),
    (lambda o: ReduceLROnPlateau(o, patience=2.0), "patience", 2.0),
    (lambda o: ReduceLROnPlateau(o, mode="maximum"), "mode", "maximum"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="relative"), "threshold_mode", "relative"),
    (lambda o: ReduceLROnPlateau(o, threshold=-1e-4), "threshold", -1e-4),
    (lambda o: ReduceLROnPlateau(o, cooldown=-1), "cooldown", -1),
    (lambda o: ReduceLROnPlateau(o, min_lr=-0.001), "min_lr", -0.001),
    (lambda o: ReduceLROnPlateau(o, eps=-1e-8), "eps", -1e-8),
    (lambda o: create_schedule("linear", o, epochs=10), "schedule", "linear"),
    (lambda o: create_schedule("cosine", o, epochs=10, warmup_epochs=10), "warmup_epochs", 10),
    (lambda o: create_schedule("cosine", o, epochs=10, warmup_epochs=12), "warmup_epochs", 12),
    (lambda o: create_schedule("step", o, epochs=10, warmup_epochs=-1, step_size=2),
     "warmup_epochs", -1),
    (lambda o: create_schedule("step", o, epochs=10, step_size=0), "step_size", 0),
])
def test_constructor_validation(build, name, value):
    opt = make_opt(0.1)
    with pytest.raises(ValueError, match=message(name, value)):
        build(opt)


def test_unknown_schedule_lists_the_known_names():
    with pytest.raises(ValueError) as err:
        create_schedule("linear", make_opt(), epochs=10)
    for name in SCHEDULES:
        assert name in str(err.value)


def test_warm_up_with_plateau_is_rejected():
    with pytest.raises(ValueError, match=r"Invalid warmup_epochs value: .*'plateau'"):
        create_schedule("plateau", make_opt(), epochs=10, warmup_epochs=2)


def test_sequential_rejects_plateau_and_nested_sequential():
    opt = make_opt()
    warm = LinearLR(opt, total_iters=2)
    plateau = ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match=r"Invalid schedulers\[1\] value: ReduceLROnPlateau"):
        SequentialLR(opt, [warm, plateau], milestones=[2])
    inner = SequentialLR(opt, [LinearLR(opt, total_iters=2), StepLR(opt, step_size=2)], [2])
    with pytest.raises(ValueError, match=r"Invalid schedulers\[0\] value: SequentialLR"):
        SequentialLR(opt, [inner, StepLR(opt, step_size=3)], milestones=[4])
    with pytest.raises(ValueError, match=r"Invalid schedulers\[0\] value: 'cosine'"):
        SequentialLR(opt, ["cosine"], milestones=[])
    with pytest.raises(ValueError, match=re.escape("Invalid schedulers value: []")):
        SequentialLR(opt, [], milestones=[])


@pytest.mark.parametrize("milestones", [[], [5, 10]])
def test_sequential_wrong_number_of_milestones(milestones):
    opt = make_opt()
    scheds = [LinearLR(opt, total_iters=5), CosineAnnealingLR(opt, T_max=10)]
    with pytest.raises(ValueError, match=message("milestones", milestones)):
        SequentialLR(opt, scheds, milestones=milestones)


@pytest.mark.parametrize("milestones, value", [([0, 5], 0), ([5, 5], [5, 5]), ([6, 3], [6, 3]),
                                               ([2.5, 5], 2.5)])
def test_sequential_bad_milestones(milestones, value):
    opt = make_opt()
    scheds = [LinearLR(opt, total_iters=2), StepLR(opt, step_size=2), ExponentialLR(opt, 0.9)]
    with pytest.raises(ValueError, match=message("milestones", value)):
        SequentialLR(opt, scheds, milestones=milestones)


def test_sequential_rejects_schedules_of_another_optimizer():
    opt, other = make_opt(), make_opt()
    with pytest.raises(ValueError, match=r"Invalid schedulers\[1\] value: .*another optimizer"):
        SequentialLR(opt, [LinearLR(opt, total_iters=2), StepLR(other, step_size=2)], [2])


def test_boundary_values_are_accepted():
    opt = make_opt()
    LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=1)
    CosineAnnealingLR(opt, T_max=1, eta_min=0.0)
    StepLR(opt, step_size=1, gamma=1e-12)
    ReduceLROnPlateau(opt, factor=0.999, patience=0, threshold=0.0, cooldown=0, min_lr=0.0,
                      eps=0.0)
    create_schedule("cosine", make_opt(), epochs=10, warmup_epochs=9)
