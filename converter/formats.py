"""Output formats: their names, gzip compression, file names in OUTDIR, and the conversions
between RDF syntaxes that the writer and the readers share.

A format with the suffix ``.gz`` is written gzip-compressed: members concatenate into one
valid gzip file, and headers carry no time stamp or file name (the level is fixed), so the
bytes are the same on every run.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from .vocab import PREFIXES

FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
DEFAULT_FORMATS = ("ttl", "nt")
STREAMED_FORMATS = ("nt", "nq", "ttl")
"""Written record by record; the others are serialized from the N-Quads at the end."""
GZIP = ".gz"
"""The suffix of a compressed output format (``nt.gz``) and of a compressed input file."""
GZIP_LEVEL = 6
"""gzip's own default level (fixed, so that the bytes are the same on every run)."""


def output_formats() -> list[str]:
    """Every name ``--formats`` accepts: each RDF format, plain and gzip-compressed."""
    return [*FORMATS, *(name + GZIP for name in FORMATS)]


def base_format(name: str) -> str:
    """The RDF format of an output format name (``nt`` for ``nt.gz``)."""
    return name.removesuffix(GZIP)


def compressed(data: bytes) -> bytes:
    """``data`` as one gzip member with a fixed header (no time stamp, no name)."""
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0) if data else b""


GZIP_MAGIC = b"\x1f\x8b"


def open_rdf(path: Path) -> IO[bytes]:
    """An RDF file for reading, decompressed if it is gzip (known by its first bytes)."""
    with open(path, "rb") as probe:
        magic = probe.read(len(GZIP_MAGIC))
    if magic == GZIP_MAGIC:
        return cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile reads like a binary file
    return open(path, "rb")


BASENAME = "pfocr"
REJECTS_FILE = "rejects.jsonl"
VALIDATION_FILE = "validation.ttl"
DESCRIPTION_FILE = "dataset.ttl"
INDEX_SUFFIX = ".graphs.tsv"
"""Beside an N-Quads output (``pfocr.nq.graphs.tsv``): a line per figure graph with a digest
of its own graph (as N-Triples) and the byte ranges of its quads and of the shared facts
written after them, so that ``load`` can update a store by the graphs that changed. Its
last line gives the N-Quads file's size, so an index is never used with another file."""
INDEX_END = "#size"
FINDINGS_STAGING = "validation.nt"
"""The SHACL results as they arrive; turned into VALIDATION_FILE at the end, never kept."""


def run_files() -> list[str]:
    """The names of the files a run may write in OUTDIR: a run owns them, and the files of
    those names that it does not write (another format, no validation) are removed when it
    puts its outputs in place, so OUTDIR always holds one run's outputs."""
    rdf = [f"{BASENAME}.{name}" for name in output_formats()]
    indexes = [f"{BASENAME}.{name}{INDEX_SUFFIX}" for name in ("nq", "nq" + GZIP)]
    return [*rdf, *indexes, REJECTS_FILE, VALIDATION_FILE, FINDINGS_STAGING, DESCRIPTION_FILE]


@cache
def turtle_header() -> bytes:
    """The ``@prefix`` lines pyoxigraph writes at the top of a Turtle document."""
    probe = [ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o"))]
    with_prefixes = ox.serialize(probe, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    without = ox.serialize(probe, format=ox.RdfFormat.TURTLE)
    assert with_prefixes is not None and without is not None
    assert with_prefixes.endswith(without)
    return with_prefixes[: -len(without)]


def turtle_fragment(ntriples: bytes) -> bytes:
    """N-Triples as Turtle statements using the prefixes of :func:`turtle_header`, without
    the header: fragments that start on a new subject concatenate into one document.

    The lines are this converter's own, built from pyoxigraph's term syntax, so they are
    parsed leniently (no second IRI validation: half the cost of the conversion)."""
    triples = ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES, lenient=True)
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    assert data is not None
    return data[len(turtle_header()) :] if data else data


def in_graph(ntriples: bytes, graph: str) -> bytes:
    """N-Triples lines as N-Quads lines of the named graph ``graph``.

    An N-Quads statement is an N-Triples statement with the graph name before the final
    ``.``; pyoxigraph writes one statement per line ending in `` .\n`` and escapes line
    breaks inside literals, so the graph name goes before each line's end. Faster than
    making a Python quad object per triple (a test compares it with pyoxigraph's N-Quads).
    """
    return ntriples.replace(b" .\n", f" <{graph}> .\n".encode())


def reserialize(
    source: Path,
    source_format: ox.RdfFormat,
    target: Path,
    fmt: ox.RdfFormat,
    prefixes: dict[str, str] | None,
    output_name: str,
) -> None:
    """Stream ``source`` (plain or gzip) into ``target`` in another format (graph names
    dropped if ``fmt`` holds triples only), gzip-compressed if ``output_name`` ends in
    ``.gz``."""
    with open_rdf(source) as reading, open(target, "wb") as raw:
        quads = ox.parse(reading, format=source_format)
        statements: Iterator[ox.Quad] | Iterator[ox.Triple] = (
            quads if fmt.supports_datasets else (q.triple for q in quads)
        )
        if output_name.endswith(GZIP):
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
            ) as writing:
                ox.serialize(statements, cast(IO[bytes], writing), fmt, prefixes=prefixes)
        else:
            ox.serialize(statements, raw, fmt, prefixes=prefixes)
