"""Every expected error has one base carrying its HTTP status and code, and one handler
renders them all: SPEC §5's ``{"error": {"code", "message"}}`` (an HTML page on the
console), with the status each one always had."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import PersistenceError
from fastapi.testclient import TestClient

from adapters.sns import SnsRefused
from adapters.sql import StoreUnavailable
from api.app import create_app  # imports every module that defines an error
from api.console.session import ConsoleError
from api.settings import Settings
from api.tokens import TokenError
from domain.errors import ExpectedError

# class name -> (status, code): the answers clients rely on.
PINNED = {
    "LedgerError": (422, "ledger_error"),
    "InvalidAddress": (422, "invalid_address"),
    "InvalidCommand": (422, "invalid_command"),
    "ConsentRequired": (403, "consent_required"),
    "ProfileNotFound": (404, "profile_not_found"),
    "InvalidMessage": (422, "invalid_message"),
    "SenderPaused": (409, "sender_paused"),
    "AddressNotFound": (404, "address_not_found"),
    "ErasureUnavailable": (503, "erasure_unavailable"),
    "ErasureIncomplete": (503, "erasure_incomplete"),
    "InvalidWebhook": (422, "invalid_webhook"),
    "WebhookNotFound": (404, "webhook_not_found"),
    "DeliveryErased": (409, "delivery_erased"),
    "InvalidListQuery": (400, "invalid_query"),
    "SenderNotAllowed": (403, "sender_not_allowed"),
    "StoreUnavailable": (503, "store_unavailable"),
    "CommitUncertain": (503, "store_unavailable"),
    "CommitTimeout": (503, "store_unavailable"),
    "LoginRequired": (401, "login_required"),
}
# Their status and code come with each instance.
PER_INSTANCE = {SnsRefused: SnsRefused(403, "bad_signature", "the signature does not verify"),
                TokenError: TokenError("token_exists", "a token named 'x' exists", 409),
                ConsoleError: ConsoleError(404, "No such sender", "No sender “x”.")}


def every_error() -> list[type[ExpectedError]]:
    found, todo = [], [ExpectedError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found[1:]


def instance(cls: type[ExpectedError]) -> ExpectedError:
    return PER_INSTANCE.get(cls) or cls("why it was refused")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The real app and its handlers; the routes under test only raise (no store needed)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('errors')}/unused.db"
    return TestClient(create_app(Settings(database_url=url)))


def raising(client: TestClient, error: Exception, path: str = "/v1/test-raise") -> str:
    def route() -> None:
        raise error

    path = f"{path}/{len(client.app.routes)}"  # type: ignore[attr-defined]
    client.app.add_api_route(path, route)  # type: ignore[attr-defined]
    return path


def test_every_expected_error_is_pinned() -> None:
    names = {cls.__name__ for cls in every_error() if cls not in PER_INSTANCE}
    assert names == set(PINNED)
    for cls in every_error():
        error = instance(cls)
        if cls not in PER_INSTANCE:
            assert (error.status, error.code) == PINNED[cls.__name__], cls


@pytest.mark.parametrize("cls", every_error(), ids=lambda cls: cls.__name__)
def test_one_handler_answers_each_with_its_status_and_code(client: TestClient,
                                                         cls: type[ExpectedError]) -> None:
    error = instance(cls)
    response = client.get(raising(client, error))
    assert response.status_code == error.status
    assert response.json() == {"error": {"code": error.code, "message": error.message}}


@pytest.mark.parametrize("error", [StoreUnavailable("PostgreSQL unavailable: the detail"),
                                   PersistenceError("the event store's detail")],
                         ids=["ours", "the event store's"])
def test_a_store_outage_says_only_retry_later(client: TestClient, error: Exception) -> None:
    response = client.get(raising(client, error))
    assert (response.status_code, response.headers["retry-after"]) == (503, "5")
    assert response.json()["error"] == {"code": "store_unavailable",
                                        "message": "the store is unavailable; retry later"}
    assert "detail" not in response.text


def test_the_console_shows_an_error_page_with_its_title(client: TestClient) -> None:
    path = raising(client, PER_INSTANCE[ConsoleError], "/console/test-raise")
    response = client.get(path)
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    assert "No such sender" in response.text and "No sender “x”." in response.text
    login = raising(client, instance(every_error_named("LoginRequired")), "/console/test")
    response = client.get(login, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


def every_error_named(name: str) -> type[ExpectedError]:
    return next(cls for cls in every_error() if cls.__name__ == name)
