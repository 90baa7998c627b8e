"""Write stage pieces: the set of lines already written, the Turtle fragments."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from helpers import EXAMPLES

from converter.convert import ConvertOptions, convert_to_folder
from converter.vocab import PREFIXES
from converter.write import DigestSet


def test_digest_set_is_exact_across_growth() -> None:
    seen = DigestSet(capacity=8)  # grows many times on the way
    lines = [f"<urn:s{i}> <urn:p> <urn:o{i % 7}> .\n".encode() for i in range(5000)]
    assert all(seen.add(line) for line in lines)
    assert not any(seen.add(line) for line in lines)
    assert len(seen) == 5000
    assert seen.add(b"<urn:s5000> <urn:p> <urn:o0> .\n")


def test_each_triple_is_written_once(tmp_path: Path) -> None:
    # the examples' four records state 42 shared facts twice or three times (hand-counted:
    # genes MAPK1, MAPK3, SOS1 and their taxon in two figures, the paper of two figures).
    # 519 distinct (hand-counted from the sidecars): 426 before the WikiPathways terms, plus
    # 4 a figure (wp:Pathway, dc:identifier, dc:source, dc:title), 4 a distinct gene (14) and
    # ChEBI compound (2) (wp:DataNode, dcterms:identifier, dc:identifier, dc:source), 13 HGNC
    # symbols (the human genes), 2 pfocr:organismName, minus the 2 wp:organismName of the
    # figure with two taxa
    summary, _ = convert_to_folder(
        [str(EXAMPLES)], tmp_path, ConvertOptions(formats=["ttl", "nt", "nq"])
    )
    nt = (tmp_path / "pfocr.nt").read_bytes().splitlines()
    nq = (tmp_path / "pfocr.nq").read_bytes().splitlines()
    assert len(nt) == len(set(nt)) == len(nq) == len(set(nq)) == summary.triples == 519
    turtle = {q.triple for q in ox.parse(path=tmp_path / "pfocr.ttl", format=ox.RdfFormat.TURTLE)}
    ntriples = {
        q.triple for q in ox.parse(path=tmp_path / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES)
    }
    assert turtle == ntriples
    whole = ox.serialize(
        ox.parse(path=tmp_path / "pfocr.nt", format=ox.RdfFormat.N_TRIPLES),
        format=ox.RdfFormat.TURTLE,
        prefixes=PREFIXES,
    )
    assert (tmp_path / "pfocr.ttl").read_bytes() == whole  # fragments join into one document
