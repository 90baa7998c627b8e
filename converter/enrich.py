"""Enrich stage: the figure's links to its paper, genes, organisms, chemicals and diseases.

Triples are built from the front matter and the sidecar tables, following design.md. Gene
IRIs come only from ``ncbigene_id`` (never from a symbol); genes are written the WikiPathways
way (``wp:GeneProduct``, ``wp:bdbEntrezGene``, ``dcterms:isPartOf`` the figure) so that
WikiPathways' SPARQL patterns work on PFOCR unchanged. How each entity was found (OCR word,
match, source, counts) lives on a mention node with an IRI under the figure's IRI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import pyoxigraph as ox

from . import vocab as v
from .expand import JSONLD_KEY, gene_symbols
from .model import Record, RecordError, SidecarRow, Stage, Stats, present

XSD_STRING = ox.NamedNode(v.XSD + "string")
XSD_DOUBLE = ox.NamedNode(v.XSD + "double")
XSD_INTEGER = ox.NamedNode(v.XSD + "integer")
XSD_GYEAR = ox.NamedNode(v.XSD + "gYear")

_DIGITS = re.compile(r"^[0-9]+$")
_MESH_UI = re.compile(r"^[A-Z][0-9]+$")
_PREFIXED = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9._-]*):(?P<local>.+)$")
PAPER_KEYWORD_SEPARATOR = "|"


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


@cache
def term(namespace: str, local: str) -> ox.NamedNode:
    """A vocabulary term (property or class), made once per process."""
    return ox.NamedNode(namespace + local)


RDF_TYPE = term(v.RDF, "type")
RDFS_LABEL = term(v.RDFS, "label")
SKOS_EXACT = term(v.SKOS, "exactMatch")
DCT_ID = term(v.DCTERMS, "identifier")
DCT_TITLE = term(v.DCTERMS, "title")
DCT_PART_OF = term(v.DCTERMS, "isPartOf")
SCHEMA_MENTIONS = term(v.SCHEMA, "mentions")
WP_ORGANISM = term(v.WP, "organism")
WP_ORGANISM_NAME = term(v.WP, "organismName")


class TripleSet:
    """Triples in the order they were added, each once."""

    def __init__(self) -> None:
        self._triples: dict[ox.Triple, None] = {}

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        self._triples[ox.Triple(s, p, o)] = None

    def text(self, s: ox.NamedNode, p: ox.NamedNode, value: Any) -> None:
        """Add a string literal unless the value is missing."""
        text = present(value)
        if text is not None:
            self.add(s, p, ox.Literal(text))

    def typed(self, s: ox.NamedNode, p: ox.NamedNode, value: Any, datatype: ox.NamedNode) -> None:
        """Add a typed literal as written (SHACL judges whether it is well formed)."""
        text = present(value)
        if text is not None:
            self.add(s, p, ox.Literal(text, datatype=datatype))

    def extend(self, triples: Iterable[ox.Triple]) -> None:
        for triple in triples:
            self._triples[triple] = None

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)


def enrich(record: Record, described: list[ox.Triple]) -> tuple[list[ox.Triple], Stats]:
    """All triples of one record: the expanded description plus the links built here."""
    out = TripleSet()
    out.extend(described)
    figure = iri(v.figure_iri(record.figid))
    front = record.front
    _figure(out, figure, record.figid, front)
    _paper(out, figure, front)
    _organism_names(out, figure, front)
    gene_ids, gene_words = _genes(out, figure, record)
    found_words = gene_words | _chemicals(out, figure, record) | _diseases(out, figure, record)
    unmatched = [s for s in _keywords(front) if s.casefold() not in found_words]
    triples = list(out)
    stats = Stats(genes_with_id=len(gene_ids), symbols_without_id=len(unmatched))
    stats.triples = len(triples)
    return triples, stats


def _keywords(front: dict[str, Any]) -> list[str]:
    """The figure's gene symbols (already checked by the expand stage)."""
    keywords = front[JSONLD_KEY].get("keywords")
    return gene_symbols(keywords) if isinstance(keywords, list) else []


def _link(out: TripleSet, s: ox.NamedNode, p: ox.NamedNode, build: Any, value: Any) -> None:
    """Add ``s p <build(value)>`` when the value is present."""
    text = present(value)
    if text is not None:
        out.add(s, p, iri(build(text)))


def _figure(out: TripleSet, figure: ox.NamedNode, figid: str, front: dict[str, Any]) -> None:
    out.add(figure, RDF_TYPE, term(v.PFOCR, "Figure"))
    out.text(figure, DCT_ID, figid)
    out.text(figure, DCT_TITLE, front.get("figtitle"))
    out.text(figure, term(v.SCHEMA, "name"), front.get("figtitle"))
    out.text(figure, term(v.PFOCR, "figureNumber"), front.get("number"))
    out.text(figure, term(v.PFOCR, "figureType"), front.get("figtype"))
    out.text(figure, term(v.PFOCR, "figureAlias"), front.get("figid_alias"))
    out.typed(figure, term(v.PFOCR, "pathwayScore"), front.get("automl_pathway"), XSD_DOUBLE)
    pmcid = present(front.get("pmcid"))
    figlink = present(front.get("figlink"))
    filename = present(front.get("filename"))
    if figlink is not None:
        page = figlink if figlink.startswith(("http://", "https://")) else v.PMC_SITE + figlink
        out.add(figure, term(v.FOAF, "page"), iri(v.iri_safe(page)))
    if pmcid is not None and filename is not None:
        image = f"{v.pmc_article_page(pmcid)}bin/{v.iri_safe(filename)}"
        out.add(figure, term(v.SCHEMA, "image"), iri(image))
    _link(out, figure, term(v.PFOCR, "ndexNetwork"), v.ndex_iri, front.get("ndex"))
    _link(out, figure, term(v.PFOCR, "wikipathwaysPathway"), v.wikipathways_iri, front.get("wpid"))


def _paper(out: TripleSet, figure: ox.NamedNode, front: dict[str, Any]) -> None:
    pmcid = present(front.get("pmcid"))
    if pmcid is None:
        return
    paper = iri(v.pmc_iri(pmcid))
    out.add(figure, DCT_PART_OF, paper)
    out.add(paper, RDF_TYPE, term(v.SCHEMA, "ScholarlyArticle"))
    out.text(paper, DCT_ID, pmcid)
    out.add(paper, term(v.FOAF, "page"), iri(v.pmc_article_page(pmcid)))
    out.text(paper, DCT_TITLE, front.get("papertitle"))
    out.typed(paper, term(v.SCHEMA, "datePublished"), front.get("year"), XSD_GYEAR)
    _link(out, paper, term(v.SCHEMA, "sameAs"), v.doi_iri, front.get("doi"))
    out.text(paper, term(v.DCTERMS, "bibliographicCitation"), front.get("reftext"))
    out.text(paper, term(v.PFOCR, "journalTitle"), front.get("journal_title"))
    out.text(paper, term(v.PFOCR, "journalAbbreviation"), front.get("journal_nlm_ta"))
    out.text(paper, term(v.PFOCR, "publisherName"), front.get("publisher_name"))
    keywords = present(front.get("keywords"))
    if keywords is not None:
        for keyword in keywords.split(PAPER_KEYWORD_SEPARATOR):
            out.text(paper, term(v.SCHEMA, "keywords"), keyword)


def _names(value: Any) -> list[str]:
    """A list field of names (or one name), without the missing ones."""
    items = value if isinstance(value, list) else [value]
    return [n for n in (present(x) for x in items if not isinstance(x, (dict, list))) if n]


def _organism_names(out: TripleSet, figure: ox.NamedNode, front: dict[str, Any]) -> None:
    for name in _names(front.get("organisms")):
        out.text(figure, WP_ORGANISM_NAME, name)
    for name in _names(front.get("organisms_ner")):
        out.text(figure, term(v.PFOCR, "nerOrganismName"), name)


def _mention(
    out: TripleSet, figure: ox.NamedNode, kind: str, key: str, row: SidecarRow
) -> ox.NamedNode:
    """The mention node of one sidecar row: the OCR word that led to entity ``key``."""
    word = present(row.values.get("word")) or ""
    mention = iri(f"{figure.value}#{kind}-{v.token(key)}-{v.token(word)}")
    out.add(figure, term(v.PFOCR, "hasMention"), mention)
    out.add(mention, RDF_TYPE, term(v.PFOCR, kind.capitalize() + "Mention"))
    out.text(mention, term(v.PFOCR, "ocrText"), word)
    out.text(mention, term(v.PFOCR, "matchedText"), row.values.get("match"))
    out.text(mention, term(v.PFOCR, "matchSource"), row.values.get("source"))
    return mention


def _require(pattern: re.Pattern[str], value: str, what: str, row: SidecarRow, file: str) -> str:
    if not pattern.match(value):
        raise RecordError(Stage.SIDECAR, f"line {row.line}: {what} {value!r} is malformed", file)
    return value


def _genes(out: TripleSet, figure: ox.NamedNode, record: Record) -> tuple[set[str], set[str]]:
    """Gene triples from the genes sidecar; returns the gene ids and the casefolded
    words and symbols that have an id."""
    file = record.sidecars.files.get("genes", "")
    gene_ids: set[str] = set()
    identified: set[str] = set()
    for row in record.sidecars.genes:
        gene_id = present(row.values.get("ncbigene_id"))
        if gene_id is None:
            continue
        gene_ids.add(_require(_DIGITS, gene_id, "ncbigene_id", row, file))
        gene = iri(v.ncbigene_iri(gene_id))
        symbol = present(row.values.get("ncbigene_symbol"))
        out.add(figure, SCHEMA_MENTIONS, gene)
        out.add(gene, RDF_TYPE, term(v.WP, "GeneProduct"))
        out.add(gene, DCT_PART_OF, figure)
        out.add(gene, term(v.WP, "bdbEntrezGene"), gene)
        out.text(gene, RDFS_LABEL, symbol)
        taxid = present(row.values.get("organism_id"))
        if taxid is not None:
            taxon = iri(v.taxon_iri(_require(_DIGITS, taxid, "organism_id", row, file)))
            out.add(gene, WP_ORGANISM, taxon)
            out.add(figure, WP_ORGANISM, taxon)
            organism = present(row.values.get("organism_name"))
            out.text(taxon, RDFS_LABEL, organism)
            out.text(figure, WP_ORGANISM_NAME, organism)
        mention = _mention(out, figure, "gene", gene_id, row)
        out.add(mention, term(v.PFOCR, "mentionOf"), gene)
        for column, prop in (
            ("count_direct", "directCount"),
            ("count_synonym", "synonymCount"),
            ("count_match", "matchCount"),
        ):
            out.typed(mention, term(v.PFOCR, prop), row.values.get(column), XSD_INTEGER)
        identified.update(
            w.casefold() for w in (symbol, present(row.values.get("word"))) if w is not None
        )
    return gene_ids, identified


def _curie(value: str, prefix: str, row: SidecarRow, file: str) -> str:
    """The local id of a sidecar CURIE such as ``mesh:D005227`` (pitfall 9)."""
    match = _PREFIXED.match(value)
    if match is None or match["prefix"].lower() != prefix:
        raise RecordError(
            Stage.SIDECAR, f"line {row.line}: expected a {prefix}: id, got {value!r}", file
        )
    return match["local"]


def _mesh_entity(
    out: TripleSet, figure: ox.NamedNode, kind: str, ui: str, row: SidecarRow, file: str
) -> ox.NamedNode:
    """``<figure> schema:mentions <MeSH>`` with the MeSH node's type, label and mention."""
    _require(_MESH_UI, ui, "MeSH id", row, file)
    entity = iri(v.mesh_iri(ui))
    out.add(figure, SCHEMA_MENTIONS, entity)
    out.add(entity, RDF_TYPE, _ENTITY_CLASS[kind])
    label = present(row.values.get("match")) or present(row.values.get("name"))
    out.text(entity, RDFS_LABEL, label)
    mention = _mention(out, figure, kind, ui, row)
    out.add(mention, term(v.PFOCR, "mentionOf"), entity)
    return entity


_ENTITY_CLASS = {
    "chemical": term(v.SCHEMA, "ChemicalSubstance"),
    "disease": term(v.SCHEMA, "MedicalCondition"),
}
OLD_LAYOUT_SOURCES = {"mesh": "mesh", "chebi": "chebi"}


def _chebi(out: TripleSet, figure: ox.NamedNode, number: str, name: str | None) -> ox.NamedNode:
    """A ChEBI compound the WikiPathways way (``wp:Metabolite``, ``wp:bdbChEBI``)."""
    chebi = iri(v.chebi_iri(number))
    out.add(chebi, RDF_TYPE, term(v.WP, "Metabolite"))
    out.add(chebi, DCT_PART_OF, figure)
    out.add(chebi, term(v.WP, "bdbChEBI"), chebi)
    out.add(chebi, SKOS_EXACT, iri(v.chebi_obo_iri(number)))
    out.text(chebi, RDFS_LABEL, name)
    return chebi


def _chemicals(out: TripleSet, figure: ox.NamedNode, record: Record) -> set[str]:
    """Chemical triples from either chemicals layout; returns the casefolded words."""
    file = record.sidecars.files.get("chemicals", "")
    words: set[str] = set()
    for row in record.sidecars.chemicals:
        word = present(row.values.get("word"))
        if "identifier" in row.values and "mesh" not in row.values:  # older layout
            source = (present(row.values.get("source")) or "").lower()
            local = present(row.values.get("identifier"))
            if local is None:
                continue
            if source not in OLD_LAYOUT_SOURCES:
                raise RecordError(
                    Stage.SIDECAR,
                    f"line {row.line}: unknown source {row.values.get('source')!r} "
                    f"(known: MESH, CHEBI)",
                    file,
                )
            if source == "chebi":
                local = local.split(":")[-1]
                _require(_DIGITS, local, "ChEBI id", row, file)
                chebi = _chebi(out, figure, local, word)
                out.add(figure, SCHEMA_MENTIONS, chebi)
                mention = _mention(out, figure, "chemical", f"CHEBI_{local}", row)
                out.add(mention, term(v.PFOCR, "mentionOf"), chebi)
            else:
                _mesh_entity(out, figure, "chemical", local, row, file)
        else:
            mesh = present(row.values.get("mesh"))
            if mesh is None:
                continue
            entity = _mesh_entity(
                out, figure, "chemical", _curie(mesh, "mesh", row, file), row, file
            )
            chebi_curie = present(row.values.get("chebi"))
            if chebi_curie is not None:
                number = _require(
                    _DIGITS, _curie(chebi_curie, "chebi", row, file), "ChEBI id", row, file
                )
                chebi = _chebi(out, figure, number, present(row.values.get("name")))
                out.add(entity, SKOS_EXACT, chebi)
        if word is not None:
            words.add(word.casefold())
    return words


def _diseases(out: TripleSet, figure: ox.NamedNode, record: Record) -> set[str]:
    """Disease triples (MeSH, with DOID equivalents); returns the casefolded words."""
    file = record.sidecars.files.get("diseases", "")
    words: set[str] = set()
    for row in record.sidecars.diseases:
        mesh = present(row.values.get("mesh"))
        if mesh is None:
            continue
        entity = _mesh_entity(out, figure, "disease", _curie(mesh, "mesh", row, file), row, file)
        doid = present(row.values.get("doid"))
        if doid is not None:
            number = _require(_DIGITS, _curie(doid, "doid", row, file), "DOID id", row, file)
            out.add(entity, SKOS_EXACT, iri(v.doid_iri(number)))
        word = present(row.values.get("word"))
        if word is not None:
            words.add(word.casefold())
    return words
