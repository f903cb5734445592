"""The dashboard in a real browser: the suite starts it as a user would (``python -m tuner
dashboard --storage URL --port PORT``; through :func:`tuner.dashboard.launch.run_dashboard` while
the CLI has no ``dashboard`` subcommand) on the shared database of test_dashboard_data.py, and
drives headless Chromium (Debian's ``chromium``) to every page: each renders without an error
element or a traceback, the LR-sensitivity chart and the best configuration are shown, and a
study named ``<img src=x onerror=alert(1)>`` is shown as text. A second dashboard, on a database
of studies named after each of service_helpers.HOSTILE_NAMES (SQL, HTML, Markdown links and
images, right-to-left text and emoji, 512 characters), shows every one exactly, as text.
Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from postgres import free_port
from service_helpers import ENV, HOSTILE_NAMES, TUNER, start_tuner, tuner, write_spec
from test_dashboard_data import DIVERGED, HOSTILE, IRIS, SURFACE, study_database

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-extensions"]
PAGES = {"": ("Studies", IRIS), "best": ("Best configuration", IRIS),
         "sensitivity": ("LR sensitivity", IRIS), "curves": ("Learning curves", IRIS),
         "compare": ("Comparisons", IRIS), "surfaces": ("Surfaces", SURFACE),
         "trials": ("Trials", IRIS)}
CHARTS = {"sensitivity": 2, "curves": 1, "compare": 4, "surfaces": 1}


def dashboard_command(url: str, port: int) -> list[str]:
    """``python -m tuner dashboard …`` once the CLI has it, else run_dashboard directly."""
    from tuner.cli import build_parser
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    if "dashboard" in sub.choices:
        return [*TUNER, "dashboard", "--storage", url, "--port", str(port)]
    return [sys.executable, "-c", "import sys; from tuner.dashboard.launch import run_dashboard; "
            f"sys.exit(run_dashboard({url!r}, port={port}))"]


def run_dashboard_server(url: str, folder: Path):
    """Start the dashboard on ``url`` (logging to ``folder``), yield its base URL once it is
    healthy, and stop it with SIGTERM afterwards."""
    port = free_port()
    log = folder / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(dashboard_command(url, port), stdout=out,
                                   stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the dashboard did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield base
    process.send_signal(signal.SIGTERM)          # run_dashboard passes it on to Streamlit
    try:
        assert process.wait(timeout=20) in (0, -signal.SIGTERM), log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = study_database(tmp_path_factory)
    yield from run_dashboard_server(url, tmp_path_factory.mktemp("dashboard-server"))


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The dashboard on a database holding one study under each of HOSTILE_NAMES, made by
    real ``tuner worker`` processes."""
    folder = tmp_path_factory.mktemp("hostile-names")
    url = f"sqlite:///{folder / 'tuner.db'}"
    tuner("worker", write_spec(folder, "plain", n_trials=1, epochs=2), "--storage", url,
          check=True)                                     # creates the tables alone
    workers = [start_tuner("worker", write_spec(folder, name, n_trials=2, epochs=2), "--storage",
                           url) for name in HOSTILE_NAMES.values()]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    yield from run_dashboard_server(url, folder)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    assert Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    yield tab
    context.close()


def open_page(page, base: str, path: str, study: str, title: str) -> None:
    page.goto(f"{base}/{path}?study={quote(study, safe='')}")
    page.wait_for_selector(f'h1:has-text("{title}")', timeout=30_000)
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
    # The script's run has ended (Streamlit shows its status widget only 0.5 s into a run, so
    # the widget's absence alone can be too early).
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=30_000)
    page.wait_for_timeout(300)


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.inner_text("body")
    assert "Traceback" not in text and "Error:" not in text, text[:2000]


def picked_study(page) -> str:
    """What the sidebar's study picker shows (an input's value: text, never markup)."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input') \
        .input_value()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(server, page, path):
    title, study = PAGES[path]
    open_page(page, server, path, study, title)
    if path in CHARTS:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
            f"{CHARTS[path]}", timeout=30_000)
    assert_no_error(page)
    assert picked_study(page) == study
    shot(page, path or "studies")


def test_lr_sensitivity_chart_is_shown(server, page):
    open_page(page, server, "sensitivity", IRIS, "LR sensitivity")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.locator(".main-svg").first.wait_for(timeout=30_000)
    text = chart.inner_text()
    assert "learning rate (log scale)" in text and "validation accuracy" in text
    assert chart.locator(".scatterlayer .trace").count() >= 3       # dots per optimizer …
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 2   # … and LR × momentum
    page.locator('[data-testid="stButtonGroup"]').get_by_text("test", exact=True).click()
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some("
                           "e => e.textContent.includes('test accuracy'))", timeout=30_000)
    assert_no_error(page)
    shot(page, "sensitivity-test-metric")


def test_diverged_trials_are_drawn(server, page):
    open_page(page, server, "sensitivity", DIVERGED, "LR sensitivity")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.locator(".main-svg").first.wait_for(timeout=30_000)
    assert "diverged" in chart.inner_text()
    assert chart.locator(".scatterlayer .point").count() >= 3
    assert_no_error(page)
    shot(page, "sensitivity-diverged")


def test_best_configuration_is_shown(server, page):
    open_page(page, server, "best", IRIS, "Best configuration")
    body = page.inner_text("body")
    assert "validation accuracy" in body and "test accuracy" in body
    code = page.locator('[data-testid="stCode"]').first.inner_text()
    assert '"optimizer"' in code and f'"study": "{IRIS}"' in code
    assert "Runners-up" in body
    assert_no_error(page)
    shot(page, "best")


def test_hostile_study_name_is_text(server, page):
    open_page(page, server, "sensitivity", HOSTILE, "LR sensitivity")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    assert picked_study(page) == HOSTILE                           # shown exactly, as text
    assert f"Study {HOSTILE} · task rosenbrock" in page.inner_text("main")
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("() => document.querySelectorAll('img[onerror]').length") == 0
    for path, title in (("", "Studies"), ("best", "Best configuration"),
                        ("trials", "Trials")):
        open_page(page, server, path, HOSTILE, title)
        assert page.locator('img[src="x"]').count() == 0
        assert_no_error(page)
    assert page.dialogs == []
    shot(page, "hostile-name")


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_each_hostile_study_name_is_shown_as_text(hostile_server, page, kind):
    """Picked, captioned and listed exactly as typed; no script run, no link, image or dialog
    made from it."""
    name = HOSTILE_NAMES[kind]
    for path, title in (("sensitivity", "LR sensitivity"), ("best", "Best configuration")):
        open_page(page, hostile_server, path, name, title)
        assert_no_error(page)
        assert picked_study(page) == name                        # an input's value: text
        assert f"Study {name} · task iris" in page.inner_text("main")
        made = page.evaluate("""() => ({
            links: [...document.querySelectorAll('a[href^="http://x"]')].length,
            images: [...document.querySelectorAll('img[src^="http://x"]')].length,
            scripts: [...document.scripts].filter(s => s.text.includes('alert(1)')).length,
            dialogs: document.querySelectorAll('dialog[open]').length})""")
        assert made == {"links": 0, "images": 0, "scripts": 0, "dialogs": 0}, made
    assert page.dialogs == []                                    # no alert() ran
    shot(page, f"hostile-name-{kind}")
