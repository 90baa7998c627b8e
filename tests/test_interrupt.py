"""Interrupted runs: a real ``pfocr-rdf`` process killed mid-run leaves no partial file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import genes_tsv, output_files, record_text, write_db

from converter.cli import _interrupts

EXE = str(Path(sys.executable).with_name("pfocr-rdf"))
GENE_ROW = "9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\t7157\tncbigene_symbol\t1\t0\t1"


def corpus(root: Path, count: int) -> Path:
    """``count`` small valid records with genes sidecars."""
    figids = [f"PMC{1000 + i}__f{i}" for i in range(count)]
    return write_db(
        root,
        {f: record_text(f) for f in figids},
        {f"{f}-genes.tsv": genes_tsv(GENE_ROW) for f in figids},
    )


def wait_for(predicate: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("the run did not reach the point to interrupt")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return corpus(tmp_path_factory.mktemp("big"), 1200)  # seconds to run: time to interrupt it


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_killed_run_keeps_previous_outputs(tmp_path: Path, big: Path, sig: signal.Signals) -> None:
    out = tmp_path / "out"
    small = corpus(tmp_path / "small", 3)
    first = subprocess.run([EXE, "convert", str(small), "-o", str(out), "-q"], check=False)
    assert first.returncode == 0
    before = output_files(out)

    process = subprocess.Popen(
        [EXE, "convert", str(big), "-o", str(out), "-q", "-j", "1", "--batch-size", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def staged_is_growing() -> bool:
        staged = list(out.glob(".pfocr.nt.*.tmp"))
        return bool(staged) and staged[0].stat().st_size > 0

    wait_for(staged_is_growing)
    process.send_signal(sig)
    code = process.wait(timeout=60)
    final = {name: data for name, data in output_files(out).items() if not name.startswith(".")}
    assert final == before  # every output is the previous complete version
    if sig != signal.SIGKILL:  # a catchable signal also removes the temporary files
        assert code == 130
        assert b"interrupted: no output was changed" in (
            process.stderr.read() if process.stderr else b""
        )
        assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(before)


def test_killed_first_load_leaves_no_store(tmp_path: Path) -> None:
    nquads = tmp_path / "big.nq"
    quads = (
        ox.Quad(
            ox.NamedNode(f"https://example.org/s{i}"),
            ox.NamedNode(f"https://example.org/p{j}"),
            ox.Literal(f"value {i} {j}"),
            ox.NamedNode(f"https://example.org/g{i // 100}"),
        )
        for i in range(20_000)
        for j in range(15)
    )
    ox.serialize(quads, nquads, ox.RdfFormat.N_QUADS)
    store = tmp_path / "db"
    process = subprocess.Popen([EXE, "load", str(nquads), "--store", str(store)])
    wait_for(lambda: any(tmp_path.glob(".db.loading-*")))
    assert process.poll() is None, "the load finished before it could be interrupted"
    process.kill()
    process.wait(timeout=60)
    assert not store.exists()  # the staging folder was never renamed into place


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupt_dropped_in_a_finalizer_is_raised_again(sig: signal.Signals) -> None:
    with _interrupts() as check:
        check()  # no signal yet: nothing
        try:  # what Python does with an exception raised in a finalizer: drops it
            os.kill(os.getpid(), sig)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        with pytest.raises(KeyboardInterrupt):
            check()
