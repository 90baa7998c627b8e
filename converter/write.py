"""Write stage: every run's outputs, record after record in input order, all-or-nothing.

A record's part of each streamed output (N-Triples, N-Quads, Turtle, each plain or gzip)
is its own graph, as its worker serialized it (or as the last run kept it), then the shared
facts (genes, taxa, papers …) that no record before it stated: each shared fact is written
once per run. TriG and JSON-LD are serialized from the N-Quads when the run completes. The
outputs are temporary files until :meth:`OutputWriter.finish` puts them all in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
import xxhash

from .atomic import AtomicFiles
from .formats import (
    BASENAME,
    DESCRIPTION_FILE,
    FINDINGS_STAGING,
    FORMATS,
    GZIP,
    INDEX_END,
    INDEX_SUFFIX,
    REJECTS_FILE,
    STREAMED_FORMATS,
    VALIDATION_FILE,
    base_format,
    compressed,
    reserialize,
    turtle_fragment,
    turtle_header,
)
from .interrupt import signals_held
from .serialize import RecordRdf
from .vocab import PREFIXES, SH

DIGEST_BLOCK = 1 << 20


class SharedFacts:
    """The shared-fact lines written so far in a run, as 128-bit digests (two different
    lines share one with a probability of about 2^-128 a pair: never)."""

    def __init__(self) -> None:
        self._lines: set[int] = set()
        self._groups: set[int] = set()
        """Digests of whole subject groups met already: each of their lines is known."""

    def first_stated(self, shared: bytes, ends: Iterable[int]) -> bytes:
        """The lines of ``shared`` (N-Triples whose subjects' lines end at ``ends``) that
        were never stated before, joined; they are noted as stated. A subject's lines are
        often repeated word for word (a gene's facts): such a group is looked up whole."""
        new: list[bytes] = []
        digest_of, lines, groups = xxhash.xxh3_128_intdigest, self._lines, self._groups
        start = 0
        for end in ends:
            group = shared[start:end]
            start = end
            key = digest_of(group)
            if key in groups:
                continue
            groups.add(key)
            for line in group.splitlines(keepends=True):
                digest = digest_of(line)
                if digest not in lines:
                    lines.add(digest)
                    new.append(line)
        return b"".join(new)


class _Output:
    """A streamed output being written, with its size and digest as it grows."""

    def __init__(self, path: Path) -> None:
        self.stream: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by the writer
        self.digest = xxhash.xxh3_128()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.digest.update(data)
        self.size += len(data)


def file_identity(path: Path) -> list[Any]:
    """A file's size and the digest of its bytes (what a re-run checks the outputs by)."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as stream:
        while block := stream.read(DIGEST_BLOCK):
            digest.update(block)
    return [path.stat().st_size, digest.hexdigest()]


class OutputWriter:
    """The output folder of one run: RDF in every format, rejects, validation findings.
    Use it as ``with closing(OutputWriter(...))``: leaving without :meth:`finish` removes
    every temporary file."""

    def __init__(
        self,
        outdir: Path,
        formats: Iterable[str],
        *,
        validation: bool = True,
        keep_nquads: bool = False,
        owns_folder: bool = False,
    ) -> None:
        """``keep_nquads``: stage the N-Quads even if not asked for (to load a store);
        ``owns_folder``: the run owns the files of :func:`run_files` in ``outdir`` (a
        conversion; not a ``validate`` run, whose input may be one of them)."""
        self.outdir = outdir
        self.owns_folder = owns_folder
        self.formats = list(formats)
        outdir.mkdir(parents=True, exist_ok=True)
        self.files = AtomicFiles(outdir)
        self.written: list[Path] | None = None
        """The outputs, once :meth:`finish` has put them in place."""
        self.identities: dict[str, list[Any]] = {}
        """Each output's name, size and digest, once :meth:`finish` has put them in place."""
        self.triples = 0
        """Distinct triples written (each shared fact counted once)."""
        self.facts = SharedFacts()
        streamed = [n for n in self.formats if base_format(n) in STREAMED_FORMATS]
        self._nquads: str | None = next((n for n in streamed if base_format(n) == "nq"), None)
        """The N-Quads output that TriG, JSON-LD and a store load are made from."""
        if self._nquads is None and (
            keep_nquads or any(base_format(n) not in STREAMED_FORMATS for n in self.formats)
        ):  # staged, then dropped; compressed when every output asked for is
            self._nquads = "nq.gz" if all(n.endswith(GZIP) for n in self.formats) else "nq"
            streamed.append(self._nquads)
        self._streams = {
            name: _Output(self.files.temp_for(f"{BASENAME}.{name}")) for name in streamed
        }
        self._started = False
        """Whether a record was written (Turtle outputs start with their prefixes then)."""
        self._writes_turtle = any(base_format(name) == "ttl" for name in streamed)
        self._index: IO[str] | None = (
            open(self.files.temp_for(self._index_name), "w", encoding="utf-8")  # noqa: SIM115
            if self._nquads
            else None
        )
        self._rejects: IO[str] = open(  # noqa: SIM115 - closed in finish or close
            self.files.temp_for(REJECTS_FILE), "w", encoding="utf-8"
        )
        self._findings_path = self.files.temp_for(FINDINGS_STAGING) if validation else None
        self.findings: IO[bytes] | None = (
            open(self._findings_path, "wb") if self._findings_path else None  # noqa: SIM115
        )
        """Where the SHACL report is streamed as N-Triples (None without validation)."""

    @property
    def _index_name(self) -> str:
        return f"{BASENAME}.{self._nquads}{INDEX_SUFFIX}"

    @property
    def streamed_formats(self) -> tuple[str, ...]:
        """The formats written record by record: what :func:`serialize_record` must make."""
        return tuple(self._streams)

    def add_record(self, rdf: RecordRdf) -> bytes:
        """Append a record to every streamed format: its own graph, then its shared facts
        that no record before it stated. Returns those (N-Triples lines)."""
        if not self._started:
            self._started = True
            for name in self._streams:
                if base_format(name) == "ttl":
                    self._write(name, turtle_header())
        shared = self.facts.first_stated(rdf.shared, rdf.shared_ends)
        self.triples += rdf.own_triples + shared.count(b"\n")  # a triple a line
        turtle = turtle_fragment(shared) if shared and self._writes_turtle else b""
        for name, output in self._streams.items():
            start = output.size
            output.write(rdf.parts[name])
            middle = output.size
            self._write(name, turtle if base_format(name) == "ttl" else shared)
            if name == self._nquads and self._index is not None:
                own_digest = xxhash.xxh3_128_hexdigest(rdf.own)
                self._index.write(
                    f"{rdf.figure}\t{own_digest}\t{start}\t{middle - start}\t{middle}\t"
                    f"{output.size - middle}\n"
                )
        return shared

    def _write(self, name: str, data: bytes) -> None:
        """Write bytes made in this process to a streamed output, compressed if it is."""
        if data:
            self._streams[name].write(compressed(data) if name.endswith(GZIP) else data)

    def add_reject(self, row: dict[str, Any]) -> None:
        self._rejects.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")

    def finish(
        self,
        before_commit: Callable[[Path, Path, Path | None], object] | None = None,
        describe: Callable[[dict[str, Path], Path], None] | None = None,
    ) -> list[Path]:
        """Serialize the remaining formats, then put all outputs in place; return their
        paths.

        ``describe`` writes the description of the RDF outputs (file name -> complete file)
        to the path it is given. ``before_commit`` gets the complete N-Quads, their graph
        index and that description (e.g. to load a store) before any output replaces the
        previous one; if it fails, no output is changed.
        """
        if self._index is not None and self._nquads is not None:
            self._index.write(f"{INDEX_END}\t{self._streams[self._nquads].size}\n")
        error = self._close_files()
        if error is not None:
            raise error
        nquads = self.files.pending(f"{BASENAME}.{self._nquads}") if self._nquads else None
        for name in self.formats:
            if base_format(name) not in STREAMED_FORMATS:
                assert nquads is not None
                fmt = FORMATS[base_format(name)]
                target = self.files.temp_for(f"{BASENAME}.{name}")
                reserialize(nquads, ox.RdfFormat.N_QUADS, target, fmt, PREFIXES, name)
        if self._findings_path is not None:
            reserialize(
                self._findings_path,
                ox.RdfFormat.N_TRIPLES,
                self.files.temp_for(VALIDATION_FILE),
                ox.RdfFormat.TURTLE,
                {**PREFIXES, "sh": SH},
                VALIDATION_FILE,
            )
            self.files.drop(FINDINGS_STAGING)
        description = None
        if describe is not None:
            outputs = {
                f"{BASENAME}.{n}": self.files.pending(f"{BASENAME}.{n}") for n in self.formats
            }
            description = self.files.temp_for(DESCRIPTION_FILE)
            describe({name: path for name, path in outputs.items() if path}, description)
        if before_commit is not None:
            index = self.files.pending(self._index_name)
            assert nquads is not None and index is not None, "a store load needs keep_nquads"
            before_commit(nquads, index, description)
        if self._nquads is not None and self._nquads not in self.formats:
            self.files.drop(f"{BASENAME}.{self._nquads}")
            self.files.drop(self._index_name)
        streamed = {
            f"{BASENAME}.{name}": [output.size, output.digest.hexdigest()]
            for name, output in self._streams.items()
        }
        identities = {
            target.name: streamed.get(target.name) or file_identity(temp)
            for target, temp in self.files.pending_items()
        }
        with signals_held():  # every output in place, or none
            self.written = self.files.commit(owned=self.owns_folder)
        self.identities = identities
        return self.written

    def _close_files(self) -> OSError | None:
        """Close every file, even when one cannot take its last bytes (a full disk);
        returns an error if there was one."""
        error = None
        streams = [output.stream for output in self._streams.values()]
        for stream in (*streams, self._rejects, self.findings, self._index):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError as err:
                    error = error or err
        return error

    def close(self) -> None:
        """Close the files; delete every temporary file not committed by :meth:`finish`."""
        with suppress(OSError):
            self._close_files()
        self.files.close()
