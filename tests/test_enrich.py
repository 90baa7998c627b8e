"""Enrich stage: figure, paper, genes, organisms, chemicals, diseases, links."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import genes_tsv, parse_nt, record_text, value, write_db

from converter.enrich import RecordGraph, enrich, is_about_figure
from converter.expand import expand
from converter.model import Stats
from converter.read import discover, load_record

F = "https://pfocr.wikipathways.org/figures/PMC1234567__test-f1.html"
P = "https://identifiers.org/pmc/PMC1234567"
G = "https://identifiers.org/ncbigene/7157"
T = "http://purl.obolibrary.org/obo/NCBITaxon_9606"
C = "http://id.nlm.nih.gov/mesh/D000255"
K = "https://identifiers.org/chebi/CHEBI:15422"
D = "http://id.nlm.nih.gov/mesh/D009369"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
S, DCT, WP = (
    "http://schema.org/",
    "http://purl.org/dc/terms/",
    "http://vocabularies.wikipathways.org/wp#",
)
PF, XSD = "https://pfocr.wikipathways.org/vocab#", "http://www.w3.org/2001/XMLSchema#"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
EXACT = "<http://www.w3.org/2004/02/skos/core#exactMatch>"
FOAF = "http://xmlns.com/foaf/0.1/"
DC = "http://purl.org/dc/elements/1.1/"

# Every triple below was written by hand from the fixture record and sidecars in convert().
EXPECTED = f"""
<{F}> {RDF_TYPE} <{S}Dataset> .
<{F}> <{S}description> "A test caption." .
<{F}> <{S}license> <https://creativecommons.org/publicdomain/zero/1.0/> .
<{F}> <{S}creator> <{F}#creator> .
<{F}#creator> {RDF_TYPE} <{S}Organization> .
<{F}#creator> <{S}name> "WikiPathways" .
<{F}> <{S}keywords> "TP53" .
<{F}> <{S}keywords> "MDM2" .
<{F}> {RDF_TYPE} <{PF}Figure> .
<{F}> {RDF_TYPE} <{WP}Pathway> .
<{F}> <{DCT}identifier> "PMC1234567__test-f1" .
<{F}> <{DC}identifier> <{F}> .
<{F}> <{DC}source> "PFOCR" .
<{F}> <{DCT}title> "A test pathway" .
<{F}> <{DC}title> "A test pathway"@en .
<{F}> <{S}name> "A test pathway" .
<{F}> <{PF}figureNumber> "F1" .
<{F}> <{PF}figureType> "Figure" .
<{F}> <{PF}figureAlias> "PMC1234567__F1" .
<{F}> <{PF}pathwayScore> "0.9"^^<{XSD}double> .
<{F}> <{FOAF}page> <https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1234567/figure/F1/> .
<{F}> <{S}image> <https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1234567/bin/test-f1.jpg> .
<{F}> <{DCT}isPartOf> <{P}> .
<{P}> {RDF_TYPE} <{S}ScholarlyArticle> .
<{P}> <{DCT}identifier> "PMC1234567" .
<{P}> <{FOAF}page> <https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1234567/> .
<{P}> <{DCT}title> "A test paper." .
<{P}> <{S}datePublished> "2020"^^<{XSD}gYear> .
<{P}> <{S}sameAs> <https://doi.org/10.1000/test.1> .
<{P}> <{DCT}bibliographicCitation> "Test Author, et al. Test J. 2020;1:1." .
<{P}> <{PF}journalTitle> "Test Journal" .
<{P}> <{PF}journalAbbreviation> "Test J" .
<{P}> <{PF}publisherName> "Test Press" .
<{P}> <{S}keywords> "alpha" .
<{P}> <{S}keywords> "beta" .
<{F}> <{PF}organismName> "Homo sapiens" .
<{F}> <{S}mentions> <{G}> .
<{G}> {RDF_TYPE} <{WP}GeneProduct> .
<{G}> {RDF_TYPE} <{WP}DataNode> .
<{G}> <{DCT}identifier> "7157" .
<{G}> <{DC}identifier> <{G}> .
<{G}> <{DC}source> "Entrez Gene" .
<{G}> <{WP}bdbHgncSymbol> <https://identifiers.org/hgnc.symbol/TP53> .
<{G}> <{DCT}isPartOf> <{F}> .
<{G}> <{WP}bdbEntrezGene> <{G}> .
<{G}> {LABEL} "TP53" .
<{G}> <{WP}organism> <{T}> .
<{F}> <{WP}organism> <{T}> .
<{T}> {LABEL} "Homo sapiens" .
<{F}> <{WP}organismName> "Homo sapiens" .
<{F}> <{PF}hasMention> <{F}#gene-7157-p53> .
<{F}#gene-7157-p53> {RDF_TYPE} <{PF}GeneMention> .
<{F}#gene-7157-p53> <{PF}ocrText> "p53" .
<{F}#gene-7157-p53> <{PF}matchedText> "TP53" .
<{F}#gene-7157-p53> <{PF}matchSource> "ncbigene_synonym" .
<{F}#gene-7157-p53> <{PF}mentionOf> <{G}> .
<{F}#gene-7157-p53> <{PF}directCount> "1"^^<{XSD}integer> .
<{F}#gene-7157-p53> <{PF}synonymCount> "2"^^<{XSD}integer> .
<{F}#gene-7157-p53> <{PF}matchCount> "3"^^<{XSD}integer> .
<{F}> <{S}mentions> <{C}> .
<{C}> {RDF_TYPE} <{S}ChemicalSubstance> .
<{C}> {LABEL} "Adenosine Triphosphate" .
<{F}> <{PF}hasMention> <{F}#chemical-D000255-ATP> .
<{F}#chemical-D000255-ATP> {RDF_TYPE} <{PF}ChemicalMention> .
<{F}#chemical-D000255-ATP> <{PF}ocrText> "ATP" .
<{F}#chemical-D000255-ATP> <{PF}matchedText> "Adenosine Triphosphate" .
<{F}#chemical-D000255-ATP> <{PF}mentionOf> <{C}> .
<{K}> {RDF_TYPE} <{WP}Metabolite> .
<{K}> {RDF_TYPE} <{WP}DataNode> .
<{K}> <{DCT}identifier> "CHEBI:15422" .
<{K}> <{DC}identifier> <{K}> .
<{K}> <{DC}source> "ChEBI" .
<{K}> <{DCT}isPartOf> <{F}> .
<{K}> <{WP}bdbChEBI> <{K}> .
<{K}> {EXACT} <http://purl.obolibrary.org/obo/CHEBI_15422> .
<{K}> {LABEL} "ATP" .
<{C}> {EXACT} <{K}> .
<{F}> <{S}mentions> <{D}> .
<{D}> {RDF_TYPE} <{S}MedicalCondition> .
<{D}> {LABEL} "Neoplasms" .
<{F}> <{PF}hasMention> <{F}#disease-D009369-cancer%20cell> .
<{F}#disease-D009369-cancer%20cell> {RDF_TYPE} <{PF}DiseaseMention> .
<{F}#disease-D009369-cancer%20cell> <{PF}ocrText> "cancer cell" .
<{F}#disease-D009369-cancer%20cell> <{PF}matchedText> "Neoplasms" .
<{F}#disease-D009369-cancer%20cell> <{PF}mentionOf> <{D}> .
<{D}> {EXACT} <http://purl.obolibrary.org/obo/DOID_162> .
"""

GENE_ROWS = (
    "9606\tHomo sapiens\tPrimates\tp53\tTP53\tTP53\t7157\tncbigene_synonym\t1\t2\t3",
    "9606\tHomo sapiens\tPrimates\tMDM2\tMDM2\tNA\tNA\tncbigene_symbol\t1\t0\t1",
)
CHEMICALS = (
    "word\tmesh\tmatch\tname\tchebi\nATP\tmesh:D000255\tAdenosine Triphosphate\tATP\tchebi:15422\n"
)
DISEASES = (
    "word\tmesh\tmatch\tname\tdoid\ncancer cell\tmesh:D009369\tNeoplasms\tneoplasm\tdoid:162\n"
)


def convert(
    tmp_path: Path, text: str | None = None, **sidecars: str
) -> tuple[list[ox.Triple], Stats]:
    figid = "PMC1234567__test-f1"
    files = {f"{figid}-{kind}.tsv": table for kind, table in sidecars.items()}
    db = write_db(tmp_path, {figid: text or record_text(figid)}, files)
    graph, stats = enrich_record(db)
    return [*triples_of(graph.own.ntriples()), *triples_of(graph.shared.ntriples())], stats


def enrich_record(db: Path) -> tuple[RecordGraph, Stats]:
    (source,) = discover([str(db)])
    record = load_record(source)
    return enrich(record, expand(record))


def triples_of(ntriples: bytes) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)]


def test_whole_record_hand_checked(tmp_path: Path) -> None:
    triples, stats = convert(
        tmp_path, genes=genes_tsv(*GENE_ROWS), chemicals=CHEMICALS, diseases=DISEASES
    )
    assert set(triples) == parse_nt(EXPECTED)
    assert len(triples) == len(set(triples))
    assert stats == Stats(genes_with_id=1, symbols_without_id=1)


def test_own_graph_and_shared_facts_are_told_apart(tmp_path: Path) -> None:
    figid = "PMC1234567__test-f1"
    files = {
        f"{figid}-genes.tsv": genes_tsv(*GENE_ROWS),
        f"{figid}-chemicals.tsv": CHEMICALS,
        f"{figid}-diseases.tsv": DISEASES,
    }
    graph, _ = enrich_record(write_db(tmp_path, {figid: record_text(figid)}, files))
    own, shared = triples_of(graph.own.ntriples()), triples_of(graph.shared.ntriples())
    assert own and shared
    assert all(is_about_figure(t, F) for t in own)
    assert not any(is_about_figure(t, F) for t in shared)


def test_without_sidecars_symbols_stay_literals(tmp_path: Path) -> None:
    triples, stats = convert(tmp_path)
    assert not [t for t in triples if "ncbigene" in str(t)]
    assert stats.genes_with_id == 0 and stats.symbols_without_id == 2


def test_gene_iri_never_comes_from_a_symbol(tmp_path: Path) -> None:
    rows = genes_tsv("9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\tNA\tx\t1\t0\t1")
    triples, _ = convert(tmp_path, genes=rows)
    assert not [t for t in triples if "identifiers.org/ncbigene" in str(t)]


def test_a_row_with_a_non_numeric_gene_id_is_left_out(tmp_path: Path) -> None:
    rows = genes_tsv(
        "9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\tTP53\tx\t1\t0\t1",
        "9606\tHomo sapiens\tPrimates\tMDM2\tMDM2\tMDM2\t4193\tx\t1\t0\t1",
        "9606\tHomo sapiens\tPrimates\tp53\tP53\tTP53\t7157\tx\t1\t0\t1",
    )
    triples, stats = convert(tmp_path, genes=rows)
    found = {(value(t.predicate), value(t.object)) for t in triples if value(t.subject) == F}
    assert (f"{PF}leftOutRow", "genes table, line 2: ncbigene_id 'TP53' is malformed") in found
    assert {o for p, o in found if p == f"{S}mentions"} == {
        "https://identifiers.org/ncbigene/4193",
        "https://identifiers.org/ncbigene/7157",
    }
    assert stats.genes_with_id == 2


def test_older_chemicals_layout(tmp_path: Path) -> None:
    table = "word\tsource\tidentifier\nPGE2\tMESH\tD015232\nglucose\tCHEBI\t4167\n"
    triples, _ = convert(tmp_path, chemicals=table)
    mentions = {value(t.object) for t in triples if value(t.predicate) == f"{S}mentions"}
    assert mentions == {
        "http://id.nlm.nih.gov/mesh/D015232",
        "https://identifiers.org/chebi/CHEBI:4167",
    }


def test_chebi_only_row_is_a_mentioned_compound(tmp_path: Path) -> None:
    table = "word\tmesh\tmatch\tname\tchebi\nmRNA\tNA\tmRNA\tmessenger RNA\tchebi:33699\n"
    triples, _ = convert(tmp_path, chemicals=table)
    k = "https://identifiers.org/chebi/CHEBI:33699"
    mention = f"{F}#chemical-CHEBI_33699-mRNA"
    found = {(value(t.subject), value(t.predicate), value(t.object)) for t in triples}
    assert {
        (F, f"{S}mentions", k),
        (k, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"{WP}Metabolite"),
        (k, f"{WP}bdbChEBI", k),
        (k, f"{DCT}isPartOf", F),
        (k, "http://www.w3.org/2000/01/rdf-schema#label", "messenger RNA"),
        (F, f"{PF}hasMention", mention),
        (mention, f"{PF}mentionOf", k),
        (mention, f"{PF}ocrText", "mRNA"),
    } <= found
    assert not [t for t in triples if "mesh" in value(t.object)]


def test_a_row_whose_curie_has_the_wrong_prefix_is_left_out(tmp_path: Path) -> None:
    table = "word\tmesh\tmatch\tname\tchebi\nATP\tchebi:15422\tNA\tNA\tNA\n"
    triples, _ = convert(tmp_path, chemicals=table)
    notes = [value(t.object) for t in triples if value(t.predicate) == f"{PF}leftOutRow"]
    assert notes == ["chemicals table, line 2: expected a mesh: id, got 'chebi:15422'"]
    assert not [t for t in triples if value(t.predicate) == f"{S}mentions"]


def test_doi_with_iri_illegal_characters_is_percent_encoded(tmp_path: Path) -> None:
    doi = '10.1002/(SICI)1097-4636<199>"x y"{a}|b\\c^d`e'
    text = record_text(doi=f"'{doi}'")
    triples, _ = convert(tmp_path, text=text)
    (same_as,) = [value(t.object) for t in triples if value(t.predicate) == f"{S}sameAs"]
    assert same_as == (
        "https://doi.org/10.1002/(SICI)1097-4636%3C199%3E%22x%20y%22%7Ba%7D%7Cb%5Cc%5Ed%60e"
    )


@pytest.mark.parametrize("field", ["doi: .na.character", "doi: NA", "doi: ''", "doi: null"])
def test_missing_values_make_no_triple(tmp_path: Path, field: str) -> None:
    text = record_text().replace("doi: 10.1000/test.1", field)
    triples, _ = convert(tmp_path, text=text)
    assert not [t for t in triples if value(t.predicate) == f"{S}sameAs"]


def test_ndex_and_wikipathways_links(tmp_path: Path) -> None:
    text = record_text().replace(
        "ndex: ''", "ndex: 3feb4f7e-df13-11ea-99da-0ac135e8bacf\nwpid: WP5283"
    )
    triples, _ = convert(tmp_path, text=text)
    links = {(value(t.predicate), value(t.object)) for t in triples}
    assert (
        f"{PF}ndexNetwork",
        "https://www.ndexbio.org/viewer/networks/3feb4f7e-df13-11ea-99da-0ac135e8bacf",
    ) in links
    assert (f"{PF}wikipathwaysPathway", "https://identifiers.org/wikipathways/WP5283") in links


def test_organisms_na_and_ner_names_kept_apart(tmp_path: Path) -> None:
    text = record_text().replace(
        "organisms:\n- Homo sapiens\norganisms_ner:\n- NA",
        "organisms:\n- NA\n- Mus musculus\norganisms_ner:\n- Danio rerio",
    )
    triples, _ = convert(tmp_path, text=text)
    names = {
        (value(t.predicate), value(t.object))
        for t in triples
        if "rganismName" in value(t.predicate)
    }
    assert names == {(f"{PF}organismName", "Mus musculus"), (f"{PF}nerOrganismName", "Danio rerio")}
