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
from click.testing import CliRunner
from helpers import genes_tsv, output_files, record_text, write_db

from converter.atomic import AtomicFiles
from converter.cli import cli
from converter.interrupt import interrupts
from converter.state import KeptState

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


@pytest.mark.parametrize(
    ("jobs", "sig", "to_group"),
    [([], signal.SIGINT, True), (["-j", "2"], signal.SIGTERM, False)],
    ids=["default-j-ctrl-c-to-group", "j2-sigterm-to-main"],
)
def test_one_signal_ends_a_run_with_workers(
    tmp_path: Path, big: Path, jobs: list[str], sig: signal.Signals, to_group: bool
) -> None:
    """With worker processes, one Ctrl-C (to the process group, as a terminal sends it) or
    one SIGTERM (to the main process alone) ends the run promptly, in one line."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        [EXE, "convert", str(big), "-o", str(out), "-q", *jobs, "--batch-size", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def staged_is_growing() -> bool:
        staged = list(out.glob(".pfocr.nt.*.tmp"))
        return bool(staged) and staged[0].stat().st_size > 0

    wait_for(staged_is_growing)
    if to_group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    try:
        code = process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("one signal did not end the run") from None
    stderr = process.stderr.read() if process.stderr else b""
    assert code == 130
    assert stderr.strip() == b"interrupted: no output was changed", stderr.decode()
    assert not [p.name for p in out.iterdir() if p.is_file()]


def test_ctrl_c_while_workers_start_prints_one_line(tmp_path: Path, big: Path) -> None:
    """A Ctrl-C that reaches the process group while the worker processes are still importing
    their modules ends the run with the one line, and no worker's traceback."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        [EXE, "convert", str(big), "-o", str(out), "-q", "--batch-size", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def workers_started() -> bool:  # multiprocessing's resource tracker, then a worker
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        return len(children.read_text().split()) >= 2

    wait_for(workers_started, seconds=60)
    time.sleep(0.05)  # the workers are now importing: that takes far longer
    os.killpg(process.pid, signal.SIGINT)
    code = process.wait(timeout=60)
    stderr = process.stderr.read() if process.stderr else b""
    assert (code, stderr.strip()) == (130, b"interrupted: no output was changed")


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
    with interrupts() as check:
        check()  # no signal yet: nothing
        try:  # what Python does with an exception raised in a finalizer: drops it
            os.kill(os.getpid(), sig)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        with pytest.raises(KeyboardInterrupt):
            check()


def test_an_interrupt_while_outputs_are_put_in_place_waits_until_all_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the outputs replace the last run's: every output is the new one, and
    the run does not say that no output was changed."""
    out = tmp_path / "out"
    first = subprocess.run([EXE, "convert", str(corpus(tmp_path / "a", 3)), "-o", str(out)])
    assert first.returncode == 0
    before = output_files(out)
    commit = AtomicFiles.commit

    def interrupted_commit(self: AtomicFiles, owned: bool = False) -> list[Path]:
        os.kill(os.getpid(), signal.SIGINT)  # lands between the first rename and the last
        time.sleep(0.1)
        return commit(self, owned)

    monkeypatch.setattr(AtomicFiles, "commit", interrupted_commit)
    result = CliRunner().invoke(cli, ["convert", str(corpus(tmp_path / "b", 5)), "-o", str(out)])
    assert result.exit_code == 130
    assert f"interrupted after the outputs were written in {out}" in result.output
    assert "no output was changed" not in result.output
    after = output_files(out)
    changed = {name for name in before if not name.startswith(".") and before[name] != after[name]}
    assert {"pfocr.ttl", "pfocr.nt", "dataset.ttl"} <= changed
    assert b"PMC1004__f4" in after["pfocr.nt"]  # all five records: the new run's outputs
    assert not list(out.glob(".*.tmp"))


def test_an_interrupt_while_the_kept_state_is_saved_says_the_outputs_were_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(KeptState, "save_run", interrupted)
    result = CliRunner().invoke(cli, ["convert", str(corpus(tmp_path, 3)), "-o", str(out)])
    assert result.exit_code == 130
    assert "interrupted after the outputs were written" in result.output
    assert b"PMC1002__f2" in (out / "pfocr.nt").read_bytes()
    monkeypatch.undo()  # the next run takes the outcomes kept and writes the outputs again
    again = CliRunner().invoke(cli, ["convert", str(corpus(tmp_path, 3)), "-o", str(out)])
    assert again.exit_code == 0, again.output
    assert "3 records unchanged since the last run (their kept outcomes taken)" in again.output
    assert "wrote" in again.output
