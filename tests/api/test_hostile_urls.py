"""A NUL in any URL is a 400 on both stores (it made PostgreSQL queries raise: a 500), for the
API and the console alike; token names are printable text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

NUL_URLS = [
    ("GET", "/v1/addresses?q=%00"),
    ("GET", "/v1/addresses?status=bounced&q=a%00b"),
    ("GET", "/v1/addresses?q=%00&limit=5"),
    ("GET", "/v1/profiles/a%00b"),
    ("PUT", "/v1/profiles/a%00b/email"),
    ("GET", "/v1/senders/a%00b"),
    ("POST", "/v1/senders/a%00b/resume"),
    ("DELETE", "/v1/tokens/a%00b"),
    ("GET", "/v1/addresses/a%00b@example.com"),
    ("GET", "/v1/addresses/a@example.com/history?cursor=%00"),
    ("GET", "/v1/addresses/a@example.com/status-at?at=2026-01-01%00"),
    ("DELETE", "/v1/addresses/a@example.com?reason=%00"),
]
CONSOLE_NUL_URLS = ["/console/addresses?q=%00", "/console/profiles/a%00b",
                    "/console/lookup?profile=a%00b", "/console/senders/a%00b",
                    "/console/addresses/a%00@example.com"]


@pytest.mark.parametrize(("method", "url"), NUL_URLS)
def test_a_nul_in_an_api_url_is_a_400(client: TestClient, headers: dict[str, dict[str, str]],
                                      method: str, url: str) -> None:
    response = client.request(method, url, headers=headers["admin"], json={"reason": "r"})
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


@pytest.mark.parametrize("url", CONSOLE_NUL_URLS)
def test_a_nul_in_a_console_url_is_a_400_page(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


def test_a_search_without_nul_still_works(client: TestClient,
                                          headers: dict[str, dict[str, str]]) -> None:
    response = client.get("/v1/addresses?q=%25_%5C", headers=headers["viewer"])
    assert (response.status_code, response.json()["addresses"]) == (200, [])


@pytest.mark.parametrize("name", ["a\x01b", "bell\x07", "tab\there", "line\nbreak",
                                  "rtl\u202eoverride", "zero\u200bwidth", "a/b"])
def test_token_names_must_be_printable(client: TestClient, headers: dict[str, dict[str, str]],
                                       name: str) -> None:
    response = client.post("/v1/tokens", headers=headers["admin"],
                           json={"role": "viewer", "name": name})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_name")


def test_a_nul_in_a_token_name_never_reaches_the_store(client: TestClient,
                                                       headers: dict[str, dict[str, str]]
                                                       ) -> None:
    """JSON bodies are made storable first (``api/storable.py``): NUL arrives as U+FFFD."""
    response = client.post("/v1/tokens", headers=headers["admin"],
                           json={"role": "viewer", "name": "a\x00b"})
    assert response.status_code == 201 and response.json()["name"] == "a\ufffdb"
