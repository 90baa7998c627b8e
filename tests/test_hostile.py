"""Hostile inputs: every case ends converted or in rejects.jsonl with a reason, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from helpers import can_chmod_unreadable, output_files, record_text, value

from converter.cli import cli

HOSTILE = Path(__file__).resolve().parent / "hostile"
FIG = "https://pfocr.wikipathways.org/figures/"

# file name -> (expected stage, or "converted"; a piece of the reason a person would read)
EXPECTED: dict[str, tuple[str, str]] = {
    "PMC100001__good.md": ("converted", ""),
    "PMC100002__no-front-matter.md": ("yaml", "no YAML front matter"),
    "PMC100003__unterminated.md": ("yaml", "unterminated YAML front matter"),
    "PMC100004__invalid-yaml.md": ("yaml", "invalid YAML front matter at line"),
    "PMC100005__yaml-list.md": ("yaml", "front matter is a list, expected a mapping"),
    "PMC100006__yaml-scalar.md": ("yaml", "front matter is a str, expected a mapping"),
    "PMC100007__empty.md": ("read", "file is empty"),
    "PMC100008__alias-bomb.md": ("yaml", "anchors/aliases"),
    "PMC100009__no-figid.md": ("record", "field 'figid' is missing"),
    "PMC100010__no-jsonld.md": ("record", "field 'schema-jsonld' is missing"),
    "PMC100011__no-id.md": ("record", "schema-jsonld.@id' is missing"),
    "PMC100012__keywords-string.md": ("record", "keywords must be a list"),
    "PMC100013__typed-keywords.md": ("converted", ""),
    "PMC100014__remote-context.md": ("expand", "must be the schema.org context"),
    "PMC100015__object-context.md": ("expand", "must be the schema.org context"),
    "PMC100016__id-disagrees.md": ("record", "schema-jsonld.@id is"),
    "PMC100017__duplicate.md": ("converted", ""),
    "more/PMC100017__duplicate.md": ("duplicate", "already converted from"),
    "PMC100018__iri-illegal-doi.md": ("converted", ""),
    "PMC100019__sidecar-wrong-columns.md": ("sidecar", "genes table has columns gene, symbol"),
    "PMC100020__sidecar-ragged.md": ("sidecar", "line 3 has 4 fields, the header has 11"),
    "PMC100021__sidecar-gene-id-text.md": ("converted", ""),  # the row left out, a warning
    "PMC100022__sidecar-all-na.md": ("converted", ""),
    "PMC100024__name-mismatch.md": ("record", "but the file name says"),
    "PMC100025__license-text.md": ("expand", "neither CC0 nor an absolute IRI"),
    "PMC100026__python-tag.md": ("yaml", "is not allowed"),
    "PMC100027__crlf-bom.md": ("converted", ""),
    "PMC100028__keyword-mapping.md": ("record", "keywords holds a dict"),
    "PMC100029__score-text.md": ("validate", "classifier score"),
    "PMC100030__year-malformed.md": ("validate", "four-digit year"),
    "PMC100031__chemical-unknown-source.md": ("converted", ""),  # the row left out, a warning
    "PMC100032__curie-wrong-prefix.md": ("converted", ""),  # the row left out, a warning
    "PMC100033__jsonld-list.md": ("expand", "blank nodes"),
    "PMC100034__bad-gzip.md.gz": ("read", "not a valid gzip file"),
    "PMC100035__organisms-na.md": ("converted", ""),
    "PMC100036__not-utf8.md": ("read", "not valid UTF-8 text (line 3"),
    "PMC100037__binary.md": ("read", "not valid UTF-8"),
    "PMC100038__gzipped.md.gz": ("converted", ""),
    "PMC100039__unicode.md": ("converted", ""),
    "PMC100040__null-values.md": ("converted", ""),
    # made by the fixture below, not stored in the repository:
    "PMC100041__huge-caption.md": ("converted", ""),
    "PMC100042__unreadable.md": ("read", "cannot read file"),
    "PMC100043__caption-controls.md": ("converted", ""),
    "PMC100044__giant-caption.md": ("enrich", "values over 12 MiB are refused"),
}
ORPHANS = ["PMC100023__orphan-genes.tsv"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Convert a copy of the hostile corpus plus the cases made here, in one run."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(HOSTILE, root, dirs_exist_ok=True, symlinks=True)
    figures = root / "db" / "_figures"
    huge = "A huge caption. " * (10 * 1024 * 1024 // 16)
    (figures / "PMC100041__huge-caption.md").write_text(
        record_text("PMC100041__huge-caption", description=huge)
    )
    unreadable = figures / "PMC100042__unreadable.md"
    unreadable.write_text(record_text("PMC100042__unreadable"))
    if not can_chmod_unreadable(unreadable):  # root reads anything: a dangling link instead
        unreadable.unlink()
        unreadable.symlink_to(root / "gone.md")
    else:
        unreadable.chmod(0)
    giant = "A giant caption. " * (13 * 1024 * 1024 // 17)
    (figures / "PMC100044__giant-caption.md").write_text(
        record_text("PMC100044__giant-caption", description=giant)
    )
    (figures / "loop").symlink_to(figures)  # a symlink loop inside the input folder
    out = root / "out"
    result = CliRunner().invoke(
        cli, ["convert", str(root / "db"), str(root / "more"), "-o", str(out), "-f", "nt,ttl"]
    )
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    return {"root": root, "out": out, "result": result, "rejects": rejects}


def test_the_corpus_has_at_least_30_cases() -> None:
    assert len(EXPECTED) >= 30


def test_run_exits_1_and_accounts_for_every_record(run: dict[str, Any]) -> None:
    result = run["result"]
    assert result.exit_code == 1, result.output
    converted = sum(1 for stage, _ in EXPECTED.values() if stage == "converted")
    rejected = len(EXPECTED) - converted
    assert (
        f"{len(EXPECTED)} records read: {converted} converted, {rejected} rejected ["
        in result.stdout
    )
    stages = Counter(stage for stage, _ in EXPECTED.values() if stage != "converted")
    listed = ", ".join(f"{n} {s}" for s, n in sorted(stages.items()))
    assert f"rejected [{listed}]; " in result.stdout
    assert len(run["rejects"]) == rejected
    # the first five rejections on the terminal, and how many more are in rejects.jsonl
    lines = result.stderr.splitlines()
    start = lines.index(f"{rejected} records rejected, all listed in {run['out']}/rejects.jsonl:")
    shown = [f"  {r['file']} ({r['stage']}): {r['reason']}" for r in run["rejects"][:5]]
    assert lines[start + 1 : start + 7] == [*shown, f"  … and {rejected - 5} more"]


@pytest.mark.parametrize("name", [n for n, (stage, _) in EXPECTED.items() if stage != "converted"])
def test_each_rejected_case_says_where_and_why(run: dict[str, Any], name: str) -> None:
    stage, reason = EXPECTED[name]
    rows = [r for r in run["rejects"] if r["file"].endswith("/" + name)]
    assert len(rows) == 1, [r["file"] for r in run["rejects"]]
    (row,) = rows
    assert set(row) >= {"file", "figid", "stage", "reason"}
    assert row["stage"] == stage, row
    assert reason in row["reason"], row


def test_converted_cases_are_in_the_output(run: dict[str, Any]) -> None:
    quads = list(ox.parse(path=run["out"] / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES))
    figures = {value(q.subject) for q in quads if value(q.subject).endswith(".html")}
    expected = {
        FIG + n.split("/")[-1].removesuffix(".gz").removesuffix(".md") + ".html"
        for n, (stage, _) in EXPECTED.items()
        if stage == "converted"
    }
    assert figures == expected


def test_outputs_parse_in_rdflib_too(run: dict[str, Any]) -> None:
    graph = rdflib.Graph().parse(run["out"] / "pfocr.ttl", format="turtle")
    lines = (run["out"] / "pfocr.nt").read_bytes().splitlines(keepends=True)
    # rdflib's N-Triples parser takes minutes on the 10 MB caption line (its Turtle parser
    # does not): that line is checked by pyoxigraph only.
    short = b"".join(line for line in lines if len(line) < 1_000_000)
    nt = rdflib.Graph().parse(data=short, format="nt")
    assert len(nt) == len(lines) - 1
    assert len(graph) == len(set(ox.parse(path=run["out"] / "pfocr.nt")))


def test_a_row_with_a_malformed_id_is_left_out_and_said(run: dict[str, Any]) -> None:
    store = ox.Store()
    store.load(path=run["out"] / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    left_out = ox.NamedNode("https://pfocr.wikipathways.org/vocab#leftOutRow")
    found = {
        (value(q.subject), value(q.object)) for q in store.quads_for_pattern(None, left_out, None)
    }
    assert found == {
        (
            f"{FIG}PMC100021__sidecar-gene-id-text.html",
            "genes table, line 2: ncbigene_id 'TP53' is malformed",
        ),
        (
            f"{FIG}PMC100031__chemical-unknown-source.html",
            "chemicals table, line 2: unknown source 'KEGG' (known: MESH, CHEBI)",
        ),
        (
            f"{FIG}PMC100032__curie-wrong-prefix.html",
            "chemicals table, line 2: expected a mesh: id, got 'chebi:15422'",
        ),
    }
    report = (run["out"] / "validation.ttl").read_text(encoding="utf-8")
    assert report.count("pfocr:leftOutRow") == 3  # each reported as a warning
    assert not [t for t in store if "ncbigene/TP53" in str(t) or "C00002" in str(t)]


def test_typed_keywords_stay_as_written(run: dict[str, Any]) -> None:
    figure = ox.NamedNode(FIG + "PMC100013__typed-keywords.html")
    keywords = ox.NamedNode("http://schema.org/keywords")
    store = ox.Store()
    store.load(path=run["out"] / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    found = {value(q.object) for q in store.quads_for_pattern(figure, keywords, None)}
    assert found == {"On", "NO", "yes", "1e5", "0x1F", "2001-01-01", "TP53"}


def test_illegal_iri_characters_are_percent_encoded(run: dict[str, Any]) -> None:
    text = (run["out"] / "pfocr.nt").read_text(encoding="utf-8")
    assert (
        "<https://doi.org/10.1002/(SICI)%3C1097%3E%20%22x%22%20%7By%7D%7Cz%5C%5Cw%5Ev%60u>" in text
    )


def test_unicode_and_control_characters_survive(run: dict[str, Any]) -> None:
    text = (run["out"] / "pfocr.ttl").read_text(encoding="utf-8")
    assert "α-synuclein – β-catenin “signaling” 🧬" in text  # noqa: RUF001
    graph = rdflib.Graph().parse(run["out"] / "pfocr.ttl", format="turtle")
    figure = rdflib.URIRef(FIG + "PMC100043__caption-controls.html")
    caption = str(graph.value(figure, rdflib.URIRef("http://schema.org/description")))
    assert caption == (
        "Bell \a, escape \x1b, NUL \x00, DEL \x7f, "
        'line\nbreak, tab\tend \u2028 "quoted" back\\slash'
    )


def test_orphan_sidecar_is_listed_not_rejected(run: dict[str, Any]) -> None:
    assert "; 1 orphan sidecar\n" in run["result"].stdout
    assert f"orphan sidecar (no figure): {run['root'] / 'db' / '_data' / ORPHANS[0]}" in (
        run["result"].stderr
    )


def test_no_temporary_files_left(run: dict[str, Any]) -> None:
    assert sorted(os.listdir(run["out"])) == [
        ".pfocr-state",
        "dataset.ttl",
        "pfocr.nt",
        "pfocr.ttl",
        "rejects.jsonl",
        "validation.ttl",
    ]


def test_pyshacl_engine_writes_the_same_bytes(run: dict[str, Any]) -> None:
    root, out = run["root"], run["out"]
    reference = root / "out-pyshacl"
    args = ["convert", str(root / "db"), str(root / "more"), "-o", str(reference), "-f", "nt,ttl"]
    result = CliRunner().invoke(cli, [*args, "--shacl-engine", "pyshacl"])
    assert result.exit_code == run["result"].exit_code == 1
    assert any(row["stage"] == "validate" for row in run["rejects"])  # findings were compared
    assert output_files(reference) == {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
