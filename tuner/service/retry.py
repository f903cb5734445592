"""Riding out database outages: retry an operation while the database is unreachable.

A restarted, frozen or briefly unreachable database surfaces inside Optuna as SQLAlchemy's
``OperationalError``/``InterfaceError`` — sometimes wrapped in Optuna's
``StorageInternalError``, sometimes only as the context of a secondary error (an
``UnboundLocalError`` in Optuna's session handling). :func:`is_outage` looks through the whole
exception chain for the real cause; :class:`Retry` calls an operation again with exponential
back-off until it succeeds or the outage has lasted ``ceiling`` seconds, logging the cause once
per outage, and then raises :class:`~tuner.errors.StorageError` (exit 3).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy

from ..errors import StorageError

log = logging.getLogger("tuner.worker")
T = TypeVar("T")
OUTAGE_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                 sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError)


def causes(error: BaseException):
    """``error`` and every exception it was raised from or while handling."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def is_outage(error: BaseException) -> bool:
    """Whether the database being unreachable is among the causes of ``error``."""
    return any(isinstance(e, OUTAGE_ERRORS) for e in causes(error))


def root_cause(error: BaseException) -> str:
    """The first line of the deepest database error in the chain (the driver's own words)."""
    found = [e for e in causes(error) if isinstance(e, OUTAGE_ERRORS)]
    cause = getattr(found[-1], "orig", None) or found[-1] if found else error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


class Retry:
    """``retry(fn, *args)``: call ``fn`` until it gets through an outage of at most ``ceiling``
    seconds (back-off from ``first_delay`` doubling to ``max_delay``)."""

    def __init__(self, ceiling: float = 120.0, first_delay: float = 0.2, max_delay: float = 5.0):
        self.ceiling, self.first_delay, self.max_delay = ceiling, first_delay, max_delay

    def __call__(self, fn: Callable[..., T], *args, **kwargs) -> T:
        started, delay = None, self.first_delay
        while True:
            try:
                result = fn(*args, **kwargs)
            except Exception as error:
                if not is_outage(error):
                    raise
                now = time.monotonic()
                if started is None:
                    started = now
                    log.warning("database unreachable: %s; retrying for up to %.0f s",
                                root_cause(error), self.ceiling)
                elif now - started > self.ceiling:
                    raise StorageError(f"the database stayed unreachable for {now - started:.0f} "
                                       f"s: {root_cause(error)}") from None
                time.sleep(delay)
                delay = min(delay * 2, self.max_delay)
                continue
            if started is not None:
                log.warning("database reachable again after %.1f s", time.monotonic() - started)
            return result
