"""A best configuration written out: a spec fragment (TOML) or PyTorch code."""

from __future__ import annotations

import inspect
import json

from .optim import OPTIMIZERS
from .service.space import optimizer_arguments

TORCH_SCHEDULES = {"step": "StepLR", "exponential": "ExponentialLR", "cosine": "CosineAnnealingLR",
                   "plateau": "ReduceLROnPlateau"}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def recommended(best: dict) -> dict:
    """The configuration to export from :func:`tuner.api.best_and_retrained`'s dict: the
    re-trained choice when the study has one (what the launcher recommends: the top trials
    re-trained on fresh seeds, see :mod:`tuner.service.retrain`), else the best trial. The
    result is shaped like ``best``; ``value`` is then the choice's mean validation metric over
    its seeds, and ``seeds`` their number."""
    again = best.get("retrained")
    if not again or again.get("val_metric") is None:
        return best
    return {**best, "trial": again["trial"], "config": again["config"],
            "value": again["val_metric"], "seeds": len(again["seeds"])}


def _origin(best: dict) -> str:
    """A comment line naming where a configuration comes from."""
    metric = best.get("metric") or "value"
    if best.get("seeds"):
        return (f"# re-trained choice of study {best['study']!r}: trial {best['trial']}, "
                f"validation {metric} {best['value']} (mean of {best['seeds']} seeds)")
    return f"# best of study {best['study']!r}: trial {best['trial']}, {metric} {best['value']}"


def to_toml(best: dict) -> str:
    """The ``[search]`` tables that fix a spec to this configuration (paste over your own)."""
    config = best["config"]
    optimizer, schedule = config["optimizer"], config["schedule"]
    own = optimizer_arguments(optimizer)
    lines = [_origin(best),
             "[search]", f"optimizers = [{json.dumps(optimizer)}]",
             f"lr = {_toml_value(config['lr'])}", f"schedules = [{json.dumps(schedule)}]"]
    if config.get("warmup_epochs"):
        lines.append(f"warmup_epochs = {config['warmup_epochs']}")
    args = dict(config["optimizer_args"])
    betas = args.pop("betas", None)
    if betas is not None:
        args["beta1"], args["beta2"] = betas
    args = {k: v for k, v in args.items() if k in own}
    if args:
        lines += ["", f"[search.{optimizer}]"] + [f"{k} = {_toml_value(v)}" for k, v in args.items()]
    if config["schedule_args"]:
        lines += ["", f"[search.{schedule}]"] + [f"{k} = {_toml_value(v)}"
                                                 for k, v in config["schedule_args"].items()]
    return "\n".join(lines) + "\n"


class _Code(str):
    """Text printed as code, not as a string literal (a placeholder the user fills in)."""

    def __repr__(self) -> str:
        return str(self)


def _call(name: str, first: str, args: dict) -> str:
    parts = [first] + [f"{k}={_py(v)}" for k, v in args.items()]
    return f"{name}({', '.join(parts)})"


def _py(value) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_py(v) for v in value) + ")"
    return repr(value)


def explicit_arguments(config: dict) -> dict:
    """The optimizer arguments of ``config`` that differ from the class's (PyTorch's) defaults."""
    cls = OPTIMIZERS[config["optimizer"]].cls
    defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
    out = {}
    for k, v in config["optimizer_args"].items():
        if isinstance(defaults.get(k), tuple):
            v = tuple(v)
        if defaults.get(k, object()) != v:
            out[k] = v
    return out


def to_torch(best: dict, epochs: int | None = None) -> str:
    """PyTorch lines building the same optimizer and scheduler (an optimizer's arguments left
    at PyTorch's defaults are omitted). SWATS has no PyTorch counterpart, which the output
    says, with its arguments and its schedule as comments."""
    config = best["config"]
    optimizer = config["optimizer"]
    schedule = _torch_schedule(config, epochs or best.get("epochs"))
    if optimizer == "swats":
        lines = [_origin(best),
                 "# SWATS (Adam switching to SGD with momentum) has no torch.optim class; "
                 "tuner's own is tuner.optim.SWATS.",
                 f"# Its configuration: lr={config['lr']!r}, {config['optimizer_args']!r}"]
        if schedule:
            lines += ["# Its schedule, on that optimizer:",
                      *(line if line.startswith("#") else f"# {line}" for line in schedule)]
        return "\n".join(lines) + "\n"
    args = {"lr": config["lr"], **explicit_arguments(config)}
    cls = OPTIMIZERS[optimizer].cls.__name__
    return "\n".join([_origin(best), "import torch", "",
                      "optimizer = " + _call(f"torch.optim.{cls}", "model.parameters()", args),
                      *schedule]) + "\n"


def _torch_schedule(config: dict, epochs: int | None) -> list[str]:
    """The scheduler lines of ``config`` over ``optimizer`` (none for a constant LR without
    warm-up), as :func:`tuner.schedules.create_schedule` builds them."""
    schedule, sched_args = config["schedule"], dict(config["schedule_args"])
    warmup = config.get("warmup_epochs", 0)
    if schedule == "cosine":
        sched_args = {"T_max": (epochs - warmup) if epochs else _Code(f"EPOCHS - {warmup}"),
                      **sched_args}
    if schedule == "plateau":
        sched_args = {"mode": "min", **sched_args}
    main = (_call(f"torch.optim.lr_scheduler.{TORCH_SCHEDULES[schedule]}", "optimizer", sched_args)
            if schedule != "constant" else None)
    lines = (["# EPOCHS: define it as the number of epochs you train"]
             if schedule == "cosine" and not epochs else [])
    if warmup:            # a constant LR after warm-up: tuner's ExponentialLR(gamma=1.0)
        after = main or _call("torch.optim.lr_scheduler.ExponentialLR", "optimizer",
                              {"gamma": 1.0})
        warm = _call("torch.optim.lr_scheduler.LinearLR", "optimizer",
                     {"start_factor": 1 / (warmup + 1), "end_factor": 1.0, "total_iters": warmup})
        lines.append(f"scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers=["
                     f"{warm}, {after}], milestones=[{warmup}])")
    elif main:
        lines.append(f"scheduler = {main}")
    if schedule == "plateau":
        lines.append("# after each epoch: scheduler.step(validation_loss)")
    elif schedule != "constant" or warmup:
        lines.append("# after each epoch: scheduler.step()")
    return lines
