"""Re-runs into the same OUTDIR: only changed records are converted, and the outputs are the
bytes of a full run on the same inputs."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, genes_tsv, output_files, record_text, write_db

from converter.cli import cli
from converter.model import Stage
from converter.outcome import Rejected
from converter.state import KeptState, encode

EXE = str(Path(sys.executable).with_name("pfocr-rdf"))
FORMATS = "ttl,nt,nq,trig,nt.gz"
GENE_ROW = "9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\t7157\tncbigene_symbol\t1\t0\t1"


def convert(db: Path, out: Path, *options: str) -> str:
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS, *options])
    assert result.exit_code in (0, 1), result.output
    return result.output


def full_run(db: Path, out: Path, *options: str) -> dict[str, bytes]:
    shutil.rmtree(out, ignore_errors=True)
    convert(db, out, *options)
    return output_files(out)


def kept_db(out: Path) -> sqlite3.Connection:
    """The kept state of ``out``, opened as any sqlite client opens it."""
    return sqlite3.connect(out / ".pfocr-state" / "state.sqlite", isolation_level=None)


def database(tmp_path: Path) -> Path:
    """A copy of examples/ and one record that is rejected (no description)."""
    db = tmp_path / "db"
    shutil.copytree(EXAMPLES, db)
    broken = record_text("PMC9000009__ex-broken-f1").replace("  description: A test caption.\n", "")
    (db / "_figures" / "PMC9000009__ex-broken-f1.md").write_text(broken)
    return db


def test_an_unchanged_rerun_takes_every_kept_outcome(tmp_path: Path) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    text = convert(db, out)
    assert "5 records unchanged since the last run (their kept outcomes taken), 0 converted" in text
    assert f"outputs unchanged in {out}: nothing written" in text and "wrote" not in text
    assert output_files(out) == first
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == before
    assert "1 rejected" in text  # a rejected record stays rejected until its input changes


def test_inputs_spelled_another_way_take_the_kept_outcomes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    genes = db / "_data" / "PMC9000002__ex-glycolysis-f2-genes.tsv"
    genes.write_text(genes.read_text() + "a\tragged\trow\n")  # a rejection naming the sidecar
    monkeypatch.chdir(tmp_path)
    convert(Path("db"), out)
    text = convert(db, out)  # the same folder, by its absolute path
    # the sidecar's rejection is made again: its reason names the sidecar as spelled now
    assert "4 records unchanged since the last run (their kept outcomes taken), 1 converted" in text
    assert str(genes) in (out / "rejects.jsonl").read_text()
    assert output_files(out) == full_run(db, tmp_path / "full")


def test_edits_additions_removals_and_sidecars_give_a_full_runs_bytes(tmp_path: Path) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    convert(db, out)
    g001 = db / "_figures" / "PMC9000001__ex-mapk-g001.md"
    g001.write_text(g001.read_text().replace("EGFR to ERK signaling", "EGFR to ERK signalling"))
    (db / "_figures" / "PMC9000003__ex-p53-f1.md").unlink()
    (db / "_figures" / "PMC9000004__ex-new-f1.md").write_text(record_text("PMC9000004__ex-new-f1"))
    genes = db / "_data" / "PMC9000001__ex-mapk-g002-genes.tsv"
    genes.write_text(genes.read_text().replace("\tDUSP6\t1848\t", "\tDUSP6\t1849\t"))
    text = convert(db, out)
    # g001 edited, g002's sidecar changed, the new record added: 3 converted; kept: the
    # glycolysis figure and the rejected record
    assert "2 records unchanged since the last run (their kept outcomes taken), 3 converted" in text
    assert output_files(out) == full_run(db, tmp_path / "full")
    with contextlib.closing(kept_db(out)) as kept:  # not the removed one's outcome
        assert kept.execute("SELECT count(*) FROM outcomes").fetchone() == (5,)


def test_an_option_that_changes_conversions_converts_everything(tmp_path: Path) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    convert(db, out)
    result = CliRunner().invoke(
        cli, ["convert", str(db), "-o", str(out), "-f", FORMATS, "--no-validate"]
    )
    assert "was made by another version of pfocr-rdf or with other options" in result.stderr
    assert "unchanged since the last run" not in result.stdout
    assert output_files(out) == full_run(db, tmp_path / "full", "--no-validate")
    text = convert(db, out, "--no-validate", "-f", "ttl")  # other formats: still reused
    assert "5 records unchanged" in text


def test_full_converts_everything_again(tmp_path: Path) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    text = convert(db, out, "--full")
    assert "unchanged since the last run" not in text
    assert output_files(out) == first


def damage_outcomes(out: Path, count: int | None = None) -> None:
    """Change one byte in the middle of ``count`` kept outcomes (all without a count)."""
    with contextlib.closing(kept_db(out)) as kept:
        query = "SELECT key, body FROM outcomes WHERE length(body) > 0 ORDER BY key"
        rows = kept.execute(query).fetchall()
        for key, body in rows[:count] if count is not None else rows:
            damaged = bytearray(body)
            damaged[len(damaged) // 2] ^= 0xFF
            kept.execute("UPDATE outcomes SET body = ? WHERE key = ?", (bytes(damaged), key))


def test_a_damaged_kept_outcome_is_converted_again(tmp_path: Path) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    damage_outcomes(out, 3)
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", "ttl,nq"])
    assert "3 outcomes kept in" in result.stderr and "were damaged" in result.stderr
    assert "2 records unchanged" in result.stdout
    assert output_files(out) == full_run(db, tmp_path / "other", "-f", "ttl,nq")
    assert first == full_run(db, out)


@pytest.mark.parametrize("garbage", [b"not a database at all\n" * 300, b""])
def test_a_damaged_or_foreign_state_is_rebuilt(tmp_path: Path, garbage: bytes) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    (out / ".pfocr-state" / "state.sqlite").write_bytes(garbage)
    (out / ".pfocr-state" / "index.tsv").write_text("kept by an earlier version\n")
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS])
    assert result.exit_code == 1, result.output  # the rejected record
    notices = [line for line in result.stderr.splitlines() if "every record is converted" in line]
    assert len(notices) == 1, result.stderr
    assert "unchanged since the last run" not in result.stdout
    assert output_files(out) == first
    assert sorted(p.name for p in (out / ".pfocr-state").iterdir()) == ["state.sqlite"]
    assert "5 records unchanged" in convert(db, out)  # kept anew
    assert "Traceback" not in result.output


GENES = [("TP53", "7157"), ("EGFR", "1956"), ("KRAS", "3845"), ("MAPK1", "5594"), ("AKT1", "207")]


def gene_rows(*picks: int) -> str:
    """A genes sidecar naming the genes of GENES at ``picks``."""
    rows = [GENE_ROW.replace("TP53", GENES[i][0]).replace("7157", GENES[i][1]) for i in picks]
    return genes_tsv(*rows)


def release(tmp_path: Path) -> Path:
    """24 records whose genes overlap: which record states a gene's facts first depends on
    the records before it."""
    figids = [f"PMC{2000 + i}__f{i}" for i in range(24)]
    return write_db(
        tmp_path / "db",
        {f: record_text(f) for f in figids},
        {f"{f}-genes.tsv": gene_rows(i % 5, (2 * i + 1) % 5) for i, f in enumerate(figids)},
    )


def test_an_unchanged_rerun_leaves_the_outputs_in_place(tmp_path: Path) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    inodes = {path.name: path.stat().st_ino for path in out.iterdir()}
    text = convert(db, out)
    assert "outputs unchanged" in text and "24 records unchanged" in text
    assert output_files(out) == first
    assert {path.name: path.stat().st_ino for path in out.iterdir()} == inodes


@pytest.mark.parametrize("formats", [FORMATS, "nt.gz,nq", "ttl"])
def test_records_whose_first_stated_facts_move_are_written_again(
    tmp_path: Path, formats: str
) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    convert(db, out, "-f", formats)
    figures, data = db / "_figures", db / "_data"
    (figures / "PMC2000__f0.md").unlink()  # stated TP53 and EGFR first: others must now
    (data / "PMC2000__f0-genes.tsv").unlink()
    (figures / "PMC1999__new.md").write_text(record_text("PMC1999__new"))  # before all
    (data / "PMC1999__new-genes.tsv").write_text(gene_rows(3))  # MAPK1 first from now on
    (data / "PMC2010__f10-genes.tsv").write_text(gene_rows(0, 1, 2))
    text = convert(db, out, "-f", formats)
    assert "24 records read" in text
    assert "22 records unchanged since the last run (their kept outcomes taken), 2 con" in text
    assert output_files(out) == full_run(db, tmp_path / "full", "-f", formats)


def test_a_record_that_becomes_a_duplicate_and_back(tmp_path: Path) -> None:
    db, out, full = release(tmp_path), tmp_path / "out", tmp_path / "full"
    twin = tmp_path / "extra" / "PMC2003__f3.md"  # given first: the db's f3 is its duplicate
    twin.parent.mkdir()
    twin.write_text(record_text("PMC2003__f3", figtitle="A twin"))

    def run(folder: Path, *inputs: Path) -> str:
        args = ["convert", *map(str, inputs), "-o", str(folder), "-f", FORMATS]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code in (0, 1), result.output
        return result.output

    run(out, db)
    text = run(out, twin, db)
    assert "duplicate" in (out / "rejects.jsonl").read_text() and "24 records unchanged" in text
    shutil.rmtree(full, ignore_errors=True)
    run(full, twin, db)
    assert output_files(out) == output_files(full)
    text = run(out, db)
    assert "24 records unchanged" in text
    assert output_files(out) == full_run(db, full)


def test_a_record_written_anew_from_a_damaged_kept_outcome_is_converted_again(
    tmp_path: Path,
) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    convert(db, out)
    damage_outcomes(out)
    (db / "_figures" / "PMC2000__f0.md").unlink()  # the records after it state facts first
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS])
    assert result.exit_code == 0, result.output
    assert "23 outcomes kept in" in result.stderr and "were damaged" in result.stderr
    assert output_files(out) == full_run(db, tmp_path / "full")


def test_inputs_given_in_another_order(tmp_path: Path) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    records = sorted(str(path) for path in (db / "_figures").iterdir())
    first, second = records[:12], records[12:]
    runner = CliRunner()
    runner.invoke(cli, ["convert", *first, *second, "-o", str(out), "-f", FORMATS])
    result = runner.invoke(cli, ["convert", *second, *first, "-o", str(out), "-f", FORMATS])
    assert result.exit_code == 0, result.output
    full = tmp_path / "full"
    runner.invoke(cli, ["convert", *second, *first, "-o", str(full), "-f", FORMATS])
    assert output_files(out) == output_files(full)


def test_outputs_changed_since_the_last_run_are_written_whole(tmp_path: Path) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    with open(out / "pfocr.nt", "ab") as stream:
        stream.write(b"<urn:x:s> <urn:x:p> <urn:x:o> .\n")
    text = convert(db, out)
    assert "wrote" in text and "24 records unchanged" in text
    assert output_files(out) == first


def test_an_output_changed_in_place_is_written_whole(tmp_path: Path) -> None:
    """An output with its size and modification time kept but other bytes (as a power
    failure can leave a file whose data never reached the disk) is found by its digest."""
    db, out = release(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    output = out / "pfocr.nq"
    before = output.stat()
    with open(output, "r+b") as stream:
        stream.seek(before.st_size // 2)
        stream.write(b"\0" * 64)
    os.utime(output, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert output.stat().st_size == before.st_size
    text = convert(db, out)
    assert "wrote" in text and "24 records unchanged" in text
    assert output_files(out) == first


def test_the_outputs_of_a_killed_run_are_not_taken_for_the_last_ones(tmp_path: Path) -> None:
    """The note of the last run is replaced only once a run has put its outputs in place."""
    db, out = release(tmp_path), tmp_path / "out"
    full_run(db, out)
    (db / "_figures" / "PMC2001__f1.md").unlink()
    (db / "_data" / "PMC2001__f1-genes.tsv").unlink()
    convert(db, out, "-f", "ttl")  # another format: the note is this run's
    assert "outputs unchanged" not in convert(db, out)
    assert output_files(out) == full_run(db, tmp_path / "full")


def test_a_killed_run_then_a_rerun_gives_the_full_runs_outputs(tmp_path: Path) -> None:
    figids = [f"PMC{1000 + i}__f{i}" for i in range(300)]
    db = write_db(
        tmp_path / "db",
        {f: record_text(f) for f in figids},
        {f"{f}-genes.tsv": genes_tsv(GENE_ROW) for f in figids},
    )
    out = tmp_path / "out"
    process = subprocess.Popen(
        [EXE, "convert", str(db), "-o", str(out), "-q", "-j", "1", "--batch-size", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until some records are kept, and not all
        if kept_outcomes(out) >= 50:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (out / "pfocr.nt").exists()  # killed before the outputs were in place
    text = convert(db, out)
    assert "records unchanged since the last run" in text
    assert output_files(out) == full_run(db, tmp_path / "full")


def kept_outcomes(out: Path) -> int:
    """How many outcomes a run (perhaps still running) has kept in ``out``."""
    if not (out / ".pfocr-state" / "state.sqlite").exists():
        return 0
    try:
        with contextlib.closing(kept_db(out)) as kept:
            return int(kept.execute("SELECT count(*) FROM outcomes").fetchone()[0])
    except sqlite3.OperationalError:  # the tables not made yet
        return 0


def kept_files(out: Path) -> dict[Path, bytes]:
    """Every file of ``out`` (the outputs and the kept state) but sqlite's working files."""
    files = [p for p in out.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm"))]
    return {p.relative_to(out): p.read_bytes() for p in files}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs the right to mount: skipped without it)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)  # lazy: never left busy


def test_a_full_disk_ends_clearly_and_keeps_the_previous_run(
    tmp_path: Path, small_disk: Path
) -> None:
    db, out = database(tmp_path), small_disk / "out"
    convert(db, out)
    before = kept_files(out)
    fill(small_disk)
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "--full"])
    assert result.exit_code == 1
    assert "no output was changed" in result.output
    assert "cannot write" in result.output
    assert "No space left on device" in result.output  # not sqlite's "disk I/O error"
    assert "Traceback" not in result.output
    assert kept_files(out) == before  # the outputs and the kept state of the previous run


def rejected(key: str, reason: str = "no description") -> tuple[str, bytes]:
    return key, encode(Rejected(f"{key}.md", key, Stage.YAML, reason))


def fill(disk: Path) -> Path:
    """Fill ``disk`` to its last byte; return the file that does."""
    filler = disk / "filler"
    # unbuffered: the write that finds the disk full leaves nothing for close to retry
    with open(filler, "wb", buffering=0) as data, contextlib.suppress(OSError):
        while True:
            data.write(bytes(65536))
    return filler


def test_a_batch_that_cannot_be_kept_loses_no_outcome_the_run_took(small_disk: Path) -> None:
    out = small_disk / "out"
    with contextlib.closing(KeptState(out, "test")) as state:
        state.keep([rejected("a"), rejected("b")])
        state.save_run({})
    with contextlib.closing(KeptState(out, "test")) as state:
        state.load("a", ())  # taken by this run
        filler = fill(small_disk)
        state.keep([rejected("c", "x" * (3 << 20))])  # larger than the disk: not kept
        filler.unlink()
        state.save_run({})
    with contextlib.closing(KeptState(out, "test")) as state:
        assert state.keys() == {"a"}  # b was not used; a was, though the next batch failed


def test_a_run_that_cannot_be_noted_says_so_and_its_outputs_stand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    convert(db, out)  # noted
    g001 = db / "_figures" / "PMC9000001__ex-mapk-g001.md"
    g001.write_text(g001.read_text().replace("EGFR to ERK signaling", "EGFR to ERK signalling"))

    def cannot_write(state: KeptState, _note: object) -> None:
        raise OSError(errno.EIO, "disk I/O error", str(state.path))

    with monkeypatch.context() as patch:
        patch.setattr(KeptState, "save_run", cannot_write)
        result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS])
    assert result.exit_code == 1, result.output  # the rejected record
    assert "Traceback" not in result.output
    assert "cannot note this run in" in result.output and "disk I/O error" in result.output
    assert output_files(out) == full_run(db, tmp_path / "full")
    text = convert(db, out)  # the note is the first run's: these outputs are not its
    assert "outputs unchanged" not in text and "wrote" in text
    assert output_files(out) == full_run(db, tmp_path / "full")


def test_validate_into_the_output_folder_keeps_the_conversions_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert(EXAMPLES, out, "-f", "nq,ttl")
    before = output_files(out)
    result = CliRunner().invoke(cli, ["validate", str(out / "pfocr.nq"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    after = output_files(out)
    assert {name: after[name] for name in ("pfocr.nq", "pfocr.ttl", "dataset.ttl")} == {
        name: before[name] for name in ("pfocr.nq", "pfocr.ttl", "dataset.ttl")
    }


def peak_rss_kib(command: list[str]) -> int:
    """The peak RSS of the largest process that ``command`` runs (it or a worker)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_rerun_after_a_same_length_edit_needs_no_more_memory_than_a_full_run(
    tmp_path: Path,
) -> None:
    """3,000 records with long captions (outputs of about 100 MB each); one letter of one
    caption changed: the re-run's peak RSS is at most 1.3x the full run's."""
    caption = "A long caption of a pathway figure, with the genes it names. " * 500
    figids = [f"PMC{10000 + i}__f{i}" for i in range(3000)]
    db = write_db(
        tmp_path / "db",
        {f: record_text(f, description=f"{f} {caption}") for f in figids},
        {f"{f}-genes.tsv": genes_tsv(GENE_ROW) for f in figids},
    )
    out = tmp_path / "out"
    command = [EXE, "convert", str(db), "-o", str(out), "-q", "-f", "ttl,nt,nq"]
    full = peak_rss_kib(command)
    assert (out / "pfocr.nt").stat().st_size > 50_000_000
    edited = db / "_figures" / f"{figids[1500]}.md"
    edited.write_text(edited.read_text().replace("A long caption", "A lung caption", 1))
    rerun = peak_rss_kib(command)
    assert rerun <= 1.3 * full, (rerun, full)
    assert output_files(out) == full_run(db, tmp_path / "full", "-f", "ttl,nt,nq")
