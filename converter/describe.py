"""Describe stage: ``dataset.ttl``, the output described the way life-science linked data is.

It follows the W3C HCLS dataset description profile: a summary (PFOCR as a dataset), a
version (this run's output, versioned by its content) and one distribution per output file
(media type, byte size), with VoID statistics counted from the triples as they are written:
distinct triples and subjects, class and property partitions, and the linksets to NCBI
Gene, NCBI Taxonomy, MeSH, ChEBI, DOID and WikiPathways. Nothing in it depends on the clock:
a creation date is written only when given (``SOURCE_DATE_EPOCH``, the reproducible-builds
convention, or an option).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path

import pyoxigraph as ox
import xxhash

from . import __version__
from . import vocab as v
from .formats import GZIP, base_format

DATASET = "https://pfocr.wikipathways.org/rdf/pfocr"
"""The summary-level dataset, and the named graph a store keeps the description in."""
PUBLISHER = "https://pfocr.wikipathways.org/"

MEDIA_TYPES = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "nq": "application/n-quads",
    "trig": "application/trig",
    "jsonld": "application/ld+json",
}
IANA = "http://www.iana.org/assignments/media-types/"

LINK_TARGETS: dict[str, tuple[str, ...]] = {
    "NCBI Gene": ("https://identifiers.org/ncbigene/",),
    "NCBI Taxonomy": ("http://purl.obolibrary.org/obo/NCBITaxon_",),
    "MeSH": ("http://id.nlm.nih.gov/mesh/",),
    "ChEBI": ("https://identifiers.org/chebi/", "http://purl.obolibrary.org/obo/CHEBI_"),
    "Disease Ontology": ("http://purl.obolibrary.org/obo/DOID_",),
    "WikiPathways": ("https://identifiers.org/wikipathways/",),
}
"""The datasets PFOCR links to, by the URI spaces of their IRIs."""
_LINK_SPACES = {f"<{space}": name for name, spaces in LINK_TARGETS.items() for space in spaces}
_LINK_PREFIXES = tuple(_LINK_SPACES)
_RDF_TYPE = f"<{v.RDF}type>"


def _terms(lines: Iterable[str]) -> list[tuple[str, str]]:
    """The (predicate, object) of N-Triples lines as pyoxigraph writes them (a
    statement a line, its terms one space apart): the second term, and the rest's first
    word, which is the whole object when it is an IRI (what classes and links count)."""
    terms = []
    for line in lines:
        _subject, predicate, rest = line.split(" ", 2)
        terms.append((predicate, rest.split(" ", 1)[0]))
    return terms


@dataclass
class Counts:
    """VoID counts of a set of triples: properties, typed subjects per class, links per
    target; terms in N-Triples syntax (``<iri>``)."""

    properties: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    links: Counter[str] = field(default_factory=Counter)

    @property
    def triples(self) -> int:
        return sum(self.properties.values())

    def add(self, terms: Sequence[tuple[str, str]]) -> None:
        """Count triples given as (predicate, object) pairs, each triple once (the caller
        passes each distinct triple once). It runs for every triple written, so the
        counting is done by Counter, in C, and only each distinct object is looked at."""
        self.properties.update(map(itemgetter(0), terms))
        self.classes.update(obj for predicate, obj in terms if predicate == _RDF_TYPE)
        links = self.links
        for obj, count in Counter(map(itemgetter(1), terms)).items():
            if obj.startswith(_LINK_PREFIXES):
                target = next(name for p, name in _LINK_SPACES.items() if obj.startswith(p))
                links[target] = links.get(target, 0) + count

    def update(self, other: Counts) -> None:
        self.properties.update(other.properties)
        self.classes.update(other.classes)
        self.links.update(other.links)

    def parts(self) -> tuple[Counter[str], Counter[str], Counter[str]]:
        return self.properties, self.classes, self.links

    @classmethod
    def from_parts(cls, parts: Sequence[dict[str, int]]) -> Counts:
        properties, classes, links = parts
        return cls(Counter(properties), Counter(classes), Counter(links))


@dataclass
class Tally:
    """The counts of one record's own graph, made by the worker, and its subjects: how
    many are under the figure IRI (the record's alone), and any other that the record's
    shared facts do not name (none, as the converter builds them)."""

    counts: Counts = field(default_factory=Counts)
    figure_subjects: int = 0
    other_subjects: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        figure: str,
        terms: Sequence[tuple[str, str]],
        own: Iterable[str],
        shared: Collection[str],
    ) -> Tally:
        """The tally of an own graph: the (predicate, object) of each of its triples and
        its subjects (``own``), given the shared facts' subjects."""
        counts = Counts()
        counts.add(terms)
        scope = f"<{figure}"
        inside, others = 0, []
        for subject in own:
            if subject.startswith(scope):
                inside += 1
            elif subject not in shared:
                others.append(subject)
        return cls(counts, inside, tuple(others))


class Statistics:
    """VoID counts of the triples written, each counted once, record by record: a
    record's own graph from its tally, and the shared facts it was the first to state."""

    def __init__(self) -> None:
        self.counts = Counts()
        self.example: str | None = None
        self.figure_subjects = 0
        self._other_subjects: set[int] = set()
        """Digests of the subjects outside the figures' own IRIs."""
        self._content = xxhash.xxh3_128()

    def add_record(self, figure: str, own: bytes, tally: Tally, shared: bytes) -> None:
        """A record as written: its own graph (N-Triples, and its tally) and the shared
        facts it was the first to state (N-Triples lines)."""
        lines = shared.decode("utf-8").splitlines()
        self.counts.update(tally.counts)
        self.counts.add(_terms(lines))
        if self.example is None:
            self.example = figure
        self.figure_subjects += tally.figure_subjects
        digest_of, subjects = xxhash.xxh3_128_intdigest, self._other_subjects
        for subject in tally.other_subjects:
            subjects.add(digest_of(subject.encode()))
        for line in lines:
            subjects.add(digest_of(line[: line.index(" ")].encode()))
        self._content.update(_digest(own, shared))

    @property
    def triples(self) -> int:
        return self.counts.triples

    @property
    def distinct_subjects(self) -> int:
        return self.figure_subjects + len(self._other_subjects)

    @property
    def version(self) -> str:
        """The output's version: a digest of its content (each record's N-Triples, in
        order)."""
        return f"content-{self._content.hexdigest()[:16]}"


def _digest(own: bytes, shared: bytes) -> bytes:
    digest = xxhash.xxh3_128(own)
    digest.update(shared)
    return digest.digest()


@dataclass(frozen=True)
class RunFacts:
    """What the description says about the run besides the triples."""

    inputs: Sequence[str]
    read: int
    converted: int
    rejected: int


def created_date(option: str | None) -> str | None:
    """The creation date to write: the option, else ``SOURCE_DATE_EPOCH``, else none."""
    if option:
        return option
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or not epoch.strip().isdigit():
        return None
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(
    stats: Statistics, files: dict[str, Path], run: RunFacts, created: str | None
) -> list[ox.Triple]:
    """The triples of ``dataset.ttl``, each subject's together; ``files`` maps each output
    file name to its data."""
    by_subject: dict[str, list[ox.Triple]] = {}
    for triple in _Description(stats, files, run, created).triples():
        by_subject.setdefault(str(triple.subject), []).append(triple)
    return [triple for triples in by_subject.values() for triple in triples]


class _Description:
    def __init__(
        self, stats: Statistics, files: dict[str, Path], run: RunFacts, created: str | None
    ) -> None:
        self.stats, self.files, self.run, self.created = stats, files, run, created
        self.version = f"{DATASET}/version/{stats.version}"
        self._blank = 0

    def blank(self) -> ox.BlankNode:
        """A blank node with a label fixed by the order of the description (reproducible)."""
        self._blank += 1
        return ox.BlankNode(f"b{self._blank}")

    def triples(self) -> Iterator[ox.Triple]:
        summary, version = ox.NamedNode(DATASET), ox.NamedNode(self.version)
        yield from _about(
            summary,
            "dctypes:Dataset",
            "Pathway Figure OCR (PFOCR) as RDF",
            "Pathway figures of PubMed Central papers read by OCR, with the "
            "genes, chemicals and diseases found in them.",
        )
        yield _t(summary, "foaf:page", ox.NamedNode(PUBLISHER))
        yield from _about(
            version,
            "dctypes:Dataset",
            f"PFOCR as RDF, {self.stats.version}",
            "The records of one pfocr-rdf run: figures, papers, genes, "
            "chemicals and diseases, with the links between them.",
        )
        yield _t(version, "dct:isVersionOf", summary)
        yield _t(version, "pav:version", ox.Literal(self.stats.version))
        software = self.blank()
        yield _t(version, "pav:createdWith", software)
        yield _t(software, "rdf:type", _n("prov:SoftwareAgent"))
        yield _t(software, "rdfs:label", ox.Literal(f"pfocr-rdf {__version__}"))
        yield _t(software, "pav:version", ox.Literal(__version__))
        if self.created:
            yield _t(version, "dct:created", ox.Literal(self.created, datatype=_n("xsd:dateTime")))
        for name in self.run.inputs:
            source = self.blank()
            yield _t(version, "dct:source", source)
            yield _t(source, "rdf:type", _n("dctypes:Dataset"))
            yield _t(source, "dct:title", ox.Literal(Path(name).name or name))
        for prop, count in (
            ("recordsRead", self.run.read),
            ("recordsConverted", self.run.converted),
            ("recordsRejected", self.run.rejected),
        ):
            yield _t(version, f"pfocr:{prop}", _integer(count))
        for name, path in self.files.items():
            yield from self.distribution(version, name, path)

    def distribution(self, version: ox.NamedNode, name: str, path: Path) -> Iterator[ox.Triple]:
        node = ox.NamedNode(f"{self.version}/{name}")
        fmt = base_format(name.removeprefix("pfocr."))
        yield _t(version, "dcat:distribution", node)
        yield from _about(
            node,
            "dcat:Distribution",
            name,
            f"The output as {MEDIA_TYPES[fmt]}"
            + (", gzip-compressed." if name.endswith(GZIP) else "."),
        )
        yield _t(node, "rdf:type", _n("void:Dataset"))
        yield _t(node, "pav:version", ox.Literal(self.stats.version))
        yield _t(node, "dct:format", ox.Literal(MEDIA_TYPES[fmt]))
        yield _t(node, "dcat:mediaType", ox.NamedNode(IANA + MEDIA_TYPES[fmt]))
        if name.endswith(GZIP):
            yield _t(node, "dcat:compressFormat", ox.NamedNode(IANA + "application/gzip"))
        yield _t(node, "dcat:byteSize", _integer(path.stat().st_size))
        yield from self.statistics(node)

    def statistics(self, node: ox.NamedNode) -> Iterator[ox.Triple]:
        stats, counts = self.stats, self.stats.counts
        yield _t(node, "void:triples", _integer(counts.triples))
        yield _t(node, "void:distinctSubjects", _integer(stats.distinct_subjects))
        yield _t(node, "void:properties", _integer(len(counts.properties)))
        yield _t(node, "void:classes", _integer(len(counts.classes)))
        if stats.example:
            yield _t(node, "void:exampleResource", ox.NamedNode(stats.example))
        for cls, count in sorted(counts.classes.items()):
            part = self.blank()
            yield _t(node, "void:classPartition", part)
            yield _t(part, "void:class", ox.NamedNode(cls[1:-1]))
            yield _t(part, "void:entities", _integer(count))
        for prop, count in sorted(counts.properties.items()):
            part = self.blank()
            yield _t(node, "void:propertyPartition", part)
            yield _t(part, "void:property", ox.NamedNode(prop[1:-1]))
            yield _t(part, "void:triples", _integer(count))
        for target, spaces in LINK_TARGETS.items():
            if not counts.links[target]:
                continue
            linkset, other = self.blank(), self.blank()
            yield _t(node, "void:subset", linkset)
            yield _t(linkset, "rdf:type", _n("void:Linkset"))
            yield _t(linkset, "dct:title", ox.Literal(f"Links to {target}"))
            yield _t(linkset, "void:subjectsTarget", node)
            yield _t(linkset, "void:objectsTarget", other)
            yield _t(linkset, "void:triples", _integer(counts.links[target]))
            yield _t(other, "rdf:type", _n("void:Dataset"))
            yield _t(other, "dct:title", ox.Literal(target))
            for space in spaces:
                yield _t(other, "void:uriSpace", ox.Literal(space))


def _about(node: ox.NamedNode, cls: str, title: str, description: str) -> Iterator[ox.Triple]:
    """The properties every level of the profile requires: type, title, description,
    publisher and license."""
    yield _t(node, "rdf:type", _n(cls))
    yield _t(node, "dct:title", ox.Literal(title, language="en"))
    yield _t(node, "dct:description", ox.Literal(description, language="en"))
    yield _t(node, "dct:publisher", ox.NamedNode(PUBLISHER))
    yield _t(node, "dct:license", ox.NamedNode(v.CC0))


NAMESPACES = {
    "rdf": v.RDF,
    "rdfs": v.RDFS,
    "xsd": v.XSD,
    "dct": v.DCTERMS,
    "dctypes": "http://purl.org/dc/dcmitype/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "pav": "http://purl.org/pav/",
    "prov": v.PROV,
    "foaf": v.FOAF,
    "pfocr": v.PFOCR,
}


def _n(curie: str) -> ox.NamedNode:
    prefix, local = curie.split(":", 1)
    return ox.NamedNode(NAMESPACES[prefix] + local)


def _t(
    s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal
) -> ox.Triple:
    return ox.Triple(s, _n(p), o)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n("xsd:nonNegativeInteger"))


def write_description(target: Path, triples: list[ox.Triple]) -> None:
    """Serialize the description as Turtle with the profile's prefixes."""
    ox.serialize(triples, target, ox.RdfFormat.TURTLE, prefixes=NAMESPACES)
