"""Integration: the real PFOCR sample in ../shared (skipped when it is absent)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from helpers import value

from converter.convert import ConvertOptions, convert_to_folder

NCBIGENE = re.compile(r"^https://identifiers\.org/ncbigene/[0-9]+$")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    sample = Path(__file__).resolve().parent.parent.parent / "shared" / "pfocr-sample"
    if not (sample / "_figures").is_dir():
        pytest.skip("../shared/pfocr-sample is not present")
    out = tmp_path_factory.mktemp("sample-out")
    summary, _ = convert_to_folder([str(sample)], out, ConvertOptions(formats=["ttl", "nt", "nq"]))
    return out, summary


def test_every_sample_record_converts(converted: tuple[Path, object], sample: Path) -> None:
    out, summary = converted
    assert summary.read == 20 == summary.converted  # type: ignore[attr-defined]
    assert summary.violations == 0  # type: ignore[attr-defined]
    assert (out / "rejects.jsonl").read_text() == ""


def test_every_gene_row_with_an_id_is_mentioned(
    converted: tuple[Path, object], sample: Path
) -> None:
    out, _ = converted
    store = ox.Store()
    store.bulk_load(path=out / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    mentions = ox.NamedNode("http://schema.org/mentions")
    checked = 0
    for table in sorted((sample / "_data").glob("*-genes.tsv")):
        figid = table.name.removesuffix("-genes.tsv")
        figure = ox.NamedNode(f"https://pfocr.wikipathways.org/figures/{figid}.html")
        with open(table, encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream, delimiter="\t"):
                if row["ncbigene_id"] not in ("NA", ""):
                    gene = ox.NamedNode(f"https://identifiers.org/ncbigene/{row['ncbigene_id']}")
                    assert list(store.quads_for_pattern(figure, mentions, gene)), (figid, row)
                    checked += 1
    assert checked > 500


def test_no_gene_iri_from_a_symbol(converted: tuple[Path, object], sample: Path) -> None:
    out, _ = converted
    sidecar_ids: set[str] = set()
    for table in (sample / "_data").glob("*-genes.tsv"):
        with open(table, encoding="utf-8", newline="") as stream:
            sidecar_ids.update(r["ncbigene_id"] for r in csv.DictReader(stream, delimiter="\t"))
    nodes = {
        term.value
        for q in ox.parse(path=out / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
        for term in (q.subject, q.object)
        if isinstance(term, ox.NamedNode) and "ncbigene" in term.value
    }
    assert nodes and all(NCBIGENE.match(n) for n in nodes)
    assert {n.rsplit("/", 1)[1] for n in nodes} <= sidecar_ids


def test_every_chebi_id_of_the_chemicals_sidecars_is_in_the_output(
    converted: tuple[Path, object], sample: Path
) -> None:
    out, _ = converted
    sidecar_ids: set[str] = set()
    for table in sample.glob("_data/*-chemicals.tsv"):
        with open(table, encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream, delimiter="\t"):
                if row.get("chebi") not in (None, "NA", ""):  # newer layout: chebi:<n>
                    sidecar_ids.add(row["chebi"].split(":")[-1])
                elif (row.get("source") or "").upper() == "CHEBI":  # older layout
                    sidecar_ids.add(row["identifier"].split(":")[-1])
    compounds = {
        q.subject.value.rsplit(":", 1)[1]
        for q in ox.parse(path=out / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
        if q.predicate.value == "http://vocabularies.wikipathways.org/wp#bdbChEBI"
    }
    assert len(sidecar_ids) > 50
    assert sidecar_ids == compounds


@pytest.mark.parametrize("name", ["pfocr.ttl", "pfocr.nt", "pfocr.nq"])
def test_outputs_parse_in_rdflib_and_pyoxigraph_without_blank_nodes(
    converted: tuple[Path, object], name: str
) -> None:
    out, summary = converted
    path = out / name
    quads = list(ox.parse(path=path, format=ox.RdfFormat.from_extension(path.suffix[1:])))
    terms = [t for q in quads for t in (q.subject, q.object)]
    assert not [t for t in terms if isinstance(t, ox.BlankNode)]
    if name == "pfocr.nq":
        dataset = rdflib.Dataset()
        dataset.parse(path, format="nquads")
        assert len(list(dataset.quads())) == len(set(quads))
    else:
        graph = rdflib.Graph().parse(path, format="turtle" if name.endswith("ttl") else "nt")
        assert len(graph) == len({q.triple for q in quads})
        assert not [t for t in graph.all_nodes() if isinstance(t, rdflib.BNode)]
    if name == "pfocr.nt":
        assert len(quads) == summary.triples  # type: ignore[attr-defined]


def test_schema_prefix_is_http(converted: tuple[Path, object]) -> None:
    out, _ = converted
    turtle = (out / "pfocr.ttl").read_text(encoding="utf-8")
    assert "@prefix schema: <http://schema.org/> ." in turtle
    assert "https://schema.org/" not in turtle


def test_one_named_graph_per_figure(converted: tuple[Path, object]) -> None:
    out, _ = converted
    quads = list(ox.parse(path=out / "pfocr.nq", format=ox.RdfFormat.N_QUADS))
    named = {value(q.graph_name) for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    assert len(named) == 20
    assert all(g.startswith("https://pfocr.wikipathways.org/figures/") for g in named)
    for quad in quads:  # a figure's graph holds what is about it; shared facts are default
        graph = quad.graph_name
        if isinstance(graph, ox.NamedNode):
            assert value(quad.subject).startswith(graph.value) or value(quad.object) == graph.value
        else:
            assert not value(quad.subject).startswith("https://pfocr.wikipathways.org/figures/")
