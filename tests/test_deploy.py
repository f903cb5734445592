"""Deployment: docker-compose.yml checked against the Compose specification (no Docker engine
here), and what it runs — the same init SQL, the same commands, the same roles — exercised on
the test suite's loopback PostgreSQL with 8 workers.

Needs Debian's ``docker-compose`` (v1.29: ``config`` interpolates and validates without an
engine) and the Python package ``check-jsonschema`` (it ships the current compose-spec JSON
schema). Both missing is a failure, not a skip.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from postgres import PG_BIN, SUPERUSER
from service_helpers import finished, states

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
INIT_SQL = ROOT / "deploy" / "initdb" / "tuner-roles.sql"
SCALE_SPEC = "deploy/scale.toml"
WORKERS = 8
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Dummy credentials for this test only: the repository holds no real one.
PASSWORDS = {"POSTGRES_PASSWORD": "dummy-admin-pw-0123",
             "TUNER_WORKER_PASSWORD": "dummy-worker-pw-4567",
             "TUNER_DASHBOARD_PASSWORD": "dummy-dashboard-pw-89ab"}
TUNER_SERVICES = ("create-study", "worker", "dashboard")


def clean_env(**extra) -> dict:
    """This process's environment without anything compose or libpq would pick up."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PG", "TUNER_", "COMPOSE_", "DOCKER_"))
           and k not in PASSWORDS}
    return {**env, **extra}


def docker_compose(*args, env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: apt-get install --no-install-recommends docker-compose"
    empty = tmp_path / "empty.env"          # never the developer's own .env
    empty.write_text("")
    return subprocess.run([exe, "--env-file", str(empty), "-f", str(COMPOSE), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def rendered(tmp_path: Path, **variables) -> dict:
    """``docker-compose config`` of the repository's file with the dummy passwords: the file
    as compose runs it (interpolated, merged, validated), as a dict."""
    result = docker_compose("config", env=clean_env(**PASSWORDS, **variables), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> dict:
    return rendered(tmp_path_factory.mktemp("compose"))


# --- the compose file -------------------------------------------------------------------------

def check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.compose-spec", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_the_compose_file_follows_the_compose_specification(tmp_path, config):
    # The current compose-spec schema, on the file as written and as compose renders it.
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "rendered.yml").write_text(yaml.safe_dump(config))
    result = check_jsonschema(tmp_path / "rendered.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # ... and the check can fail: a misspelt key is caught by both validators.
    bad = COMPOSE.read_text().replace("    depends_on:\n", "    depends_upon:\n", 1)
    (tmp_path / "docker-compose.yml").write_text(bad)
    assert check_jsonschema(tmp_path / "docker-compose.yml").returncode != 0
    result = subprocess.run([shutil.which("docker-compose"), "-f",
                             str(tmp_path / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, env=clean_env(**PASSWORDS))
    assert result.returncode != 0 and "depends_upon" in result.stderr


@pytest.mark.parametrize("missing", sorted(PASSWORDS))
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_compose_refuses_to_start_without_each_password(tmp_path, missing, how):
    env = clean_env(**PASSWORDS)
    if how == "unset":
        del env[missing]
    else:
        env[missing] = ""
    result = docker_compose("config", "-q", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"set {missing} in the environment or .env" in result.stderr


def test_the_services_their_order_and_their_roles(config):
    services = config["services"]
    assert set(services) == {"db", "create-study", "worker", "dashboard"}

    db = services["db"]
    assert re.fullmatch(r"postgres:15([.-].*)?", db["image"])
    volumes = {v.split(":")[1]: v for v in db["volumes"]}
    assert volumes["/var/lib/postgresql/data"].startswith("pgdata:")     # the named volume
    assert "pgdata" in config["volumes"]
    initdb = volumes["/docker-entrypoint-initdb.d"]
    assert Path(initdb.split(":")[0]) == INIT_SQL.parent and initdb.endswith(":ro")
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "--host=127.0.0.1" in db["healthcheck"]["test"]    # TCP: up only after the init SQL
    assert "ports" not in db                                    # reached by the services only
    assert {k: db["environment"][k] for k in PASSWORDS} == PASSWORDS

    for name in TUNER_SERVICES:       # one image, built from the one Dockerfile
        assert services[name]["image"] == services["worker"]["image"]
        assert Path(services[name]["build"]["context"]) == ROOT
        assert services[name]["init"] is True
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}
    for name in ("worker", "dashboard"):
        assert services[name]["depends_on"]["create-study"] == {
            "condition": "service_completed_successfully"}
    assert services["create-study"]["restart"] == "no"
    assert services["worker"]["command"] == ["worker", "studies/digits.toml"]
    assert "container_name" not in services["worker"]           # --scale worker=8 works
    assert "ports" not in services["worker"]

    dashboard = services["dashboard"]
    command = dashboard["command"]
    assert command[0] == "dashboard" and command[command.index("--address") + 1] == "0.0.0.0"
    assert [p.split(":")[0] for p in dashboard["ports"]] == ["127.0.0.1"]   # loopback only
    assert dashboard["ports"][0].startswith("127.0.0.1:8501:8501")

    # Roles: workers and create-study read-write, the dashboard read-only; the password in
    # libpq's PGPASSWORD, never in the URL.
    roles = {"create-study": "tuner_worker", "worker": "tuner_worker",
             "dashboard": "tuner_dashboard"}
    for name, role in roles.items():
        env = services[name]["environment"]
        url = make_url(env["TUNER_STORAGE"])
        assert (url.username, url.password, url.host, url.database) == (role, None, "db", "tuner")
        assert env["PGPASSWORD"] == PASSWORDS[f"{role.upper()}_PASSWORD"]


def test_the_dockerfile():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages and all(re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim-\w+", s) for s in stages)
    install = re.findall(r"pip install ([^\n\\&]*)", text)
    assert install and all(" -e" not in f" {i}" and "--editable" not in i for i in install)
    final = text[text.rindex("\nFROM "):]
    user = re.findall(r"^USER (\S+)", final, re.M)
    assert user and user[-1] not in ("root", "0")
    for var in ONE_THREAD:
        assert re.search(rf"\b{var}=1\b", final), var
    assert json.loads(re.search(r"^ENTRYPOINT (.+)$", final, re.M).group(1)) == ["tuner"]


def test_no_secret_is_in_the_repository():
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert "**/.env" in (ROOT / ".dockerignore").read_text().split()
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert {k: example[k] for k in PASSWORDS} == {k: "" for k in PASSWORDS}
    compose = COMPOSE.read_text()
    for key, value in re.findall(r"^\s*(\w*PASSWORD\w*):\s*(.*)$", compose, re.M):
        assert re.fullmatch(r"\$\{(\w+):\?[^}]+\}", value), (key, value)
    assert "HOST_AUTH_METHOD" not in compose           # no trust authentication
    files = [COMPOSE, ROOT / "Dockerfile", ROOT / ".env.example", ROOT / "docs" / "deploy.md",
             *sorted((ROOT / "deploy").rglob("*.*"))]
    for path in files:
        text = path.read_text()
        # No URL with a password other than a placeholder.
        for password in re.findall(r"\w+://[\w.-]+:([^@\s/]+)@", text):
            assert password in ("***", "PASSWORD", "$PASSWORD", "${PASSWORD}"), (path, password)
        assert not re.search(r"PASSWORD\s*=\s*['\"]?[\w-]{8,}", text), path
    if shutil.which("git") and (ROOT / ".git").exists():   # a checkout: .env is never tracked
        tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
        assert not [f for f in tracked.stdout.split() if Path(f).name == ".env"]


# --- the same SQL and the same commands on the loopback server ----------------------------------

def run_init_sql(server, env: dict) -> subprocess.CompletedProcess:
    """psql -f deploy/initdb/tuner-roles.sql as the superuser, with ``env`` (as the db
    container's entrypoint runs it, with the container's environment)."""
    return subprocess.run(
        [*server.as_user, "env", *[f"{k}={v}" for k, v in env.items()], PG_BIN / "psql",
         "-h", server.socket_dir, "-p", str(server.port), "-U", SUPERUSER, "-d", "postgres",
         "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", "-"],
        input=INIT_SQL.read_text(), capture_output=True, text=True, timeout=60)


def local(service: dict, server) -> tuple[list[str], dict]:
    """A compose service's command and environment, run here: the image's entrypoint unless
    the service overrides it, ``db:5432`` replaced by the test server."""
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", (ROOT / "Dockerfile").read_text(),
                                      re.M).group(1))
    command = [*(service.get("entrypoint") or entrypoint), *service.get("command", [])]
    program = {"tuner": [sys.executable, "-m", "tuner"], "python": [sys.executable]}
    command = [*program[command[0]], *command[1:]]
    env = dict(service["environment"])
    url = make_url(env["TUNER_STORAGE"])
    assert (url.host, url.port) == ("db", 5432)
    env["TUNER_STORAGE"] = url.set(host="127.0.0.1", port=server.port).render_as_string(False)
    return command, clean_env(**ONE_THREAD, **env)


@pytest.fixture(scope="module")
def deployed(postgres_server, tmp_path_factory):
    """The test server set up by the db container's init SQL, with the db service's
    environment; the compose services rendered for the trivial-cost spec."""
    tmp = tmp_path_factory.mktemp("deploy")
    config = rendered(tmp, TUNER_SPEC=SCALE_SPEC)
    db_env = {k: config["services"]["db"]["environment"][k]
              for k in ("TUNER_WORKER_PASSWORD", "TUNER_DASHBOARD_PASSWORD")}
    result = run_init_sql(postgres_server, db_env)
    assert result.returncode == 0, result.stderr
    return config["services"]


def test_the_init_sql_refuses_missing_weak_or_shared_passwords(postgres_server):
    worker = PASSWORDS["TUNER_WORKER_PASSWORD"]
    cases = {"TUNER_WORKER_PASSWORD": {},
             "shorter than 12": {"TUNER_WORKER_PASSWORD": worker,
                                 "TUNER_DASHBOARD_PASSWORD": "short"},
             "must differ": {"TUNER_WORKER_PASSWORD": worker, "TUNER_DASHBOARD_PASSWORD": worker}}
    for message, env in cases.items():
        result = run_init_sql(postgres_server, env)
        assert result.returncode == 3 and message in result.stderr, result.stderr


def test_the_init_sql_sets_up_the_roles_and_runs_again(postgres_server, deployed):
    result = run_init_sql(postgres_server, {k: PASSWORDS[k] for k in
                                            ("TUNER_WORKER_PASSWORD", "TUNER_DASHBOARD_PASSWORD")})
    assert result.returncode == 0, result.stderr
    rows = postgres_server.psql(
        "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolconfig FROM pg_roles "
        "WHERE rolname IN ('tuner_worker', 'tuner_dashboard') ORDER BY rolname").splitlines()
    assert rows == [
        "tuner_dashboard|f|f|f|{default_transaction_read_only=on,statement_timeout=30s,"
        "lock_timeout=5s,idle_in_transaction_session_timeout=60s}",
        "tuner_worker|f|f|f|{idle_in_transaction_session_timeout=10s,statement_timeout=60s}"]


@pytest.fixture(scope="module")
def scaled(deployed, postgres_server, tmp_path_factory):
    """create-study twice, then 8 workers, each with exactly the compose service's command
    and environment; the peak number of worker connections sampled meanwhile."""
    tmp = tmp_path_factory.mktemp("scale")
    command, env = local(deployed["create-study"], postgres_server)
    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr

    peak, done = [0], threading.Event()

    def sample():
        with psycopg.connect(postgres_server.url("tuner").replace("+psycopg", ""),
                             autocommit=True) as conn:
            while not done.is_set():
                n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                                 "application_name = 'tuner-worker'").fetchone()[0]
                peak[0] = max(peak[0], n)
                time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    command, env = local(deployed["worker"], postgres_server)
    started = time.monotonic()
    logs = [(tmp / f"worker{i}.log").open("w+") for i in range(WORKERS)]
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
               for log in logs]
    try:
        codes = [w.wait(timeout=240) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        done.set()
        sampler.join()
    seconds = time.monotonic() - started
    output = []
    for log in logs:
        log.seek(0)
        output.append(log.read())
        log.close()
    url = postgres_server.url("tuner")
    return {"first": first.stdout, "second": second.stdout, "codes": codes, "logs": output,
            "seconds": seconds, "peak": peak[0], "states": states("scale", url), "url": url}


def test_eight_workers_meet_the_budget_with_none_running(scaled):
    assert scaled["codes"] == [0] * WORKERS, "\n".join(scaled["logs"])
    assert all("worker done (budget met)" in log for log in scaled["logs"]), scaled["logs"]
    assert not any("Traceback" in log for log in scaled["logs"])
    counts = scaled["states"]
    assert 100 <= finished(counts) <= 100 + WORKERS - 1, counts
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0 and counts["FAIL"] == 0, counts
    # Each worker holds at most its pool (2: the trial loop and the heartbeat thread).
    assert WORKERS <= scaled["peak"] <= 2 * WORKERS, scaled["peak"]
    print(f"\n8 workers, {finished(counts)} trials: {scaled['seconds']:.1f} s, "
          f"peak {scaled['peak']} worker connections")


def test_create_study_is_idempotent(scaled):
    assert "study 'scale' ready" in scaled["first"] and "budget 100" in scaled["first"]
    assert "0 trials (0 finished)" in scaled["first"]
    assert "0 trials (0 finished)" in scaled["second"]      # found, nothing added


def test_the_dashboard_role_reads_the_study(scaled, deployed, postgres_server):
    command, env = local(deployed["dashboard"], postgres_server)
    tuner = [*command[:command.index("dashboard")]]          # the same program and storage
    result = subprocess.run([*tuner, "studies", "--format", "json"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in json.loads(result.stdout) if r["study"] == "scale"]
    result = subprocess.run([*tuner, "best", "scale", "--format", "json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["study"] == "scale"


@pytest.mark.parametrize("page", ["studies", "best", "curves", "surfaces", "trials"])
def test_the_dashboard_app_runs_on_the_read_only_role(scaled, deployed, postgres_server,
                                                      monkeypatch, page):
    from streamlit.testing.v1 import AppTest

    import tuner.dashboard
    _, env = local(deployed["dashboard"], postgres_server)
    for key in ("TUNER_STORAGE", "PGPASSWORD", "PGAPPNAME"):
        monkeypatch.setenv(key, env[key])
    at = AppTest.from_file(str(Path(tuner.dashboard.__file__).parent / "app.py"),
                           default_timeout=60)
    at.session_state["study"] = "scale"
    if page != "studies":
        at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    if page == "studies":
        assert "scale" in set(at.dataframe[0].value["study"])
    if page == "trials":
        assert len(at.dataframe[0].value) >= 100


WRITES = {
    "INSERT": "INSERT INTO studies (study_name) VALUES ('intruder')",
    "UPDATE": "UPDATE trials SET state = 'FAIL'",
    "DELETE": "DELETE FROM trial_values",
    "TRUNCATE": "TRUNCATE trial_user_attributes",
    "CREATE TABLE": "CREATE TABLE public.intruder (x int)",
    "CREATE TEMP TABLE": "CREATE TEMP TABLE intruder (x int)",
    "CREATE SCHEMA": "CREATE SCHEMA intruder",
    "CREATE VIEW": "CREATE VIEW public.intruder AS SELECT 1",
    "CREATE FUNCTION": "CREATE FUNCTION public.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "DROP": "DROP TABLE trials",
    "ALTER": "ALTER TABLE trials ADD COLUMN intruder int",
    "CREATE ROLE": "CREATE ROLE intruder",
}


def test_tuners_engines_keep_the_roles_timeouts(scaled, postgres_server):
    """tuner passes statement_timeout at connection time (PgBouncer drops role settings with
    the startup options it ignores): the dashboard's engine the dashboard role's 30 s, not the
    workers' 60 s, which used to override it."""
    import sqlalchemy
    from tuner.service.storage import engine_kwargs
    from tuner.tables import create_engine

    def url(role):
        return (f"postgresql+psycopg://{role}:{PASSWORDS[role.upper() + '_PASSWORD']}"
                f"@127.0.0.1:{postgres_server.port}/tuner")
    workers = url("tuner_worker")
    for engine, expected in ((create_engine(url("tuner_dashboard")), "30s"),
                             (sqlalchemy.create_engine(workers, **engine_kwargs(workers)), "1min")):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == expected
        engine.dispose()


def test_the_dashboard_role_cannot_write_even_out_of_read_only_mode(scaled, postgres_server):
    with psycopg.connect(host="127.0.0.1", port=postgres_server.port, dbname="tuner",
                         user="tuner_dashboard", password=PASSWORDS["TUNER_DASHBOARD_PASSWORD"],
                         autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
        assert conn.execute("SELECT count(*) FROM trials").fetchone()[0] >= 100
        conn.execute("SET default_transaction_read_only = off")
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        refused = {}
        for what, sql in WRITES.items():
            try:
                conn.execute(sql)
                refused[what] = "allowed"
            except psycopg.errors.InsufficientPrivilege:
                refused[what] = "refused"
        assert refused == {what: "refused" for what in WRITES}
        conn.execute("GRANT SELECT ON trials TO PUBLIC")     # only a warning: nothing granted
        assert conn.execute("SELECT has_table_privilege('public', 'trials', 'SELECT')"
                            ).fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM trials WHERE state = 'FAIL'").fetchone() == (0,)
    # The worker role may write its study but administer nothing.
    with psycopg.connect(host="127.0.0.1", port=postgres_server.port, dbname="tuner",
                         user="tuner_worker", password=PASSWORDS["TUNER_WORKER_PASSWORD"],
                         autocommit=True) as conn:
        for sql in ("CREATE ROLE intruder", "CREATE DATABASE intruder"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
