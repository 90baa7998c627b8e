"""Fixtures: the real sample (skipped when absent), a network that refuses connections, and
the examples converted and loaded into an embedded store."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, SAMPLE

from converter.cli import cli


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


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples converted to N-Quads and Turtle."""
    out = tmp_path_factory.mktemp("examples-out")
    args = ["convert", str(EXAMPLES), "-o", str(out), "-f", "nq,ttl", "-q"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def store(converted: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Those N-Quads loaded into a new embedded store."""
    folder = tmp_path_factory.mktemp("store") / "db"
    args = ["load", str(converted / "pfocr.nq"), "--store", str(folder)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    # 521 distinct triples; the facts about genes, a taxon and a paper that two or three
    # figures share are in the default graph once
    assert result.exit_code == 0 and "521 quads in 4 named graphs" in result.output, result.output
    return folder
