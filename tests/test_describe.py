"""dataset.ttl: the HCLS shapes hold, and every count equals what SPARQL counts in the output."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
import shacl
from helpers import EXAMPLES, PROJECT, SAMPLE

from converter.convert import ConvertOptions, convert_to_folder
from converter.describe import LINK_TARGETS, Counts, Statistics, Tally

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
PREFIXES = f"PREFIX void: <{VOID}> PREFIX dcat: <{DCAT}> PREFIX dct: <{DCT}> "


@pytest.fixture(scope="module", params=["examples", "sample"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = EXAMPLES if request.param == "examples" else SAMPLE
    if not (folder / "_figures").is_dir():
        pytest.skip(f"{folder} is not present")
    out = tmp_path_factory.mktemp(f"{request.param}-described")
    convert_to_folder([str(folder)], out, ConvertOptions(formats=["nt", "ttl", "nq.gz"]))
    return out


def description(out: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=out / "dataset.ttl", format=ox.RdfFormat.TURTLE)
    return store


def values(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query)
    assert isinstance(solutions, ox.QuerySolutions)
    return sorted(tuple(term.value for term in row) for row in solutions)


def test_the_description_passes_the_hcls_shapes(run: Path) -> None:
    shapes = shacl.Shapes.from_file(str(PROJECT / "shapes" / "dataset-shapes.ttl"))
    report = shapes.validate_file(str(run / "dataset.ttl"))
    assert report.conforms, report.turtle
    # and the shapes can fail: the same description without its version
    text = (run / "dataset.ttl").read_text()
    assert "pav:version" in text
    unversioned = text.replace("pav:version", "rdfs:comment")
    assert not shapes.validate_text(unversioned, format="turtle").conforms


def test_counts_are_what_sparql_counts_in_the_output(run: Path) -> None:
    output = ox.Store()
    output.bulk_load(path=run / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    described = description(run)
    distribution = ox.NamedNode(
        next(
            d
            for (d,) in values(described, "SELECT ?d { ?v dcat:distribution ?d }")
            if d.endswith("/pfocr.nt")
        )
    )

    def stated(query: str) -> list[tuple[str, ...]]:
        return values(described, query.replace("?dist", str(distribution)))

    def counted(query: str) -> list[tuple[str, ...]]:
        return values(output, query)

    lines = len((run / "pfocr.nt").read_bytes().splitlines())
    assert stated("SELECT ?n { ?dist void:triples ?n }") == [(str(lines),)]
    assert stated("SELECT ?n { ?dist void:distinctSubjects ?n }") == counted(
        "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"
    )
    assert stated(
        "SELECT ?c ?n { ?dist void:classPartition [ void:class ?c ; void:entities ?n ] }"
    ) == counted("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c")
    assert stated(
        "SELECT ?p ?n { ?dist void:propertyPartition [ void:property ?p ; void:triples ?n ] }"
    ) == counted("SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p")
    assert stated("SELECT ?n { ?dist void:properties ?n }") == counted(
        "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }"
    )
    assert stated("SELECT ?n { ?dist void:classes ?n }") == counted(
        "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }"
    )
    for target, spaces in LINK_TARGETS.items():
        starts = " || ".join(f'STRSTARTS(STR(?o), "{space}")' for space in spaces)
        (expected,) = counted(
            f"SELECT (COUNT(*) AS ?n) {{ ?s ?p ?o FILTER (isIRI(?o) && ({starts})) }}"
        )
        links = stated(
            f'SELECT ?n {{ ?dist void:subset [ a void:Linkset ; dct:title "Links to {target}" ; '
            "void:triples ?n ] }"
        )
        assert links == ([expected] if expected != ("0",) else []), target


def test_each_distribution_states_its_file(run: Path) -> None:
    found = values(
        description(run),
        "SELECT ?d ?size ?type { ?v dcat:distribution ?d . ?d dcat:byteSize ?size ; "
        "dcat:mediaType ?type }",
    )
    media = "http://www.iana.org/assignments/media-types/"
    expected = {
        "pfocr.nt": f"{media}application/n-triples",
        "pfocr.ttl": f"{media}text/turtle",
        "pfocr.nq.gz": f"{media}application/n-quads",
    }
    assert {d.rsplit("/", 1)[1]: (int(size), kind) for d, size, kind in found} == {
        name: ((run / name).stat().st_size, kind) for name, kind in expected.items()
    }
    assert gzip.decompress((run / "pfocr.nq.gz").read_bytes())  # a real gzip file


def test_the_description_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    one, two = tmp_path / "one", tmp_path / "two"
    convert_to_folder([str(EXAMPLES)], one, ConvertOptions(formats=["nt"], jobs=1))
    convert_to_folder([str(EXAMPLES)], two, ConvertOptions(formats=["nt"], jobs=2, batch_size=1))
    assert (one / "dataset.ttl").read_bytes() == (two / "dataset.ttl").read_bytes()
    assert b"dct:created" not in (one / "dataset.ttl").read_bytes()  # no clock in the output
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    convert_to_folder([str(EXAMPLES)], two, ConvertOptions(formats=["nt"]))
    assert b'dct:created "2023-11-14T22:13:20Z"' in (two / "dataset.ttl").read_bytes()
    convert_to_folder(
        [str(EXAMPLES)], two, ConvertOptions(formats=["nt"], created="2026-01-02T03:04:05Z")
    )
    assert b'dct:created "2026-01-02T03:04:05Z"' in (two / "dataset.ttl").read_bytes()


def test_the_version_follows_the_content(tmp_path: Path) -> None:
    def version(out: Path) -> list[tuple[str, ...]]:
        return values(
            description(out),
            "SELECT ?v { ?d dct:isVersionOf ?s ; <http://purl.org/pav/version> ?v }",
        )

    convert_to_folder([str(EXAMPLES)], tmp_path / "all", ConvertOptions(formats=["nt"]))
    fewer = tmp_path / "fewer"
    convert_to_folder(
        [str(EXAMPLES / "_figures" / "PMC9000003__ex-p53-f1.md")],
        fewer,
        ConvertOptions(formats=["nt"]),
    )
    assert version(tmp_path / "all") != version(fewer)
    assert version(tmp_path / "all")[0][0].startswith("content-")


def test_shared_facts_counted_from_their_lines_are_those_of_the_triples() -> None:
    """Counting shared facts by the terms of their N-Triples lines gives the counts of the
    parsed triples (literals with spaces, language tags, datatypes, blank nodes, links)."""
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    figure, gene = (
        ox.NamedNode("urn:x:figure"),
        ox.NamedNode("https://identifiers.org/ncbigene/7157"),
    )
    label, mentions = ox.NamedNode("urn:x:label"), ox.NamedNode("http://schema.org/mentions")
    triples = [
        ox.Triple(figure, rdf_type, ox.NamedNode("http://schema.org/ImageObject")),
        ox.Triple(figure, mentions, gene),
        ox.Triple(gene, rdf_type, ox.NamedNode("urn:x:Gene")),
        ox.Triple(gene, label, ox.Literal("tumor protein p53 . <urn:x:not-a-link>")),
        ox.Triple(gene, label, ox.Literal('p53 "quoted"', language="en")),
        ox.Triple(ox.BlankNode("b1"), label, ox.Literal("7", datatype=ox.NamedNode("urn:x:int"))),
        ox.Triple(figure, mentions, ox.NamedNode("http://purl.obolibrary.org/obo/CHEBI_15377")),
    ]
    expected = Counts()
    expected.add([(str(triple.predicate), str(triple.object)) for triple in triples])
    ntriples = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert ntriples is not None
    statistics = Statistics()
    statistics.add_record(str(figure.value), b"", Tally(), ntriples)
    assert statistics.counts == expected
    assert expected.links == {"NCBI Gene": 1, "ChEBI": 1}
    assert expected.classes == {"<http://schema.org/ImageObject>": 1, "<urn:x:Gene>": 1}
