"""``tuner dashboard``: start the Streamlit dashboard on a storage with safe settings.

:func:`run_dashboard` is what the CLI calls. The dashboard reads ``$TUNER_STORAGE``, which it
sets; Streamlit runs with :data:`SAFE_OPTIONS` (loopback address unless told otherwise, XSRF
protection on, error details hidden, no usage statistics) — the same as the repository's
``.streamlit/config.toml`` gives ``streamlit run dashboard/app.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tuner.service.storage import mask_url, resolve_url

APP = Path(__file__).resolve().parent / "app.py"

SAFE_OPTIONS = {
    "server.headless": "true",
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.runOnSave": "false",
    "server.fileWatcherType": "none",
    "client.showErrorDetails": "none",   # legacy "false" still shows the stack trace
    "client.toolbarMode": "viewer",
    "browser.gatherUsageStats": "false",
}
"""Streamlit options ``tuner dashboard`` always passes (command-line flags beat any
``.streamlit/config.toml`` in the working directory)."""


def streamlit_command(address: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The ``python -m streamlit run`` command line for the dashboard."""
    options = {**SAFE_OPTIONS, "server.address": address, "server.port": str(port)}
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            *[f"--{key}={value}" for key, value in options.items()]]


def run_dashboard(storage: str | None = None, address: str = "127.0.0.1",
                  port: int = 8501) -> int:
    """Serve the dashboard for ``storage`` (a SQLAlchemy URL; None: ``$TUNER_STORAGE``, else
    ``sqlite:///tuner.db``) on ``http://ADDRESS:PORT`` until stopped; returns the exit code
    (0 after Ctrl-C). The database is only ever read."""
    url = resolve_url(storage)
    env = {**os.environ, "TUNER_STORAGE": url}
    print(f"tuner dashboard: reading {mask_url(url)} on http://{address}:{port} "
          "(Ctrl-C stops)", file=sys.stderr, flush=True)
    process = subprocess.Popen(streamlit_command(address, port), env=env)

    def forward(signum, frame):          # `kill` / a container stop reaches Streamlit too
        process.send_signal(signum)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, forward) if main else None
    try:
        try:
            return process.wait()
        except KeyboardInterrupt:        # Ctrl-C reached Streamlit as well: let it stop
            try:
                process.wait(timeout=10)
            except (KeyboardInterrupt, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
            return 0
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
