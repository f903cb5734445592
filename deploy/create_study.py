"""Create a spec's study in the storage, or check the one there: the one-shot ``create-study``
service of docker-compose.yml, run before any worker starts.

    python deploy/create_study.py SPEC [--storage URL] [--n-trials N] [--timeout S]

Idempotent: the first run creates Optuna's tables and the study (spec, spec hash, budget, the
seed-default trials); a later run with the same spec finds it and changes nothing (unless
``--n-trials``/``--timeout`` set a new budget or time limit); a different spec under the same
name is refused (exit 2). It is what every ``tuner worker`` does first (``open_study``), done
once, so that eight workers starting together do not all race to create the tables and
enqueue the seed trials. Storage as for ``tuner``: ``--storage``, else ``$TUNER_STORAGE``; a
PostgreSQL password may come from ``$PGPASSWORD`` instead of the URL. Exit codes as ``tuner``'s:
0 ok, 2 bad spec or arguments, 3 database unreachable or credentials refused.
"""

from __future__ import annotations

import argparse
import sys
import time

from tuner.cli import positive_float, positive_int
from tuner.errors import StorageError, TunerError
from tuner.service.problem import load_problem
from tuner.service.spec import load_spec
from tuner.service.storage import mask_url, open_storage, resolve_url
from tuner.service.study import open_study

CONNECT_FOR = 60.0     # seconds to keep trying a database that is still starting


def create(spec_path: str, storage: str | None = None, *, n_trials: int | None = None,
           timeout: float | None = None) -> str:
    """Create or check the study; returns a one-line summary."""
    problem = load_problem(load_spec(spec_path))
    deadline = time.monotonic() + CONNECT_FOR
    delay = 0.5
    while True:
        try:
            store = open_storage(storage)
            break
        except StorageError:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 5.0)
    study = open_study(store, problem, n_trials=n_trials, timeout=timeout)
    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state.is_finished() for t in trials)
    return (f"study {study.study_name!r} ready in {mask_url(resolve_url(storage))}: budget "
            f"{study.user_attrs['n_trials']}, {len(trials)} trials ({finished} finished)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="create_study", description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--storage", metavar="URL")
    parser.add_argument("--n-trials", type=positive_int, metavar="N")
    parser.add_argument("--timeout", type=positive_float, metavar="S")
    args = parser.parse_args(argv)
    try:
        print(create(args.spec, args.storage, n_trials=args.n_trials, timeout=args.timeout),
              flush=True)
    except TunerError as e:
        for line in e.lines():
            print(f"create_study: error: {line}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
