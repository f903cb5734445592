"""The ``tuner`` command: a thin face over :mod:`tuner.api`; each command calls one function.

Exit codes: 0 ok, 1 a run failed, 2 bad input (spec or arguments), 3 database unreachable or
credentials refused, 4 unknown study, 130 ``tuner launch`` stopped by Ctrl-C (``tuner worker``
stops cleanly on Ctrl-C or SIGTERM and exits 0).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys

from . import __version__
from .errors import TunerError

EXAMPLES = {
    "launch": "tuner launch studies/digits.toml --workers 2",
    "worker": "tuner worker studies/digits.toml --storage postgresql://tuner:***@db/tuner",
    "check": "tuner check studies/digits.toml",
    "best": "tuner best digits-mlp --format json",
    "studies": "tuner studies --format json",
    "trials": "tuner trials digits-mlp --format csv > trials.csv",
    "delete": "tuner delete digits-mlp",
    "dashboard": "tuner dashboard --storage sqlite:///tuner.db --port 8501",
}


def whole_number(minimum: int, maximum: int | None = None):
    """An argparse ``type``: a whole number of at least ``minimum`` (and at most ``maximum``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or maximum is not None and value > maximum:
            allowed = f"{minimum} or more" if maximum is None else f"{minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"{value} is not allowed (allowed: {allowed})")
        return value
    return parse


positive_int, count, port = whole_number(1), whole_number(0), whole_number(1, 65535)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed (allowed: more than 0)")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .service.retrain import SEEDS, TOP
    from .service.spec import settings_markdown
    parser = argparse.ArgumentParser(
        prog="tuner", description="Tune optimizer, learning rate, momentum and LR schedule "
        "with Optuna studies stored in SQL.")
    parser.add_argument("--version", action="version", version=f"tuner {__version__}")
    parser.add_argument("--quiet", action="store_true", help="print only results and errors")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default: WARNING")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text, **kw):
        p = sub.add_parser(name, help=help_text, description=help_text,
                           epilog=f"example: {EXAMPLES[name]}" + kw.pop("epilog", ""),
                           formatter_class=argparse.RawDescriptionHelpFormatter, **kw)
        return p

    def storage_arg(p):
        p.add_argument("--storage", metavar="URL", help="SQLAlchemy URL of SQLite or "
                       "PostgreSQL (postgresql+psycopg://…); default: $TUNER_STORAGE, else "
                       "sqlite:///tuner.db")

    def budget_args(p):
        p.add_argument("--n-trials", type=positive_int, metavar="N",
                       help="set the study-wide trial budget")
        p.add_argument("--timeout", type=positive_float, metavar="S",
                       help="set the study-wide time limit in seconds")

    p = command("launch", "Create or resume a study and run workers until its budget is met.")
    p.add_argument("spec", metavar="SPEC", help="a study spec (.toml)")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="worker processes (default 1)")
    p.add_argument("--retrain-seeds", type=count, default=SEEDS, metavar="N",
                   help=f"after the study, re-train its top {TOP} configurations on N fresh "
                   f"seeds each and choose by the mean validation loss (default {SEEDS}; 0: skip)")
    storage_arg(p)
    budget_args(p)

    p = command("worker", "Run one worker on a study (created if missing); any number may join.")
    p.add_argument("spec", metavar="SPEC")
    storage_arg(p)
    budget_args(p)

    p = command("check", "Validate a spec without running anything.",
                epilog="\n\nsettings:\n" + settings_markdown())
    p.add_argument("spec", metavar="SPEC")

    p = command("best", "Print a study's best configuration.")
    p.add_argument("study", metavar="STUDY")
    storage_arg(p)
    p.add_argument("--format", choices=["table", "json", "toml", "torch"], default="table")

    p = command("studies", "List the studies in the storage.")
    storage_arg(p)
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = command("trials", "Print a study's trials.")
    p.add_argument("study", metavar="STUDY")
    storage_arg(p)
    p.add_argument("--format", choices=["csv", "json"], default="csv")

    p = command("delete", "Delete a study and its trials.")
    p.add_argument("study", metavar="STUDY")
    storage_arg(p)

    p = command("dashboard", "Serve the dashboard (read-only) on this machine.")
    storage_arg(p)
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port, default=8501, help="default 8501")
    return parser


def format_best(best: dict, fmt: str) -> str:
    """``best`` (with its ``retrained`` choice, if any) as a table or JSON; TOML and PyTorch
    code export the recommended configuration (:func:`tuner.export.recommended`)."""
    from .export import recommended, to_toml, to_torch
    if fmt == "json":
        return json.dumps(best, indent=2)
    if fmt == "toml":
        return to_toml(recommended(best)).rstrip("\n")
    if fmt == "torch":
        return to_torch(recommended(best)).rstrip("\n")
    metric = best["metric"]
    rows = [("study", best["study"]), ("trial", best["trial"]),
            (f"validation {metric}", best["val_metric"]), (f"test {metric}", best["test_metric"]),
            *_config_rows(best["config"]), ("epochs", best["epochs"])]
    if best.get("retrained"):
        rows += [("", ""), *_retrained_rows(best["retrained"], metric)]
    return "\n".join(f"{k:<22}{v}".rstrip() if k else v for k, v in rows)


def _retrained_rows(again: dict, metric: str) -> list[tuple[str, object]]:
    """The re-trained choice: a heading line, its configuration and its means over the seeds."""
    n = len(again["seeds"])
    trials = ", ".join(str(c["trial"]) for c in again["candidates"])
    val = test = "—"
    if again["val_metric"] is not None:
        val = f"{again['val_metric']:.4f}" + (f" (loss {again['val_loss']:.4f})"
                                              if metric != "loss" else "")
        test = f"{again['test_metric']:.4f}"
    ci = again["ci95"]
    test += f", mean of {n} seeds" + (f"; 95% CI {ci[0]:.4f} to {ci[1]:.4f}" if ci else "")
    if again["diverged"]:
        test += f"; {again['diverged']} diverged"
    return [("", f"Re-trained on {n} fresh seeds each: trials {trials}; chosen by the lowest "
             "mean validation loss"),
            ("trial", again["trial"]), *_config_rows(again["config"]),
            (f"validation {metric}", f"{val}, mean of {n} seeds"), (f"test {metric}", test)]


def _config_rows(config: dict) -> list[tuple[str, object]]:
    """Optimizer (with its non-default arguments), LR and schedule rows of a configuration."""
    from .export import explicit_arguments
    args = ", ".join(f"{k}={v}" for k, v in explicit_arguments(config).items())
    sched = ", ".join(f"{k}={v}" for k, v in config["schedule_args"].items())
    warm = f", after {config['warmup_epochs']} warm-up epochs" if config.get("warmup_epochs") else ""
    return [("optimizer", f"{config['optimizer']} ({args})" if args else config["optimizer"]),
            ("lr", config["lr"]),
            ("schedule", f"{config['schedule']} ({sched}){warm}" if sched else config["schedule"])]


def format_rows(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if not rows:
        return ""
    if fmt == "csv":
        buf = io.StringIO()
        flat = [{k: json.dumps(v) if isinstance(v, dict) else v for k, v in r.items()} for r in rows]
        writer = csv.DictWriter(buf, fieldnames=list(flat[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return buf.getvalue().rstrip("\n")
    cols = list(rows[0])
    cells = [[("" if r[c] is None else f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]))
              for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from . import api
    from .service.storage import mask_url, resolve_url
    if args.command == "check":
        spec = api.check(args.spec)
        if not args.quiet:
            print(f"{args.spec}: ok (study {spec.name!r}, task {spec['study.task']!r})")
    elif args.command == "launch":
        best = api.launch(args.spec, workers=args.workers, storage=args.storage,
                          n_trials=args.n_trials, timeout=args.timeout, progress=not args.quiet,
                          retrain_seeds=args.retrain_seeds)
        print(format_best(best, "table"))
        if not args.quiet:
            url = mask_url(resolve_url(args.storage))
            print(f"\nJSON for scripts:  tuner best {best['study']!r} --storage '{url}' "
                  f"--format json\nDashboard:         tuner dashboard --storage '{url}'")
    elif args.command == "worker":
        report = api.worker(args.spec, storage=args.storage, n_trials=args.n_trials,
                            timeout=args.timeout)
        if not args.quiet:
            ran = ", ".join(f"{n} {s.lower()}" for s, n in sorted(report.ran.items())) or "none"
            print(f"worker done ({report.reason}): trials run: {ran}")
    elif args.command == "best":
        print(format_best(api.best_and_retrained(args.study, args.storage), args.format))
    elif args.command == "studies":
        print(format_rows(api.studies(args.storage), args.format))
    elif args.command == "trials":
        print(format_rows(api.trials(args.study, args.storage), args.format))
    elif args.command == "delete":
        api.delete(args.study, args.storage)
        if not args.quiet:
            print(f"deleted study {args.study!r}")
    elif args.command == "dashboard":
        from .dashboard.launch import run_dashboard
        return run_dashboard(args.storage, address=args.address, port=args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s "
                        "%(message)s", stream=sys.stderr)
    try:
        return run(args)
    except TunerError as e:
        for line in e.lines():
            print(f"tuner: error: {line}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("\ntuner: stopped; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:          # e.g. `tuner trials STUDY | head`
        sys.stderr.close()
        return 0
