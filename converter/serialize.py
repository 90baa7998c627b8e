"""A record's serialization (in a worker): its N-Triples, and its own graph as each streamed
output writes it (N-Quads in its named graph, a Turtle fragment, gzip members)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .enrich import RecordGraph
from .formats import GZIP, base_format, compressed, in_graph, turtle_fragment


@dataclass(frozen=True)
class RecordRdf:
    """One record serialized by a worker."""

    figure: str
    """The figure IRI: the name of the record's own graph."""
    own: bytes
    """N-Triples of the figure's own graph."""
    own_triples: int
    """How many triples ``own`` holds."""
    shared: bytes
    """N-Triples of the facts about shared entities (genes, taxa, paper, MeSH, ChEBI)."""
    shared_ends: tuple[int, ...]
    """Where the lines of each subject of ``shared`` end (a subject's lines are together)."""
    parts: dict[str, bytes]
    """The own graph as each streamed output writes it (``nt``, ``nq``: its named graph,
    ``ttl``: a Turtle fragment without prefix lines, ``nt.gz``: a gzip member …)."""

    @property
    def ntriples(self) -> bytes:
        """The whole record as N-Triples (what SHACL checks)."""
        return self.own + self.shared


def serialize_record(graph: RecordGraph, formats: Iterable[str]) -> RecordRdf:
    """A record's RDF: its N-Triples, and its own graph as each of the streamed output
    ``formats`` writes it."""
    own = graph.own.ntriples()
    shared, shared_ends = graph.shared.ntriples_by_subject()
    return RecordRdf(
        figure=graph.figure,
        own=own,
        own_triples=len(graph.own),
        shared=shared,
        shared_ends=shared_ends,
        parts=own_graph_parts(own, graph.figure, formats),
    )


def own_graph_parts(own: bytes, figure: str, formats: Iterable[str]) -> dict[str, bytes]:
    """A figure's own graph (N-Triples) as each of the streamed output ``formats`` writes
    it."""
    plain: dict[str, bytes] = {"nt": own}
    parts: dict[str, bytes] = {}
    for name in formats:
        base = base_format(name)
        if base not in plain:
            plain[base] = in_graph(own, figure) if base == "nq" else turtle_fragment(own)
        parts[name] = compressed(plain[base]) if name.endswith(GZIP) else plain[base]
    return parts
