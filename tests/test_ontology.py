"""The ontology defines every term of our namespace that the output, shapes or reports use."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, PROJECT, value

from converter.cli import cli

PFOCR = "https://pfocr.wikipathways.org/vocab#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"


def ontology() -> ox.Store:
    store = ox.Store()
    store.load(path=PROJECT / "ontology" / "pfocr.ttl", format=ox.RdfFormat.TURTLE)
    return store


def used_terms(tmp_path: Path) -> set[str]:
    """Our terms in predicate or class position in a run's output, and in the shapes."""
    CliRunner().invoke(cli, ["convert", str(EXAMPLES), "-o", str(tmp_path), "-f", "nq", "-q"])
    files = [
        tmp_path / "pfocr.nq",
        tmp_path / "validation.ttl",
        tmp_path / "dataset.ttl",
        PROJECT / "shapes" / "pfocr-shapes.ttl",
    ]
    terms = set()
    for path in files:
        for quad in ox.parse(path=path):
            terms.add(value(quad.predicate))
            if value(quad.predicate) == RDF_TYPE or isinstance(quad.object, ox.NamedNode):
                terms.add(value(quad.object))
    return {t for t in terms if t.startswith(PFOCR)}


def test_every_term_used_is_defined_with_label_comment_domain_range(tmp_path: Path) -> None:
    store = ontology()
    used = used_terms(tmp_path)
    assert len(used) > 20
    for term in sorted(used):
        node = ox.NamedNode(term)
        kinds = {
            value(q.object) for q in store.quads_for_pattern(node, ox.NamedNode(RDF_TYPE), None)
        }
        assert kinds, f"{term} is not defined in ontology/pfocr.ttl"
        needed = ["label", "comment"]
        if kinds & {OWL + "ObjectProperty", OWL + "DatatypeProperty"}:
            needed += ["domain", "range"]
        for prop in needed:
            assert list(store.quads_for_pattern(node, ox.NamedNode(RDFS + prop), None)), (
                term,
                prop,
            )


@pytest.mark.parametrize("kind", ["Class", "ObjectProperty", "DatatypeProperty"])
def test_no_term_defined_elsewhere(kind: str) -> None:
    """Our namespace is defined in the ontology only, never in the shapes."""
    shapes = ox.Store()
    shapes.load(path=PROJECT / "shapes" / "pfocr-shapes.ttl", format=ox.RdfFormat.TURTLE)
    defined = shapes.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(OWL + kind))
    assert not [q for q in defined if value(q.subject).startswith(PFOCR)]
