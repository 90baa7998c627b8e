"""The real PFOCR records of ../shared/pfocr-real and ../shared/pfocr-sample: every record
converted, and its genes, chemicals, diseases and taxa exactly those its sidecars (or, in the
older layout without a sidecar, its inline lists) state. Expected values are read from the
TSV and YAML files here, independently of the converter. Skipped when the folders are absent."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml
from click.testing import CliRunner
from helpers import REAL, SAMPLE

from converter.cli import cli
from converter.convert import ConvertOptions, convert_to_folder

FIG = "https://pfocr.wikipathways.org/figures/"
GENE = "https://identifiers.org/ncbigene/"
MESH = "http://id.nlm.nih.gov/mesh/"
CHEBI = "https://identifiers.org/chebi/CHEBI:"
DOID = "http://purl.obolibrary.org/obo/DOID_"
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
ID_MISSING = {"", "NA", "NaN", ".na.character"}
"""How the real data writes a missing id, count or name."""
WORD_MISSING = {"", "NaN", ".na.character"}
"""A missing OCR word: ``NA`` is a word (it found the Drosophila gene na)."""
PREFIXES = """
PREFIX schema: <http://schema.org/>
PREFIX pfocr: <https://pfocr.wikipathways.org/vocab#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX wp: <http://vocabularies.wikipathways.org/wp#>
"""
CLASS = {"gene": "GeneMention", "chemical": "ChemicalMention", "disease": "DiseaseMention"}


def given(value: Any, missing: set[str] = ID_MISSING) -> str | None:
    text = "" if value is None else str(value).strip()
    return None if text in missing else text


@dataclass
class Said:
    """What a corpus's files state, per figure IRI."""

    figures: set[str] = field(default_factory=set)
    mentions: dict[str, set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    """(kind, entity IRI, OCR word) of each row with an id."""
    equivalents: set[tuple[str, str]] = field(default_factory=set)
    taxa: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    older: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The front matter of the records in the older layout."""


def table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


INLINE_GENES = {"entrez": "ncbigene_id", "hgnc_symbol": "ncbigene_symbol", "word": "word"}


def read_corpus(folders: list[Path]) -> Said:
    said = Said()
    for folder in folders:
        for record in sorted((folder / "_figures").glob("*.md")):
            figid = record.stem
            figure = f"{FIG}{figid}.html"
            said.figures.add(figure)
            front = front_matter(record)
            if "pmc_ranked_result_index" in front:
                said.older[figure] = front
            for kind in ("genes", "chemicals", "diseases"):
                path = folder / "_data" / f"{figid}-{kind}.tsv"
                if path.is_file():
                    rows = table(path)
                elif kind == "genes":
                    items = front.get("genes") or []
                    rows = [{INLINE_GENES.get(k, k): str(v) for k, v in i.items()} for i in items]
                else:
                    rows = [{k: str(v) for k, v in item.items()} for item in front.get(kind) or []]
                for row in rows:
                    add_row(said, figure, kind, row)
    return said


def add_row(said: Said, figure: str, kind: str, row: dict[str, str]) -> None:
    word = given(row.get("word"), WORD_MISSING) or ""
    if kind == "genes":
        if gene := given(row.get("ncbigene_id")):
            said.mentions[figure].add(("gene", f"{GENE}{gene}", word))
            if (taxid := given(row.get("organism_id"))) and (name := given(row["organism_name"])):
                said.taxa[figure].add((f"{TAXON}{taxid}", name))
        return
    singular = kind.removesuffix("s")
    if "identifier" in row and "mesh" not in row:  # word, source, identifier
        local, source = given(row["identifier"]), (given(row["source"]) or "").upper()
        if local is not None:
            entity = f"{MESH}{local}" if source == "MESH" else f"{CHEBI}{local.split(':')[-1]}"
            said.mentions[figure].add((singular, entity, word))
        return
    mesh, other = given(row.get("mesh")), given(row.get("chebi") or row.get("doid"))
    if mesh is not None:
        entity = f"{MESH}{mesh.removeprefix('mesh:')}"
        said.mentions[figure].add((singular, entity, word))
        if other is not None:
            prefix, number = other.split(":")
            said.equivalents.add((entity, f"{CHEBI if prefix == 'chebi' else DOID}{number}"))
    elif other is not None and kind == "chemicals":
        said.mentions[figure].add((singular, f"{CHEBI}{other.split(':')[-1]}", word))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[ox.Store, Said, Path]:
    folders = [f for f in (REAL, SAMPLE) if (f / "_figures").is_dir()]
    if REAL not in folders:
        pytest.skip(f"{REAL} is not present")
    out = tmp_path_factory.mktemp("real")
    summary, _ = convert_to_folder([str(f) for f in folders], out, ConvertOptions(["nq"]))
    said = read_corpus(folders)
    assert (out / "rejects.jsonl").read_text() == ""
    assert (summary.read, summary.converted, summary.rejected) == (len(said.figures),) * 2 + (0,)
    store = ox.Store()
    store.bulk_load(path=out / "pfocr.nq", format=ox.RdfFormat.N_QUADS)
    return store, said, out


def select(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(term.value if term is not None else "" for term in row) for row in solutions]


def test_every_figure_is_converted(converted: tuple[ox.Store, Said, Path]) -> None:
    store, said, _ = converted
    found = select(store, "SELECT ?f WHERE { ?f a pfocr:Figure }")
    assert {f for (f,) in found} == said.figures and len(said.figures) >= 93


def test_mentions_are_those_the_sidecars_state(converted: tuple[ox.Store, Said, Path]) -> None:
    # genes, chemicals and diseases in both layouts: each (entity, OCR word) pair, exactly
    store, said, _ = converted
    found: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    kind_of = {f"https://pfocr.wikipathways.org/vocab#{c}": k for k, c in CLASS.items()}
    for figure, cls, entity, word in select(
        store,
        """SELECT ?f ?c ?e ?w WHERE { ?f pfocr:hasMention ?m . ?m a ?c ; pfocr:mentionOf ?e .
                                       OPTIONAL { ?m pfocr:ocrText ?w } }""",
    ):
        found[figure].add((kind_of[cls], entity, word))
    assert dict(found) == {f: m for f, m in said.mentions.items() if m}
    mentioned = select(store, "SELECT ?f ?e WHERE { ?f a pfocr:Figure ; schema:mentions ?e }")
    assert set(mentioned) == {(f, e) for f, ms in said.mentions.items() for _k, e, _w in ms}


def test_the_fly_gene_na_keeps_its_ocr_word(converted: tuple[ox.Store, Said, Path]) -> None:
    store, said, _ = converted
    figure = f"{FIG}PMC10030510__fimmu-14-1140749-g002.html"
    assert ("gene", f"{GENE}45338", "NA") in said.mentions[figure]
    found = select(
        store,
        f"""SELECT ?w ?s WHERE {{ <{figure}> pfocr:hasMention ?m .
            ?m pfocr:mentionOf <{GENE}45338> ; pfocr:ocrText ?w .
            <{GENE}45338> rdfs:label ?s }}""",
    )
    assert found == [("NA", "na")]


def test_chebi_and_doid_equivalents(converted: tuple[ox.Store, Said, Path]) -> None:
    store, said, _ = converted
    found = select(
        store,
        f"""SELECT ?m ?x WHERE {{ ?m skos:exactMatch ?x .
            FILTER(STRSTARTS(STR(?m), "{MESH}")) }}""",
    )
    assert set(found) == said.equivalents


def test_each_taxon_with_its_name(converted: tuple[ox.Store, Said, Path]) -> None:
    # WikiPathways' species pattern finds a figure for each species of its genes
    store, said, _ = converted
    found = select(
        store,
        """SELECT ?f ?t ?n WHERE { ?f a pfocr:Figure ; wp:organism ?t ; wp:organismName ?n .
                                    ?t rdfs:label ?n }""",
    )
    assert set(found) == {(f, t, n) for f, taxa in said.taxa.items() for t, n in taxa}


def test_the_older_front_matter_layout(converted: tuple[ox.Store, Said, Path]) -> None:
    store, said, _ = converted
    assert len(said.older) >= 20
    for figure, front in said.older.items():
        found = select(
            store,
            f"""SELECT ?score ?name WHERE {{ <{figure}> pfocr:pathwayScore ?score ;
                                                  pfocr:organismName ?name }}""",
        )
        assert found == [(str(front["pathway_score"]), front["organisms"])], figure


def test_the_warnings_are_about_missing_values(converted: tuple[ox.Store, Said, Path]) -> None:
    # a figure without gene ids (its genes rows all lack one) and a gene whose symbol is NA
    _store, _said, out = converted
    report = ox.Store()
    report.load(path=out / "validation.ttl", format=ox.RdfFormat.TURTLE)
    found = select(
        report,
        """PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT DISTINCT ?severity ?message WHERE {
            [] sh:resultSeverity ?severity ; sh:resultMessage ?message }""",
    )
    assert {message for _severity, message in found} == {
        "No gene of this figure has an NCBI Gene id"
        " (no genes sidecar, or no row with ncbigene_id).",
        "The gene has no symbol (column ncbigene_symbol is NA).",
    }
    assert {severity for severity, _message in found} == {"http://www.w3.org/ns/shacl#Warning"}


def test_validating_the_output_gives_the_same_findings(
    converted: tuple[ox.Store, Said, Path], tmp_path: Path
) -> None:
    _store, said, out = converted
    result = CliRunner().invoke(cli, ["validate", str(out / "pfocr.nq"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    # convert's warnings: 6 sample figures without genes rows, 4 real genes whose symbol is NA
    warnings = (out / "validation.ttl").read_text().count("sh:resultSeverity sh:Warning")
    assert warnings == (10 if (SAMPLE / "_figures").is_dir() else 4)
    n = len(said.figures)
    checked = (
        f"{n} records checked: {n} valid, 0 rejected; SHACL: 0 violations, {warnings} warnings"
    )
    assert checked in result.stdout
