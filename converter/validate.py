"""Validate stage: SHACL (pyshacl) against the shapes in ``shapes/``, per record.

Records are validated in batches, one pyshacl call per batch. When a batch has violations,
each record the violations touch is validated again on its own, so a record is rejected
only for its own defects and the good records of the batch are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from typing import Any

import pyoxigraph as ox
import rdflib
from pyshacl import validate as pyshacl_validate
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

from .resources import data_files
from .vocab import XSD

XSD_STRING = XSD + "string"
SEVERITY_ORDER = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, in words: what is wrong, where."""

    severity: str
    """``Violation`` (the record is rejected), ``Warning`` or ``Info`` (kept)."""
    shape: str
    """The label of the node shape that fired (``Figure``, ``Gene`` …)."""
    focus: str
    path: str | None
    value: str | None
    message: str
    component: str

    @property
    def is_violation(self) -> bool:
        return self.severity == "Violation"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def shapes_graph() -> rdflib.Graph:
    """All shapes files of ``shapes/``, parsed once per process."""
    graph = rdflib.Graph()
    for path in data_files("shapes", ".ttl"):
        graph.parse(path, format="turtle")
    return graph


@cache
def _shape_labels() -> dict[rdflib.term.Node, str]:
    """Each node shape and property shape -> the label of its node shape."""
    graph = shapes_graph()
    labels: dict[rdflib.term.Node, str] = {}
    for shape in graph.subjects(RDF.type, SH.NodeShape):
        label = str(graph.value(shape, RDFS.label) or shape)
        labels[shape] = label
        for prop in graph.objects(shape, SH.property):
            labels[prop] = label
    return labels


CACHED_LITERAL_LENGTH = 64
"""Literals up to this length (symbols, counts, names) are memoized; captions are not."""


def _to_rdflib(term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple) -> rdflib.term.Node:
    """The rdflib term for a pyoxigraph term."""
    if isinstance(term, ox.Triple):
        raise TypeError("RDF-star quoted triples are not part of pfocr-rdf's output")
    if isinstance(term, ox.NamedNode):
        return _uri(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if len(term.value) <= CACHED_LITERAL_LENGTH:
        return _short_literal(term.value, term.datatype.value, term.language)
    return _literal(term.value, term.datatype.value, term.language)


# IRIs and short values recur in every record (predicates, classes, genes, counts) and
# rdflib's term constructors are slow: memoized, in bounded caches.
@lru_cache(maxsize=1 << 15)
def _uri(value: str) -> rdflib.URIRef:
    return rdflib.URIRef(value)


def _literal(value: str, datatype: str, language: str | None) -> rdflib.Literal:
    if language:
        return rdflib.Literal(value, lang=language)
    if datatype == XSD_STRING:
        return rdflib.Literal(value)
    return rdflib.Literal(value, datatype=_uri(datatype))


_short_literal = lru_cache(maxsize=1 << 15)(_literal)


def to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """An rdflib graph (what pyshacl reads) holding ``triples``."""
    graph = rdflib.Graph()
    graph.addN(
        (_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object), graph)
        for t in triples
    )
    return graph


def validate_graph(graph: rdflib.Graph) -> list[Finding]:
    """All SHACL results for ``graph``."""
    _conforms, report, _text = pyshacl_validate(
        graph,
        shacl_graph=shapes_graph(),
        inference="none",
        allow_warnings=True,
        advanced=False,
        meta_shacl=False,
    )
    return _findings(report)


def _findings(report: rdflib.Graph) -> list[Finding]:
    labels = _shape_labels()
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):

        def one(prop: rdflib.URIRef, node: rdflib.term.Node = result) -> str | None:
            value = report.value(node, prop)
            return None if value is None else str(value)

        severity = (one(SH.resultSeverity) or str(SH.Violation)).rsplit("#", 1)[-1]
        component = (one(SH.sourceConstraintComponent) or "").rsplit("#", 1)[-1]
        source = report.value(result, SH.sourceShape)
        findings.append(
            Finding(
                severity=severity,
                shape=labels.get(source, str(source)) if source is not None else "",
                focus=one(SH.focusNode) or "",
                path=_path_text(report, report.value(result, SH.resultPath)),
                value=one(SH.value),
                message=one(SH.resultMessage) or component,
                component=component.removesuffix("ConstraintComponent"),
            )
        )
    findings.sort(
        key=lambda f: (SEVERITY_ORDER.index(f.severity), f.focus, f.path or "", f.message)
    )
    return findings


def _path_text(report: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
    """A SHACL path as text: a plain IRI, or SPARQL property-path syntax for the others
    (``^<iri>`` inverse, ``<a>/<b>`` sequence)."""
    if path is None:
        return None
    if isinstance(path, rdflib.URIRef):
        return str(path)
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return f"^<{inverse}>"
    steps = [_path_text(report, step) or "" for step in Collection(report, path)]
    return "/".join(s if s.startswith(("<", "^")) else f"<{s}>" for s in steps)


def _nodes(triples: Sequence[ox.Triple]) -> set[str]:
    """The IRIs a record's triples talk about (subjects and IRI objects)."""
    nodes = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    nodes.update(t.object.value for t in triples if isinstance(t.object, ox.NamedNode))
    return nodes


def validate_records(records: Sequence[Sequence[ox.Triple]]) -> list[list[Finding]]:
    """The findings of each record (same order), validating the batch in one call."""
    if not records:
        return []
    batch = validate_graph(to_rdflib(t for triples in records for t in triples))
    node_sets = [_nodes(triples) for triples in records]
    per_record: list[list[Finding]] = [
        [f for f in batch if f.focus in nodes] for nodes in node_sets
    ]
    if len(records) > 1:
        for index, findings in enumerate(per_record):
            if any(f.is_violation for f in findings):
                per_record[index] = validate_graph(to_rdflib(records[index]))
    return per_record
