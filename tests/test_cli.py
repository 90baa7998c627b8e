"""The ``pfocr-rdf convert`` contract: files, rejects report, summary, exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, output_files, record_text, write_db

from converter.cli import cli


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_examples_convert_with_exit_0(tmp_path: Path) -> None:
    code, out, _ = run("convert", str(EXAMPLES), "-o", str(tmp_path), "-j", "1")
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".pfocr-state",
        "dataset.ttl",
        "pfocr.nt",
        "pfocr.ttl",
        "rejects.jsonl",
        "validation.ttl",
    ]
    assert "4 records read: 4 converted, 0 rejected; 521 triples;" in out
    # 8 + 5 + 4 genes with ids in the three example figures with genes sidecars; TP53 and
    # MDM2 of the figure without sidecars have none.
    assert "genes: 17 with NCBI Gene ids, 2 symbols without" in out
    assert (tmp_path / "rejects.jsonl").read_text() == ""


def test_some_rejected_gives_exit_1_and_rejects_rows(tmp_path: Path) -> None:
    db = write_db(
        tmp_path / "db",
        {
            "PMC1__good": record_text("PMC1__good"),
            "PMC2__bad-id": record_text(
                "PMC2__bad-id", jsonld_id="https://pfocr.wikipathways.org/figures/PMC2__x.html"
            ),
            "PMC3__no-fm": "just text\n",
        },
    )
    code, out, err = run("convert", str(db), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "3 records read: 1 converted, 2 rejected [1 record, 1 yaml]; " in out
    assert "(ok)" not in out
    rejects = tmp_path / "out" / "rejects.jsonl"
    code, _, checked = run("validate", str(db), "-o", str(tmp_path / "checked"))
    assert code == 1
    assert f"2 records rejected, all listed in {tmp_path / 'checked' / 'rejects.jsonl'}:" in checked
    assert err.splitlines()[-3:] == [
        f"2 records rejected, all listed in {rejects}:",
        f"  {db / '_figures' / 'PMC2__bad-id.md'} (record): schema-jsonld.@id is "
        "'https://pfocr.wikipathways.org/figures/PMC2__x.html' but figid "
        "'PMC2__bad-id' means 'https://pfocr.wikipathways.org/figures/PMC2__bad-id.html'",
        f"  {db / '_figures' / 'PMC3__no-fm.md'} (yaml): no YAML front matter: the file must "
        "start with a '---' line",
    ]
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()
    ]
    assert [(Path(r["file"]).name, r["figid"], r["stage"]) for r in rows] == [
        ("PMC2__bad-id.md", "PMC2__bad-id", "record"),
        ("PMC3__no-fm.md", "PMC3__no-fm", "yaml"),
    ]
    assert "@id" in rows[0]["reason"] and "front matter" in rows[1]["reason"]
    graphs = ox.parse(path=tmp_path / "out" / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    assert {q.subject.value for q in graphs} >= {
        "https://pfocr.wikipathways.org/figures/PMC1__good.html"
    }


def test_duplicate_figid_second_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "PMC1__dup.md").write_text(record_text("PMC1__dup"))
    code, _, _ = run("convert", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "o"))
    assert code == 1
    (row,) = [json.loads(x) for x in (tmp_path / "o" / "rejects.jsonl").read_text().splitlines()]
    assert row["stage"] == "duplicate" and row["file"].startswith(str(tmp_path / "b"))
    first = tmp_path / "a" / "PMC1__dup.md"
    assert row["reason"] == f"figid 'PMC1__dup' was already converted from {first}"


def test_stdin_record(tmp_path: Path) -> None:
    code, out, _ = run("convert", "-", "-o", str(tmp_path), stdin=record_text().encode())
    assert code == 0 and "1 record read: 1 converted, 0 rejected; " in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["convert", "missing-folder", "-o", "x"], "input not found: missing-folder"),
        (["convert", "examples", "-o", "x", "-f", "ttl,xml"], "unknown format 'xml'"),
        (["convert", "examples"], "Missing option '-o'"),
        (["convert", "-o", "x"], "Missing argument 'INPUTS...'"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES.parent)
    code, _, err = run(*args)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("command", ["convert", "validate"])
@pytest.mark.parametrize("folder", ["empty", "notes", "examples/_data"])
def test_an_input_holding_no_record_is_a_usage_error(
    tmp_path: Path, command: str, folder: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.txt").write_text("no record here\n")
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    where = tmp_path / folder
    code, out, err = run(command, str(EXAMPLES), str(where), "-o", str(tmp_path / "out"))
    assert code == 2 and out == ""
    assert f"no record (.md, .md.gz) in the folder {where}" in err
    assert ("give the folder above it" in err) == folder.endswith("_data")
    assert not (tmp_path / "out").exists()


def test_all_formats_parse(tmp_path: Path) -> None:
    code, _, _ = run("convert", str(EXAMPLES), "-o", str(tmp_path), "-f", "ttl,nt,nq,trig,jsonld")
    assert code == 0
    counts = {}
    for name in ("ttl", "nt", "nq", "trig", "jsonld"):
        path = tmp_path / f"pfocr.{name}"
        quads = list(ox.parse(path=path, format=ox.RdfFormat.from_extension(name)))
        counts[name] = len({q.triple for q in quads})
    assert len(set(counts.values())) == 1, counts
    trig_graphs = {q.graph_name for q in ox.parse(path=tmp_path / "pfocr.trig")}
    assert len(trig_graphs) == 5  # one per figure, and the default graph of shared facts


def test_output_is_identical_whatever_the_jobs(tmp_path: Path) -> None:
    many = tmp_path / "many"
    for copy in range(3):  # 12 records, in several batches
        shutil.copytree(EXAMPLES, many / f"copy{copy}")
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        run("convert", str(many), "-o", str(out), "-j", jobs, "--batch-size", "2")
        outputs.append(output_files(out))
    assert outputs[0] == outputs[1]
    assert outputs[0]["rejects.jsonl"].count(b'"duplicate"') == 8


def test_failed_run_keeps_previous_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run("convert", str(EXAMPLES), "-o", str(out))
    before = output_files(out)

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("converter.write.reserialize", explode)  # at the end of the run
    with pytest.raises(RuntimeError):
        run("convert", str(EXAMPLES / "_figures" / "PMC9000003__ex-p53-f1.md"), "-o", str(out))
    assert output_files(out) == before


def test_help_says_what_the_readme_says() -> None:
    def help_of(command: str) -> str:
        code, out, _ = run(command, "--help")
        assert code == 0
        return " ".join(out.split())

    assert "130 interrupted" in help_of("convert") and "130 interrupted" in help_of("validate")
    assert "rejects.jsonl, validation.ttl and dataset.ttl" in help_of("convert")
    assert "Worker processes (each converts and validates" in help_of("convert")
    assert "RDF files: in the main process" in help_of("validate")
    assert ".jsonld; each also .gz" in help_of("load")
    assert "With --store the default graph is the union" in help_of("query")
    assert "with --endpoint it is the server's" in help_of("query")


def test_the_readme_lists_every_runtime_dependency() -> None:
    pyproject = (EXAMPLES.parent / "pyproject.toml").read_text()
    block = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    names = re.findall(r'^\s*"([A-Za-z0-9_.-]+)', block, re.MULTILINE)
    readme = (EXAMPLES.parent / "README.md").read_text()
    listed = readme.split("Runtime dependencies:", 1)[1].split("\n\n", 1)[0].lower()
    assert len(names) >= 10
    assert [n for n in names if n.lower() not in listed] == []


def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "pfocr-rdf"
    result = subprocess.run(
        [str(exe), "convert", str(EXAMPLES), "-o", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("4 records read")
