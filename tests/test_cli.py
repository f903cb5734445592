"""The tuner command as a user meets it: messages, exit codes, nothing written on bad input."""

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import sqlalchemy

from service_helpers import ENV, HOSTILE_NAMES, start_tuner, tuner, write_spec
from tuner.service.spec import MAX_NAME_LENGTH
from tuner.service.storage import CONNECT_TIMEOUT

BAD_SPECS = {
    "syntax": ("[study\nname = 'x'\n", ["TOML syntax error", "line 1"]),
    "schema": ("""
[study]
name = "bad"
task = "digts"
n_trials = 0
sampler = "bayes"
[training]
epochs = "ten"
[search]
optimizers = ["sgd", "adamm"]
lr = [1.0, 1e-4]
""", ["study.task", "study.n_trials", "study.sampler", "training.epochs", "search.optimizers",
      "search.lr"]),
    "data": ("""
[study]
name = "bad-data"
task = "missing.csv"
""", ["study.task", "missing.csv", "does not exist"]),
}


# Study names refused in one line (exit 2); HOSTILE_NAMES are kept exactly.
REFUSED_NAMES = {
    "empty": ("", "must not be empty or only white space"),
    "whitespace": (" \t  ", "must not be empty or only white space"),
    "bell": ("bell\x07", "must not contain control characters"),
    "newline": ("two\nlines", "must not contain control characters"),
    "escape": ("\x1b[31mred", "must not contain control characters"),
    "too-long": ("x" * (MAX_NAME_LENGTH + 1), f"is {MAX_NAME_LENGTH + 1} characters long "
                                              f"(allowed: at most {MAX_NAME_LENGTH})"),
}


def tables(url: str) -> list[str]:
    return sqlalchemy.inspect(sqlalchemy.create_engine(url)).get_table_names()


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
@pytest.mark.parametrize("command", ["launch", "worker", "check"])
def test_a_bad_spec_gets_one_line_per_defect_and_nothing_is_written(tmp_path, case, command):
    text, expected = BAD_SPECS[case]
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    db = tmp_path / "tuner.db"
    args = [command, spec] + ([] if command == "check" else ["--storage", f"sqlite:///{db}"])
    result = tuner(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert all(line.startswith("tuner: error: ") and str(spec) in line for line in lines)
    for word in expected:
        assert any(word in line for line in lines), (word, lines)
    if case == "schema":
        assert len(lines) == len(expected)
    assert not db.exists()


# Specs valid key by key whose task does not fit the model, the metric or have features: found
# when the data is read (tuner check reads it), each defect one line, before anything is written.
MISFITS = {
    "model and metric": ('task = "iris"\n[model]\nname = "regression"\n[training]\n'
                         'metric = "r2"',
                         ["model.name: 'regression' needs a regression task, and 'iris' is "
                          "classification (allowed: auto, softmax_regression, mlp)",
                          "training.metric: 'r2' needs a regression task, and 'iris' is "
                          "classification (allowed: accuracy, loss)"]),
    "softmax on regression": ('task = "diabetes"\n[model]\nname = "softmax_regression"',
                              ["model.name: 'softmax_regression' needs a classification task, "
                               "and 'diabetes' is regression (allowed: auto, regression)"]),
    "target only": ('task = "y.csv"\ntarget = "y"',
                    ["study.task: 'y.csv' has no feature columns, only the target"]),
}


@pytest.mark.parametrize("case", sorted(MISFITS))
@pytest.mark.parametrize("command", ["worker", "check"])
def test_a_task_the_model_or_metric_does_not_fit_is_refused_before_anything_runs(
        tmp_path, case, command):
    text, expected = MISFITS[case]
    (tmp_path / "y.csv").write_text("y\n" + "".join(f"{i % 2}\n" for i in range(40)))
    spec = tmp_path / "misfit.toml"
    spec.write_text(f'[study]\nname = "misfit"\n{text}\n')
    db = tmp_path / "tuner.db"
    args = [command, spec] + ([] if command == "check" else ["--storage", f"sqlite:///{db}"])
    result = tuner(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == len(expected), result.stderr
    for line, words in zip(lines, expected):
        assert line.startswith(f"tuner: error: {spec}: ") and words in line, (line, words)
    assert not db.exists()


USERDATA = """
import sys
def broken():
    raise RuntimeError("no data today")
def nothing():
    return None
def leaves():
    sys.exit(0)
def ragged():
    return [[1.0, 2.0], [3.0]], [0, 1]
"""
BAD_DATA = {      # the user's data: what the file holds or the function does → words expected
    "short row": ("d.csv", "a,b,y\n1,2,0\n3,4\n", "row 3 has 2 fields, the header 3"),
    "not UTF-8": ("d.csv", b"a,y\n\xe9,1\n2,0\n", "not UTF-8 text"),
    "NaN feature": ("d.csv", "a,y\nnan,1\n2,0\n3,1\n", "NaN or infinite"),
    "one class": ("d.csv", "a,y\n" + "".join(f"{i},0\n" for i in range(20)),
                  "one class only"),
    "no such column": ("d.csv", "a,b\n1,0\n2,1\n", "no column 'y' (columns: a, b)"),
    "1-D features": ("d.npz", {"X": np.arange(10.0), "y": np.arange(10) % 2},
                     "the features have shape (10,)"),
    "target is X": ("d.npz", {"X": np.ones((4, 2)), "y": np.arange(4) % 2}, "target 'X'"),
    "not an npz": ("d.npz", "plain text", "cannot be read as .npz"),
    "blank target": ("d.csv", "a,y\n1,0\n2,\n3,1\n", "row 3 has no value in the target column 'y'"),
    "classes in 2 columns": ("d.npz", {"X": np.ones((40, 2)), "y": np.arange(80).reshape(40, 2) % 2},
                             "a target of 2 columns is taken as classes"),
    "raises": ("userdata:broken", None, "raised RuntimeError: no data today"),
    "returns None": ("userdata:nothing", None, "returned NoneType, not X, y"),
    "exits": ("userdata:leaves", None, "raised SystemExit"),
    "ragged": ("userdata:ragged", None, "the features are not numbers"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_the_users_bad_data_is_one_line_naming_what_is_wrong(tmp_path, case):
    task, content, words = BAD_DATA[case]
    if isinstance(content, dict):
        np.savez(tmp_path / task, **content)
    elif isinstance(content, bytes):
        (tmp_path / task).write_bytes(content)
    elif content is not None:
        (tmp_path / task).write_text(content)
    (tmp_path / "userdata.py").write_text(USERDATA)
    target = {"target is X": '\ntarget = "X"', "no such column": '\ntarget = "y"'}.get(case, "")
    spec = tmp_path / "data.toml"
    spec.write_text(f'[study]\nname = "data"\ntask = "{task}"{target}\n')
    result = tuner("check", spec, env={**ENV, "PYTHONPATH": str(tmp_path)})
    [line] = result.stderr.strip().splitlines()
    key = ("study.target" if case in ("target is X", "no such column", "one class",
                                      "blank target", "classes in 2 columns") else "study.task")
    assert result.returncode == 2 and line.startswith(f"tuner: error: {spec}: {key}: "), line
    assert words in line, line


def test_class_labels_in_a_column_train(tmp_path, sqlite_url):
    """``y`` of shape (n, 1), as many arrays hold labels: one label a row (it crashed the
    first training step with a TypeError)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    np.savez(tmp_path / "col.npz", X=X, y=(X[:, :1] > 0).astype(int))
    spec = tmp_path / "col.toml"
    spec.write_text('[study]\nname = "col"\ntask = "col.npz"\nn_trials = 2\n'
                    '[training]\nepochs = 2\n')
    result = tuner("worker", spec, "--storage", sqlite_url)
    assert result.returncode == 0, result.stderr
    best = json.loads(tuner("best", "col", "--storage", sqlite_url, "--format", "json",
                            check=True).stdout)
    assert 0.5 <= best["test_metric"] <= 1.0


def test_a_bad_spec_leaves_a_postgresql_database_untouched(tmp_path, postgres_url):
    spec = tmp_path / "bad.toml"
    spec.write_text(BAD_SPECS["schema"][0])
    result = tuner("launch", spec, "--storage", postgres_url)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 6
    assert tables(postgres_url) == []


def test_bad_arguments_exit_2(tmp_path):
    spec = write_spec(tmp_path)
    for args in (["launch", spec, "--workers", "0"], ["worker", spec, "--n-trials", "-3"],
                 ["best", "x", "--format", "yaml"], ["nonsense"],
                 ["dashboard", "--port", "70000"]):
        result = tuner(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, args


def test_an_unreachable_database_exits_3_naming_host_and_port_not_the_password(tmp_path):
    spec = write_spec(tmp_path)
    url = "postgresql://someone:TopSecret99@127.0.0.1:9/tuner"      # port 9: nothing listens
    started = time.monotonic()
    result = tuner("worker", spec, "--storage", url, timeout=60)
    # The process, start to end: its start-up (imports, the data) and a refused connection,
    # not a retry loop (the connect timeout itself is checked in test_reliability).
    assert time.monotonic() - started <= CONNECT_TIMEOUT + 15
    assert result.returncode == 3
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("tuner: error: cannot connect to the database at 127.0.0.1:9 as user "
                           "'someone'"), line
    assert (result.stdout + result.stderr).count("TopSecret99") == 0


def test_wrong_credentials_exit_3_without_the_password(tmp_path, postgres_server):
    spec = write_spec(tmp_path)
    url = postgres_server.url("postgres", password="WrongPass123")
    result = tuner("worker", spec, "--storage", url, timeout=60)
    assert result.returncode == 3
    [line] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{postgres_server.port}" in line and "password authentication" in line
    assert (result.stdout + result.stderr).count("WrongPass123") == 0


def test_the_password_is_masked_but_not_inside_the_host_it_happens_to_match():
    """Masking "127" inside "127.0.0.1" would give the password away by elimination."""
    from tuner.service.storage import unreachable_message
    error = Exception('connection to server at "127.0.0.1", port 9 failed: 127 refused')
    line = unreachable_message("postgresql://someone:127@127.0.0.1:9/tuner", error)
    assert line == ("cannot connect to the database at 127.0.0.1:9 as user 'someone': "
                    'connection to server at "127.0.0.1", port 9 failed: *** refused')


def test_hostile_study_names_are_kept_exactly_or_refused_in_one_line(tmp_path, sqlite_url):
    """Each accepted name round-trips exactly through ``tuner worker``, ``tuner studies
    --format json`` and ``tuner best --format json``; each refused one gets exit 2 and one line
    naming the defect, and creates no study."""
    specs = {name: write_spec(tmp_path, name, n_trials=1, epochs=1)
             for name in [*HOSTILE_NAMES.values(), *(n for n, _ in REFUSED_NAMES.values())]}
    workers = {name: start_tuner("worker", spec, "--storage", sqlite_url)
               for name, spec in specs.items()}
    results = {name: (w.communicate(timeout=300), w.returncode) for name, w in workers.items()}
    for name in HOSTILE_NAMES.values():
        (_, err), code = results[name]
        assert code == 0, (name, err)
    for name, reason in REFUSED_NAMES.values():
        (out, err), code = results[name]
        assert code == 2 and out == "", (name, err)
        assert err.splitlines() == [f"tuner: error: {specs[name]}: study.name: {name!r} {reason}"]
    listed = json.loads(tuner("studies", "--storage", sqlite_url, "--format", "json",
                              check=True).stdout)
    assert sorted(s["study"] for s in listed) == sorted(HOSTILE_NAMES.values())
    bests = {name: start_tuner("best", name, "--storage", sqlite_url, "--format", "json")
             for name in HOSTILE_NAMES.values()}
    for name, best in bests.items():
        out, err = best.communicate(timeout=120)
        assert best.returncode == 0, (name, err)
        assert json.loads(out)["study"] == name


def test_unknown_study_exits_4(tmp_path, sqlite_url):
    tuner("worker", write_spec(tmp_path, n_trials=1), "--storage", sqlite_url, check=True)
    result = tuner("best", "nope", "--storage", sqlite_url)
    assert result.returncode == 4 and "no study named 'nope'" in result.stderr
    assert "'cheap'" in result.stderr


def test_reading_a_missing_sqlite_file_creates_nothing(tmp_path):
    db = tmp_path / "none.db"
    result = tuner("studies", "--storage", f"sqlite:///{db}")
    assert result.returncode == 3 and "no SQLite database" in result.stderr
    assert not db.exists()


def test_storage_comes_from_the_environment_when_not_given(tmp_path):
    import os
    db = tmp_path / "env.db"
    env = {**os.environ, "TUNER_STORAGE": f"sqlite:///{db}", "OPENBLAS_NUM_THREADS": "1"}
    tuner("worker", write_spec(tmp_path, n_trials=1), check=True, env=env, cwd=tmp_path)
    listed = json.loads(tuner("studies", "--format", "json", env=env, check=True).stdout)
    assert [s["study"] for s in listed] == ["cheap"] and db.exists()
    assert not (tmp_path / "tuner.db").exists()


def test_the_default_storage_is_tuner_db_in_the_current_directory(tmp_path):
    import os
    env = {k: v for k, v in os.environ.items() if k != "TUNER_STORAGE"}
    tuner("worker", write_spec(tmp_path, n_trials=1), check=True, env=env, cwd=tmp_path)
    assert (tmp_path / "tuner.db").exists()


def test_delete_removes_the_study(tmp_path, sqlite_url):
    tuner("worker", write_spec(tmp_path, n_trials=1), "--storage", sqlite_url, check=True)
    assert tuner("delete", "cheap", "--storage", sqlite_url).returncode == 0
    assert json.loads(tuner("studies", "--storage", sqlite_url, "--format", "json",
                            check=True).stdout) == []


def test_deleting_an_unknown_study_writes_nothing(tmp_path, sqlite_url):
    import os
    env = {k: v for k, v in os.environ.items() if k != "TUNER_STORAGE"}
    result = tuner("delete", "nosuch", env=env, cwd=tmp_path)       # no database yet
    assert result.returncode == 3 and "no SQLite database" in result.stderr
    assert list(tmp_path.iterdir()) == []                             # none created
    tuner("worker", write_spec(tmp_path, n_trials=1), "--storage", sqlite_url, check=True)
    result = tuner("delete", "nosuch", "--storage", sqlite_url)
    assert result.returncode == 4 and "'cheap'" in result.stderr      # the studies there
    assert [s["study"] for s in json.loads(tuner("studies", "--storage", sqlite_url,
                                                 "--format", "json").stdout)] == ["cheap"]


@pytest.mark.parametrize("url", ["foo://x", "mysql://u@h/db", "not a url",
                                 "postgresql://u:Hidden42@h:port/db", "postgresql+nodriver://h/d"])
def test_a_storage_url_tuner_cannot_use_is_one_line_exit_2(tmp_path, url):
    for args in (["studies"], ["best", "x"], ["trials", "x"], ["delete", "x"],
                 ["worker", write_spec(tmp_path, n_trials=1)]):
        result = tuner(*args, "--storage", url, cwd=tmp_path)
        [line] = result.stderr.strip().splitlines()
        assert result.returncode == 2, (args, result.stderr)
        assert "--storage" in line and "allowed: sqlite:///PATH" in line, line
        assert "Hidden42" not in line
    assert [p.name for p in tmp_path.iterdir()] == ["cheap.toml"]    # nothing written


def test_read_commands_on_a_database_they_cannot_read_exit_3(tmp_path):
    import sqlite3
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    (tmp_path / "text.db").write_text("not a database")
    for url, says in [("postgresql://u:Hidden42@127.0.0.1:9/db", "127.0.0.1:9"),
                      (f"sqlite:///{foreign}", "holds no studies yet"),
                      (f"sqlite:///{tmp_path / 'text.db'}", "file is not a database")]:
        for args in (["studies"], ["best", "x"], ["trials", "x"]):
            result = tuner(*args, "--storage", url)
            [line] = result.stderr.strip().splitlines()
            assert result.returncode == 3 and says in line, (url, args, result.stderr)
            assert "Hidden42" not in line
    with sqlite3.connect(foreign) as conn:                          # left as it was
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


def test_version_and_help():
    assert tuner("--version", check=True).stdout.strip().startswith("tuner ")
    help_text = tuner("check", "--help", check=True).stdout
    assert "study.n_trials" in help_text and "search.optimizers" in help_text


# --- a database from another Optuna -------------------------------------------------------------

@pytest.mark.parametrize("revision, expected", [
    ("v3.0.0.d", "was created by an older Optuna; run: optuna storage upgrade --storage "
                 "'sqlite:///{db}'"),
    ("v9.9.9.a", f"was created by a newer Optuna than this one ({optuna.__version__}); "
                 "upgrade Optuna (pip install -U optuna)"),
], ids=["older", "newer"])
def test_a_database_of_another_optunas_schema_gets_one_line_saying_what_to_run(tmp_path, revision,
                                                                                expected):
    db = tmp_path / "other.db"
    url = f"sqlite:///{db}"
    optuna.storages.RDBStorage(url)                        # this Optuna's schema, then another's
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    for args in (["worker", write_spec(tmp_path), "--storage", url], ["studies", "--storage", url]):
        result = tuner(*args)
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"tuner: error: the database at {url} {expected.format(db=db)}"]
    with sqlite3.connect(db) as conn:                     # nothing written meanwhile
        assert conn.execute("SELECT count(*) FROM studies").fetchone() == (0,)
    if revision == "v3.0.0.d":                            # the command it names does the job
        optuna_cli = Path(sys.executable).parent / "optuna"
        subprocess.run([optuna_cli, "storage", "upgrade", "--storage", url], check=True,
                       capture_output=True, timeout=120)
        assert json.loads(tuner("studies", "--storage", url, "--format", "json",
                                check=True).stdout) == []
