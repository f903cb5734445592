"""README's main job: the digits demo, run as the README says, within 5 minutes on 2 cores.

The issue asks for at least 97% test accuracy. The best trial's own test accuracy is one run
(one seed) on a 360-image test split, chosen by a 270-image validation split on which several
trials tie: over 24 demo runs it was 0.969-0.978, below 97% in 3 of them. The launcher
therefore re-trains the top 5 trials on 5 fresh seeds each and chooses the configuration with
the lowest mean validation loss (the test split only scores it); its mean test accuracy over
the 5 seeds is what this test asserts. Over 16 demo runs it was min 0.9750 / median 0.9758 /
max 0.9772, the lower end of its 95% interval at least 0.9726 and every one of the 80 seed
runs at least 0.9722; the demo took 15-23 s including the re-training (docs/benchmarks.md,
"Digits demo")."""

import json
import subprocess
import time
from pathlib import Path

from service_helpers import ENV, tuner

ROOT = Path(__file__).resolve().parents[1]


def test_the_digits_demo_finishes_within_5_minutes_with_a_good_best_configuration(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    started = time.monotonic()
    demo = subprocess.run(["bash", str(ROOT / ".ci" / "demo"), "--storage", url],
                          capture_output=True, text=True, timeout=600, env=ENV)
    elapsed = time.monotonic() - started
    assert demo.returncode == 0, demo.stderr
    assert elapsed < 300, f"the demo took {elapsed:.0f} s"
    assert "test accuracy" in demo.stdout and "tuner dashboard" in demo.stdout
    assert "Re-trained on 5 fresh seeds each" in demo.stdout
    best = json.loads(tuner("best", "digits-mlp", "--storage", url, "--format", "json",
                            check=True).stdout)
    retrained = best["retrained"]
    assert len(retrained["seeds"]) == 5 and retrained["diverged"] == 0, retrained
    assert retrained["test_metric"] >= 0.97, retrained
    listed = json.loads(tuner("studies", "--storage", url, "--format", "json", check=True).stdout)
    assert listed[0]["finished"] >= 100 and listed[0]["running"] == 0
