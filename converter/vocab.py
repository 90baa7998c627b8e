"""Namespaces and IRI builders: the one place where the project's IRI conventions live.

Every IRI the converter mints is built here, following ``design.md`` (the forms WikiPathways
RDF and the OBO / identifiers.org / NLM graphs use), so that PFOCR output joins with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, unquote

from pyoxigraph import NamedNode, Triple

SCHEMA = "http://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"
DC = "http://purl.org/dc/elements/1.1/"
"""Dublin Core 1.1 elements: WikiPathways RDF names pathways and data nodes with them."""
WP = "http://vocabularies.wikipathways.org/wp#"
FOAF = "http://xmlns.com/foaf/0.1/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
PFOCR = "https://pfocr.wikipathways.org/vocab#"
"""Our own terms, defined in ``ontology/pfocr.ttl`` and nowhere else."""

PREFIXES: dict[str, str] = {
    "schema": SCHEMA,
    "dcterms": DCTERMS,
    "dc": DC,
    "wp": WP,
    "foaf": FOAF,
    "skos": SKOS,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "pfocr": PFOCR,
    "ncbigene": "https://identifiers.org/ncbigene/",
    "pmc": "https://identifiers.org/pmc/",
    "chebi": "https://identifiers.org/chebi/",
    "obo": "http://purl.obolibrary.org/obo/",
    "mesh": "http://id.nlm.nih.gov/mesh/",
}
"""Prefixes written into Turtle / TriG output (``schema:`` deliberately http, pitfall 8)."""

FIGURE_BASE = "https://pfocr.wikipathways.org/figures/"
SHARED_GRAPH = "https://pfocr.wikipathways.org/rdf/shared"
"""On a SPARQL server, the named graph of the shared facts (a server may have no writable
default graph); those a record first stated go to ``SHARED_GRAPH/<figid>``."""
LOADED_GRAPH = "https://pfocr.wikipathways.org/rdf/loaded"
"""On a SPARQL server, the named graph noting each graph a load wrote with its digest."""
PROBE_GRAPH = "https://pfocr.wikipathways.org/rdf/probe"
"""On a SPARQL server, the graph written and deleted to learn whether a load may write."""
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
PMC_SITE = "https://www.ncbi.nlm.nih.gov"

# What stays as written in an identifier placed in an IRI path: RFC 3986 path characters.
# Everything else (space, <>"{}|\\^`, controls, '%', '?', '#', non-ASCII) is percent-encoded
# as UTF-8, so the IRI is ASCII, parses in strict parsers and decodes back to the exact id.
_PATH_SAFE = "/:;()._-~!$&'*+,=@"


def iri_safe(text: str) -> str:
    """Percent-encode an identifier (a DOI, say) for use in an IRI path."""
    return quote(text, safe=_PATH_SAFE)


@lru_cache(maxsize=1 << 14)
def token(text: str) -> str:
    """Encode free text (an OCR word) as one IRI segment: ASCII only, no reserved chars."""
    return quote(text, safe="")


def figure_iri(figid: str) -> str:
    """The figure's own IRI, as in the record's ``@id``."""
    return f"{FIGURE_BASE}{token(figid)}.html"


def ncbigene_iri(gene_id: str) -> str:
    """NCBI Gene, the form WikiPathways RDF uses since 2021."""
    return f"https://identifiers.org/ncbigene/{gene_id}"


HUMAN_TAXON = "9606"


def hgnc_symbol_iri(symbol: str) -> str:
    """An HGNC symbol, the form WikiPathways writes with ``wp:bdbHgncSymbol``."""
    return f"https://identifiers.org/hgnc.symbol/{token(symbol)}"


def taxon_iri(taxid: str) -> str:
    return f"http://purl.obolibrary.org/obo/NCBITaxon_{taxid}"


def pmc_iri(pmcid: str) -> str:
    return f"https://identifiers.org/pmc/{token(pmcid)}"


def pmc_article_page(pmcid: str) -> str:
    return f"{PMC_SITE}/pmc/articles/{token(pmcid)}/"


def doi_iri(doi: str) -> str:
    return f"https://doi.org/{iri_safe(doi)}"


def mesh_iri(mesh_ui: str) -> str:
    return f"http://id.nlm.nih.gov/mesh/{mesh_ui}"


def chebi_iri(number: str) -> str:
    """ChEBI as WikiPathways writes it (``wp:bdbChEBI``)."""
    return f"https://identifiers.org/chebi/CHEBI:{number}"


def chebi_obo_iri(number: str) -> str:
    return f"http://purl.obolibrary.org/obo/CHEBI_{number}"


def doid_iri(number: str) -> str:
    return f"http://purl.obolibrary.org/obo/DOID_{number}"


def wikipathways_iri(wpid: str) -> str:
    return f"https://identifiers.org/wikipathways/{token(wpid)}"


def ndex_iri(uuid: str) -> str:
    return f"https://www.ndexbio.org/viewer/networks/{token(uuid)}"


def shared_graph(figid: str) -> str:
    """On a SPARQL server, the graph of the shared facts the record ``figid`` first stated."""
    return f"{SHARED_GRAPH}/{token(figid)}"


def figid_of(iri: str) -> str | None:
    """The figid of a figure IRI (or of an IRI under it, such as a mention), else None."""
    if not iri.startswith(FIGURE_BASE):
        return None
    local = iri[len(FIGURE_BASE) :].split("#", 1)[0]
    return unquote(local.removesuffix(".html")) if local.endswith(".html") else None


def figid_of_single_figure(triples: Iterable[Triple]) -> str | None:
    """The figid when the triples describe exactly one figure (as a subject), else None."""
    figids = {figid_of(t.subject.value) for t in triples if isinstance(t.subject, NamedNode)}
    figids.discard(None)
    return figids.pop() if len(figids) == 1 else None


QUERY_PREFIXES = {**PREFIXES, "figure": FIGURE_BASE, "sh": SH}
"""The prefixes a query may use without declaring them, and those a result table shows."""


def compact(text: str) -> str:
    """An IRI shortened with a known prefix for display (``ncbigene:5594``); text unchanged."""
    for prefix, namespace in QUERY_PREFIXES.items():
        if text.startswith(namespace) and len(text) > len(namespace):
            local = text[len(namespace) :]
            if re.fullmatch(r"[A-Za-z0-9_.:-]+", local) and not local.endswith("."):
                return f"{prefix}:{local}"
    return text


def compact_path(path: str) -> str:
    """A SHACL path for display: a plain IRI or each ``<iri>`` of a property path compacted."""
    if not path.startswith(("<", "^")):
        return compact(path)
    return re.sub(r"<([^>]+)>", lambda m: compact(m.group(1)), path)
