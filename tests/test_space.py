"""The search space against real Optuna: in-memory studies, ``study.ask()``, no mocks.

A trial's Optuna parameters are PyTorch's argument names plus ``optimizer``, ``schedule`` and
``warmup_epochs``, and only those that apply to the trial's optimizer and schedule are
suggested. Every configuration a trial resolves to builds with :func:`tuner.optim.create` and
:func:`tuner.schedules.create_schedule`.
"""

import inspect
import itertools
import warnings

import numpy as np
import optuna
import pytest
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState
from torch.optim import lr_scheduler as torch_sched

from tuner.optim import OPTIMIZERS, create
from tuner.schedules import SCHEDULES, create_schedule
from tuner.service.samplers import (
    PRUNERS,
    SAMPLERS,
    SEEDED_PER_TRIAL,
    make_pruner,
    make_sampler,
    seed_for_trial,
)
from tuner.service.space import (
    INTEGER_ARGS,
    LOG_SCALE,
    WARMUP_SCHEDULES,
    Dimension,
    optimizer_arguments,
    parse_dimension,
    resolve,
    schedule_arguments,
)
from tuner.errors import SpecError
from tuner.service.spec import parse_spec

optuna.logging.set_verbosity(optuna.logging.WARNING)

EPOCHS = 20
TORCH_SCHEDULES = {"step": torch_sched.StepLR, "exponential": torch_sched.ExponentialLR,
                   "cosine": torch_sched.CosineAnnealingLR,
                   "plateau": torch_sched.ReduceLROnPlateau}

# A range (or choice list) for every argument any optimizer or schedule takes. A new argument
# in the core makes the full-space tests fail with a KeyError here, until it is given one.
RANGES = {
    "lr": [1e-4, 1e-1], "momentum": [0.5, 0.95], "dampening": [0.0, 0.5],
    "weight_decay": [1e-5, 1e-2], "lr_decay": [1e-6, 1e-3],
    "initial_accumulator_value": [1e-3, 0.1], "eps": [1e-10, 1e-6], "alpha": [0.8, 0.99],
    "rho": [0.8, 0.95], "beta1": [0.8, 0.95], "beta2": [0.99, 0.9999],
    "momentum_decay": [1e-3, 1e-2], "switch_eps": [1e-10, 1e-8],
    "amsgrad": {"values": [False, True]}, "centered": {"values": [False, True]},
    "decoupled_weight_decay": {"values": [False, True]},
    "step_size": [2, 6], "gamma": [0.5, 0.99], "eta_min": {"low": 0.0, "high": 1e-4, "log": False},
    "factor": [0.1, 0.9], "patience": [1, 5], "threshold": [1e-4, 1e-2],
    "threshold_mode": {"values": ["rel", "abs"]}, "cooldown": [0, 2],
    "min_lr": {"low": 0.0, "high": 1e-6, "log": False},
}


def spec_of(search: dict, epochs: int = EPOCHS, **study):
    return parse_spec({"study": {"name": "space", "task": "iris", **study},
                       "training": {"epochs": epochs}, "search": search}, "<test>")


def space_of(search: dict, epochs: int = EPOCHS, **study):
    return spec_of(search, epochs, **study).space


def full_space():
    """Every optimizer and schedule, every one of their arguments searched, warm-up searched."""
    search = {"optimizers": list(OPTIMIZERS), "schedules": list(SCHEDULES),
              "warmup_epochs": [0, 3]}
    for name in OPTIMIZERS:
        search[name] = {arg: RANGES[arg] for arg in optimizer_arguments(name)}
    for name in SCHEDULES:
        if schedule_arguments(name):
            search[name] = {arg: RANGES[arg] for arg in schedule_arguments(name)}
    return space_of(search)


def ask(space, fixed: dict | None = None, seed: int = 0, epochs: int = EPOCHS):
    """One real Optuna trial (``fixed`` params enqueued) and the configuration it resolves to."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    if fixed:
        study.enqueue_trial(fixed)
    trial = study.ask()
    return trial, space.suggest(trial, epochs)


def build(config, epochs: int = EPOCHS):
    """Build the configuration with the core's own factories (raises if it is not buildable)."""
    optimizer = create(config["optimizer"], [np.zeros(3)], lr=config["lr"],
                       **config["optimizer_args"])
    schedule = create_schedule(config["schedule"], optimizer, epochs=epochs,
                               warmup_epochs=config["warmup_epochs"], **config["schedule_args"])
    return optimizer, schedule


def torch_arguments(cls) -> set[str]:
    return {n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "params")}


# --- conditional parameters -------------------------------------------------------------------

FULL = full_space()


@pytest.mark.parametrize("optimizer, schedule", list(itertools.product(OPTIMIZERS, SCHEDULES)))
def test_a_trial_suggests_exactly_its_optimizers_and_schedules_arguments(optimizer, schedule):
    trial, config = ask(FULL, {"optimizer": optimizer, "schedule": schedule})
    expected = {"optimizer", "schedule", *optimizer_arguments(optimizer),
                *schedule_arguments(schedule)}
    if schedule in WARMUP_SCHEDULES:
        expected.add("warmup_epochs")
    assert set(trial.params) == expected
    assert config["optimizer"] == optimizer and config["schedule"] == schedule
    build(config)


@pytest.mark.parametrize("optimizer", [o for o in OPTIMIZERS if o != "swats"])
def test_optimizer_params_are_pytorchs_argument_names(optimizer):
    trial, config = ask(FULL, {"optimizer": optimizer, "schedule": "constant"})
    torch_cls = getattr(torch.optim, OPTIMIZERS[optimizer].cls.__name__)
    names = torch_arguments(torch_cls)
    split = {"beta1", "beta2"} if "betas" in names else set()
    assert set(trial.params) - {"optimizer", "schedule"} <= names | split
    assert set(config["optimizer_args"]) <= names      # resolved: betas, fixed flags


@pytest.mark.parametrize("schedule", list(TORCH_SCHEDULES))
def test_schedule_params_are_pytorchs_argument_names(schedule):
    trial, config = ask(FULL, {"optimizer": "sgd", "schedule": schedule})
    names = torch_arguments(TORCH_SCHEDULES[schedule])
    own = set(trial.params) - {"optimizer", "schedule", "warmup_epochs",
                               *optimizer_arguments("sgd")}
    assert own and own <= names
    assert set(config["schedule_args"]) <= names


def test_swats_params_are_its_own_arguments():
    trial, _ = ask(FULL, {"optimizer": "swats", "schedule": "constant"})
    assert set(trial.params) == {"optimizer", "schedule", "lr", "beta1", "beta2", "eps",
                                 "weight_decay", "switch_eps"}


MOMENTUM_SPACE = {"optimizers": ["sgd", "momentum", "nesterov", "rmsprop", "adam"],
                  "momentum": [0.5, 0.99], "schedules": list(SCHEDULES),
                  "step": {"gamma": [0.1, 0.9]}, "exponential": {"gamma": [0.8, 0.99]},
                  "cosine": {"eta_min": {"values": [0.0, 1e-5]}},
                  "plateau": {"patience": [1, 5]}, "warmup_epochs": [0, 3]}


@pytest.mark.parametrize("optimizer, has_momentum", [
    ("sgd", False), ("momentum", True), ("nesterov", True), ("rmsprop", True), ("adam", False)])
def test_momentum_is_suggested_only_for_optimizers_that_take_it(optimizer, has_momentum):
    trial, config = ask(space_of(MOMENTUM_SPACE), {"optimizer": optimizer,
                                                   "schedule": "constant"})
    assert ("momentum" in trial.params) is has_momentum
    if has_momentum:
        assert 0.5 <= trial.params["momentum"] <= 0.99
        assert config["optimizer_args"]["momentum"] == trial.params["momentum"]
    assert set(trial.params) - {"momentum"} == {"optimizer", "lr", "schedule"}


@pytest.mark.parametrize("schedule, own", [
    ("constant", set()), ("step", {"gamma"}), ("exponential", {"gamma"}),
    ("cosine", {"eta_min"}), ("plateau", {"patience"})])
def test_schedule_params_only_for_their_schedule(schedule, own):
    trial, config = ask(space_of(MOMENTUM_SPACE), {"optimizer": "adam", "schedule": schedule,
                                                   "warmup_epochs": 2})
    warm = {"warmup_epochs"} if schedule in WARMUP_SCHEDULES else set()
    assert set(trial.params) == {"optimizer", "lr", "schedule"} | own | warm
    assert set(own) <= set(config["schedule_args"])


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_warmup_is_suggested_only_before_step_exponential_and_cosine(schedule):
    trial, config = ask(space_of(MOMENTUM_SPACE), {"optimizer": "sgd", "schedule": schedule,
                                                   "warmup_epochs": 3})
    if schedule in ("step", "exponential", "cosine"):
        assert trial.params["warmup_epochs"] == 3
        assert config["warmup_epochs"] == 3
    else:
        assert "warmup_epochs" not in trial.params
        assert config["warmup_epochs"] == 0
    build(config)


def test_warmup_schedules_are_the_three_epoch_schedules():
    assert set(WARMUP_SCHEDULES) == {"step", "exponential", "cosine"}


# --- fixed values -----------------------------------------------------------------------------

def test_single_choices_and_scalars_are_fixed_not_optuna_params():
    space = space_of({"optimizers": ["momentum"], "schedules": ["cosine"], "lr": 0.05,
                      "momentum": {"momentum": {"values": [0.9]}},
                      "cosine": {"eta_min": {"values": [1e-5]}},
                      "warmup_epochs": {"values": [2]}})
    trial, config = ask(space)
    assert trial.params == {}
    assert trial.distributions == {}
    assert config == {"optimizer": "momentum", "lr": 0.05,
                      "optimizer_args": {"momentum": 0.9, "nesterov": False},
                      "schedule": "cosine", "schedule_args": {"eta_min": 1e-5},
                      "warmup_epochs": 2}
    build(config)


def test_one_searched_value_among_fixed_ones():
    space = space_of({"optimizers": ["adam"], "lr": [1e-4, 1e-2], "adam": {"beta1": 0.8}})
    trial, config = ask(space)
    assert set(trial.params) == {"lr"}
    assert config["optimizer_args"]["betas"] == [0.8, 0.999]


# --- distributions ----------------------------------------------------------------------------

def test_distributions_follow_the_value_forms():
    space = space_of({
        "optimizers": ["momentum"], "schedules": ["step"], "lr": [1e-4, 1.0],
        "momentum": [0.5, 0.99], "step": {"step_size": [2, 8], "gamma": {"values": [0.1, 0.5]}},
        "warmup_epochs": [0, 3]})
    trial, _ = ask(space)
    assert trial.distributions == {
        "lr": FloatDistribution(1e-4, 1.0, log=True),
        "momentum": FloatDistribution(0.5, 0.99, log=False),
        "step_size": IntDistribution(2, 8),
        "gamma": CategoricalDistribution([0.1, 0.5]),
        "warmup_epochs": IntDistribution(0, 3),
    }


def test_explicit_low_high_log_overrides_the_scale():
    space = space_of({"optimizers": ["momentum"], "lr": {"low": 0.01, "high": 0.5, "log": False},
                      "momentum": {"momentum": {"low": 0.5, "high": 0.99, "log": True}}})
    trial, _ = ask(space)
    assert trial.distributions == {"lr": FloatDistribution(0.01, 0.5, log=False),
                                   "momentum": FloatDistribution(0.5, 0.99, log=True)}
    space = space_of({"optimizers": ["momentum"], "lr": 0.1,
                      "schedules": ["plateau"],
                      "plateau": {"factor": {"low": 0.1, "high": 0.9, "log": True},
                                  "patience": {"low": 1, "high": 8, "log": True}}})
    trial, _ = ask(space)
    assert trial.distributions == {"factor": FloatDistribution(0.1, 0.9, log=True),
                                   "patience": IntDistribution(1, 8, log=True)}


ARGUMENT_NAMES = sorted({a for o in OPTIMIZERS for a in optimizer_arguments(o)}
                        | {a for s in SCHEDULES for a in schedule_arguments(s)})


def test_log_scale_names_are_real_arguments():
    assert LOG_SCALE <= set(ARGUMENT_NAMES)


@pytest.mark.parametrize("name", sorted(set(ARGUMENT_NAMES) - INTEGER_ARGS))
def test_a_pair_is_a_log_range_exactly_for_the_log_scale_names(name):
    dim = parse_dimension(name, [1e-3, 1e-1])
    assert dim == Dimension(low=1e-3, high=1e-1, log=name in LOG_SCALE)
    assert parse_dimension(name, {"low": 1e-3, "high": 1e-1, "log": False}).log is False
    assert parse_dimension(name, {"low": 1e-3, "high": 1e-1, "log": True}).log is True
    assert parse_dimension(name, {"low": 1e-3, "high": 1e-1}).log is (name in LOG_SCALE)


@pytest.mark.parametrize("name", ["lr", "eps", "weight_decay", "eta_min", "min_lr"])
def test_the_usual_log_scale_names(name):
    assert name in LOG_SCALE


@pytest.mark.parametrize("name", ["momentum", "beta1", "beta2", "alpha", "rho", "gamma",
                                  "factor", "dampening"])
def test_the_usual_linear_names(name):
    assert name not in LOG_SCALE


@pytest.mark.parametrize("name", sorted(INTEGER_ARGS))
def test_integer_arguments_take_whole_number_ranges_only(name):
    assert parse_dimension(name, [2, 8]) == Dimension(low=2, high=8, integer=True)
    with pytest.raises(ValueError, match="needs whole numbers"):
        parse_dimension(name, [2, 8.5])


def test_float_arguments_written_as_integers_are_float_ranges():
    # adadelta's lr = [1, 10] must share Optuna's FloatDistribution with the other optimizers
    assert parse_dimension("lr", [1, 10]) == Dimension(low=1.0, high=10.0, log=True)
    assert parse_dimension("gamma", [1, 2]).integer is False


@pytest.mark.parametrize("raw, expected", [
    ([2, 8], Dimension(low=2, high=8, integer=True)),
    ({"values": [1, 2, 3]}, Dimension(choices=(1, 2, 3))),
    ({"values": ["rel", "abs"]}, Dimension(choices=("rel", "abs"))),
    ({"values": [0.5]}, Dimension(choices=(0.5,))),
    (0.5, Dimension(value=0.5)),
    (True, Dimension(value=True)),
])
def test_parse_dimension_forms(raw, expected):
    dim = parse_dimension("patience", raw)
    assert dim == expected
    assert dim.searched is (expected.low is not None or len(expected.choices or ()) > 1)


def test_integer_range_is_suggested_as_integers():
    space = space_of({"optimizers": ["sgd"], "lr": 0.1, "schedules": ["plateau"],
                      "plateau": {"patience": [1, 5], "cooldown": [0, 3]}})
    for seed in range(5):
        trial, config = ask(space, seed=seed)
        assert isinstance(config["schedule_args"]["patience"], int)
        assert isinstance(config["schedule_args"]["cooldown"], int)
        assert 1 <= config["schedule_args"]["patience"] <= 5


# --- resolve ----------------------------------------------------------------------------------

def test_resolve_rebuilds_betas_from_beta1_and_beta2():
    both = resolve("adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99}, "constant", {}, 0, 10)
    assert both["optimizer_args"]["betas"] == [0.8, 0.99]
    assert "beta1" not in both["optimizer_args"] and "beta2" not in both["optimizer_args"]
    one = resolve("nadam", {"beta2": 0.95}, "constant", {}, 0, 10)
    assert one["optimizer_args"]["betas"] == [0.9, 0.95]
    assert one["lr"] == 2e-3                       # NAdam's default LR
    none = resolve("adamw", {"lr": 0.001}, "constant", {}, 0, 10)
    assert "betas" not in none["optimizer_args"]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_resolve_includes_the_registrys_fixed_flags_and_defaults(optimizer):
    entry = OPTIMIZERS[optimizer]
    config = resolve(optimizer, {"lr": 0.01}, "constant", {}, 0, 10)
    assert config["lr"] == 0.01
    for key, value in {**entry.defaults, **entry.fixed}.items():
        assert config["optimizer_args"][key] == value
    build(config, 10)


def test_resolve_nesterov_and_sgd_flags():
    assert resolve("nesterov", {"momentum": 0.8}, "constant", {}, 0, 10)["optimizer_args"] == \
        {"momentum": 0.8, "nesterov": True, "dampening": 0.0}
    assert resolve("sgd", {}, "constant", {}, 0, 10)["optimizer_args"] == \
        {"momentum": 0.0, "dampening": 0.0, "nesterov": False}
    assert resolve("sgd", {}, "constant", {}, 0, 10)["lr"] == 1e-3


@pytest.mark.parametrize("epochs, warmup, step_size", [(30, 0, 10), (20, 0, 6), (30, 3, 9),
                                                       (2, 0, 1), (4, 3, 1)])
def test_resolve_step_size_defaults_to_a_third_of_the_epochs_after_warmup(epochs, warmup,
                                                                           step_size):
    config = resolve("sgd", {"lr": 0.1}, "step", {"gamma": 0.5}, warmup, epochs)
    assert config["schedule_args"] == {"gamma": 0.5, "step_size": step_size}
    build(config, epochs)


def test_resolve_keeps_an_explicit_step_size():
    config = resolve("sgd", {"lr": 0.1}, "step", {"step_size": 4}, 0, 30)
    assert config["schedule_args"] == {"step_size": 4}


def test_resolve_is_json_able_and_complete():
    config = resolve("adam", {"lr": 0.01, "beta1": 0.8}, "cosine", {"eta_min": 0.0}, 2, 10)
    assert config == {"optimizer": "adam", "lr": 0.01,
                      "optimizer_args": {"betas": [0.8, 0.999], "decoupled_weight_decay": False},
                      "schedule": "cosine", "schedule_args": {"eta_min": 0.0},
                      "warmup_epochs": 2}


@pytest.mark.parametrize("seed", range(12))
def test_every_sampled_configuration_of_the_full_space_builds(seed):
    _, config = ask(FULL, seed=seed)
    optimizer, schedule = build(config)
    assert optimizer.lr > 0
    if config["schedule"] == "constant":
        assert schedule is None


# --- seed defaults ----------------------------------------------------------------------------

def torch_default(optimizer: str, arg: str):
    """PyTorch's default for ``arg`` (registry-implied defaults like momentum=0.9 win)."""
    entry = OPTIMIZERS[optimizer]
    if arg in entry.defaults:
        return entry.defaults[arg]
    params = inspect.signature(getattr(torch.optim, entry.cls.__name__).__init__).parameters
    if arg in ("beta1", "beta2"):
        return params["betas"].default[arg == "beta2"]
    return params[arg].default


SEEDED = {"optimizers": [o for o in OPTIMIZERS if o != "swats"],
          "schedules": ["step", "constant"], "lr": [1e-4, 1.0], "momentum": [0.5, 0.99],
          "rmsprop": {"momentum": {"low": 0.0, "high": 0.9, "log": False}, "alpha": [0.9, 0.999]},
          "adam": {"beta1": [0.5, 0.99], "eps": [1e-10, 1e-6]},
          "adamw": {"weight_decay": [1e-4, 0.1]},
          "adadelta": {"rho": [0.5, 0.99], "lr": [0.1, 10.0]},
          "adagrad": {"lr_decay": {"low": 0.0, "high": 0.01, "log": False}},
          "nadam": {"momentum_decay": [1e-3, 1e-2]}}


def test_default_trials_are_pytorchs_defaults_of_the_searched_arguments():
    space = space_of(SEEDED)
    trials = space.default_trials()
    assert [t["optimizer"] for t in trials] == SEEDED["optimizers"]
    for params in trials:
        optimizer = params["optimizer"]
        assert params["schedule"] == "constant"     # constant when it is among the schedules
        searched = {a for a, d in space.optimizer_dims[optimizer].items() if d.searched}
        assert set(params) == {"optimizer", "schedule"} | searched
        for arg in searched:
            assert params[arg] == torch_default(optimizer, arg), (optimizer, arg)
            dim = space.optimizer_dims[optimizer][arg]        # and inside this spec's ranges
            assert dim.low <= params[arg] <= dim.high, (optimizer, arg)


def test_default_trials_omit_what_is_not_searched():
    space = space_of({"optimizers": ["adam"], "lr": 0.01, "adam": {"eps": [1e-10, 1e-6]}})
    assert space.default_trials() == [{"eps": 1e-8}]


def test_default_trials_take_the_first_schedule_without_constant():
    space = space_of({"optimizers": ["sgd", "adam"], "schedules": ["cosine", "step"]})
    assert space.default_trials() == [{"optimizer": "sgd", "lr": 1e-3, "schedule": "cosine"},
                                      {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine"}]


def test_enqueued_default_trials_run_at_those_values():
    space = space_of(SEEDED)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    defaults = space.default_trials()
    for params in defaults:
        study.enqueue_trial(params)
    for params in defaults:
        trial = study.ask()
        config = space.suggest(trial, EPOCHS)
        assert trial.params == params
        optimizer = params["optimizer"]
        assert config["optimizer"] == optimizer
        assert config["lr"] == torch_default(optimizer, "lr")
        assert config["schedule"] == "constant" and config["warmup_epochs"] == 0
        study.tell(trial, 0.5)
        build(config)
    assert len([t for t in study.trials if t.state == TrialState.COMPLETE]) == len(defaults)


def test_default_trial_with_a_values_list_that_lacks_the_default_can_run():
    """``seed_defaults`` with ``momentum = {values = [0.5, 0.9]}`` for RMSprop (default 0.0)
    must still give a trial that runs (known defect: Optuna raises on the enqueued 0.0)."""
    space = space_of({"optimizers": ["rmsprop", "momentum"],
                      "rmsprop": {"momentum": {"values": [0.5, 0.9]}}})
    study = optuna.create_study()
    for params in space.default_trials():
        study.enqueue_trial(params)
    for _ in space.default_trials():
        trial = study.ask()
        config = space.suggest(trial, EPOCHS)
        build(config)


# --- grid -------------------------------------------------------------------------------------

GRID_SEARCH = {"optimizers": ["momentum", "adam"], "lr": {"values": [0.1, 0.01]},
               "momentum": {"momentum": {"values": [0.5, 0.9]}},
               "schedules": ["constant", "step"],
               "step": {"gamma": {"values": [0.5, 0.1]}, "step_size": 3}}


def test_grid_lists_every_searched_dimension():
    space = space_of(GRID_SEARCH, sampler="grid")
    assert space.grid() == {"optimizer": ["momentum", "adam"], "lr": [0.1, 0.01],
                            "momentum": [0.5, 0.9], "schedule": ["constant", "step"],
                            "gamma": [0.5, 0.1]}


def run_grid(space, most=200):
    """Ask and tell, as tuner's workers do, until the grid sampler has no point left (at most
    ``most`` trials: a grid that never ends fails the caller's count)."""
    sampler = make_sampler("grid", 0, space)
    study = optuna.create_study(sampler=sampler)
    seen = []
    while sampler.points_left(study.get_trials(deepcopy=False)) and len(seen) < most:
        trial = study.ask()
        seen.append(space.suggest(trial, EPOCHS))
        study.tell(trial, 0.0)
    return study, seen


def test_the_grid_sampler_visits_every_configuration():
    space = space_of(GRID_SEARCH, sampler="grid")
    study, seen = run_grid(space)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert len(study.trials) == 2 * 2 * 2 * 2 * 2            # the product of the grid
    configs = {(c["optimizer"], c["lr"], c["optimizer_args"].get("momentum"), c["schedule"],
                c["schedule_args"].get("gamma")) for c in seen}
    expected = {(o, lr, m, s, g)
                for o in ("momentum", "adam") for lr in (0.1, 0.01)
                for m in ((0.5, 0.9) if o == "momentum" else (None,))
                for s, g in (("constant", None), ("step", 0.5), ("step", 0.1))}
    assert configs == expected


# --- one Optuna name, several distributions -------------------------------------------------

TWO_LR_LISTS = {"optimizers": ["momentum", "adam"], "lr": {"values": [0.1, 0.01]},
                "adam": {"lr": {"values": [0.001, 0.002]}}}


CONFLICT = ("conflicts with {other}: Optuna keeps one distribution per parameter name {name!r} "
            "(allowed: the same list of values everywhere, or ranges of one kind and scale)")


@pytest.mark.parametrize("sampler, search, line", [
    ("random", {"optimizers": ["momentum", "adam"], "momentum": {"lr": {"values": [0.1, 0.01]}}},
     "search.lr: a log float range " + CONFLICT.format(
         other="search.momentum.lr = {values = [0.1, 0.01]}", name="lr")),
    ("random", TWO_LR_LISTS, "search.adam.lr: {values = [0.001, 0.002]} " + CONFLICT.format(
        other="search.lr = {values = [0.1, 0.01]}", name="lr")),
    ("grid", TWO_LR_LISTS, "search.adam.lr: {values = [0.001, 0.002]} " + CONFLICT.format(
        other="search.lr = {values = [0.1, 0.01]}", name="lr")),
    ("random", {"optimizers": ["sgd"], "schedules": ["step", "exponential"],
                "step": {"gamma": {"values": [0.1, 0.5]}}, "exponential": {"gamma": [0.9, 0.99]}},
     "search.exponential.gamma: a linear float range " + CONFLICT.format(
         other="search.step.gamma = {values = [0.1, 0.5]}", name="gamma")),
], ids=["values-and-range", "two-value-lists", "grid-two-value-lists", "schedule-gamma"])
def test_one_optuna_name_with_two_distributions_is_refused(sampler, search, line):
    """Optuna names are shared by every optimizer (``lr``) or schedule (``gamma``), and Optuna
    refuses one name with categorical choices that differ, or with a different kind of
    distribution, within a study (grid() also merges the lists): such a spec is refused in one
    line, not left to fail trials in ``suggest``."""
    with pytest.raises(SpecError) as info:
        space_of(search, sampler=sampler)
    assert info.value.problems == [f"<test>: {line}"]


def test_ranges_of_one_kind_under_one_name_give_trials_that_run():
    """Adadelta's ``lr = [1, 10]`` and the shared log range of ``lr`` are one distribution
    kind (float, log): every trial runs, both optimizers are drawn."""
    space = space_of({"optimizers": ["sgd", "adadelta"], "adadelta": {"lr": [1, 10]}},
                     sampler="random")
    study = optuna.create_study(sampler=make_sampler("random", 0, space))

    def objective(trial):
        build(space.suggest(trial, EPOCHS))
        return 0.0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=16, catch=(ValueError,))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 16
    assert {t.params["optimizer"] for t in study.trials} == {"sgd", "adadelta"}


# --- samplers and pruners ---------------------------------------------------------------------

@pytest.mark.parametrize("name", [s for s in SAMPLERS if s != "grid"])
def test_every_sampler_runs_trials_of_the_conditional_space(name):
    space = space_of(MOMENTUM_SPACE)

    def objective(trial):
        config = space.suggest(trial, EPOCHS)
        build(config)
        return config["lr"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(sampler=make_sampler(name, 0, space))
        study.optimize(objective, n_trials=12)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 12


@pytest.mark.parametrize("name", sorted(SEEDED_PER_TRIAL))
def test_a_sampler_seeded_for_each_trial_draws_as_a_fresh_sampler_with_that_seed(name):
    """The worker keeps one sampler and reseeds it before each trial (so it keeps its caches);
    every trial must draw what a new sampler seeded with seed + number draws, as before. 30
    trials: TPE's and CMA-ES's own models start after their startup trials."""
    space = space_of(MOMENTUM_SPACE)

    def run(sampler_for):
        study = optuna.create_study(sampler=make_sampler(name, 7, space))
        for _ in range(30):
            trial = study.ask()
            study.sampler = sampler_for(study, trial.number)
            config = space.suggest(trial, EPOCHS)
            study.tell(trial, np.log(config["lr"]) ** 2 + trial.number % 3)
        return [t.params for t in study.trials]

    def reseeded(study, number):
        seed_for_trial(study.sampler, name, 7, number)
        return study.sampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = run(lambda study, number: make_sampler(name, 7 + number, space))
        kept = run(reseeded)
    assert kept == fresh
    assert len({p["lr"] for p in kept}) == 30


def test_qmc_workers_seeded_alike_draw_different_values_beside_the_shared_sequence():
    """QMC's points are one scrambled sequence shared through the storage; what it draws beside
    it comes from its random sampler, reseeded for each trial. Here two workers seeded alike
    start trials 0 and 1 together, each seeing the other's trial without parameters yet (a
    worker writes them with its first heartbeat): QMC knows no search space, so everything is
    drawn by the random sampler — the same configuration for both unless it is reseeded."""
    space = space_of(MOMENTUM_SPACE)

    def first_trials(reseed: bool) -> list[dict]:
        configs = []
        for number in (0, 1):
            with warnings.catch_warnings():              # QMC is experimental in Optuna
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = make_sampler("qmc", 7, space)
            study = optuna.create_study(sampler=sampler)
            trial = [study.ask(), study.ask()][number]
            if reseed:
                seed_for_trial(sampler, "qmc", 7, number)
            configs.append(space.suggest(trial, EPOCHS))
        return configs

    same, reseeded = first_trials(False), first_trials(True)
    assert same[0] == same[1]
    assert reseeded[0]["lr"] != reseeded[1]["lr"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = make_sampler("qmc", 7, space)          # the sequence's own seed is kept
    seed_for_trial(sampler, "qmc", 7, 5)
    assert sampler._seed == 7


def test_samplers_seeded_per_study_are_left_alone():
    space = space_of(GRID_SEARCH, sampler="grid")
    sampler = make_sampler("grid", 0, space)
    state = dict(vars(sampler))
    seed_for_trial(sampler, "grid", 0, 5)
    assert vars(sampler) == state
    with pytest.raises(TypeError, match="cannot reseed a GridSampler"):
        seed_for_trial(sampler, "tpe", 0, 5)


def test_samplers_and_pruners_are_optuna_objects():
    space = space_of(GRID_SEARCH, sampler="grid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for name in SAMPLERS:
            assert isinstance(make_sampler(name, 0, space), optuna.samplers.BaseSampler)
    for name in PRUNERS:
        assert isinstance(make_pruner(name), optuna.pruners.BasePruner)
    assert set(SAMPLERS) == {"tpe", "random", "cmaes", "qmc", "grid"}
