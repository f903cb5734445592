"""README's main job: the digits demo reaches 97% test accuracy within 5 minutes on 2 cores."""

import json
import subprocess
import time
from pathlib import Path

from service_helpers import ENV, tuner

ROOT = Path(__file__).resolve().parents[1]


def test_the_digits_demo_reaches_97_percent_test_accuracy_within_5_minutes(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    started = time.monotonic()
    demo = subprocess.run(["bash", str(ROOT / ".ci" / "demo"), "--storage", url],
                          capture_output=True, text=True, timeout=600, env=ENV)
    elapsed = time.monotonic() - started
    assert demo.returncode == 0, demo.stderr
    assert elapsed < 300, f"the demo took {elapsed:.0f} s"
    assert "test accuracy" in demo.stdout and "tuner dashboard" in demo.stdout
    best = json.loads(tuner("best", "digits-mlp", "--storage", url, "--format", "json",
                            check=True).stdout)
    assert best["test_metric"] >= 0.97, best
    listed = json.loads(tuner("studies", "--storage", url, "--format", "json", check=True).stdout)
    assert listed[0]["finished"] >= 100 and listed[0]["running"] == 0
