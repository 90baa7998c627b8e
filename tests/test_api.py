"""The Python API: the same records, rejections, findings and answers as the command line."""

from __future__ import annotations

import doctest
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from helpers import EXAMPLES, PROJECT, oxigraph_server, record_text, report_findings
from test_store import EXPECTED

import converter
from converter.cli import cli
from converter.vocab import SH, figure_iri

HOSTILE = Path(__file__).resolve().parent / "hostile"
FIGURE = "https://pfocr.wikipathways.org/figures/PMC9000001__ex-mapk-g001.html"


def cli_convert(inputs: list[str], out: Path) -> tuple[str, set[ox.Quad], list[Any]]:
    """The summary line, the N-Quads and the rejects of ``pfocr-rdf convert``."""
    result = CliRunner().invoke(cli, ["convert", *inputs, "-o", str(out), "-f", "nq", "-q"])
    assert result.exit_code in (0, 1), result.output
    quads = set(ox.parse(path=out / "pfocr.nq", format=ox.RdfFormat.N_QUADS))
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    return result.stdout.splitlines()[0], quads, rejects


def finding_rows(conversion: converter.Conversion) -> set[tuple[str | None, ...]]:
    """The API's findings as :func:`report_findings` gives a validation.ttl's."""
    return {
        (
            figure_iri(f["figid"]),
            SH + f["severity"],
            f["focus"],
            f["path"] if f["path"] and not f["path"].startswith(("<", "^")) else None,
            f["value"],
            f["message"],
        )
        for f in conversion.findings
        if f["figid"] is not None
    }


@pytest.mark.parametrize("corpus", ["examples", "sample", "hostile"])
def test_convert_gives_what_the_command_line_writes(
    corpus: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    folder = {"examples": EXAMPLES, "hostile": HOSTILE}.get(corpus)
    inputs = str(folder or request.getfixturevalue("sample"))
    line, quads, rejects = cli_convert([inputs], tmp_path / "out")
    # the hostile corpus fills two batches: with jobs=2 they go to worker processes
    result = converter.convert([inputs], jobs=2 if corpus == "hostile" else 1)
    store = result.oxigraph()
    assert len(store) == len(quads) == result.summary.triples
    assert set(store) == quads
    assert result.rejected == rejects
    assert result.summary.line() == line
    assert finding_rows(result) == report_findings(tmp_path / "out" / "validation.ttl")
    assert len(result.rdflib()) == len(quads)
    if corpus == "hostile":
        assert result.rejected and all(row["reason"] for row in result.rejected)


def test_record_text_is_converted_and_a_bad_one_rejected() -> None:
    broken = record_text("PMC2__broken", year="20x0")
    result = converter.convert([record_text("PMC1__text"), broken, "---\nno: figid\n---\n"])
    assert (result.summary.read, result.summary.converted, result.summary.rejected) == (3, 1, 2)
    assert [(r["file"], r["figid"], r["stage"]) for r in result.rejected] == [
        ("<record 2>", "PMC2__broken", "validate"),
        ("<record 3>", None, "record"),
    ]
    assert "four-digit year" in result.rejected[0]["reason"]
    assert result.rejected[0]["violations"][0]["severity"] == "Violation"
    assert {g.value for g in result.oxigraph().named_graphs()} == {figure_iri("PMC1__text")}


def test_one_input_may_be_given_alone_and_without_validation() -> None:
    result = converter.convert(EXAMPLES, validate=False)
    assert result.summary.converted == 4 and result.findings == []
    assert len(result.oxigraph()) == len(converter.convert([str(EXAMPLES)]).oxigraph())


def test_unusable_arguments_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"input not found: .*nowhere"):
        converter.convert([str(EXAMPLES), str(tmp_path / "nowhere")])
    with pytest.raises(ValueError, match="unknown SHACL engine 'jena'; choose from shacl"):
        converter.convert(EXAMPLES, engine="jena")
    with pytest.raises(ValueError, match="jobs must be 1 or more"):
        converter.convert(EXAMPLES, jobs=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no record \(\.md, \.md\.gz\) in the folder .*empty"):
        converter.convert([str(EXAMPLES), tmp_path / "empty"])
    with pytest.raises(ValueError, match="no input given"):
        converter.convert([])
    store = converter.convert(EXAMPLES).oxigraph()
    with pytest.raises(FileNotFoundError, match="no store folder"):
        converter.query(tmp_path / "nowhere", "genes-per-figure")
    with pytest.raises(ValueError, match="no bundled query named 'gene-per-figure'"):
        converter.query(store, "gene-per-figure")
    with pytest.raises(converter.QueryError, match="SPARQL syntax"):
        converter.query(store, "SELECT * WHERE { ?s ?p }")
    with pytest.raises(converter.QueryError, match=r"no variable \?fgid .* \?figid"):
        converter.query(store, "genes-of-figure", fgid="PMC9000002__ex-glycolysis-f2")
    with pytest.raises(TypeError, match="not int"):
        converter.query(store, "genes-of-figure", figid=3)  # type: ignore[arg-type]


def cli_rows(store: Path, query: str, *binds: str) -> list[dict[str, str]]:
    """``pfocr-rdf query -f json``: each row's values as text."""
    args = ["query", query, "--store", str(store), "-f", "json"]
    result = CliRunner().invoke(cli, [*args, *(a for b in binds for a in ("--bind", b))])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return [{k: v["value"] for k, v in row.items()} for row in data["results"]["bindings"]]


def test_query_knows_the_data_model_prefixes() -> None:
    store = converter.convert(EXAMPLES).oxigraph()
    figures = converter.query(store, "SELECT ?f WHERE { ?f a pfocr:Figure }")
    assert len(figures) == 4
    rows = converter.query(store, "pathways-of-gene", id="ncbigene:5594")
    assert [row["pathwayId"] for row in rows] == [
        "PMC9000001__ex-mapk-g001",
        "PMC9000001__ex-mapk-g002",
    ]


def test_query_gives_the_answers_of_the_command_line(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    result = CliRunner().invoke(
        cli, ["convert", str(EXAMPLES), "-o", str(tmp_path / "out"), "--store", str(store_dir)]
    )
    assert result.exit_code == 0, result.output
    memory = converter.convert(EXAMPLES).oxigraph()
    expected = cli_rows(store_dir, "genes-per-figure")
    assert len(expected) == 4
    for store in (memory, store_dir, str(store_dir)):
        rows = converter.query(store, "genes-per-figure")
        assert [{k: str(v) for k, v in row.items()} for row in rows] == expected
        assert all(isinstance(r["figure"], rdflib.URIRef) and type(r["genes"]) is int for r in rows)
    genes = cli_rows(store_dir, "genes-of-figure", "figid=PMC9000001__ex-mapk-g001")
    assert len(genes) == 8
    rows = converter.query(memory, "genes-of-figure", figid="PMC9000001__ex-mapk-g001")
    assert [{k: str(v) for k, v in row.items()} for row in rows] == genes
    text = "SELECT ?gene WHERE { ?figure <http://schema.org/mentions> ?gene } ORDER BY ?gene"
    mentioned = {r["gene"] for r in converter.query(memory, text, figure=f"<{FIGURE}>")}
    assert len(mentioned) == 8
    for iri in (ox.NamedNode(FIGURE), rdflib.URIRef(FIGURE)):
        assert {r["gene"] for r in converter.query(memory, text, figure=iri)} == mentioned
    assert converter.query(memory, text, figure=FIGURE) == []  # a string, not the IRI
    assert converter.query(memory, f"ASK {{ <{FIGURE}> ?p ?o }}") == [{"ask": True}]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples converted into a store folder by ``pfocr-rdf convert --store``."""
    root = tmp_path_factory.mktemp("api-store")
    args = ["convert", str(EXAMPLES), "-o", str(root / "out"), "--store", str(root / "db")]
    result = CliRunner().invoke(cli, [*args, "-q"])
    assert result.exit_code == 0, result.output
    return root / "db"


@pytest.fixture(scope="module")
def endpoint(store_dir: Path) -> Iterator[str]:
    """A read-only ``oxigraph serve`` of that store on 127.0.0.1 and a free port."""
    with oxigraph_server(store_dir, read_only=True) as server:
        yield server.query


@pytest.mark.parametrize(("name", "binds"), list(EXPECTED))
def test_every_bundled_query_answers_as_on_the_command_line(
    store_dir: Path, endpoint: str, name: str, binds: tuple[str, ...]
) -> None:
    """The hand-derived tables of test_store.py, from a store in memory, a store folder and
    an endpoint."""
    bindings = dict(bind.split("=", 1) for bind in binds)
    memory = converter.convert(EXAMPLES).oxigraph()
    for store in (memory, store_dir, endpoint):
        rows = converter.query(store, name, **bindings)
        cells = [["" if v is None else str(v) for v in row.values()] for row in rows]
        assert cells == EXPECTED[(name, binds)], store


def python_section(readme: Path) -> str | None:
    """The ```python block under the README's "## Python" heading, if it has one."""
    if not readme.is_file():
        return None
    section = re.search(r"^## Python\n(.*?)(?=^## |\Z)", readme.read_text(), re.M | re.S)
    block = section and re.search(r"^```python\n(.*?)^```", section[1], re.M | re.S)
    return block[1] if block else None


def run_example(text: str) -> None:
    """Run a README example as a doctest (its ``>>>`` lines, their output compared)."""
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md ## Python", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert test.examples and runner.failures == 0, "the README's Python example failed"


def test_the_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    example = python_section(PROJECT / "README.md")
    if example is None:
        pytest.skip("README.md has no ```python block under '## Python' yet")
    monkeypatch.chdir(PROJECT)  # the example names examples/ as a user in a clone would
    run_example(example)
