"""Expand stage: a record's ``schema-jsonld`` block to RDF, with pyld, fully offline.

pyld resolves ``@context`` through a document loader; ours serves the schema.org context
bundled in the package (release 30.0) and refuses every other URL, so the converter never
opens a network connection. The remote document carries a cache ``tag``: without it pyld
re-loads and re-canonicalizes the context on every call.

Fixes applied before expansion (design.md): ``license: CC0`` becomes the CC0 IRI (pyld would
drop the relative IRI); the placeholder ``name: CreativeWork`` is dropped (the figure's name
comes from ``figtitle``). After expansion every nested node without an ``@id`` gets a stable
IRI under the figure's IRI, so the output has no blank nodes.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import pyoxigraph as ox
from pyld import jsonld

from .model import Record, RecordError, Stage, present
from .vocab import CC0, figure_iri

SCHEMA_CONTEXT_FILE = "schemaorg-context-30.0.jsonld"
SCHEMA_CONTEXT_URLS = frozenset(
    {"https://schema.org/", "https://schema.org", "http://schema.org/", "http://schema.org"}
)
LICENSE_ALIASES = {"cc0": CC0, "cc0 1.0": CC0, "cc0-1.0": CC0, "cc-0": CC0}
PLACEHOLDER_NAMES = frozenset({"CreativeWork"})
JSONLD_KEY = "schema-jsonld"


class OfflineError(Exception):
    """Raised by the document loader for any URL other than the bundled context."""


@cache
def schema_context() -> dict[str, Any]:
    """The bundled schema.org JSON-LD context, parsed once per process."""
    text = resources.files("converter").joinpath("data", SCHEMA_CONTEXT_FILE).read_text("utf-8")
    context: dict[str, Any] = json.loads(text)
    return context


def offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: schema.org from the package, nothing from the network."""
    if url in SCHEMA_CONTEXT_URLS:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": schema_context(),
            "tag": "static",  # lets pyld keep the processed context across calls
        }
    raise OfflineError(f"refusing to fetch {url}: only the bundled schema.org context is used")


_EXPAND_OPTIONS = {"documentLoader": offline_loader}


def prepared_document(record: Record) -> dict[str, Any]:
    """The record's ``schema-jsonld`` checked against the record and with the fixes applied."""
    doc = record.front.get(JSONLD_KEY)
    if doc is None:
        raise RecordError(Stage.RECORD, f"field '{JSONLD_KEY}' is missing")
    if not isinstance(doc, dict):
        raise RecordError(Stage.RECORD, f"field '{JSONLD_KEY}' must be a mapping")
    context = doc.get("@context")
    if not isinstance(context, str) or context not in SCHEMA_CONTEXT_URLS:
        shown = json.dumps(context, ensure_ascii=False)[:120]
        raise RecordError(
            Stage.EXPAND,
            f"{JSONLD_KEY}.@context must be the schema.org context (https://schema.org/), "
            f"got {shown}; other contexts are refused (no network access)",
        )
    expected_id = figure_iri(record.figid)
    if doc.get("@id") is None:
        raise RecordError(Stage.RECORD, f"field '{JSONLD_KEY}.@id' is missing")
    if doc.get("@id") != expected_id:
        raise RecordError(
            Stage.RECORD,
            f"{JSONLD_KEY}.@id is {doc.get('@id')!r} but figid {record.figid!r} "
            f"means {expected_id!r}",
        )
    fixed = dict(doc)
    license_value = present(fixed.get("license"))
    if license_value is None:
        fixed.pop("license", None)
    elif license_value.lower() in LICENSE_ALIASES:
        fixed["license"] = LICENSE_ALIASES[license_value.lower()]
    elif not _is_absolute_iri(license_value):
        raise RecordError(
            Stage.EXPAND,
            f"{JSONLD_KEY}.license {license_value!r} is neither CC0 nor an absolute IRI",
        )
    if fixed.get("name") in PLACEHOLDER_NAMES:
        del fixed["name"]
    keywords = fixed.get("keywords")
    if keywords is not None:
        if not isinstance(keywords, list):
            raise RecordError(
                Stage.RECORD,
                f"{JSONLD_KEY}.keywords must be a list of gene symbols, "
                f"got a {type(keywords).__name__}",
            )
        fixed["keywords"] = gene_symbols(keywords)
    return fixed


def gene_symbols(keywords: list[Any]) -> list[str]:
    """The keywords that are present, as written (pitfall 3), without repeats."""
    symbols: dict[str, None] = {}
    for item in keywords:
        if isinstance(item, (dict, list)):
            raise RecordError(
                Stage.RECORD, f"{JSONLD_KEY}.keywords holds a {type(item).__name__}, not a symbol"
            )
        text = present(item)
        if text is not None:
            symbols[text] = None
    return list(symbols)


def _is_absolute_iri(value: str) -> bool:
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


def expand(record: Record) -> list[ox.Triple]:
    """The record's schema.org description as triples (no blank nodes)."""
    doc = prepared_document(record)
    try:
        expanded = jsonld.expand(doc, _EXPAND_OPTIONS)
    except jsonld.JsonLdError as err:
        raise RecordError(Stage.EXPAND, f"JSON-LD expansion failed: {_cause(err)}") from None
    name_nested_nodes(expanded, figure_iri(record.figid))
    try:
        triples = [q.triple for q in ox.parse(json.dumps(expanded).encode(), ox.RdfFormat.JSON_LD)]
    except SyntaxError as err:
        raise RecordError(Stage.EXPAND, f"expanded JSON-LD is not valid RDF: {err}") from None
    except MemoryError:  # pyoxigraph's JSON-LD buffer stops near 8 MB of text: use pyld's own
        triples = _pyld_triples(expanded)
    if any(
        isinstance(t, ox.BlankNode) for triple in triples for t in (triple.subject, triple.object)
    ):
        raise RecordError(
            Stage.EXPAND, f"{JSONLD_KEY} makes blank nodes (a JSON-LD @list?), which are refused"
        )
    return triples


def _pyld_triples(expanded: list[Any]) -> list[ox.Triple]:
    """RDF of expanded JSON-LD by pyld (slower than pyoxigraph, but with no size limit)."""
    dataset = jsonld.to_rdf(expanded, _EXPAND_OPTIONS)

    def term(node: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if node["type"] == "IRI":
            return ox.NamedNode(node["value"])
        if node["type"] == "blank node":
            return ox.BlankNode(node["value"].removeprefix("_:"))
        if "language" in node:
            return ox.Literal(node["value"], language=node["language"])
        return ox.Literal(node["value"], datatype=ox.NamedNode(node["datatype"]))

    return [
        ox.Triple(term(t["subject"]), term(t["predicate"]), term(t["object"]))  # type: ignore[arg-type]
        for t in dataset.get("@default", [])
    ]


def _cause(err: BaseException) -> str:
    """The innermost message of a pyld error chain (pyld wraps the loader's error)."""
    while err.__cause__ is not None:
        err = err.__cause__
    message = getattr(err, "message", None) or str(err)
    return str(message).splitlines()[0]


def name_nested_nodes(expanded: list[Any], base: str) -> None:
    """Give each node object without ``@id`` the IRI ``<base>#<property>[-n]``, in place.

    ``base`` is the figure IRI; the name comes from the property's local name and, when a
    property has several such nodes, their position, so it is the same on every run.
    """

    def visit(node: dict[str, Any], prefix: str) -> None:
        for prop, values in node.items():
            if prop.startswith("@") or not isinstance(values, list):
                continue
            local = prop.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            nested = [v for v in values if isinstance(v, dict) and _is_node_object(v)]
            for index, child in enumerate(nested, start=1):
                if "@id" not in child or str(child["@id"]).startswith("_:"):
                    suffix = local if len(nested) == 1 else f"{local}-{index}"
                    child["@id"] = f"{prefix}{'#' if '#' not in prefix else '-'}{suffix}"
                visit(child, child["@id"])

    for top in expanded:
        if isinstance(top, dict):
            visit(top, base)


def _is_node_object(value: dict[str, Any]) -> bool:
    return not ({"@value", "@list", "@set"} & value.keys())
