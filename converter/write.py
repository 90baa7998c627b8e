"""Write stage: RDF files, the rejects report and the validation report, all-or-nothing.

Workers serialize each record with pyoxigraph (:func:`serialize_record`): the figure's own
graph and the facts about shared entities, as N-Triples, and the own graph as a Turtle
fragment when Turtle is written. The main process (:class:`OutputWriter`) keeps the first
occurrence of every shared fact (so each triple is written once per run), and appends each
record to every streamed format (N-Triples, N-Quads, Turtle) in input order. TriG and
JSON-LD are serialized from the N-Quads when the run completes. A format with the suffix
``.gz`` is written gzip-compressed as it streams: workers compress each record's part into a
gzip member of its own (members concatenate into one valid gzip file), with no time stamp
or file name in the headers, so the bytes are the same on every run. Every output takes its
previous version's place in one step (a swap, or a rename): a run that fails or is
interrupted removes its temporary files and leaves the previous outputs untouched, never a
half-written file.
"""

from __future__ import annotations

import ctypes
import errno
import gzip
import json
import os
import signal
import stat
from array import array
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from threading import Thread, current_thread, main_thread
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, cast

import pyoxigraph as ox
import xxhash

from .enrich import RecordGraph
from .vocab import PREFIXES, SH

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

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
of its quads and the byte ranges of its quads and of the shared facts written after them,
so that ``load`` can update a store by the graphs that changed. Its last line gives the
N-Quads file's size, so an index is never used with another file."""
INDEX_END = "#size"
FINDINGS_STAGING = "validation.nt"
"""The SHACL results as they arrive; turned into VALIDATION_FILE at the end, never kept."""


@dataclass(frozen=True)
class Chunk:
    """Where a record was written: its part of each streamed output, in the order of
    :attr:`OutputWriter.streamed_formats`, as (start, middle, end) byte offsets: its own
    graph from start to middle, then the shared facts it was the first to state."""

    figure: str
    own_digest: str
    """A digest of its own graph (N-Triples), for the graph index."""
    spans: tuple[int, ...]


def _delete(path: Path) -> None:
    """Delete ``path`` if it can be; if not, the next run does (a stale temporary file)."""
    with suppress(OSError):
        path.unlink(missing_ok=True)


RENAME_EXCHANGE = 2
AT_FDCWD = -100


@cache
def _renameat2() -> Callable[..., int] | None:
    """The C library's ``renameat2`` (Linux, glibc 2.28 and later), if there is one."""
    try:
        return cast(Callable[..., int], ctypes.CDLL(None, use_errno=True).renameat2)
    except (AttributeError, OSError):
        return None


def put_in_place(temp: Path, target: Path) -> Path | None:
    """Put the file ``temp`` in place of ``target`` in one step; return the old file, now
    under the name ``temp``, for the caller to delete (None when ``target`` was new).

    A regular file there is swapped with ``temp`` where the system allows it: replacing it
    by a rename makes ext4 allocate and start writing out ``temp`` first (a small file
    waits behind a large one), which a swap leaves to the kernel's usual writeback.
    Elsewhere it is a rename."""
    if _exchange(temp, target):
        return temp
    os.replace(temp, target)
    return None


def replace_file(temp: Path, target: Path) -> None:
    """Put ``temp`` in place of ``target`` (:func:`put_in_place`), then delete the old
    file at once (a small one)."""
    replaced = put_in_place(temp, target)
    if replaced is not None:
        replaced.unlink(missing_ok=True)


def _exchange(path: Path, other: Path) -> bool:
    """Swap ``path`` and the regular file ``other`` atomically; False if ``other`` is not
    one (absent, a link, a folder) or the system cannot swap, and nothing was done."""
    renameat2 = _renameat2()
    try:
        if renameat2 is None or not stat.S_ISREG(os.lstat(other).st_mode):
            return False
    except FileNotFoundError:
        return False
    if renameat2(AT_FDCWD, os.fsencode(path), AT_FDCWD, os.fsencode(other), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # no target yet, or a file system or kernel without exchange
    raise OSError(code, os.strerror(code), str(path), None, str(other))


def _at_once(calls: list[Callable[[], None]]) -> None:
    """Run ``calls`` each in its own thread, and raise the first error. For calls that wait
    on the kernel (copies, closes), which run at the same time."""
    if len(calls) < 2:
        for call in calls:
            call()
        return
    with ThreadPoolExecutor(len(calls)) as pool:
        for done in [pool.submit(call) for call in calls]:
            done.result()


def _copy_range(source: IO[bytes], target: IO[bytes], offset: int, length: int) -> None:
    """Copy ``length`` bytes of ``source`` from ``offset`` to the end of ``target``, in the
    kernel where the file system allows it."""
    target.flush()
    position = target.tell()
    while length > 0:
        try:
            done = os.copy_file_range(source.fileno(), target.fileno(), length, offset, position)
        except OSError as err:
            if err.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            piece = os.pread(source.fileno(), min(length, 1 << 24), offset)
            done = os.pwrite(target.fileno(), piece, position)
        if done == 0:
            raise OSError(f"{source.name} is shorter than the last run left it")
        offset, position, length = offset + done, position + done, length - done
    target.seek(position)


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


NEW = 1 << 31
"""The flag :meth:`DigestSet.number_all` sets on the number of a line it had not seen."""


class DigestSet:
    """An exact set of lines, each with a number (the order in which it was added), kept as
    their 128-bit xxh3 digests in an open-addressing table of two 64-bit arrays and one
    32-bit array: 20 bytes a slot, far less than a Python dict of digests. Two different
    lines share a digest with a probability of about 2^-128 per pair:
    never, in any run."""

    MAX_LOAD = 0.75

    def __init__(self, capacity: int = 1 << 10) -> None:
        self._high, self._low, self._numbers = _empty_table(capacity)
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def number(self, line: bytes) -> tuple[int, bool]:
        """The number of a line (a new one gets the next), and whether it was new."""
        numbers = self.number_all([line])
        return numbers[0] & ~NEW, bool(numbers[0] & NEW)

    def find(self, line: bytes) -> int | None:
        """The number of a line, None if it was never added (the probe of
        :meth:`number_all`, which keeps its own copy inline: it runs for every line)."""
        digest = xxhash.xxh3_128_intdigest(line)
        high, low = (digest >> 64) | 1, digest & 0xFFFF_FFFF_FFFF_FFFF
        slot = (high ^ low) & self._mask
        while there := self._high[slot]:
            if there == high and self._low[slot] == low:
                return self._numbers[slot]
            slot = (slot + 1) & self._mask
        return None

    def number_all(self, lines: Iterable[bytes]) -> array[int]:
        """The number of each line (new ones get the next), with the flag NEW where the line
        was new. One loop with everything local: it runs for every shared fact written."""
        numbers = array("I")
        append, digest_of = numbers.append, xxhash.xxh3_128_intdigest
        for line in lines:
            digest = digest_of(line)
            high, low = (digest >> 64) | 1, digest & 0xFFFF_FFFF_FFFF_FFFF  # high 0: empty
            highs, lows, mask = self._high, self._low, self._mask
            slot = (high ^ low) & mask
            while True:
                there = highs[slot]
                if there == 0:
                    number = self._count
                    highs[slot], lows[slot], self._numbers[slot] = high, low, number
                    self._count += 1
                    if self._count > self.MAX_LOAD * (mask + 1):
                        self._grow()
                    append(number | NEW)
                    break
                if there == high and lows[slot] == low:
                    append(self._numbers[slot])
                    break
                slot = (slot + 1) & mask
        return numbers

    def _insert(self, high: int, low: int, number: int) -> None:
        """Put a digest known to be absent in its slot."""
        highs, mask = self._high, self._mask
        slot = (high ^ low) & mask
        while highs[slot]:
            slot = (slot + 1) & mask
        highs[slot], self._low[slot], self._numbers[slot] = high, low, number

    def _grow(self) -> None:
        highs, lows, numbers = self._high, self._low, self._numbers
        capacity = 2 * (self._mask + 1)
        self._high, self._low, self._numbers = _empty_table(capacity)
        self._mask = capacity - 1
        for high, low, number in zip(highs, lows, numbers, strict=True):
            if high:
                self._insert(high, low, number)

    def tables(self) -> tuple[array[int], array[int], array[int]]:
        """The table's arrays (not copies), for :meth:`from_tables`."""
        return self._high, self._low, self._numbers

    @classmethod
    def from_tables(
        cls, high: ReadableBuffer, low: ReadableBuffer, numbers: ReadableBuffer, count: int
    ) -> DigestSet:
        """The set whose :meth:`tables` had the bytes of ``high``, ``low`` and ``numbers``
        (``count`` lines in it)."""
        table = cls(capacity=1)
        table._high, table._low, table._numbers = array("Q"), array("Q"), array("I")
        parts = (table._high, table._low, table._numbers)
        for part, data in zip(parts, (high, low, numbers), strict=True):
            part.frombytes(memoryview(data).cast("B"))  # any buffer, as bytes
        capacity = len(table._high)
        if capacity & (capacity - 1) or not len(table._low) == len(table._numbers) == capacity:
            raise ValueError("not a digest table")
        table._mask, table._count = capacity - 1, count
        return table


def _empty_table(capacity: int) -> tuple[array[int], array[int], array[int]]:
    """The zeroed arrays of a digest table of ``capacity`` slots, made in place (not
    copied from a zeroed bytes object as large as each)."""
    return array("Q", [0]) * capacity, array("Q", [0]) * capacity, array("I", [0]) * capacity


def run_files() -> list[str]:
    """The names of the files a run may write in OUTDIR: a run owns them, and the files of
    those names that it does not write (another format, no validation) are removed when it
    puts its outputs in place, so OUTDIR always holds one run's outputs."""
    rdf = [f"{BASENAME}.{name}" for name in output_formats()]
    indexes = [f"{BASENAME}.{name}{INDEX_SUFFIX}" for name in ("nq", "nq" + GZIP)]
    return [*rdf, *indexes, REJECTS_FILE, VALIDATION_FILE, FINDINGS_STAGING, DESCRIPTION_FILE]


class AtomicFiles:
    """Temporary files in one folder that replace their targets only on :meth:`commit`;
    whatever was not committed is deleted by :meth:`close`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pending: dict[Path, Path] = {}
        self._made = 0
        self._deleting: list[Thread] = []

    def temp_for(self, name: str) -> Path:
        """A new temporary path that will become ``folder/name``, for its writer to create.

        Not created here: on ext4, opening an existing file for writing truncates it, and
        closing a truncated file forces its blocks to be allocated, which a file that its
        first open creates is spared."""
        self._made += 1
        temp = self.folder / f".{name}.{os.getpid()}-{self._made}.tmp"
        self._pending[self.folder / name] = temp
        return temp

    def commit(self) -> list[Path]:
        """Put every temporary file in place of its target (:func:`put_in_place`); return
        the targets. The old files are deleted while the run goes on (freeing gigabytes
        takes a moment); :meth:`close` waits for it."""
        done = []
        for target, temp in self._pending.items():
            if temp != target:  # not kept as it was
                old = put_in_place(temp, target)
                if old is not None:
                    deleting = Thread(target=_delete, args=(old,))
                    deleting.start()
                    self._deleting.append(deleting)
            done.append(target)
        self._pending.clear()
        return done

    def pending(self, name: str) -> Path | None:
        """The temporary file that will become ``folder/name``, if there is one."""
        return self._pending.get(self.folder / name)

    def keep(self, name: str) -> None:
        """Keep ``folder/name`` as it is (its new content is the same): the temporary file
        for it is deleted, and the file counts as written."""
        target = self.folder / name
        self._pending[target].unlink(missing_ok=True)
        self._pending[target] = target

    def drop(self, name: str) -> None:
        """Forget ``name`` (delete its temporary file): it will not be written."""
        target = self.folder / name
        temp = self._pending.pop(target)
        if temp != target:
            temp.unlink(missing_ok=True)

    def close(self) -> None:
        """Delete the temporary files not committed; wait for the old files replaced by
        :meth:`commit` to be deleted (one that cannot be is left to the next run)."""
        for target, temp in self._pending.items():
            if temp != target:
                temp.unlink(missing_ok=True)
        self._pending.clear()
        for deleting in self._deleting:
            deleting.join()
        self._deleting.clear()


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
        for name in run_files():  # temporary files of a run that was killed
            for stale in outdir.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
        self.files = AtomicFiles(outdir)
        self.written: list[Path] | None = None
        """The outputs, once :meth:`finish` has put them in place."""
        self.triples = 0
        """Distinct triples written (each shared fact counted once)."""
        self._previous_outputs: dict[str, IO[bytes]] = {}
        self._copies: dict[str, list[int]] = {}
        """The range of the last run's output waiting to be copied to each stream."""
        streamed = [n for n in self.formats if base_format(n) in STREAMED_FORMATS]
        self._nquads: str | None = next((n for n in streamed if base_format(n) == "nq"), None)
        """The N-Quads output that TriG, JSON-LD and a store load are made from."""
        if self._nquads is None and (
            keep_nquads or any(base_format(n) not in STREAMED_FORMATS for n in self.formats)
        ):  # staged, then dropped; compressed when every output asked for is
            self._nquads = "nq.gz" if all(n.endswith(GZIP) for n in self.formats) else "nq"
            streamed.append(self._nquads)
        self._streams: dict[str, IO[bytes]] = {
            name: open(self.files.temp_for(f"{BASENAME}.{name}"), "wb")  # noqa: SIM115
            for name in streamed
        }
        self._turtle_started: set[str] = set()
        self._writes_turtle = any(base_format(name) == "ttl" for name in self._streams)
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

    def add_record(self, rdf: RecordRdf, shared: bytes) -> Chunk:
        """Append a record to every streamed format: its own graph, then ``shared``, the
        N-Triples lines of its shared facts that no record before it stated. Returns where
        it was written."""
        self.triples += rdf.own_triples + shared.count(b"\n")  # a triple a line
        turtle = turtle_fragment(shared) if shared and self._writes_turtle else b""
        own_digest = xxhash.xxh3_128_hexdigest(rdf.own)
        self._copy_pending(list(self._copies))
        spans: list[int] = []
        for name, stream in self._streams.items():
            self._begin(name)
            start = stream.tell()
            stream.write(rdf.parts[name])
            middle = stream.tell()
            self._write(name, turtle if base_format(name) == "ttl" else shared)
            spans += (start, middle, stream.tell())
        chunk = Chunk(rdf.figure, own_digest, tuple(spans))
        self._note_in_index(chunk)
        return chunk

    def splice(self, chunk: Chunk, triples: int) -> Chunk:
        """Append a record's ``chunk`` (of ``triples`` triples) as the last run wrote it, copied
        from the outputs it left (still in place until :meth:`finish`). Returns where it was
        written. Chunks that follow each other in the last outputs are copied in one range."""
        self.triples += triples
        spans: list[int] = []
        for index, name in enumerate(self._streams):
            self._begin(name)
            start, middle, end = chunk.spans[3 * index : 3 * index + 3]
            copy = self._copies.get(name)
            if copy is None or copy[1] != start:
                self._copy_pending([name])
                copy = self._copies[name] = [start, start]
            here = self._streams[name].tell() + copy[1] - copy[0]
            copy[1] = end
            spans += (here, here + middle - start, here + end - start)
        moved = Chunk(chunk.figure, chunk.own_digest, tuple(spans))
        self._note_in_index(moved)
        return moved

    def written_before(self, chunk: Chunk) -> bytes:
        """A chunk of the last run's outputs as N-Triples (or N-Quads) lines, read back
        from an output in one of those formats, else from the Turtle."""
        names = list(self._streams)
        name = min(names, key=lambda name: base_format(name) == "ttl")  # lines if written
        at = 3 * names.index(name)
        start, _, end = chunk.spans[at : at + 3]
        data = os.pread(self._previous(name).fileno(), end - start, start)
        if name.endswith(GZIP):
            data = gzip.decompress(data)
        if base_format(name) == "ttl":
            quads = ox.parse(turtle_header() + data, format=ox.RdfFormat.TURTLE)
            triples = (quad.triple for quad in quads)
            data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        return data

    def _copy_pending(self, names: Iterable[str]) -> None:
        """Copy the ranges waiting for the outputs ``names``, at once."""
        waiting = [(name, self._copies.pop(name)) for name in names if name in self._copies]
        if not waiting:
            return

        def copying(name: str, span: list[int]) -> Callable[[], None]:
            source, target = self._previous(name), self._streams[name]
            return lambda: _copy_range(source, target, span[0], span[1] - span[0])

        _at_once([copying(name, span) for name, span in waiting])

    def _keep_unchanged(self) -> None:
        """Keep in place each streamed output whose new content is its last content whole:
        what was written before its waiting copy is the file's start, and the copy runs to
        its end."""
        for name, (start, end) in list(self._copies.items()):
            stream = self._streams[name]
            previous = self._previous(name)
            if stream.tell() != start or os.fstat(previous.fileno()).st_size != end:
                continue
            stream.flush()
            with open(stream.name, "rb") as written:
                if os.pread(previous.fileno(), start, 0) != written.read():
                    continue
            del self._copies[name]
            stream.close()
            self.files.keep(f"{BASENAME}.{name}")

    def _begin(self, name: str) -> None:
        """Start a Turtle output with its prefixes, before its first record."""
        if base_format(name) == "ttl" and name not in self._turtle_started:
            self._write(name, turtle_header())
            self._turtle_started.add(name)

    def _note_in_index(self, chunk: Chunk) -> None:
        if self._index is None or self._nquads is None:
            return
        position = 3 * list(self._streams).index(self._nquads)
        start, middle, end = chunk.spans[position : position + 3]
        self._index.write(
            f"{chunk.figure}\t{chunk.own_digest}\t{start}\t{middle - start}\t{middle}\t"
            f"{end - middle}\n"
        )

    def _previous(self, name: str) -> IO[bytes]:
        """The output ``name`` as the last run left it, open for copying."""
        if name not in self._previous_outputs:
            path = self.outdir / f"{BASENAME}.{name}"
            self._previous_outputs[name] = open(path, "rb")  # noqa: SIM115 - closed with the rest
        return self._previous_outputs[name]

    def _write(self, name: str, data: bytes) -> None:
        """Write bytes made in this process to a streamed output, compressed if it is."""
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
        self._keep_unchanged()
        self._copy_pending(list(self._copies))
        if self._index is not None and self._nquads is not None:
            nquads_stream = self._streams[self._nquads]
            size = (
                os.path.getsize(self.outdir / f"{BASENAME}.{self._nquads}")  # kept as it was
                if nquads_stream.closed
                else nquads_stream.tell()
            )
            self._index.write(f"{INDEX_END}\t{size}\n")
        error = self._close_streams()
        if error is not None:
            raise error
        nquads = self.files.pending(f"{BASENAME}.{self._nquads}") if self._nquads else None
        for name in self.formats:
            if base_format(name) not in STREAMED_FORMATS:
                assert nquads is not None
                fmt = FORMATS[base_format(name)]
                target = self.files.temp_for(f"{BASENAME}.{name}")
                _reserialize(nquads, ox.RdfFormat.N_QUADS, target, fmt, PREFIXES, name)
        if self._findings_path is not None:
            _reserialize(
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
        with _signals_held():  # every output in place, or none
            self.written = self.files.commit()
            if self.owns_folder:
                for name in set(run_files()) - {path.name for path in self.written}:
                    (self.outdir / name).unlink(missing_ok=True)  # a previous run's
        return self.written

    def _close_streams(self) -> OSError | None:
        """Close every file, even when one cannot take its last bytes (a full disk),
        each in its own thread (closing a large new file waits for the file system to
        place it); returns an error if there was one."""
        errors: list[OSError] = []

        def closing(stream: IO[Any]) -> Callable[[], None]:
            def close() -> None:
                try:
                    stream.close()
                except OSError as err:
                    errors.append(err)

            return close

        streams = (*self._streams.values(), *self._previous_outputs.values())
        files = (*streams, self._rejects, self.findings, self._index)
        _at_once([closing(stream) for stream in files if stream is not None and not stream.closed])
        return errors[0] if errors else None

    def close(self) -> None:
        """Close the files; delete every temporary file not committed by :meth:`finish`."""
        self._close_streams()
        self.files.close()


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then take their course (in the
    main thread; elsewhere signals are not handled by Python)."""
    if current_thread() is not main_thread():
        yield
        return
    received: list[tuple[int, FrameType | None]] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append((signum, frame))

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum, frame in received[:1]:
            handler = previous[signal.Signals(signum)]
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


def _reserialize(
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
