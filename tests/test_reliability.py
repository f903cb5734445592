"""Faults: a database that restarts or stops, while real workers are mid-trial."""

import time

import optuna

from service_helpers import finished, start_tuner, states, write_spec


def wait_for(condition, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if condition():
                return
        except Exception:          # noqa: BLE001 - the database may be restarting
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_workers_survive_a_postgresql_restart_and_a_5_second_stop(tmp_path, postgres_server,
                                                                   postgres_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=12,
                      epochs=150, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    workers = [start_tuner("--log-level", "INFO", "worker", spec, "--storage", postgres_url)
               for _ in range(2)]
    wait_for(lambda: states("cheap", postgres_url)["RUNNING"] == 2, 60, "two running trials")
    postgres_server.ctl("restart", "-m", "fast")
    wait_for(lambda: finished(states("cheap", postgres_url)) >= 2, 90, "trials after restart")
    postgres_server.ctl("stop", "-m", "fast")
    time.sleep(5)
    postgres_server.ctl("start")
    logs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs
    counts = states("cheap", postgres_url)
    assert 12 <= finished(counts) <= 13
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0
    log = "\n".join(logs)
    assert "database unreachable" in log and "reachable again" in log
    assert "Traceback" not in log
    study = optuna.load_study(study_name="cheap", storage=postgres_url)
    for t in study.trials:          # a trial failed as stale meanwhile was queued again
        if t.state.name == "FAIL":
            assert any(r.system_attrs.get("failed_trial") == t.number for r in study.trials)
