"""Write stage pieces: each shared fact written once, gzip outputs, atomic files."""

from __future__ import annotations

import errno
import gzip
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, output_files

from converter.atomic import AtomicFiles
from converter.cli import cli
from converter.convert import ConvertOptions, convert_to_folder
from converter.describe import DATASET
from converter.vocab import PREFIXES


def test_each_triple_is_written_once(tmp_path: Path) -> None:
    # the examples' four records state 42 shared facts twice or three times (hand-counted:
    # genes MAPK1, MAPK3, SOS1 and their taxon in two figures, the paper of two figures).
    # 521 distinct (hand-counted from the sidecars): 426 before the WikiPathways terms, plus
    # 4 a figure (wp:Pathway, dc:identifier, dc:source, dc:title), 4 a distinct gene (14) and
    # ChEBI compound (2) (wp:DataNode, dcterms:identifier, dc:identifier, dc:source), 13 HGNC
    # symbols (the human genes), 2 pfocr:organismName (wp:organismName: one per taxon,
    # so the figure with two taxa has two)
    summary, _ = convert_to_folder(
        [str(EXAMPLES)], tmp_path, ConvertOptions(formats=["ttl", "nt", "nq"])
    )
    nt = (tmp_path / "pfocr.nt").read_bytes().splitlines()
    nq = (tmp_path / "pfocr.nq").read_bytes().splitlines()
    assert len(nt) == len(set(nt)) == len(nq) == len(set(nq)) == summary.triples == 521
    turtle = {q.triple for q in ox.parse(path=tmp_path / "pfocr.ttl", format=ox.RdfFormat.TURTLE)}
    ntriples = {
        q.triple for q in ox.parse(path=tmp_path / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    }
    assert turtle == ntriples
    whole = ox.serialize(
        ox.parse(path=tmp_path / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES),
        format=ox.RdfFormat.TURTLE,
        prefixes=PREFIXES,
    )
    assert (tmp_path / "pfocr.ttl").read_bytes() == whole  # fragments join into one document


ALL_FORMATS = ["ttl", "nt", "nq", "trig", "jsonld"]


def test_gzip_outputs_are_the_plain_bytes_compressed_the_same_every_run(tmp_path: Path) -> None:
    both = [*ALL_FORMATS, *(f"{name}.gz" for name in ALL_FORMATS)]
    one, two = tmp_path / "one", tmp_path / "two"
    convert_to_folder([str(EXAMPLES)], one, ConvertOptions(formats=both, jobs=1))
    convert_to_folder([str(EXAMPLES)], two, ConvertOptions(formats=both, jobs=2, batch_size=1))
    for name in ALL_FORMATS:
        packed = (one / f"pfocr.{name}.gz").read_bytes()
        assert gzip.decompress(packed) == (one / f"pfocr.{name}").read_bytes(), name
        assert packed == (two / f"pfocr.{name}.gz").read_bytes(), name  # same bytes every run
        # each gzip member's header: no time stamp (bytes 4-7), no file name (flag 0x08)
        assert packed[:3] == b"\x1f\x8b\x08" and packed[3] & 0x08 == 0
        assert packed[4:8] == b"\x00\x00\x00\x00", name


def test_only_compressed_outputs_leave_no_plain_copy(tmp_path: Path) -> None:
    out, store = tmp_path / "out", tmp_path / "store"
    options = ConvertOptions(formats=["nt.gz", "trig.gz"], store=store)
    summary, _ = convert_to_folder([str(EXAMPLES)], out, options)
    assert sorted(p.name for p in out.iterdir()) == [
        ".pfocr-state",
        "dataset.ttl",
        "pfocr.nt.gz",
        "pfocr.trig.gz",
        "rejects.jsonl",
        "validation.ttl",
    ]
    figure_graphs_and_default = ox.Store(str(store)).query(
        "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } "
        f"FILTER (?g != <{DATASET}>) }} }}"
    )
    assert isinstance(figure_graphs_and_default, ox.QuerySolutions)
    assert [int(row[0].value) for row in figure_graphs_and_default] == [summary.triples]
    assert summary.triples == 521
    trig = gzip.decompress((out / "pfocr.trig.gz").read_bytes())
    assert len(list(ox.parse(trig, format=ox.RdfFormat.TRIG))) == 521


def test_load_and_validate_read_gzip_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert_to_folder([str(EXAMPLES)], out, ConvertOptions(formats=["nq", "nq.gz", "ttl.gz"]))
    runner = CliRunner()
    for name in ("pfocr.nq", "pfocr.nq.gz"):
        store = tmp_path / f"store-{name}"
        result = runner.invoke(cli, ["load", str(out / name), "--store", str(store)])
        assert result.exit_code == 0 and "521 quads in 4 named graphs" in result.output, name
    plain = ox.Store(str(tmp_path / "store-pfocr.nq"))
    packed = ox.Store(str(tmp_path / "store-pfocr.nq.gz"))
    assert set(plain) == set(packed)
    for name in ("pfocr.nq", "pfocr.nq.gz", "pfocr.ttl.gz"):
        result = runner.invoke(cli, ["validate", str(out / name), "-o", str(tmp_path / name)])
        assert result.exit_code == 0 and "0 rejected" in result.output, (name, result.output)


def test_committed_files_replace_their_targets_and_leave_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "old.nt").write_bytes(b"old")
    reader = open(tmp_path / "old.nt", "rb")  # noqa: SIM115 - a reader of the old file
    files = AtomicFiles(tmp_path)
    files.temp_for("old.nt").write_bytes(b"new")
    files.temp_for("new.nt").write_bytes(b"first")
    assert sorted(files.commit()) == [tmp_path / "new.nt", tmp_path / "old.nt"]
    assert (tmp_path / "old.nt").read_bytes() == b"new"
    assert (tmp_path / "new.nt").read_bytes() == b"first"
    assert reader.read() == b"old"  # the old file, still whole for whoever had it open
    reader.close()
    files.close()  # the old file deleted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.nt", "old.nt"]
    mode = (tmp_path / "new.nt").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # the usual mode of a new file


def test_a_folder_in_the_way_of_an_output_is_an_error_and_stays(tmp_path: Path) -> None:
    (tmp_path / "pfocr.nt").mkdir()
    files = AtomicFiles(tmp_path)
    files.temp_for("pfocr.nt").write_bytes(b"new")
    with pytest.raises(OSError, match="a folder is in the way"):
        files.commit()
    assert (tmp_path / "pfocr.nt").is_dir()


@pytest.mark.parametrize("command", ["convert", "validate"])
def test_an_output_that_cannot_be_put_in_place_is_named(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, [command, str(EXAMPLES), "-o", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (out / "rejects.jsonl").unlink()
    (out / "rejects.jsonl").mkdir()  # a folder where an output goes
    result = CliRunner().invoke(cli, [command, str(EXAMPLES), "-o", str(out)])
    assert result.exit_code == 1
    assert f"cannot write {out / 'rejects.jsonl'}: a folder is in the way" in result.output
    assert "(no output was changed)" in result.output and "Traceback" not in result.output
    del before["rejects.jsonl"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_outputs_put_in_place_only_in_part_are_said_to_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    assert CliRunner().invoke(cli, ["convert", str(EXAMPLES), "-o", str(full)]).exit_code == 0
    assert CliRunner().invoke(cli, ["convert", str(EXAMPLES), "-o", str(out)]).exit_code == 0
    replace = os.replace
    calls = []

    def second_fails(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        replace(source, target)

    monkeypatch.setattr("converter.atomic.os.replace", second_fails)
    result = CliRunner().invoke(cli, ["convert", str(EXAMPLES), "-o", str(out), "--full"])
    assert result.exit_code == 1
    assert f"cannot put {calls[1]} in place: Input/output error" in result.output
    assert "may hold some of this run's outputs beside the last run's" in result.output
    assert "no output was changed" not in result.output and "Traceback" not in result.output
    monkeypatch.undo()  # the next run puts OUTDIR right
    assert CliRunner().invoke(cli, ["convert", str(EXAMPLES), "-o", str(out)]).exit_code == 0
    assert output_files(out) == output_files(full)
