"""SHACL shapes: each fires on a graph that violates it and passes one that conforms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, genes_tsv, record_text, report_findings, value, write_db

from converter.cli import cli
from converter.validate import ENGINES, Finding, engine

PREFIXES = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <http://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix dc: <http://purl.org/dc/elements/1.1/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix wp: <http://vocabularies.wikipathways.org/wp#> .
@prefix pfocr: <https://pfocr.wikipathways.org/vocab#> .
@prefix fig: <https://pfocr.wikipathways.org/figures/> .
"""

# A small graph, written by hand, with one node of every kind the converter emits.
CONFORMING = """
<https://pfocr.wikipathways.org/figures/PMC1__f1.html> a schema:Dataset , pfocr:Figure ,
        wp:Pathway ;
    dcterms:identifier "PMC1__f1" ;
    dc:identifier <https://pfocr.wikipathways.org/figures/PMC1__f1.html> ;
    dc:source "PFOCR" ;
    dcterms:title "A pathway" ;
    dc:title "A pathway"@en ;
    schema:description "A caption." ;
    schema:license <https://creativecommons.org/publicdomain/zero/1.0/> ;
    schema:creator <https://pfocr.wikipathways.org/figures/PMC1__f1.html#creator> ;
    schema:keywords "TP53" ;
    dcterms:isPartOf <https://identifiers.org/pmc/PMC1> ;
    pfocr:pathwayScore "0.9"^^xsd:double ;
    foaf:page <https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1/figure/F1/> ;
    schema:image <https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1/bin/f1.jpg> ;
    pfocr:ndexNetwork
        <https://www.ndexbio.org/viewer/networks/3feb4f7e-df13-11ea-99da-0ac135e8bacf> ;
    pfocr:wikipathwaysPathway <https://identifiers.org/wikipathways/WP5283> ;
    wp:organism <http://purl.obolibrary.org/obo/NCBITaxon_9606> ;
    wp:organismName "Homo sapiens" ;
    schema:mentions <https://identifiers.org/ncbigene/7157> , <http://id.nlm.nih.gov/mesh/D000255> ,
        <http://id.nlm.nih.gov/mesh/D009369> ;
    pfocr:hasMention <https://pfocr.wikipathways.org/figures/PMC1__f1.html#gene-7157-p53> .
<https://pfocr.wikipathways.org/figures/PMC1__f1.html#creator> a schema:Organization ;
    schema:name "WikiPathways" .
<https://identifiers.org/pmc/PMC1> a schema:ScholarlyArticle ;
    dcterms:identifier "PMC1" ;
    dcterms:title "A paper." ;
    schema:datePublished "2020"^^xsd:gYear ;
    schema:sameAs <https://doi.org/10.1000/x.1> ;
    schema:keywords "alpha" .
<https://identifiers.org/ncbigene/7157> a wp:GeneProduct , wp:DataNode ;
    dcterms:identifier "7157" ;
    dc:identifier <https://identifiers.org/ncbigene/7157> ;
    dc:source "Entrez Gene" ;
    wp:bdbHgncSymbol <https://identifiers.org/hgnc.symbol/TP53> ;
    dcterms:isPartOf <https://pfocr.wikipathways.org/figures/PMC1__f1.html> ;
    wp:bdbEntrezGene <https://identifiers.org/ncbigene/7157> ;
    rdfs:label "TP53" ;
    wp:organism <http://purl.obolibrary.org/obo/NCBITaxon_9606> .
<http://purl.obolibrary.org/obo/NCBITaxon_9606> rdfs:label "Homo sapiens" .
<https://pfocr.wikipathways.org/figures/PMC1__f1.html#gene-7157-p53> a pfocr:GeneMention ;
    pfocr:ocrText "p53" ;
    pfocr:mentionOf <https://identifiers.org/ncbigene/7157> ;
    pfocr:directCount 1 ; pfocr:synonymCount 0 ; pfocr:matchCount 1 .
<http://id.nlm.nih.gov/mesh/D000255> a schema:ChemicalSubstance ;
    rdfs:label "Adenosine Triphosphate" ;
    skos:exactMatch <https://identifiers.org/chebi/CHEBI:15422> .
<https://identifiers.org/chebi/CHEBI:15422> a wp:Metabolite , wp:DataNode ;
    dcterms:identifier "CHEBI:15422" ;
    dc:identifier <https://identifiers.org/chebi/CHEBI:15422> ;
    dc:source "ChEBI" ;
    wp:bdbChEBI <https://identifiers.org/chebi/CHEBI:15422> ;
    skos:exactMatch <http://purl.obolibrary.org/obo/CHEBI_15422> ;
    dcterms:isPartOf <https://pfocr.wikipathways.org/figures/PMC1__f1.html> .
<http://id.nlm.nih.gov/mesh/D009369> a schema:MedicalCondition ;
    rdfs:label "Neoplasms" ;
    skos:exactMatch <http://purl.obolibrary.org/obo/DOID_162> .
"""

FIG = "<https://pfocr.wikipathways.org/figures/PMC1__f1.html>"
GENE = "<https://identifiers.org/ncbigene/7157>"
MENTION = "<https://pfocr.wikipathways.org/figures/PMC1__f1.html#gene-7157-p53>"
CHEBI = "<https://identifiers.org/chebi/CHEBI:15422>"
CHEMICAL, DISEASE = "<http://id.nlm.nih.gov/mesh/D000255>", "<http://id.nlm.nih.gov/mesh/D009369>"


def ntriples(turtle: str) -> bytes:
    """A Turtle document (with PREFIXES) as N-Triples, what the engines read."""
    triples = ox.parse((PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None
    return data


def findings(old: str = "", new: str = "", engine_name: str = "shacl") -> list[Finding]:
    """SHACL findings for CONFORMING with ``old`` replaced by ``new`` (appended if no old)."""
    if old:
        assert old in CONFORMING, old
        text = CONFORMING.replace(old, new)
    else:
        text = CONFORMING + new
    return engine(engine_name).validate(ntriples(text))


@pytest.mark.parametrize("engine_name", ENGINES)
def test_the_conforming_graph_has_no_finding(engine_name: str) -> None:
    assert findings(engine_name=engine_name) == []


S, DCT, WPNS = (
    "http://schema.org/",
    "http://purl.org/dc/terms/",
    "http://vocabularies.wikipathways.org/wp#",
)
PF = "https://pfocr.wikipathways.org/vocab#"
DC = "http://purl.org/dc/elements/1.1/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

# (text of CONFORMING, its replacement) -> (shape label, result path or None, severity)
CASES = {
    "figure without description": (
        ('    schema:description "A caption." ;\n', ""),
        ("Figure", f"{S}description", "Violation"),
    ),
    "figure with two descriptions": (
        ("", f'{FIG} schema:description "Another." .'),
        ("Figure", f"{S}description", "Violation"),
    ),
    "figure without title": (
        ('    dcterms:title "A pathway" ;\n', ""),
        ("Figure", f"{DCT}title", "Violation"),
    ),
    "figure without identifier": (
        ('    dcterms:identifier "PMC1__f1" ;\n', ""),
        ("Figure", f"{DCT}identifier", "Violation"),
    ),
    "license that is a literal": (
        (
            "schema:license <https://creativecommons.org/publicdomain/zero/1.0/>",
            'schema:license "CC0"',
        ),
        ("Figure", f"{S}license", "Violation"),
    ),
    "figure without paper": (
        ("    dcterms:isPartOf <https://identifiers.org/pmc/PMC1> ;\n", ""),
        ("Figure", f"{DCT}isPartOf", "Violation"),
    ),
    "score above 1": (
        ('"0.9"^^xsd:double', '"1.5"^^xsd:double'),
        ("Figure", f"{PF}pathwayScore", "Violation"),
    ),
    "score that is text": (
        ('"0.9"^^xsd:double', '"high"'),
        ("Figure", f"{PF}pathwayScore", "Violation"),
    ),
    "gene IRI from a symbol": (
        ("", f"{FIG} schema:mentions <https://identifiers.org/ncbigene/TP53> ."),
        ("Figure", f"{S}mentions", "Violation"),
    ),
    "gene typed with a symbol IRI": (
        (
            "",
            "<https://identifiers.org/ncbigene/TP53> a wp:GeneProduct ; "
            f"wp:bdbEntrezGene <https://identifiers.org/ncbigene/TP53> ; "
            f'dcterms:isPartOf {FIG} ; rdfs:label "TP53" .',
        ),
        ("Gene", None, "Violation"),
    ),
    "figure without gene ids (warning)": (
        ("<https://identifiers.org/ncbigene/7157> , ", ""),
        ("Figure", f"<{S}mentions>/<{RDF_NS}type>", "Warning"),
    ),
    "blank-node creator": (
        (
            "schema:creator <https://pfocr.wikipathways.org/figures/PMC1__f1.html#creator>",
            'schema:creator [ schema:name "WikiPathways" ]',
        ),
        ("Figure", f"{S}creator", "Violation"),
    ),
    "creator without name": (
        ('a schema:Organization ;\n    schema:name "WikiPathways" .', "a schema:Organization ."),
        ("Creator", f"{S}name", "Violation"),
    ),
    "organism not a taxon IRI": (
        ("", f"{FIG} wp:organism <http://example.org/human> ."),
        ("Figure", f"{WPNS}organism", "Violation"),
    ),
    "malformed NDEx id": (
        ("", f"{FIG} pfocr:ndexNetwork <https://www.ndexbio.org/viewer/networks/abc> ."),
        ("Figure", f"{PF}ndexNetwork", "Violation"),
    ),
    "malformed WikiPathways id": (
        ("", f"{FIG} pfocr:wikipathwaysPathway <https://identifiers.org/wikipathways/5283> ."),
        ("Figure", f"{PF}wikipathwaysPathway", "Violation"),
    ),
    "paper with a malformed year": (
        ('"2020"^^xsd:gYear', '"20x3"^^xsd:gYear'),
        ("Paper", f"{S}datePublished", "Violation"),
    ),
    "paper year not a gYear": (
        ('"2020"^^xsd:gYear', '"2020"'),
        ("Paper", f"{S}datePublished", "Violation"),
    ),
    "paper without PMC id": (
        ('    dcterms:identifier "PMC1" ;\n', ""),
        ("Paper", f"{DCT}identifier", "Violation"),
    ),
    "paper DOI not a DOI": (
        ("<https://doi.org/10.1000/x.1>", "<https://doi.org/not-a-doi>"),
        ("Paper", f"{S}sameAs", "Violation"),
    ),
    "paper IRI not PMC": (
        (
            "",
            "<https://identifiers.org/pmc/1234> a schema:ScholarlyArticle ; "
            'dcterms:identifier "PMC1234" .',
        ),
        ("Paper", None, "Violation"),
    ),
    "gene without bdbEntrezGene": (
        ("    wp:bdbEntrezGene <https://identifiers.org/ncbigene/7157> ;\n", ""),
        ("Gene", f"{WPNS}bdbEntrezGene", "Violation"),
    ),
    "gene without symbol (warning)": (
        ('    rdfs:label "TP53" ;\n', ""),
        ("Gene", "http://www.w3.org/2000/01/rdf-schema#label", "Warning"),
    ),
    "gene organism not a taxon": (
        ("", f"{GENE} wp:organism <http://example.org/human> ."),
        ("Gene", f"{WPNS}organism", "Violation"),
    ),
    "mention without entity": (
        ("    pfocr:mentionOf <https://identifiers.org/ncbigene/7157> ;\n", ""),
        ("Mention", f"{PF}mentionOf", "Violation"),
    ),
    "mention without OCR word (warning: one row's missing value)": (
        ('    pfocr:ocrText "p53" ;\n', ""),
        ("Mention", f"{PF}ocrText", "Warning"),
    ),
    "mention with two OCR words": (
        ('pfocr:ocrText "p53" ;', 'pfocr:ocrText "p53" , "P53" ;'),
        ("Mention", f"{PF}ocrText", "Violation"),
    ),
    "mention count not a number (warning)": (
        ("pfocr:directCount 1 ;", 'pfocr:directCount "three" ;'),
        ("Mention", f"{PF}directCount", "Warning"),
    ),
    "mention with two counts (warning: its rows disagree)": (
        ("pfocr:directCount 1 ;", "pfocr:directCount 1 , 2 ;"),
        ("Mention", f"{PF}directCount", "Warning"),
    ),
    "mention outside a figure": (
        (
            f" ;\n    pfocr:hasMention {MENTION} .",
            " .",
        ),
        ("Mention", f"^<{PF}hasMention>", "Violation"),
    ),
    "organism IRI wrong (object of wp:organism)": (
        ("", f'{GENE} wp:organism "9606" .'),
        ("Organism", None, "Violation"),
    ),
    "chemical IRI not MeSH": (
        ("", "<https://identifiers.org/chebi/CHEBI:1> a schema:ChemicalSubstance ."),
        ("Chemical", None, "Violation"),
    ),
    "chemical equivalent not ChEBI": (
        ("", f"{CHEMICAL} skos:exactMatch <http://example.org/x> ."),
        ("Chemical", "http://www.w3.org/2004/02/skos/core#exactMatch", "Violation"),
    ),
    "ChEBI without OBO equivalent": (
        ("    skos:exactMatch <http://purl.obolibrary.org/obo/CHEBI_15422> ;\n", ""),
        ("ChEBI compound", "http://www.w3.org/2004/02/skos/core#exactMatch", "Violation"),
    ),
    "ChEBI IRI wrong form": (
        ("", "<http://purl.obolibrary.org/obo/CHEBI_1> a wp:Metabolite ."),
        ("ChEBI compound", None, "Violation"),
    ),
    "figure not typed wp:Pathway": (
        ("pfocr:Figure ,\n        wp:Pathway ;", "pfocr:Figure ;"),
        ("Figure", f"{RDF_NS}type", "Violation"),
    ),
    "figure without dc:identifier": (
        (f"    dc:identifier {FIG} ;\n", ""),
        ("Figure", f"{DC}identifier", "Violation"),
    ),
    "figure dc:title without a language": (
        ('dc:title "A pathway"@en', 'dc:title "A pathway"'),
        ("Figure", f"{DC}title", "Violation"),
    ),
    "figure dc:title in another language": (
        ('dc:title "A pathway"@en', 'dc:title "A pathway"@de'),
        ("Figure", f"{DC}title", "Violation"),
    ),
    "figure dc:source not PFOCR": (
        ('dc:source "PFOCR"', 'dc:source "Wikipathways"'),
        ("Figure", f"{DC}source", "Violation"),
    ),
    "organism name without a taxon": (
        ("    wp:organism <http://purl.obolibrary.org/obo/NCBITaxon_9606> ;\n", ""),
        ("Organism pairing", f"{WPNS}organism", "Violation"),
    ),
    "organism name not plain text": (
        ('wp:organismName "Homo sapiens" ;', 'wp:organismName "Homo sapiens"@la ;'),
        ("Figure", f"{WPNS}organismName", "Violation"),
    ),
    "a sidecar row left out (warning)": (
        ("", f"{FIG} pfocr:leftOutRow \"genes table, line 2: ncbigene_id 'TP53' is malformed\" ."),
        ("Figure", f"{PF}leftOutRow", "Warning"),
    ),
    "gene with two HGNC symbols (warning: its rows disagree)": (
        ("", f"{GENE} wp:bdbHgncSymbol <https://identifiers.org/hgnc.symbol/P53> ."),
        ("Gene", f"{WPNS}bdbHgncSymbol", "Warning"),
    ),
    "gene not typed wp:DataNode": (
        ("a wp:GeneProduct , wp:DataNode ;", "a wp:GeneProduct ;"),
        ("Gene", f"{RDF_NS}type", "Violation"),
    ),
    "gene identifier not its number": (
        ('dcterms:identifier "7157"', 'dcterms:identifier "ncbigene:7157"'),
        ("Gene", f"{DCT}identifier", "Violation"),
    ),
    "gene dc:identifier not its IRI form": (
        (
            f"dc:identifier {GENE}",
            "dc:identifier <http://identifiers.org/ncbigene/7157>",
        ),
        ("Gene", f"{DC}identifier", "Violation"),
    ),
    "gene dc:source not Entrez Gene": (
        ('dc:source "Entrez Gene"', 'dc:source "NCBI Gene"'),
        ("Gene", f"{DC}source", "Violation"),
    ),
    "HGNC symbol link not identifiers.org": (
        (
            "<https://identifiers.org/hgnc.symbol/TP53>",
            "<https://www.genenames.org/data/gene-symbol-report/#!/symbol/TP53>",
        ),
        ("Gene", f"{WPNS}bdbHgncSymbol", "Violation"),
    ),
    "ChEBI not typed wp:DataNode": (
        ("a wp:Metabolite , wp:DataNode ;", "a wp:Metabolite ;"),
        ("ChEBI compound", f"{RDF_NS}type", "Violation"),
    ),
    "ChEBI identifier without its prefix": (
        ('dcterms:identifier "CHEBI:15422"', 'dcterms:identifier "15422"'),
        ("ChEBI compound", f"{DCT}identifier", "Violation"),
    ),
    "ChEBI dc:source not ChEBI": (
        ('dc:source "ChEBI"', 'dc:source "Entrez Gene"'),
        ("ChEBI compound", f"{DC}source", "Violation"),
    ),
    "disease IRI not MeSH": (
        ("", "<http://purl.obolibrary.org/obo/DOID_1> a schema:MedicalCondition ."),
        ("Disease", None, "Violation"),
    ),
    "disease equivalent not DOID": (
        ("", f"{DISEASE} skos:exactMatch <http://example.org/x> ."),
        ("Disease", "http://www.w3.org/2004/02/skos/core#exactMatch", "Violation"),
    ),
}


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_shape_fires(case: str, engine_name: str) -> None:
    (old, new), (shape, path, severity) = CASES[case]
    found = findings(old, new, engine_name)
    assert any(f.shape == shape and f.path == path and f.severity == severity for f in found), [
        (f.shape, f.path, f.severity, f.message) for f in found
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_give_the_same_findings(case: str) -> None:
    (old, new), _expected = CASES[case]
    compiled = findings(old, new, "shacl")
    assert compiled, "each case has at least one finding"
    assert compiled == findings(old, new, "pyshacl")


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_figure_of_two_taxa_has_the_name_of_each(engine_name: str) -> None:
    fly = "<http://purl.obolibrary.org/obo/NCBITaxon_7227>"
    both = f'{FIG} wp:organism {fly} ; wp:organismName "Drosophila melanogaster" .'
    assert findings("", both, engine_name) == []


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_violation_is_found_in_its_record_only(engine_name: str) -> None:
    good = ntriples(CONFORMING)
    bad = ntriples(
        CONFORMING.replace("PMC1__f1", "PMC2__f2")
        .replace('    schema:description "A caption." ;\n', "")
        .replace("pmc/PMC1>", "pmc/PMC2>")
        .replace('"PMC1"', '"PMC2"')
    )
    good_third = ntriples(CONFORMING.replace("PMC1__f1", "PMC3__f3"))
    results = [engine(engine_name).validate(text) for text in (good, bad, good_third)]
    assert [any(f.is_violation for f in r) for r in results] == [False, True, False]
    (violation,) = [f for f in results[1] if f.is_violation]
    assert violation.focus == "https://pfocr.wikipathways.org/figures/PMC2__f2.html"


# --------------------------------------------------- hand-broken records, end to end


def convert(db: Path, out: Path) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(cli, ["convert", str(db), "-o", str(out), "-q"])
    rows = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    return result.exit_code, rows


def test_hand_broken_records_are_rejected_and_the_good_kept(tmp_path: Path) -> None:
    no_description = record_text("PMC2__nodesc").replace("  description: A test caption.\n", "")
    db = write_db(
        tmp_path / "db",
        {
            "PMC1__good": record_text("PMC1__good"),
            "PMC2__nodesc": no_description,
            "PMC3__year": record_text("PMC3__year", year="20x3"),
            "PMC4__id": record_text(
                "PMC4__id", jsonld_id="https://pfocr.wikipathways.org/figures/PMC4__other.html"
            ),
            "PMC5__symbol-id": record_text("PMC5__symbol-id"),
            "PMC6__good": record_text("PMC6__good"),
        },
        {
            "PMC5__symbol-id-genes.tsv": genes_tsv(
                "9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\tTP53\tx\t1\t0\t1"
            )
        },
    )
    code, rows = convert(db, tmp_path / "out")
    assert code == 1
    by_figid = {row["figid"]: row for row in rows}
    assert set(by_figid) == {"PMC2__nodesc", "PMC3__year", "PMC4__id"}  # PMC5: a warning

    nodesc = by_figid["PMC2__nodesc"]
    assert nodesc["stage"] == "validate" and str(nodesc["file"]).endswith("PMC2__nodesc.md")
    assert "description" in str(nodesc["reason"])
    assert [v["path"] for v in nodesc["violations"]] == ["http://schema.org/description"]

    year = by_figid["PMC3__year"]
    assert year["stage"] == "validate" and "year" in str(year["reason"])
    assert {v["value"] for v in year["violations"]} == {"20x3"}

    assert by_figid["PMC4__id"]["stage"] == "record" and "@id" in str(
        by_figid["PMC4__id"]["reason"]
    )

    written = ox.parse(path=tmp_path / "out" / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    figures = {value(q.subject) for q in written if value(q.subject).endswith(".html")}
    assert figures == {
        "https://pfocr.wikipathways.org/figures/PMC1__good.html",
        "https://pfocr.wikipathways.org/figures/PMC5__symbol-id.html",  # its one row left out
        "https://pfocr.wikipathways.org/figures/PMC6__good.html",
    }

    report = ox.Store()
    report.load(path=tmp_path / "out" / "validation.ttl", format=ox.RdfFormat.TURTLE)
    ask = report.query(
        "ASK { ?r a <http://www.w3.org/ns/shacl#ValidationReport> ; "
        "<http://www.w3.org/ns/shacl#conforms> false }"
    )
    assert bool(ask)


def test_validate_command_on_rdf_and_records(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "examples-out"
    runner.invoke(cli, ["convert", str(EXAMPLES), "-o", str(out), "-f", "nq", "-q"])
    result = runner.invoke(
        cli, ["validate", str(out / "pfocr.nq"), str(EXAMPLES), "-o", str(tmp_path / "v")]
    )
    assert result.exit_code == 0, result.output
    assert "8 records checked: 8 valid, 0 rejected" in result.stdout
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["rejects.jsonl", "validation.ttl"]
    broken = tmp_path / "broken.ttl"
    broken.write_text(PREFIXES + CONFORMING.replace('    dcterms:title "A pathway" ;\n', ""))
    result = runner.invoke(cli, ["validate", str(broken), "-o", str(tmp_path / "v2")])
    assert result.exit_code == 1
    (row,) = [json.loads(x) for x in (tmp_path / "v2" / "rejects.jsonl").read_text().splitlines()]
    assert row["figid"] == "PMC1__f1" and "figtitle" in row["reason"]


HOSTILE = Path(__file__).resolve().parent / "hostile"


def chemical_both_ways(root: Path) -> Path:
    """Two records naming one MeSH chemical, the first with its ChEBI equivalent (part of
    the first figure only), the second without."""
    header = "word\tmesh\tmatch\tname\tchebi\n"
    return write_db(
        root,
        {"PMC1__a": record_text("PMC1__a"), "PMC2__b": record_text("PMC2__b")},
        {
            "PMC1__a-chemicals.tsv": header + "ATP\tmesh:D000255\tATP\tATP\tchebi:15422\n",
            "PMC2__b-chemicals.tsv": header + "ATP\tmesh:D000255\tATP\tATP\tNA\n",
        },
    )


@pytest.mark.parametrize("corpus", ["made", "sample", "hostile"])
def test_validate_of_the_outputs_finds_what_convert_found(
    corpus: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Validating convert's N-Quads or TriG checks each figure with the shared facts its
    record stated: the same findings as convert's for the records it converted, though
    other records state more about the same shared nodes (in the sample, a MeSH term's
    ChEBI equivalent whose compound is part of other figures only)."""
    if corpus == "made":
        inputs = chemical_both_ways(tmp_path / "db")
    else:
        inputs = request.getfixturevalue("sample") if corpus == "sample" else HOSTILE
    runner = CliRunner()
    out = tmp_path / "out"
    runner.invoke(cli, ["convert", str(inputs), "-o", str(out), "-f", "nq,trig", "-q", "-j1"])
    converted = {
        q.graph_name.value
        for q in ox.parse(path=out / "pfocr.nq", format=ox.RdfFormat.N_QUADS)
        if isinstance(q.graph_name, ox.NamedNode)
    }
    expected = {f for f in report_findings(out / "validation.ttl") if f[0] in converted}
    assert converted
    for name in ("pfocr.nq", "pfocr.trig"):
        checked = tmp_path / name
        result = runner.invoke(cli, ["validate", str(out / name), "-o", str(checked), "-j1"])
        assert result.exit_code == 0, result.output
        assert f"{len(converted)} records checked: {len(converted)} valid" in result.stdout
        assert (checked / "rejects.jsonl").read_text() == ""
        assert report_findings(checked / "validation.ttl") == expected
