"""Shared test set-up: one BLAS thread per process (as in every tuner worker), a real
PostgreSQL server for the storage tests, and storage URLs."""

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import itertools

import pytest

from postgres import PostgresServer
from service_helpers import kill_started

_databases = itertools.count()


@pytest.fixture(autouse=True)
def no_process_left_behind():
    """After each test, kill the ``tuner`` processes it started that still run."""
    yield
    kill_started()


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL 15 server for the whole run (see tests/postgres.py)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the test server, as a SQLAlchemy URL."""
    return postgres_server.create_database(f"test_{next(_databases)}")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tuner.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path):
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tuner.db'}"
    return request.getfixturevalue("postgres_url")
