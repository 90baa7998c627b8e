"""Enrich stage: the figure's links to its paper, genes, organisms, chemicals and diseases.

Triples are built from the front matter and the sidecar tables, following design.md. Gene
IRIs come only from ``ncbigene_id`` (never from a symbol); genes are written the WikiPathways
way (``wp:GeneProduct``, ``wp:bdbEntrezGene``, ``dcterms:isPartOf`` the figure) so that
WikiPathways' SPARQL patterns work on PFOCR unchanged. How each entity was found (OCR word,
match, source, counts) lives on a mention node with an IRI under the figure's IRI.

Terms are pyoxigraph's, kept as their N-Triples text (``str(ox.NamedNode(...))``: the IRI is
checked, the literal escaped by pyoxigraph), and each triple as its N-Triples line, far
cheaper than an ``ox.Triple`` object per triple (benchmarks/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, KeysView
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any

import pyoxigraph as ox

from . import vocab as v
from .expand import JSONLD_KEY, gene_symbols
from .model import Record, SidecarRow, Stats, present, present_text

XSD_DOUBLE = v.XSD + "double"
XSD_INTEGER = v.XSD + "integer"
XSD_GYEAR = v.XSD + "gYear"

_DIGITS = re.compile(r"^[0-9]+$")
_MESH_UI = re.compile(r"^[A-Z][0-9]+$")
_PREFIXED = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9._-]*):(?P<local>.+)$")
PAPER_KEYWORD_SEPARATOR = "|"


Term = str
"""An RDF term in N-Triples syntax, as pyoxigraph writes it: ``<iri>``, ``"text"``."""


def new_iri(value: str) -> Term:
    """An IRI term; raises ValueError if ``value`` is not a valid IRI."""
    return str(ox.NamedNode(value))


iri = lru_cache(maxsize=1 << 14)(new_iri)
""":func:`new_iri` for IRIs that recur from record to record (genes, taxa, MeSH, terms):
memoized, in a bounded cache."""


def _make_literal(text: str, datatype: str | None) -> Term:
    if datatype is None:
        return str(ox.Literal(text))
    return str(ox.Literal(text, datatype=ox.NamedNode(datatype)))


_short_literal = lru_cache(maxsize=1 << 14)(_make_literal)
SHORT_LITERAL = 64
"""Literals up to this length (symbols, counts, names) are memoized; captions are not."""


def literal(text: str, datatype: str | None = None) -> Term:
    """A literal term (a string, or of type ``datatype``), escaped by pyoxigraph."""
    if len(text) <= SHORT_LITERAL:
        return _short_literal(text, datatype)
    return _make_literal(text, datatype)


def english(text: str) -> Term:
    """A literal in English (``"text"@en``), as WikiPathways writes pathway titles."""
    return str(ox.Literal(text, language="en"))


@cache
def term(namespace: str, local: str) -> Term:
    """A vocabulary term (property or class), made once per process."""
    return iri(namespace + local)


RDF_TYPE = term(v.RDF, "type")
RDFS_LABEL = term(v.RDFS, "label")
SKOS_EXACT = term(v.SKOS, "exactMatch")
DCT_ID = term(v.DCTERMS, "identifier")
DCT_TITLE = term(v.DCTERMS, "title")
DCT_PART_OF = term(v.DCTERMS, "isPartOf")
DC_ID = term(v.DC, "identifier")
DC_TITLE = term(v.DC, "title")
DC_SOURCE = term(v.DC, "source")
SCHEMA_MENTIONS = term(v.SCHEMA, "mentions")
WP_ORGANISM = term(v.WP, "organism")
WP_ORGANISM_NAME = term(v.WP, "organismName")
WP_GENE_PRODUCT = term(v.WP, "GeneProduct")
WP_METABOLITE = term(v.WP, "Metabolite")
WP_DATA_NODE = term(v.WP, "DataNode")
WP_ENTREZ = term(v.WP, "bdbEntrezGene")
WP_HGNC = term(v.WP, "bdbHgncSymbol")
HAS_MENTION = term(v.PFOCR, "hasMention")
LEFT_OUT_ROW = term(v.PFOCR, "leftOutRow")
MENTION_OF = term(v.PFOCR, "mentionOf")
OCR_TEXT = term(v.PFOCR, "ocrText")
MATCHED_TEXT = term(v.PFOCR, "matchedText")
MATCH_SOURCE = term(v.PFOCR, "matchSource")
MENTION_CLASS = {
    kind: term(v.PFOCR, f"{kind.capitalize()}Mention") for kind in ("gene", "chemical", "disease")
}
GENE_COUNTS = tuple(
    (column, term(v.PFOCR, prop))
    for column, prop in (
        ("count_direct", "directCount"),
        ("count_synonym", "synonymCount"),
        ("count_match", "matchCount"),
    )
)


Facts = tuple[tuple[Term, tuple[tuple[str, tuple[Term, Term]], ...]], ...]
"""N-Triples lines (each with its predicate and object) grouped by subject, as
:meth:`TripleSet.groups` freezes them."""


class TripleSet:
    """N-Triples lines grouped by subject (subjects in the order first seen), each once,
    with the predicate and object of each (what the dataset description counts)."""

    def __init__(self) -> None:
        self._by_subject: dict[Term, dict[str, tuple[Term, Term]]] = {}

    def add(self, s: Term, p: Term, o: Term) -> None:
        group = self._by_subject.get(s)
        if group is None:
            group = self._by_subject[s] = {}
        group[f"{s} {p} {o} .\n"] = (p, o)

    def text(self, s: Term, p: Term, value: Any) -> None:
        """Add a string literal unless the value is missing."""
        text = present(value)
        if text is not None:
            self.add(s, p, literal(text))

    def typed(self, s: Term, p: Term, value: Any, datatype: str) -> None:
        """Add a typed literal as written (SHACL judges whether it is well formed)."""
        text = present(value)
        if text is not None:
            self.add(s, p, literal(text, datatype))

    def merge(self, groups: Facts) -> None:
        """Add the lines of ``groups`` (made by :meth:`groups`), in their order."""
        for s, lines in groups:
            group = self._by_subject.get(s)
            if group is None:
                group = self._by_subject[s] = {}
            group.update(lines)

    def groups(self) -> Facts:
        """The lines by subject, frozen, for :meth:`merge` into another set."""
        return tuple((s, tuple(group.items())) for s, group in self._by_subject.items())

    def terms(self) -> list[tuple[Term, Term]]:
        """The predicate and object of every line."""
        return [terms for group in self._by_subject.values() for terms in group.values()]

    def include(self, triple: ox.Triple) -> None:
        """Add a triple made by pyoxigraph (its subject is never a blank node here)."""
        self.add(str(triple.subject), str(triple.predicate), str(triple.object))

    def subjects(self) -> KeysView[Term]:
        """The subjects, in the order first seen."""
        return self._by_subject.keys()

    def ntriples(self) -> bytes:
        """The triples as an N-Triples document, grouped by subject."""
        return "".join(line for group in self._by_subject.values() for line in group).encode()

    def ntriples_by_subject(self) -> tuple[bytes, tuple[int, ...]]:
        """The triples as an N-Triples document, grouped by subject, and where each
        subject's lines end in it."""
        groups = ["".join(group).encode() for group in self._by_subject.values()]
        ends = tuple(accumulate(len(group) for group in groups))
        return b"".join(groups), ends

    def __len__(self) -> int:
        return sum(len(group) for group in self._by_subject.values())


class RecordGraph:
    """The triples of one record, in two parts: the figure's own graph (about the figure or
    a node under its IRI, or linking a shared node to it) and facts about shared entities
    (genes, taxa, the paper, MeSH, ChEBI) that other records may state too. Each builder
    function puts a triple in its part as it makes it."""

    def __init__(self, figure: str) -> None:
        self.figure = figure
        self.own = TripleSet()
        self.shared = TripleSet()


def is_about_figure(triple: ox.Triple, figure: str) -> bool:
    """Whether a triple belongs to the figure's own graph: it is about the figure or a node
    under its IRI (creator, mentions), or it links a shared node to the figure."""
    subject = triple.subject
    if isinstance(subject, ox.NamedNode) and (
        subject.value == figure or subject.value.startswith(figure + "#")
    ):
        return True
    return isinstance(triple.object, ox.NamedNode) and triple.object.value == figure


def enrich(record: Record, described: list[ox.Triple]) -> tuple[RecordGraph, Stats]:
    """All triples of one record: the expanded description plus the links built here."""
    out = RecordGraph(v.figure_iri(record.figid))
    for triple in described:
        (out.own if is_about_figure(triple, out.figure) else out.shared).include(triple)
    figure = new_iri(out.figure)
    front = record.front
    _figure(out.own, figure, record.figid, front)
    _paper(out, figure, front)
    _organism_names(out.own, figure, front)
    gene_ids, gene_words = _genes(out, figure, record)
    found_words = gene_words | _chemicals(out, figure, record) | _diseases(out, figure, record)
    unmatched = [s for s in _keywords(front) if s.casefold() not in found_words]
    return out, Stats(genes_with_id=len(gene_ids), symbols_without_id=len(unmatched))


def _keywords(front: dict[str, Any]) -> list[str]:
    """The figure's gene symbols (already checked by the expand stage)."""
    keywords = front[JSONLD_KEY].get("keywords")
    return gene_symbols(keywords) if isinstance(keywords, list) else []


def _link(out: TripleSet, s: Term, p: Term, build: Any, value: Any) -> None:
    """Add ``s p <build(value)>`` when the value is present."""
    text = present(value)
    if text is not None:
        out.add(s, p, new_iri(build(text)))


FIGURE_SOURCE = "PFOCR"
"""The figure's ``dc:source``: WikiPathways' own pathways say "Wikipathways"."""


def _figure(out: TripleSet, figure: Term, figid: str, front: dict[str, Any]) -> None:
    """The figure's own fields; it is a ``wp:Pathway`` named the way WikiPathways names one
    (``dc:identifier``, ``dcterms:identifier``, ``dc:title`` in English, ``dc:source``)."""
    out.add(figure, RDF_TYPE, term(v.PFOCR, "Figure"))
    out.add(figure, RDF_TYPE, term(v.WP, "Pathway"))
    out.text(figure, DCT_ID, figid)
    out.add(figure, DC_ID, figure)
    out.add(figure, DC_SOURCE, literal(FIGURE_SOURCE))
    out.text(figure, DCT_TITLE, front.get("figtitle"))
    title = present(front.get("figtitle"))
    if title is not None:
        out.add(figure, DC_TITLE, english(title))
    out.text(figure, term(v.SCHEMA, "name"), title)
    out.text(figure, term(v.PFOCR, "figureNumber"), front.get("number"))
    out.text(figure, term(v.PFOCR, "figureType"), front.get("figtype"))
    out.text(figure, term(v.PFOCR, "figureAlias"), front.get("figid_alias"))
    score = front.get("automl_pathway", front.get("pathway_score"))  # the older layout's name
    out.typed(figure, term(v.PFOCR, "pathwayScore"), score, XSD_DOUBLE)
    pmcid = present(front.get("pmcid"))
    figlink = present(front.get("figlink"))
    filename = present(front.get("filename"))
    if figlink is not None:
        page = figlink if figlink.startswith(("http://", "https://")) else v.PMC_SITE + figlink
        out.add(figure, term(v.FOAF, "page"), new_iri(v.iri_safe(page)))
    if pmcid is not None and filename is not None:
        image = f"{v.pmc_article_page(pmcid)}bin/{v.iri_safe(filename)}"
        out.add(figure, term(v.SCHEMA, "image"), new_iri(image))
    _link(out, figure, term(v.PFOCR, "ndexNetwork"), v.ndex_iri, front.get("ndex"))
    _link(out, figure, term(v.PFOCR, "wikipathwaysPathway"), v.wikipathways_iri, front.get("wpid"))


def _paper(graph: RecordGraph, figure: Term, front: dict[str, Any]) -> None:
    pmcid = present(front.get("pmcid"))
    if pmcid is None:
        return
    paper = new_iri(v.pmc_iri(pmcid))
    graph.own.add(figure, DCT_PART_OF, paper)
    out = graph.shared
    out.add(paper, RDF_TYPE, term(v.SCHEMA, "ScholarlyArticle"))
    out.text(paper, DCT_ID, pmcid)
    out.add(paper, term(v.FOAF, "page"), new_iri(v.pmc_article_page(pmcid)))
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


def _organism_names(out: TripleSet, figure: Term, front: dict[str, Any]) -> None:
    """The names the front matter lists, as written (they are not always species): under
    PFOCR's own properties, never ``wp:organismName``, which pairs with ``wp:organism``."""
    for name in _names(front.get("organisms")):
        out.text(figure, term(v.PFOCR, "organismName"), name)
    for name in _names(front.get("organisms_ner")):
        out.text(figure, term(v.PFOCR, "nerOrganismName"), name)


def _mention(out: TripleSet, figure: Term, kind: str, key: str, row: SidecarRow) -> Term:
    """The mention node of one sidecar row: the OCR word that led to entity ``key``. The
    word is OCR text (``NA`` is a word); so is a gene row's ``match``, the word normalized,
    where a chemical's or disease's ``match`` is a MeSH term."""
    word = present_text(row.values.get("word"))
    mention = new_iri(f"{figure[1:-1]}#{kind}-{v.token(key)}-{v.token(word or '')}")
    out.add(figure, HAS_MENTION, mention)
    out.add(mention, RDF_TYPE, MENTION_CLASS[kind])
    if word is not None:
        out.add(mention, OCR_TEXT, literal(word))
    match = row.values.get("match")
    matched = present_text(match) if kind == "gene" else present(match)
    if matched is not None:
        out.add(mention, MATCHED_TEXT, literal(matched))
    out.text(mention, MATCH_SOURCE, row.values.get("source"))
    return mention


def _count(out: TripleSet, mention: Term, prop: Term, value: Any) -> None:
    """A count: a whole number as ``xsd:integer``, anything else as the text written (which
    the Mention shape warns about, keeping the record)."""
    text = present(value)
    if text is not None:
        out.add(mention, prop, literal(text, XSD_INTEGER if _DIGITS.match(text) else None))


class RowLeftOut(Exception):
    """A sidecar row (or inline list item) whose identifier is not one of its vocabulary's,
    or of a source this model has no IRIs for: the row is left out and the figure says so."""


def _require(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value):
        raise RowLeftOut(f"{what} {value!r} is malformed")
    return value


def _each_row(
    out: TripleSet,
    figure: Term,
    kind: str,
    rows: list[SidecarRow],
    build: Callable[[SidecarRow], None],
) -> None:
    """``build`` the triples of each row; a row it leaves out is stated on the figure
    (``pfocr:leftOutRow``, which the Figure shape reports as a warning), with why."""
    for row in rows:
        try:
            build(row)
        except RowLeftOut as why:
            table = "table" if row.unit == "line" else "list"
            out.add(figure, LEFT_OUT_ROW, literal(f"{kind} {table}, {row.where}: {why}"))


def _data_node(out: TripleSet, node: Term, kind: Term, local_id: str, source: str) -> None:
    """A WikiPathways data node: typed ``wp:DataNode`` and ``kind``, identified by
    ``dcterms:identifier`` (the id), ``dc:identifier`` (its IRI) and ``dc:source``."""
    out.add(node, RDF_TYPE, kind)
    out.add(node, RDF_TYPE, WP_DATA_NODE)
    out.add(node, DCT_ID, literal(local_id))
    out.add(node, DC_ID, node)
    out.add(node, DC_SOURCE, literal(source))


@lru_cache(maxsize=1 << 12)
def _gene_facts(gene_id: str, symbol: str | None, taxid: str | None, organism: str | None) -> Facts:
    """The shared facts about a gene and its taxon: the same in every record that names the
    gene, so made once per worker for the genes that recur (a bounded cache)."""
    facts = TripleSet()
    gene = iri(v.ncbigene_iri(gene_id))
    _data_node(facts, gene, WP_GENE_PRODUCT, gene_id, "Entrez Gene")
    facts.add(gene, WP_ENTREZ, gene)
    facts.text(gene, RDFS_LABEL, symbol)
    if taxid is not None:
        taxon = iri(v.taxon_iri(taxid))
        facts.add(gene, WP_ORGANISM, taxon)
        facts.text(taxon, RDFS_LABEL, organism)
        if taxid == v.HUMAN_TAXON and symbol is not None:
            facts.add(gene, WP_HGNC, iri(v.hgnc_symbol_iri(symbol)))
    return facts.groups()


def _genes(graph: RecordGraph, figure: Term, record: Record) -> tuple[set[str], set[str]]:
    """Gene triples from the genes sidecar; returns the gene ids and the casefolded
    words and symbols that have an id."""
    gene_ids: set[str] = set()
    identified: set[str] = set()
    organisms: dict[Term, str | None] = {}
    own, shared = graph.own, graph.shared

    def gene_row(row: SidecarRow) -> None:
        gene_id = present(row.values.get("ncbigene_id"))
        if gene_id is None:
            return
        _require(_DIGITS, gene_id, "ncbigene_id")
        taxid = present(row.values.get("organism_id"))
        if taxid is not None:
            _require(_DIGITS, taxid, "organism_id")
        gene_ids.add(gene_id)
        gene = iri(v.ncbigene_iri(gene_id))
        symbol = present(row.values.get("ncbigene_symbol"))
        organism = present(row.values.get("organism_name"))
        own.add(figure, SCHEMA_MENTIONS, gene)
        own.add(gene, DCT_PART_OF, figure)
        if taxid is not None:
            taxon = iri(v.taxon_iri(taxid))
            own.add(figure, WP_ORGANISM, taxon)
            organisms[taxon] = organisms.get(taxon) or organism
        shared.merge(_gene_facts(gene_id, symbol, taxid, organism))
        mention = _mention(own, figure, "gene", gene_id, row)
        own.add(mention, MENTION_OF, gene)
        for column, prop in GENE_COUNTS:
            _count(own, mention, prop, row.values.get(column))
        identified.update(
            w.casefold() for w in (symbol, present_text(row.values.get("word"))) if w is not None
        )

    _each_row(own, figure, "genes", record.sidecars.genes, gene_row)
    for name in organisms.values():  # each taxon's name, as WikiPathways names a pathway's
        own.text(figure, WP_ORGANISM_NAME, name)
    return gene_ids, identified


def _curie(value: str, prefix: str) -> str:
    """The local id of a sidecar CURIE such as ``mesh:D005227`` (pitfall 9)."""
    match = _PREFIXED.match(value)
    if match is None or match["prefix"].lower() != prefix:
        raise RowLeftOut(f"expected a {prefix}: id, got {value!r}")
    return match["local"]


def _mesh_entity(graph: RecordGraph, figure: Term, kind: str, ui: str, row: SidecarRow) -> Term:
    """``<figure> schema:mentions <MeSH>`` with the MeSH node's type, label and mention
    (``ui`` already checked)."""
    entity = iri(v.mesh_iri(ui))
    graph.own.add(figure, SCHEMA_MENTIONS, entity)
    graph.shared.add(entity, RDF_TYPE, _ENTITY_CLASS[kind])
    label = present(row.values.get("match")) or present(row.values.get("name"))
    graph.shared.text(entity, RDFS_LABEL, label)
    mention = _mention(graph.own, figure, kind, ui, row)
    graph.own.add(mention, MENTION_OF, entity)
    return entity


_ENTITY_CLASS = {
    "chemical": term(v.SCHEMA, "ChemicalSubstance"),
    "disease": term(v.SCHEMA, "MedicalCondition"),
}
OLDER_LAYOUT_SOURCES = {"chemical": ("MESH", "CHEBI"), "disease": ("MESH",)}
"""The sources the older ``word, source, identifier`` layout names, by kind."""


def _chebi(graph: RecordGraph, figure: Term, number: str, name: str | None) -> Term:
    """A ChEBI compound the WikiPathways way (``wp:Metabolite``, ``wp:bdbChEBI``)."""
    chebi = iri(v.chebi_iri(number))
    _data_node(graph.shared, chebi, WP_METABOLITE, f"CHEBI:{number}", "ChEBI")
    graph.own.add(chebi, DCT_PART_OF, figure)
    graph.shared.add(chebi, term(v.WP, "bdbChEBI"), chebi)
    graph.shared.add(chebi, SKOS_EXACT, iri(v.chebi_obo_iri(number)))
    graph.shared.text(chebi, RDFS_LABEL, name)
    return chebi


def _mentioned_chebi(
    graph: RecordGraph, figure: Term, number: str, label: str | None, row: SidecarRow
) -> None:
    """A ChEBI compound the figure mentions itself (no MeSH id), with its mention node."""
    chebi = _chebi(graph, figure, number, label)
    graph.own.add(figure, SCHEMA_MENTIONS, chebi)
    mention = _mention(graph.own, figure, "chemical", f"CHEBI_{number}", row)
    graph.own.add(mention, MENTION_OF, chebi)


def _is_older_layout(row: SidecarRow) -> bool:
    """Whether a chemicals or diseases row is of the older ``word, source, identifier``
    layout."""
    return "identifier" in row.values and "mesh" not in row.values


def _older_layout_row(graph: RecordGraph, figure: Term, kind: str, row: SidecarRow) -> bool:
    """The triples of an older-layout row: a MeSH id, or (chemicals) a ChEBI id; whether
    the row has an identifier."""
    local = present(row.values.get("identifier"))
    if local is None:
        return False
    source = (present(row.values.get("source")) or "").upper()
    known = OLDER_LAYOUT_SOURCES[kind]
    if source not in known:
        raise RowLeftOut(f"unknown source {row.values.get('source')!r} (known: {', '.join(known)})")
    if source == "CHEBI":
        number = _require(_DIGITS, local.split(":")[-1], "ChEBI id")
        _mentioned_chebi(graph, figure, number, present_text(row.values.get("word")), row)
    else:
        _mesh_entity(graph, figure, kind, _require(_MESH_UI, local, "MeSH id"), row)
    return True


def _entity_rows(
    graph: RecordGraph,
    figure: Term,
    kind: str,
    rows: list[SidecarRow],
    current_row: Callable[[SidecarRow], bool],
) -> set[str]:
    """The triples of chemicals or diseases rows in either layout (``current_row`` makes
    those of a row in the current layout, and says whether it had an id); returns the
    casefolded words of the rows that made a mention."""
    words: set[str] = set()

    def build(row: SidecarRow) -> None:
        older = _is_older_layout(row)
        if _older_layout_row(graph, figure, kind, row) if older else current_row(row):
            _add_word(words, row)

    _each_row(graph.own, figure, f"{kind}s", rows, build)
    return words


def _chemicals(graph: RecordGraph, figure: Term, record: Record) -> set[str]:
    """Chemical triples from either chemicals layout; returns the casefolded words."""

    def chemical_row(row: SidecarRow) -> bool:
        mesh = present(row.values.get("mesh"))
        chebi_curie = present(row.values.get("chebi"))
        if mesh is None and chebi_curie is None:
            return False
        number = None
        if chebi_curie is not None:
            number = _require(_DIGITS, _curie(chebi_curie, "chebi"), "ChEBI id")
        name = present(row.values.get("name"))
        if mesh is None:  # ChEBI only (mRNA, HMG-CoA …): the compound itself is mentioned
            assert number is not None
            _mentioned_chebi(graph, figure, number, name, row)
        else:
            ui = _require(_MESH_UI, _curie(mesh, "mesh"), "MeSH id")
            entity = _mesh_entity(graph, figure, "chemical", ui, row)
            if number is not None:
                graph.shared.add(entity, SKOS_EXACT, _chebi(graph, figure, number, name))
        return True

    return _entity_rows(graph, figure, "chemical", record.sidecars.chemicals, chemical_row)


def _diseases(graph: RecordGraph, figure: Term, record: Record) -> set[str]:
    """Disease triples (MeSH, with DOID equivalents) from either diseases layout; returns
    the casefolded words."""

    def disease_row(row: SidecarRow) -> bool:
        mesh = present(row.values.get("mesh"))
        if mesh is None:
            return False
        ui = _require(_MESH_UI, _curie(mesh, "mesh"), "MeSH id")
        doid = present(row.values.get("doid"))
        number = None if doid is None else _require(_DIGITS, _curie(doid, "doid"), "DOID id")
        entity = _mesh_entity(graph, figure, "disease", ui, row)
        if number is not None:
            graph.shared.add(entity, SKOS_EXACT, iri(v.doid_iri(number)))
        return True

    return _entity_rows(graph, figure, "disease", record.sidecars.diseases, disease_row)


def _add_word(words: set[str], row: SidecarRow) -> None:
    """Add the casefolded OCR word of a row that made a mention."""
    word = present_text(row.values.get("word"))
    if word is not None:
        words.add(word.casefold())
