"""Run the real service (uvicorn in a subprocess) for HTTP benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str], workers: int = 1,
                   args: Sequence[str] = ()) -> Iterator[str]:
    """The service under uvicorn on a free port with ``env`` (and extra uvicorn ``args``,
    e.g. ``--http httptools --loop uvloop``); yields its base URL."""
    port = free_port()
    full_env = {**os.environ, **env}
    command = [sys.executable, "-m", "uvicorn", "api.asgi:app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--workers", str(workers),
               *args]
    process = subprocess.Popen(command, env=full_env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("server did not become ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
