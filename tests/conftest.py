"""Shared fixtures: one scenario suite runs on SQLite and on PostgreSQL.

PostgreSQL and Redis tests skip when the service is unreachable, except with
``BOUNCELEDGER_REQUIRE_SERVICES=1`` (set by ``.ci/run``), where that is a failure.
Each PostgreSQL test gets its own schema instead of wiping a shared database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib

from api.services import Services, build_services
from api.settings import Settings
from domain.reports import Report

POSTGRES_URL = os.environ.get("BOUNCELEDGER_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BOUNCELEDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRED = os.environ.get("BOUNCELEDGER_REQUIRE_SERVICES") == "1"
# As strong as a generated token: BOOTSTRAP_TOKEN refuses anything weaker (issue 13).
ADMIN_TOKEN = "bl_test-admin-Qm2VxR9kLp4sTz8WcN1bYh6JdF3gK0eUoA5iX"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} unreachable: {error}"
    if REQUIRED:
        pytest.fail(message + " (BOUNCELEDGER_REQUIRE_SERVICES=1 makes this mandatory)")
    pytest.skip(message)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    schema = "t_" + uuid.uuid4().hex[:16]
    try:
        conn = psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        unavailable("PostgreSQL", error)
    with conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        yield schema
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def redis_url() -> str:
    try:
        redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis_lib.RedisError as error:
        unavailable("Redis", error)
    return REDIS_URL


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A fresh Redis key prefix; its keys are deleted afterwards."""
    value = f"test:{uuid.uuid4().hex[:12]}:"
    yield value
    client = redis_lib.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{value}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    schema = request.getfixturevalue("pg_schema")
    return f"{POSTGRES_URL}?schema={schema}"


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": database_url, "bootstrap_token": ADMIN_TOKEN}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *reports: Report) -> str:
    """A SQLite ledger holding ``reports``, where the CLI (which reads
    ``BOUNCELEDGER_DATABASE_URL``) will find it; returns its URL."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", url)
    built = build_services(make_settings(url))
    try:
        if reports:
            built.ledger.record(*reports)
    finally:
        built.close()
    return url


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url))
    yield built
    built.close()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so boto3 signs requests to moto and never finds a real account."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_CONFIG_FILE": "/dev/null",
                        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server (HTTP on a free port) standing in for AWS, shared by the session."""
    from moto.server import ThreadedMotoServer

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A second moto server for the send tests alone: they reset it between tests, which
    must not wipe what other tests keep in ``moto_endpoint`` (SQS queues)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def ses_endpoint(moto_server: str) -> str:
    """moto emptied, with the test sender's identity verified."""
    from tests.ses_fakes import reset_moto

    reset_moto(moto_server)
    return moto_server
