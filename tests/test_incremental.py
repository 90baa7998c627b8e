"""Re-runs into the same OUTDIR: only changed records are converted, and the outputs are the
bytes of a full run on the same inputs."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, genes_tsv, output_files, record_text, write_db

from converter.cli import cli
from converter.state import INDEX_BLOCK, KeptIndex, KeptState

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
    text = convert(db, out)
    assert "5 records unchanged since the last run (their kept outcomes taken), 0 converted" in text
    assert output_files(out) == first
    assert "1 rejected" in text  # a rejected record stays rejected until its input changes


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
    kept = next((out / ".pfocr-state").iterdir())
    assert len((kept / "index.tsv").read_text().splitlines()) == 5  # not the removed one


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


def test_a_damaged_kept_outcome_is_converted_again(tmp_path: Path) -> None:
    db, out = database(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    kept = next((out / ".pfocr-state").iterdir())
    for line in (kept / "index.tsv").read_text().splitlines()[:3]:
        _key, pack, offset, length = line.split("\t")
        data = bytearray((kept / pack).read_bytes())
        data[int(offset) + int(length) // 2] ^= 0xFF  # one byte changed in the entry
        (kept / pack).write_bytes(bytes(data))
    # other formats: no output to copy from, so every kept outcome is read back
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", "ttl,nq"])
    assert "3 outcomes kept in" in result.stderr and "were damaged" in result.stderr
    assert "2 records unchanged" in result.stdout
    assert output_files(out) == full_run(db, tmp_path / "other", "-f", "ttl,nq")
    full_run(db, out)
    (kept / "index.tsv").write_text("not an index\n")
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS])
    assert "is damaged: every record is converted again" in result.stderr
    assert "unchanged since the last run" not in result.stdout
    assert output_files(out) == first
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


def copied(text: str) -> int:
    """How many records a run says it copied from the last run's outputs."""
    found = re.search(r"; (\d+) copied from its outputs", text)
    return int(found.group(1)) if found else 0


def test_an_unchanged_rerun_copies_every_record_from_the_last_outputs(tmp_path: Path) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    text = convert(db, out)
    assert copied(text) == 24
    assert output_files(out) == first


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
    assert 0 < copied(text) < 22
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
    assert "duplicate" in (out / "rejects.jsonl").read_text() and copied(text) > 0
    shutil.rmtree(full, ignore_errors=True)
    run(full, twin, db)
    assert output_files(out) == output_files(full)
    text = run(out, db)
    assert copied(text) > 0
    assert output_files(out) == full_run(db, full)


def test_a_record_written_anew_from_a_damaged_kept_outcome_is_converted_again(
    tmp_path: Path,
) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    convert(db, out)
    kept = next((out / ".pfocr-state").iterdir())
    for line in (kept / "index.tsv").read_text().splitlines():  # every kept outcome damaged
        _key, pack, offset, length = line.split("\t")
        data = bytearray((kept / pack).read_bytes())
        data[int(offset) + int(length) // 2] ^= 0xFF
        (kept / pack).write_bytes(bytes(data))
    (db / "_figures" / "PMC2000__f0.md").unlink()  # the records after it state facts first
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS])
    assert result.exit_code == 0, result.output
    assert 0 < copied(result.stdout) < 23 and "were damaged" in result.stderr
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
    assert copied(text) == 0 and "24 records unchanged" in text
    assert output_files(out) == first


def test_an_output_cut_short_by_a_power_failure_is_written_whole(tmp_path: Path) -> None:
    """Outputs are not forced to disk: after a power failure a file can keep its size with
    a hole where data never reached the disk. Such an output is not copied from."""
    db, out = release(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    output = out / "pfocr.nt"
    before = output.stat()
    with open(output, "r+b") as stream:  # the same file, its data after 4 KiB lost
        stream.truncate(4096)
        stream.truncate(before.st_size)
        if os.lseek(stream.fileno(), 0, os.SEEK_HOLE) >= before.st_size:
            pytest.skip("this file system does not report holes")
    os.utime(output, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert output.stat().st_ino == before.st_ino and output.stat().st_size == before.st_size
    text = convert(db, out)
    assert copied(text) == 0 and "24 records unchanged" in text
    assert output_files(out) == first


def test_a_damaged_layout_is_not_used(tmp_path: Path) -> None:
    db, out = release(tmp_path), tmp_path / "out"
    first = full_run(db, out)
    layout = next((out / ".pfocr-state").iterdir()) / "layout.npz"
    data = bytearray(layout.read_bytes())
    data[len(data) // 2] ^= 0xFF
    layout.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-f", FORMATS])
    assert "the layout of the last run" in result.stderr and "is damaged" in result.stderr
    assert copied(result.stdout) == 0
    assert output_files(out) == first
    assert copied(convert(db, out)) == 24  # the run saved a sound layout again


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
        folders = list((out / ".pfocr-state").glob("*")) if out.is_dir() else []
        if folders and len(list(folders[0].glob("*.pack"))) >= 10:  # 50 records kept
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (out / "pfocr.nt").exists()  # killed before the outputs were in place
    text = convert(db, out)
    assert "records unchanged since the last run" in text
    assert output_files(out) == full_run(db, tmp_path / "full")


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
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # unbuffered: the write that finds the disk full leaves nothing for close to retry
    with open(small_disk / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
        while True:  # the disk fills up
            filler.write(bytes(65536))
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "--full"])
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "no output was changed" in result.output
    assert "Traceback" not in result.output
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # the outputs and the kept state of the previous run


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


def test_the_kept_index_maps_each_key_to_its_last_location() -> None:
    """The compact index behaves as a dict of record keys: the last location set wins,
    keys come back in the order first set, unknown keys are absent."""
    keys = [f"{n:032x}" for n in (7, 2**127 + 3, 42)]
    index = KeptIndex()
    index[keys[0]] = ("a.pack", 0, 120)
    index[keys[1]] = ("a.pack", 120, 2**40)
    index[keys[2]] = ("b.pack", 0, 9)
    index[keys[0]] = ("c.pack", 5, 6)  # kept again in a later pack
    assert len(index) == 3
    assert index.get(keys[0]) == ("c.pack", 5, 6)
    assert index.get(keys[1]) == ("a.pack", 120, 2**40)
    assert index.get(f"{8:032x}") is None
    assert [key for key, _ in index.items()] == keys
    assert index.packs() == {"a.pack", "b.pack", "c.pack"}
    index.update({keys[1]: ("c.pack", 11, 1)})
    assert index.packs() == {"b.pack", "c.pack"}


def test_the_kept_index_is_written_and_read_back_whole(tmp_path: Path) -> None:
    """An index longer than the blocks it is written in comes back entry for entry, and
    the packs no entry lies in are deleted with it."""
    kept = KeptState(tmp_path, "fingerprint")
    kept.prepare()
    index = KeptIndex()
    for number in range(2 * INDEX_BLOCK + 1):
        index[f"{number:032x}"] = (f"{number % 3}.pack", number * 10, number + 1)
    for name in ("0.pack", "1.pack", "2.pack", "3.pack"):
        (kept.folder / name).write_bytes(b"")
    kept.write_index(index)
    again, notice = kept.read_index()
    assert notice is None and list(again.items()) == list(index.items())
    assert sorted(p.name for p in kept.folder.iterdir()) == [
        "0.pack",
        "1.pack",
        "2.pack",
        "index.tsv",
    ]
