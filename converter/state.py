"""Keep stage: what a run keeps under OUTDIR so that the next run converts only what changed.

Each record's outcome (its own graph and shared facts as N-Triples, its counts and findings,
or its rejection) is kept under a key: a digest of the record's name, bytes and sidecars'
bytes. The kept outcomes live in ``OUTDIR/.pfocr-state/<fingerprint>/``, the fingerprint a
digest of everything else that changes a record's outcome: this converter's code and data
files, the libraries' versions, and the options that change a conversion (validation, the
engine; not the output formats, which are made from the N-Triples). A re-run hands the kept
outcome of an unchanged record to the writer in place of a conversion, and the writer makes
every output as a full run does: the same bytes.

An entry is written under a temporary name and renamed into place, so an interrupted run
leaves complete entries or none. It holds a JSON header and the compressed N-Triples, with
a checksum of both: a damaged entry is converted again, never trusted, and nothing in it is
executed (no pickle).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import xxhash

from . import __version__
from .describe import Counts, Tally
from .model import DamagedEntry, Source, Stage, Stats
from .pipeline import Converted, Outcome, Rejected
from .read import SIDECAR_KINDS
from .resources import PACKAGE_DIR, data_dir
from .validate import Finding
from .write import RecordRdf, own_graph_parts

STATE_DIR = ".pfocr-state"
MAGIC = b"pfocr-rdf kept outcome 1\n"
LIBRARIES = ("pyoxigraph", "pyld", "PyYAML", "shacl", "pyshacl", "rdflib")


def fingerprint(options: Iterable[str]) -> str:
    """A digest of what, besides a record's inputs, changes its outcome: the converter's
    code and data files, the libraries' versions and ``options``."""
    digest = xxhash.xxh3_128()
    digest.update(f"pfocr-rdf {__version__}\n".encode())
    roots = [PACKAGE_DIR, *(data_dir(name) for name in ("shapes", "ontology"))]
    for root in dict.fromkeys(roots):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{path.relative_to(root)}\n".encode())
                digest.update(path.read_bytes())
    for library in LIBRARIES:
        try:
            digest.update(f"{library} {version(library)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{library} absent\n".encode())
    for option in options:
        digest.update(f"{option}\n".encode())
    return digest.hexdigest()


def record_key(source: Source) -> str | None:
    """The key of a record's outcome: a digest of its name, bytes and sidecars' bytes; None
    when they cannot all be read (its conversion then says why) or when its sidecars would
    be found by a figid that only its front matter gives."""
    digest = xxhash.xxh3_128()
    digest.update(source.name.encode("utf-8", "surrogateescape") + b"\n")
    try:
        if source.data is not None:
            digest.update(source.data)
        elif source.path is not None:
            digest.update(source.path.read_bytes())
        if source.data_dir is not None:
            if source.stem_figid is None:
                return None
            for kind in SIDECAR_KINDS:
                sidecar = source.data_dir / f"{source.stem_figid}-{kind}.tsv"
                digest.update(f"\n{kind}\n".encode())
                digest.update(sidecar.read_bytes() if sidecar.exists() else b"\0absent")
    except OSError:
        return None
    return digest.hexdigest()


class KeptState:
    """The outcomes kept for one fingerprint under ``outdir``."""

    def __init__(self, outdir: Path, fingerprint: str) -> None:
        self.root = outdir / STATE_DIR
        self.folder = self.root / fingerprint

    def prepare(self) -> str | None:
        """Make the folder, and drop what was kept for another fingerprint (another
        version, or other options); returns a one-line notice when something was dropped."""
        notice = None
        if self.root.is_dir():
            stale = [path for path in self.root.iterdir() if path != self.folder]
            if stale:
                notice = (
                    f"what {self.root} kept was made by another version of pfocr-rdf or with "
                    "other options: every record is converted again"
                )
            for path in stale:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        return notice

    def load(self, key: str, formats: Iterable[str]) -> Outcome | None:
        """The outcome kept under ``key`` (with its own graph made for ``formats``), or
        None; raises DamagedEntry for an entry that cannot be trusted."""
        try:
            data = (self.folder / key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise DamagedEntry(str(err)) from None
        return decode(data, formats)

    def keep(self, key: str, outcome: Outcome) -> None:
        """Keep ``outcome`` under ``key``, atomically; an entry that cannot be written (a
        full disk) is not kept, and the run goes on."""
        temp = None
        try:
            fd, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.folder)
            with os.fdopen(fd, "wb") as stream:
                stream.write(encode(outcome))
            os.replace(temp, self.folder / key)
        except OSError:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)

    def forget_all_but(self, keys: set[str]) -> None:
        """Delete the entries of records that are gone, and temporary files left behind."""
        for path in self.folder.iterdir():
            if path.name not in keys:
                path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- entries


def encode(outcome: Outcome) -> bytes:
    """An outcome as bytes: magic line, checksum, header length, JSON header, and for a
    converted record its own graph and shared facts (N-Triples), compressed together."""
    header: dict[str, Any] = {
        "source": outcome.source,
        "figid": outcome.figid,
        "findings": [f.as_dict() for f in outcome.findings],
    }
    rdf = b""
    if isinstance(outcome, Rejected):
        header.update(kind="rejected", stage=outcome.stage.value, reason=outcome.reason)
    else:
        assert outcome.rdf is not None
        record, tally = outcome.rdf, outcome.tally
        header.update(
            kind="converted",
            stats=[outcome.stats.genes_with_id, outcome.stats.symbols_without_id],
            figure=record.figure,
            own_triples=record.own_triples,
            own_bytes=len(record.own),
            counts=[tally.counts.properties, tally.counts.classes, tally.counts.links],
            figure_subjects=tally.figure_subjects,
            other_subjects=list(tally.other_subjects),
        )
        rdf = zlib.compress(record.own + record.shared, 1)
    head = json.dumps(header, ensure_ascii=False).encode()
    body = len(head).to_bytes(8, "big") + head + rdf
    return MAGIC + xxhash.xxh3_128_digest(body) + body


def decode(data: bytes, formats: Iterable[str]) -> Outcome:
    """The outcome :func:`encode` made, its own graph made for ``formats``; DamagedEntry
    if the bytes are not such an entry."""
    start = len(MAGIC) + 16
    if (
        not data.startswith(MAGIC)
        or xxhash.xxh3_128_digest(data[start:]) != data[len(MAGIC) : start]
    ):
        raise DamagedEntry("checksum mismatch")
    try:
        size = int.from_bytes(data[start : start + 8], "big")
        header = json.loads(data[start + 8 : start + 8 + size])
        findings = [Finding(**f) for f in header["findings"]]
        if header["kind"] == "rejected":
            stage = Stage(header["stage"])
            return Rejected(header["source"], header["figid"], stage, header["reason"], findings)
        rdf = zlib.decompress(data[start + 8 + size :])
        own, shared = rdf[: header["own_bytes"]], rdf[header["own_bytes"] :]
        figure = header["figure"]
        parts = own_graph_parts(own, figure, formats)
        record = RecordRdf(figure, own, header["own_triples"], shared, parts)
        properties, classes, links = (Counter(c) for c in header["counts"])
        tally = Tally(
            Counts(properties, classes, links),
            header["figure_subjects"],
            tuple(header["other_subjects"]),
        )
        stats = Stats(*header["stats"])
        return Converted(header["source"], header["figid"], record, stats, findings, tally)
    except (ValueError, KeyError, TypeError, zlib.error) as err:
        raise DamagedEntry(f"unreadable entry: {err}") from None
