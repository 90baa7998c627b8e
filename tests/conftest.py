"""Fixtures: the real sample (skipped when absent) and a network that refuses connections."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SAMPLE


@pytest.fixture
def sample() -> Path:
    """The real PFOCR sample beside the project; tests using it skip when it is absent."""
    if not (SAMPLE / "_figures").is_dir():
        pytest.skip("../shared/pfocr-sample is not present")
    return SAMPLE


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Make every outgoing socket connection fail; yields the attempts made."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access attempted during a test that forbids it")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
