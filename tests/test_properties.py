"""Property-based: arbitrary text, symbols and ids never crash the converter, and whatever it
writes parses in pyoxigraph and in rdflib."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
import yaml
from helpers import EXAMPLES, GENES_HEADER
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from converter.convert import ConvertOptions, convert_to_folder
from converter.formats import STREAMED_FORMATS, turtle_header
from converter.model import Stage, present
from converter.outcome import Converted, Rejected
from converter.pipeline import BatchOptions, convert_one
from converter.read import discover

FIGID = "PMC424242__prop-f1"
text = st.text(max_size=40)
cell = st.text(st.characters(exclude_characters="\t\n\r", exclude_categories=["Cs"]), max_size=30)
"""Any text a TSV cell can hold (a tab or a line break would end the cell or the row)."""
number = st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True)
mostly_number = st.one_of(number, number, number, st.just("NA"), cell)
mesh_ui = st.from_regex(r"[CD][0-9]{6}", fullmatch=True)
mesh_id = st.one_of(mesh_ui, mesh_ui, mesh_ui, cell)
title = st.text(min_size=1, max_size=40).filter(lambda t: present(t) is not None)
year = st.one_of(st.from_regex(r"(19|20)[0-9]{2}", fullmatch=True), text)
doi_suffix = st.text(min_size=1, max_size=30).filter(lambda t: t == t.strip())
doi = st.one_of(doi_suffix.map("10.1234/".__add__), doi_suffix.map("10.1234/".__add__), text)
score = st.one_of(st.floats(0, 1).map(str), st.floats(0, 1).map(str), text)
gene_row = st.tuples(cell, cell, mostly_number, mostly_number, mostly_number)


def front_matter(
    title: str,
    description: str,
    keywords: list[Any],
    doi: str,
    organisms: list[str],
    year: str,
    score: str,
) -> dict[str, Any]:
    return {
        "figid": FIGID,
        "figtitle": title,
        "organisms": organisms,
        "pmcid": "PMC424242",
        "filename": "prop-f1.jpg",
        "figlink": "/pmc/articles/PMC424242/figure/F1/",
        "number": "F1",
        "papertitle": title,
        "year": year,
        "doi": doi,
        "keywords": doi,
        "automl_pathway": score,
        "schema-jsonld": {
            "@context": "https://schema.org/",
            "@id": f"https://pfocr.wikipathways.org/figures/{FIGID}.html",
            "@type": "Dataset",
            "description": description,
            "license": "CC0",
            "name": "CreativeWork",
            "creator": {"@type": "Organization", "name": title},
            "keywords": keywords,
        },
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=title,
    description=st.text(min_size=1, max_size=200),
    doi=doi,
    year=year,
    score=score,
    keywords=st.lists(st.one_of(text, st.integers(), st.booleans(), st.none()), max_size=6),
    organisms=st.lists(text, max_size=3),
    genes=st.lists(gene_row, max_size=4),
    chemicals=st.lists(st.tuples(cell, mesh_id, cell), max_size=3),
)
def test_any_text_is_converted_or_rejected_and_parses(
    title: str,
    description: str,
    doi: str,
    year: str,
    score: str,
    keywords: list[Any],
    organisms: list[str],
    genes: list[tuple[str, ...]],
    chemicals: list[tuple[str, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "_figures").mkdir()
        (root / "_data").mkdir()
        meta = front_matter(title, description, keywords, doi, organisms, year, score)
        body = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        (root / "_figures" / f"{FIGID}.md").write_text(f"---\n{body}---\n", encoding="utf-8")
        rows = "".join(
            f"{taxid}\tOrganism\tGroup\t{word}\t{word}\t{symbol}\t{gene_id}\tsrc\t{count}\t0\t1\n"
            for word, symbol, gene_id, taxid, count in genes
        )
        (root / "_data" / f"{FIGID}-genes.tsv").write_text(GENES_HEADER + rows, encoding="utf-8")
        chem = "".join(f"{w}\tmesh:{m}\t{n}\t{n}\tchebi:{m[1:]}\n" for w, m, n in chemicals)
        (root / "_data" / f"{FIGID}-chemicals.tsv").write_text(
            "word\tmesh\tmatch\tname\tchebi\n" + chem, encoding="utf-8"
        )

        options = BatchOptions(formats=STREAMED_FORMATS)
        (source,) = discover([str(root)])
        outcome = convert_one(source, options)

    event(f"rejected at {outcome.stage.value}" if isinstance(outcome, Rejected) else "converted")
    if isinstance(outcome, Rejected):
        assert isinstance(outcome.stage, Stage) and outcome.reason.strip()
        return
    assert isinstance(outcome, Converted) and outcome.rdf is not None
    rdf = outcome.rdf
    triples = [q.triple for q in ox.parse(rdf.ntriples, format=ox.RdfFormat.N_TRIPLES)]
    assert triples and not any(isinstance(t.subject, ox.BlankNode) for t in triples)
    # the worker's own-graph serializations say what its N-Triples say, in pyoxigraph's bytes
    own = [q.triple for q in ox.parse(rdf.own, format=ox.RdfFormat.N_TRIPLES)]
    graph = ox.NamedNode(rdf.figure)
    assert rdf.parts["nq"] == ox.serialize(
        [ox.Quad(t.subject, t.predicate, t.object, graph) for t in own], format=ox.RdfFormat.N_QUADS
    )
    assert rdf.own == ox.serialize(own, format=ox.RdfFormat.N_TRIPLES)
    fragment = turtle_header() + rdf.parts["ttl"]
    assert [q.triple for q in ox.parse(fragment, format=ox.RdfFormat.TURTLE)] == own
    ntriples = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    turtle = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes={"s": "http://schema.org/"})
    assert ntriples is not None and turtle is not None
    assert len(list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))) == len(set(triples))
    assert len(rdflib.Graph().parse(data=ntriples, format="nt")) == len(set(triples))
    assert len(rdflib.Graph().parse(data=turtle, format="turtle")) == len(set(triples))


def test_whole_runs_open_no_socket(no_network: list[object], tmp_path: Path) -> None:
    hostile = Path(__file__).resolve().parent / "hostile"
    summary, _ = convert_to_folder(
        [str(EXAMPLES), str(hostile / "db")],
        tmp_path / "out",
        ConvertOptions(formats=["ttl", "nt", "nq", "trig", "jsonld"], jobs=1),
    )
    assert summary.read == summary.converted + summary.rejected > 30
    assert no_network == []
