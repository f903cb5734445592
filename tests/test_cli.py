"""The tuner command as a user meets it: messages, exit codes, nothing written on bad input."""

import json

import pytest
import sqlalchemy

from service_helpers import tuner, write_spec

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


def test_a_bad_spec_leaves_a_postgresql_database_untouched(tmp_path, postgres_url):
    spec = tmp_path / "bad.toml"
    spec.write_text(BAD_SPECS["schema"][0])
    result = tuner("launch", spec, "--storage", postgres_url)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 6
    assert tables(postgres_url) == []


def test_bad_arguments_exit_2(tmp_path):
    spec = write_spec(tmp_path)
    for args in (["launch", spec, "--workers", "0"], ["worker", spec, "--n-trials", "-3"],
                 ["best", "x", "--format", "yaml"], ["nonsense"]):
        result = tuner(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, args


def test_an_unreachable_database_exits_3_naming_host_and_port_not_the_password(tmp_path):
    spec = write_spec(tmp_path)
    url = "postgresql://someone:TopSecret99@127.0.0.1:9/tuner"      # port 9: nothing listens
    result = tuner("worker", spec, "--storage", url, timeout=60)
    assert result.returncode == 3
    assert "127.0.0.1:9" in result.stderr and "someone" in result.stderr
    assert "TopSecret99" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_wrong_credentials_exit_3_without_the_password(tmp_path, postgres_server):
    spec = write_spec(tmp_path)
    url = postgres_server.url("postgres", password="WrongPass123")
    result = tuner("worker", spec, "--storage", url, timeout=60)
    assert result.returncode == 3
    assert f"127.0.0.1:{postgres_server.port}" in result.stderr
    assert "WrongPass123" not in result.stderr + result.stdout


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


def test_version_and_help():
    assert tuner("--version", check=True).stdout.strip().startswith("tuner ")
    help_text = tuner("check", "--help", check=True).stdout
    assert "study.n_trials" in help_text and "search.optimizers" in help_text
