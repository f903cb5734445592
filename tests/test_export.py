"""A best configuration written out: as spec TOML that fixes a study to it, and as PyTorch code.

``to_toml`` output is pasted over a real spec's ``[search]`` and must validate to a space with
no Optuna parameter left whose one configuration is the best one. ``to_torch`` output is
executed with real torch; the optimizer's ``param_groups`` and the scheduler must match the
configuration, and the learning rates it gives epoch by epoch must equal tuner's own schedule.
"""

import json
import tomllib
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

from tuner.cli import format_best
from tuner.export import recommended, to_toml, to_torch
from tuner.optim import OPTIMIZERS, create
from tuner.schedules import create_schedule
from tuner.service.space import resolve
from tuner.service.spec import load_spec, parse_spec

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "studies" / "digits.toml"
EPOCHS = 30           # digits.toml's training.epochs

# (optimizer, chosen arguments, schedule, schedule arguments, warm-up epochs)
CASES = {
    "sgd": ("sgd", {"lr": 0.05, "weight_decay": 1e-4}, "constant", {}, 0),
    "momentum-step": ("momentum", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1}, "step",
                      {"gamma": 0.5}, 0),
    "nesterov-exponential-warmup": ("nesterov", {"lr": 0.02, "momentum": 0.95}, "exponential",
                                    {"gamma": 0.9}, 2),
    "adam-betas-cosine-warmup": ("adam", {"lr": 3e-3, "beta1": 0.85, "beta2": 0.99,
                                          "amsgrad": True}, "cosine", {"eta_min": 1e-5}, 3),
    "adamw-plateau": ("adamw", {"lr": 1e-3, "weight_decay": 0.05}, "plateau",
                      {"factor": 0.5, "patience": 2}, 0),
    "rmsprop-step": ("rmsprop", {"lr": 1e-2, "alpha": 0.9, "momentum": 0.5, "centered": True},
                     "step", {"step_size": 4, "gamma": 0.1}, 0),
    "adagrad-cosine": ("adagrad", {"lr": 0.1, "lr_decay": 1e-4,
                                   "initial_accumulator_value": 0.1}, "cosine",
                       {"eta_min": 0.0}, 0),
    "adadelta-plateau": ("adadelta", {"lr": 2.0, "rho": 0.95}, "plateau",
                         {"factor": 0.2, "patience": 1, "threshold": 1e-3, "cooldown": 1,
                          "min_lr": 1e-5}, 0),
    "nadam": ("nadam", {"lr": 2e-3, "beta1": 0.8, "momentum_decay": 5e-3}, "constant", {}, 0),
    "adam-defaults": ("adam", {}, "constant", {}, 0),
    "sgd-step-warmup": ("sgd", {"lr": 0.1}, "step", {"gamma": 0.5}, 3),
}


def best_of(config: dict, epochs: int | None = EPOCHS) -> dict:
    """What ``tuner.results.best`` returns for a trial with this configuration."""
    best = {"study": "digits-mlp", "trial": 17, "value": 0.975, "params": {},
            "metric": "accuracy", "direction": "maximize", "val_metric": 0.975,
            "test_metric": 0.9694, "config": config}
    if epochs is not None:
        best["epochs"] = epochs
    return best


def config_of(case: str) -> dict:
    optimizer, chosen, schedule, sched_args, warmup = CASES[case]
    return resolve(optimizer, chosen, schedule, sched_args, warmup, EPOCHS)


def paste(text: str, base: Path = DIGITS):
    """A spec: ``base`` with its ``[search]`` replaced by the ``[search]`` of ``text``."""
    raw = tomllib.loads(base.read_text(encoding="utf-8"))
    raw["search"] = tomllib.loads(text)["search"]
    return parse_spec(raw, f"{base} + best")


def the_one_configuration(spec) -> tuple[dict, dict]:
    trial = optuna.create_study().ask()
    return trial.params, spec.space.suggest(trial, spec["training.epochs"])


# --- TOML -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(CASES) + ["swats"])
def test_pasted_toml_fixes_the_spec_to_exactly_the_configuration(case):
    config = (resolve("swats", {"lr": 2e-3, "switch_eps": 1e-8}, "constant", {}, 0, EPOCHS)
              if case == "swats" else config_of(case))
    text = to_toml(best_of(config))
    spec = paste(text)
    assert all(not dim.searched for _, dim in spec.space.named_dimensions())
    params, resolved = the_one_configuration(spec)
    assert params == {}                       # nothing left for Optuna to choose
    assert resolved == config


def test_toml_names_the_study_and_trial_and_only_the_search_table():
    text = to_toml(best_of(config_of("adam-betas-cosine-warmup")))
    assert text.splitlines()[0] == "# best of study 'digits-mlp': trial 17, accuracy 0.975"
    assert set(tomllib.loads(text)) == {"search"}
    assert tomllib.loads(text)["search"] == {
        "optimizers": ["adam"], "lr": 3e-3, "schedules": ["cosine"], "warmup_epochs": 3,
        "adam": {"amsgrad": True, "beta1": 0.85, "beta2": 0.99},
        "cosine": {"eta_min": 1e-5}}


def test_toml_leaves_out_what_the_optimizer_name_fixes():
    search = tomllib.loads(to_toml(best_of(config_of("nesterov-exponential-warmup"))))["search"]
    assert search["nesterov"] == {"momentum": 0.95}          # no nesterov = true, dampening
    search = tomllib.loads(to_toml(best_of(config_of("sgd"))))["search"]
    assert search["sgd"] == {"weight_decay": 1e-4}           # no momentum = 0.0


def test_toml_of_an_awkward_study_name_is_still_valid_toml():
    config = config_of("sgd")
    for name in ['say "hi"', "<script>x</script>", "étude 学習 🚀", "back\\slash'"]:
        best = {**best_of(config), "study": name}
        assert tomllib.loads(to_toml(best))["search"]["optimizers"] == ["sgd"]


@pytest.mark.parametrize("seed", range(20))
def test_any_sampled_digits_configuration_round_trips(seed):
    spec = load_spec(DIGITS)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    config = spec.space.suggest(study.ask(), EPOCHS)
    params, resolved = the_one_configuration(paste(to_toml(best_of(config))))
    assert params == {}
    assert resolved == config


# --- PyTorch ----------------------------------------------------------------------------------

def run_torch(best: dict, **namespace) -> dict:
    ns = {"model": torch.nn.Linear(3, 2), **namespace}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(to_torch(best), ns)      # noqa: S102 - the point of the test
    return ns


def torch_value(value):
    return tuple(value) if isinstance(value, list) else value


@pytest.mark.parametrize("case", list(CASES))
def test_torch_optimizer_has_the_configuration(case):
    config = config_of(case)
    opt = run_torch(best_of(config))["optimizer"]
    assert type(opt) is getattr(torch.optim, OPTIMIZERS[config["optimizer"]].cls.__name__)
    group = opt.param_groups[0]
    assert group.get("initial_lr", group["lr"]) == config["lr"]
    for key, value in config["optimizer_args"].items():
        assert group[key] == torch_value(value), key


@pytest.mark.parametrize("case", list(CASES))
def test_torch_scheduler_has_the_configuration(case):
    config = config_of(case)
    ns = run_torch(best_of(config))
    schedule, args, warmup = config["schedule"], config["schedule_args"], config["warmup_epochs"]
    if schedule == "constant":
        assert "scheduler" not in ns
        return
    scheduler = ns["scheduler"]
    if warmup:
        assert type(scheduler) is torch_sched.SequentialLR
        warm, main = scheduler._schedulers
        assert scheduler._milestones == [warmup]
        assert type(warm) is torch_sched.LinearLR
        assert (warm.start_factor, warm.end_factor, warm.total_iters) == \
            (1 / (warmup + 1), 1.0, warmup)
    else:
        main = scheduler
    expected_class = {"step": torch_sched.StepLR, "exponential": torch_sched.ExponentialLR,
                      "cosine": torch_sched.CosineAnnealingLR,
                      "plateau": torch_sched.ReduceLROnPlateau}[schedule]
    assert type(main) is expected_class
    for key, value in args.items():
        attribute = {"min_lr": "min_lrs"}.get(key, key)
        got = getattr(main, attribute)
        assert (got == [value] if attribute == "min_lrs" else got == value), key
    if schedule == "cosine":
        assert main.T_max == EPOCHS - warmup
    if schedule == "plateau":
        assert main.mode == "min"


METRICS = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8] * 3


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][2] != "constant"])
def test_torch_scheduler_gives_tuners_learning_rates(case):
    config = config_of(case)
    ns = run_torch(best_of(config))
    opt, scheduler = ns["optimizer"], ns["scheduler"]
    mine = create(config["optimizer"], [np.zeros(3)], lr=config["lr"], **config["optimizer_args"])
    schedule = create_schedule(config["schedule"], mine, epochs=EPOCHS,
                               warmup_epochs=config["warmup_epochs"], **config["schedule_args"])
    theirs, ours = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(EPOCHS):
            theirs.append(opt.param_groups[0]["lr"])
            ours.append(mine.lr)
            opt.step()
            if config["schedule"] == "plateau":
                scheduler.step(METRICS[epoch])
                schedule.step(METRICS[epoch])
            else:
                scheduler.step()
                schedule.step()
    assert theirs == pytest.approx(ours, rel=1e-12, abs=1e-15)
    assert len(set(ours)) > 1                 # the schedule did change the LR


def test_torch_constant_lr_after_warm_up_runs_and_gives_tuners_learning_rates():
    """Warm-up into a constant LR: tuner chains it into ExponentialLR(gamma=1.0), and so
    must the code (a scheduler list holding None does not run in torch)."""
    config = {**config_of("sgd"), "warmup_epochs": 3}
    ns = run_torch(best_of(config))
    opt, scheduler = ns["optimizer"], ns["scheduler"]
    mine = create(config["optimizer"], [np.zeros(3)], lr=config["lr"], **config["optimizer_args"])
    schedule = create_schedule("constant", mine, epochs=EPOCHS, warmup_epochs=3)
    theirs, ours = [], []
    for _ in range(6):
        theirs.append(opt.param_groups[0]["lr"])
        ours.append(mine.lr)
        opt.step()
        scheduler.step()
        schedule.step()
    assert theirs == pytest.approx(ours, rel=1e-12) and ours[0] < ours[3] == ours[5]


def test_torch_code_says_when_to_step():
    assert to_torch(best_of(config_of("adamw-plateau"))).rstrip().endswith(
        "# after each epoch: scheduler.step(validation_loss)")
    assert to_torch(best_of(config_of("momentum-step"))).rstrip().endswith(
        "# after each epoch: scheduler.step()")
    assert "scheduler" not in to_torch(best_of(config_of("sgd")))


def test_torch_code_leaves_out_pytorchs_defaults():
    code = to_torch(best_of(config_of("adam-defaults")))
    assert "optimizer = torch.optim.Adam(model.parameters(), lr=0.001)" in code
    code = to_torch(best_of(config_of("nesterov-exponential-warmup")))
    assert "torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.95, nesterov=True)" in code


def test_torch_cosine_takes_epochs_from_the_argument():
    config = config_of("adagrad-cosine")
    code = to_torch(best_of(config, epochs=None), epochs=12)
    assert "T_max=12" in code


def test_torch_cosine_without_epochs_leaves_a_placeholder_to_define():
    """Without epochs the code names EPOCHS, and says to define it."""
    best = best_of(config_of("adagrad-cosine"), epochs=None)
    assert "# EPOCHS: define it as the number of epochs you train" in to_torch(best)
    ns = run_torch(best, EPOCHS=EPOCHS)
    assert ns["scheduler"].T_max == EPOCHS


def test_swats_says_it_has_no_pytorch_optimizer():
    config = resolve("swats", {"lr": 2e-3, "switch_eps": 1e-8}, "step", {"gamma": 0.5}, 0,
                     EPOCHS)
    text = to_torch(best_of(config))
    assert "SWATS" in text and "has no torch.optim class" in text
    assert "tuner.optim.SWATS" in text
    assert "0.002" in text and "1e-08" in text
    assert "\n# scheduler = torch.optim.lr_scheduler.StepLR(optimizer, gamma=0.5" in text
    assert text.endswith("\n# after each epoch: scheduler.step()\n")
    lines = [line for line in text.splitlines() if line.strip()]
    assert all(line.startswith("#") for line in lines)       # nothing that pretends to run
    ns = run_torch(best_of(config))
    assert "optimizer" not in ns and "scheduler" not in ns


# --- cli.format_best --------------------------------------------------------------------------

def test_format_best_table():
    best = best_of(config_of("adam-betas-cosine-warmup"))
    rows = [("study", "digits-mlp"), ("trial", "17"), ("validation accuracy", "0.975"),
            ("test accuracy", "0.9694"),
            ("optimizer", "adam (amsgrad=True, betas=(0.85, 0.99))"),   # defaults left out
            ("lr", "0.003"), ("schedule", "cosine (eta_min=1e-05), after 3 warm-up epochs"),
            ("epochs", "30")]
    assert format_best(best, "table") == "\n".join(f"{k:<22}{v}" for k, v in rows)


def test_format_best_table_without_arguments_or_warmup():
    best = best_of(config_of("adam-defaults"))
    table = format_best(best, "table").splitlines()
    assert table[4] == f"{'optimizer':<22}adam"
    assert table[6] == f"{'schedule':<22}constant"


def test_format_best_json_is_the_best_dict():
    best = best_of(config_of("momentum-step"))
    assert json.loads(format_best(best, "json")) == best


@pytest.mark.parametrize("fmt, writer", [("toml", to_toml), ("torch", to_torch)])
def test_format_best_toml_and_torch(fmt, writer):
    best = best_of(config_of("nesterov-exponential-warmup"))
    assert format_best(best, fmt) == writer(best).rstrip("\n")
    assert not format_best(best, fmt).endswith("\n")


def test_toml_and_torch_export_the_retrained_choice_when_there_is_one():
    best = best_of(config_of("adam-defaults"))
    chosen = config_of("nesterov-exponential-warmup")
    best["retrained"] = {"trial": 4, "config": chosen, "val_metric": 0.9741,
                         "seeds": [1001, 1002, 1003]}
    assert recommended(best) == {**best, "trial": 4, "config": chosen, "value": 0.9741,
                                 "seeds": 3}
    text = format_best(best, "toml")
    assert text.splitlines()[0] == ("# re-trained choice of study 'digits-mlp': trial 4, "
                                    "validation accuracy 0.9741 (mean of 3 seeds)")
    assert the_one_configuration(paste(text))[1] == chosen
    code = format_best(best, "torch")
    assert code.startswith("# re-trained choice of study 'digits-mlp': trial 4")
    assert "torch.optim.SGD(model.parameters(), lr=" in code and "nesterov=True" in code
    for empty in (None, {**best["retrained"], "val_metric": None}):   # none, or all diverged
        best["retrained"] = empty
        assert recommended(best) is best
        assert format_best(best, "toml").startswith("# best of study 'digits-mlp': trial 17")
