"""Validate stage: SHACL against the shapes in ``shapes/``, per record, with either engine.

Two engines give the same findings: ``shacl`` (a compiled Rust engine, the default: the
shapes are compiled once per process and each call releases the GIL) and ``pyshacl`` (the
reference implementation, on rdflib). Both read N-Triples text, so no rdflib object is made
in the convert path unless pyshacl is asked for. If the ``shacl`` wheel cannot be imported
on a platform, the run falls back to pyshacl and says so once.

Records are validated in batches, one engine call per batch. When a batch has violations,
each record the violations touch is validated again on its own, so a record is rejected
only for its own defects and the good records of the batch are kept.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox

from .resources import data_files
from .vocab import RDF, RDFS, SH

if TYPE_CHECKING:
    import rdflib

SEVERITY_ORDER = ("Violation", "Warning", "Info")
BLANK_NODE = "(blank node)"
"""How a finding shows a blank node: its label means nothing outside one engine's run."""
ENGINES = ("shacl", "pyshacl")
DEFAULT_ENGINE = "shacl"


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, in words: what is wrong, where."""

    severity: str
    """``Violation`` (the record is rejected), ``Warning`` or ``Info`` (kept)."""
    shape: str
    """The label of the node shape that fired (``Figure``, ``Gene`` …)."""
    focus: str
    path: str | None
    """A plain IRI, or SPARQL property-path syntax (``^<iri>``, ``<a>/<b>``)."""
    value: str | None
    """The offending value as text: an IRI, or a literal's lexical form."""
    message: str
    component: str

    @property
    def is_violation(self) -> bool:
        return self.severity == "Violation"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Findings in the order reports list them: severity, focus, path, message (then the
    rest, so the order never depends on the engine)."""
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER.index(f.severity),
            f.focus,
            f.path or "",
            f.message,
            f.component,
            f.value or "",
            f.shape,
        ),
    )


class Engine(Protocol):
    name: str

    def validate(self, ntriples: bytes) -> list[Finding]:
        """All SHACL results for the graph written as N-Triples in ``ntriples``."""


def ntriples_bytes(triples: Iterable[ox.Triple | ox.Quad]) -> bytes:
    """Triples (or the triples of quads) as N-Triples, in the order given: what the
    engines read."""
    data = ox.serialize(
        (t.triple if isinstance(t, ox.Quad) else t for t in triples),
        format=ox.RdfFormat.N_TRIPLES,
    )
    assert data is not None  # no output file given: serialize returns the bytes
    return data


@cache
def shapes_ntriples() -> bytes:
    """All shapes files of ``shapes/`` as one N-Triples document (blank nodes kept apart)."""
    return b"".join(
        ntriples_bytes(ox.parse(path=path, format=ox.RdfFormat.TURTLE))
        for path in data_files("shapes", ".ttl")
    )


@cache
def node_shape_labels() -> dict[str, str]:
    """Each node shape's IRI -> its ``rdfs:label`` (what findings call the shape)."""
    triples = list(ox.parse(shapes_ntriples(), format=ox.RdfFormat.N_TRIPLES))
    labels = {
        t.subject.value: t.object.value for t in triples if t.predicate.value == RDFS + "label"
    }
    return {
        t.subject.value: labels.get(t.subject.value, t.subject.value)
        for t in triples
        if t.predicate.value == RDF + "type" and t.object.value == SH + "NodeShape"
    }


def _term_text(ntriples_term: str) -> str:
    """The text of a term written in N-Triples syntax: an IRI, a literal's lexical form."""
    if ntriples_term.startswith("_:"):
        return BLANK_NODE
    probe = f"<urn:x:s> <urn:x:p> {ntriples_term} .\n".encode()
    (triple,) = ox.parse(probe, format=ox.RdfFormat.N_TRIPLES)
    return str(triple.object.value)


def _path_text(path: str | None) -> str | None:
    """The ``shacl`` engine's SPARQL path in the form findings use (a plain IRI bare,
    a sequence without its parentheses)."""
    if path is None:
        return None
    if path.startswith("<") and path.endswith(">") and path.count("<") == 1:
        return path[1:-1]
    if path.startswith("(") and path.endswith(")"):
        return path[1:-1]
    return path


class CompiledEngine:
    """The ``shacl`` engine: shapes compiled once, validation in Rust."""

    name = "shacl"

    def __init__(self) -> None:
        import shacl

        self._shapes = shacl.Shapes.from_text(shapes_ntriples().decode(), format="ntriples")
        self._labels = node_shape_labels()

    def validate(self, ntriples: bytes) -> list[Finding]:
        report = self._shapes.validate_text(ntriples.decode(), format="ntriples")
        return sort_findings(
            [
                Finding(
                    severity=r.severity,
                    shape=self._labels.get(_term_text(r.root_shape), "") if r.root_shape else "",
                    focus=_term_text(r.focus_node),
                    path=_path_text(r.path),
                    value=_term_text(r.value) if r.value is not None else None,
                    message=r.message or r.component,
                    component=r.component.removesuffix("ConstraintComponent"),
                )
                for r in report.results
            ]
        )


class ReferenceEngine:
    """pyshacl, the reference implementation, on an rdflib graph of the data."""

    name = "pyshacl"

    def __init__(self) -> None:
        import rdflib
        from rdflib.namespace import RDF as RDF_TERMS

        # rdflib logs a warning with a traceback for every ill-typed literal it reads
        # ("high"^^xsd:double): SHACL reports those, the terminal need not show them.
        logging.getLogger("rdflib.term").setLevel(logging.ERROR)
        from rdflib.namespace import SH as SH_TERMS

        self._rdflib, self._sh = rdflib, SH_TERMS
        self._shapes = rdflib.Graph().parse(data=shapes_ntriples(), format="nt")
        labels = node_shape_labels()
        self._owner: dict[rdflib.term.Node, str] = {}
        """Each node shape and property shape -> the label of its node shape."""
        for shape in self._shapes.subjects(RDF_TERMS.type, SH_TERMS.NodeShape):
            self._owner[shape] = labels.get(str(shape), str(shape))
            for prop in self._shapes.objects(shape, SH_TERMS.property):
                self._owner[prop] = self._owner[shape]

    def validate(self, ntriples: bytes) -> list[Finding]:
        from pyshacl import validate as pyshacl_validate

        # N-Triples is Turtle; rdflib's Turtle parser is fast on long literals (its
        # N-Triples parser takes minutes on a 10 MB caption).
        graph = self._rdflib.Graph().parse(data=ntriples, format="turtle")
        _conforms, report, _text = pyshacl_validate(
            graph,
            shacl_graph=self._shapes,
            inference="none",
            allow_warnings=True,
            advanced=False,
            meta_shacl=False,
        )
        return sort_findings(self._findings(report))

    def _findings(self, report: rdflib.Graph) -> list[Finding]:
        sh = self._sh
        findings = []
        for result in report.subjects(self._rdflib.RDF.type, sh.ValidationResult):

            def one(prop: rdflib.URIRef, node: rdflib.term.Node = result) -> str | None:
                value = report.value(node, prop)
                if isinstance(value, self._rdflib.BNode):
                    return BLANK_NODE
                return None if value is None else str(value)

            severity = (one(sh.resultSeverity) or SH + "Violation").rsplit("#", 1)[-1]
            component = (one(sh.sourceConstraintComponent) or "").rsplit("#", 1)[-1]
            source = report.value(result, sh.sourceShape)
            findings.append(
                Finding(
                    severity=severity,
                    shape=self._owner.get(source, str(source)) if source is not None else "",
                    focus=one(sh.focusNode) or "",
                    path=self._path_text(report, report.value(result, sh.resultPath)),
                    value=one(sh.value),
                    message=one(sh.resultMessage) or component,
                    component=component.removesuffix("ConstraintComponent"),
                )
            )
        return findings

    def _path_text(self, report: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
        """A SHACL path node of the report as text (plain IRI, ``^<iri>``, ``<a>/<b>``)."""
        from rdflib.collection import Collection

        if path is None:
            return None
        if isinstance(path, self._rdflib.URIRef):
            return str(path)
        inverse = report.value(path, self._sh.inversePath)
        if inverse is not None:
            return f"^<{inverse}>"
        steps = [self._path_text(report, step) or "" for step in Collection(report, path)]
        return "/".join(s if s.startswith(("<", "^")) else f"<{s}>" for s in steps)


def compiled_engine_available() -> bool:
    """Whether the ``shacl`` wheel is installed for this platform."""
    return importlib.util.find_spec("shacl") is not None


@cache
def engine(name: str = DEFAULT_ENGINE) -> Engine:
    """The engine called ``name``, made once per process (``shacl`` falls back to pyshacl
    when its wheel is missing: :func:`resolve_engine_name` says so first)."""
    if name == "shacl" and compiled_engine_available():
        return CompiledEngine()
    return ReferenceEngine()


def resolve_engine_name(name: str) -> tuple[str, str | None]:
    """The engine a run will use for ``name``, and a one-line notice if it falls back."""
    if name not in ENGINES:
        raise ValueError(f"unknown SHACL engine {name!r}; choose from {', '.join(ENGINES)}")
    if name == "shacl" and not compiled_engine_available():
        return "pyshacl", "the shacl engine is not installed here: validating with pyshacl"
    return name, None
