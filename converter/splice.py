"""Splice stage: a re-run copies what did not change from the last run's outputs.

A record's part of a streamed output (its *chunk*) is its own graph followed by the shared
facts that no record before it stated. A chunk therefore changes only when the record
changes, or when which of its shared facts come first changes, and that depends only on the
records before it. Every convert run saves its *layout* beside the kept outcomes: for each
record in output order its key, its chunk's byte spans in every streamed output, the numbers
of its shared-fact lines (each distinct line numbered once, flagged where the record stated
it first) and what the summary and ``dataset.ttl`` need of it.

A re-run whose layout still describes the outputs in place (same formats, each file's size,
modification time and inode) converts only the records the layout does not hold, works out
again which record states each shared fact first only for the facts of records that were
added or dropped (array operations over every line number, no loop over the lines in Python),
copies every other chunk from the previous outputs by byte range, and writes anew the few
records whose first-stated facts moved. The outputs are the bytes a full run writes.
"""

from __future__ import annotations

import json
import os
import zipfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import xxhash

from .describe import Counts
from .write import BASENAME, NEW, Chunk, DigestSet, replace_file

LAYOUT_FILE = "layout.npz"
FIRST = NEW
"""The flag of a line number where the record is the first to state the line (in a run
that numbers every line anew, the line's number is new just there)."""
NUMBER = np.uint32(FIRST - 1)
MAX_GROUPS_KEPT = 100_000
"""How many subjects' line groups :meth:`SharedFacts.number` keeps the numbers of (a
bound on its memory): the first met twice, which hold the genes and taxa most records name."""
NUMBERS_BLOCK = 1 << 20
"""Bytes of line numbers read at a time when counting subjects."""
MAX_CHANGED_SHARE = 0.25
"""A re-run splices when at most this share of its records must be converted (or taken
from the kept outcomes whole); with more, streaming every record costs less."""

Numbers = npt.NDArray[np.uint32]


class SharedFacts:
    """The distinct shared-fact lines a run (and the runs before it) wrote, numbered, with
    the number of each line's subject; subjects of the records' own graphs outside their
    figure IRI are numbered with them."""

    def __init__(
        self,
        lines: DigestSet | None = None,
        subjects: DigestSet | None = None,
        subject_of: array[int] | None = None,
    ) -> None:
        self.lines = lines if lines is not None else DigestSet()
        self.subjects = subjects if subjects is not None else DigestSet()
        self.subject_of = subject_of if subject_of is not None else array("I")
        """Line number -> subject number."""
        self._groups: dict[int, array[int]] = {}
        """The numbers of a subject's lines, by a digest of the lines."""

    def number(self, shared: bytes, ends: Sequence[int]) -> tuple[array[int], bytes]:
        """The numbers of the lines of ``shared`` (N-Triples whose subjects' lines end at
        ``ends``), flagged with FIRST where the line was never numbered before, and those
        lines joined.

        A subject's lines are often written word for word by many records (a gene's
        facts): such a group, once met again, is looked up whole (groups met once, such as
        a paper's facts, are not kept)."""
        numbers = array("I")
        new: list[bytes] = []
        start = 0
        for end in ends:
            group = shared[start:end]
            start = end
            key = xxhash.xxh3_128_intdigest(group)
            known = self._groups.get(key)
            if known is not None:
                numbers.extend(known)
                continue
            lines = group.splitlines(keepends=True)
            found = self.lines.number_all(lines)
            numbers.extend(found)
            if len(self.subject_of) < len(self.lines):  # new lines: number their subjects
                subject = self.subjects.number(lines[0][: lines[0].index(b" ")])[0]
                for line, number in zip(lines, found, strict=True):
                    if number & FIRST:
                        new.append(line)
                        self.subject_of.append(subject)
            elif len(self._groups) < MAX_GROUPS_KEPT:  # a group met again: keep it
                self._groups[key] = found
        return numbers, b"".join(new)

    @staticmethod
    def first_stated(lines: list[bytes], numbers: array[int]) -> bytes:
        """The lines flagged FIRST in ``numbers``, joined."""
        flags = (np.frombuffer(numbers, dtype=np.uint32) >> 31).tolist()
        return b"".join(compress(lines, flags))

    def number_subjects(self, subjects: Iterable[str]) -> list[int]:
        """The numbers of subjects written in N-Triples syntax (``<iri>``)."""
        return [self.subjects.number(subject.encode())[0] for subject in subjects]

    def distinct_subjects(self, numbers: Iterable[Numbers], others: Iterable[int]) -> int:
        """How many distinct subjects the shared-fact lines ``numbers`` (in blocks) and the
        subject numbers ``others`` have."""
        subject_of = np.frombuffer(self.subject_of, dtype=np.uint32)
        seen = np.zeros(len(self.subjects), dtype=bool)
        for block in numbers:
            seen[subject_of[block & NUMBER]] = True
        seen[np.fromiter(others, dtype=np.int64)] = True
        return int(seen.sum())


class Row(NamedTuple):
    """What a run remembers of a record besides its chunk: enough to count it in the
    summary and the statistics, and to list it in the rejects report, without its
    outcome."""

    key: str
    source: str
    figid: str | None
    converted: bool
    stats: tuple[int, int]
    findings: list[dict[str, Any]]
    """Its SHACL findings (warnings, or a rejected record's violations)."""
    reject: dict[str, Any] | None
    """Its rejects-report row, if it was rejected (not as a duplicate figid)."""
    triples: int
    """Triples its chunk holds (0 when it has none)."""
    figure_subjects: int
    other_subjects: list[int]
    """Numbers of its own graph's subjects outside its figure IRI."""


SIDE_FILES = {"rows": "layout.rows", "numbers": "layout.numbers"}
"""Beside the layout, streamed as the run goes: each record's row with its chunk's figure
and own-graph digest (JSON lines), and the numbers of its shared-fact lines (uint32, the
top bit set where the record is the first to state the line)."""
LAYOUT_FILES = (LAYOUT_FILE, *SIDE_FILES.values())


@dataclass
class Layout:
    """What a convert run wrote where, saved for the next run."""

    counts: Counts
    """The run's counts (of every chunk)."""
    rows: list[Row]
    chunks: list[Chunk | None]
    """Each record's chunk (None when it has none: rejected, or a duplicate figid)."""
    line_counts: npt.NDArray[np.int64]
    numbers: Numbers
    digests: npt.NDArray[np.uint8]
    """Each record's chunk digest (16 bytes; zeros without a chunk)."""
    facts: SharedFacts

    @property
    def line_starts(self) -> npt.NDArray[np.int64]:
        starts: npt.NDArray[np.int64] = np.zeros(len(self.line_counts) + 1, dtype=np.int64)
        np.cumsum(self.line_counts, out=starts[1:])
        return starts


def _describes(head: dict[str, Any], outdir: Path, formats: Sequence[str]) -> bool:
    """Whether the outputs in ``outdir`` are still those a layout's ``head`` describes:
    the same files (size, modification time, inode), each written to its end."""
    if list(formats) != head["formats"]:
        return False
    for name in formats:
        try:
            with open(outdir / f"{BASENAME}.{name}", "rb") as output:
                found = os.fstat(output.fileno())
                whole = _without_holes(output.fileno(), found.st_size)
        except OSError:
            return False
        identity = [found.st_size, found.st_mtime_ns, found.st_ino]
        if identity != head["outputs"].get(name) or not whole:
            return False
    return True


def _without_holes(fd: int, size: int) -> bool:
    """Whether every byte of the file was written. Outputs are not forced to disk: after
    a power failure, what had not reached the disk reads as a hole (the file system
    tells where, without reading the file); a system that cannot tell has no holes."""
    seek_hole = getattr(os, "SEEK_HOLE", None)
    return seek_hole is None or size == 0 or os.lseek(fd, 0, seek_hole) >= size


def read_layout(
    folder: Path, outdir: Path, formats: Sequence[str]
) -> tuple[Layout | None, str | None]:
    """The layout the last run saved in ``folder``, if it still describes the outputs in
    ``outdir`` and the run writes the same streamed ``formats`` (else None), and a notice
    if it is damaged (then it is not used)."""
    path = folder / LAYOUT_FILE
    if not path.exists():
        return None, None
    try:
        with np.load(path, allow_pickle=False) as saved:  # each part read when asked for
            head = json.loads(saved["head"].tobytes())
            if not _describes(head, outdir, formats):
                return None, None
            arrays = {name: saved[name] for name in saved.files}
        side = {}
        for part, name in SIDE_FILES.items():
            data = (folder / name).read_bytes()
            if xxhash.xxh3_128_hexdigest(data) != head["sides"][part]:
                raise ValueError(f"{name} does not match the layout")
            side[part] = data
        entries = json.loads(b"[" + side["rows"].replace(b"\n", b",")[:-1] + b"]")
        rows = [Row(*entry[:-2]) for entry in entries]
        numbers = np.frombuffer(side["numbers"], dtype=np.uint32)
        chunks: list[Chunk | None] = [
            Chunk(entry[-2], entry[-1], tuple(span.tolist())) if entry[-2] else None
            for entry, span in zip(entries, arrays["spans"], strict=True)
        ]
        subject_of = array("I")
        subject_of.frombytes(arrays.pop("subject_of").data.cast("B"))  # no copy between
        facts = SharedFacts(
            DigestSet.from_tables(*_table(arrays, "lines"), head["lines"]),
            DigestSet.from_tables(*_table(arrays, "subjects"), head["subjects"]),
            subject_of,
        )
        line_counts = arrays["line_counts"].astype(np.int64)
        if len(rows) != len(line_counts) or int(line_counts.sum()) != len(numbers):
            raise ValueError("the layout's parts do not agree")
        layout = Layout(
            Counts.from_parts(head["counts"]),
            rows,
            chunks,
            line_counts,
            numbers,
            arrays["digests"],
            facts,
        )
        return layout, None
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None, f"the layout of the last run in {folder} is damaged: outputs are written whole"


def _table(arrays: dict[str, np.ndarray], name: str) -> tuple[memoryview, memoryview, memoryview]:
    """The saved arrays of a digest table (taken out of ``arrays``: read once, then freed)."""
    high, low, numbers = (arrays.pop(f"{name}_{part}").data for part in ("high", "low", "numbers"))
    return high, low, numbers


class LayoutRecorder:
    """Notes where each record of a run goes, to save the run's layout when it is done.
    What grows with the records is streamed to the side files; in memory stay only each
    record's byte spans, line count and digest."""

    def __init__(self, folder: Path, formats: tuple[str, ...], facts: SharedFacts) -> None:
        self.folder, self.formats, self.facts = folder, formats, facts
        self._spans = array("q")
        self._line_counts = array("q")
        self._digests = bytearray()
        self._sides = {part: self._temp(name) for part, name in SIDE_FILES.items()}
        self._streams = {part: open(path, "wb") for part, path in self._sides.items()}  # noqa: SIM115
        self._side_digests = {part: xxhash.xxh3_128() for part in SIDE_FILES}

    def _temp(self, name: str) -> Path:
        return self.folder / f".{name}.{os.getpid()}.tmp"

    def _side(self, part: str, data: bytes) -> None:
        self._streams[part].write(data)
        self._side_digests[part].update(data)

    def add(self, row: Row, chunk: Chunk | None, numbers: bytes, digest: bytes) -> None:
        """A record: its row, its chunk, its lines' numbers (uint32 bytes), its digest."""
        where = [chunk.figure, chunk.own_digest] if chunk else ["", ""]
        self._side("rows", json.dumps([*row, *where], ensure_ascii=False).encode() + b"\n")
        self._side("numbers", numbers)
        self._line_counts.append(len(numbers) // 4)
        self._spans.extend(chunk.spans if chunk else (-1,) * 3 * len(self.formats))
        self._digests += digest

    def numbers(self) -> Iterator[Numbers]:
        """Every line number noted so far (in output order), a block at a time (memory
        stays flat)."""
        self._streams["numbers"].flush()
        with open(self._sides["numbers"], "rb") as stream:
            while block := stream.read(NUMBERS_BLOCK):
                yield np.frombuffer(block, dtype=np.uint32)

    def save(self, outdir: Path, counts: Counts) -> None:
        """Save the layout, with the identity of the outputs now in ``outdir``; a layout
        that cannot be saved (a full disk), or whose outputs are not all kept (N-Quads made
        only to load a store), is not, and the next run writes its outputs whole."""
        outputs = {}
        for name in self.formats:
            try:
                found = os.stat(outdir / f"{BASENAME}.{name}")
            except FileNotFoundError:  # staged for a store, not kept: nothing to copy from
                self.discard()
                return
            outputs[name] = [found.st_size, found.st_mtime_ns, found.st_ino]
        head = {
            "formats": self.formats,
            "outputs": outputs,  # each one's size, modification time (ns) and inode
            "counts": counts.parts(),
            "sides": {part: digest.hexdigest() for part, digest in self._side_digests.items()},
            "lines": len(self.facts.lines),
            "subjects": len(self.facts.subjects),
        }
        arrays: dict[str, Any] = {
            "head": _bytes(json.dumps(head).encode()),
            "spans": np.frombuffer(self._spans, dtype=np.int64).reshape(-1, 3 * len(self.formats)),
            "line_counts": np.frombuffer(self._line_counts, dtype=np.int64),
            "digests": np.frombuffer(bytes(self._digests), dtype=np.uint8).reshape(-1, 16),
            "subject_of": np.frombuffer(self.facts.subject_of, dtype=np.uint32),
        }
        for name, table in (("lines", self.facts.lines), ("subjects", self.facts.subjects)):
            for part, data in zip(("high", "low", "numbers"), table.tables(), strict=True):
                arrays[f"{name}_{part}"] = np.frombuffer(data, dtype=np.uint8)  # not a copy
        layout_temp = self._temp(LAYOUT_FILE)
        try:
            for stream in self._streams.values():
                stream.close()
            # the old layout goes first: never a layout beside another run's side files
            (self.folder / LAYOUT_FILE).unlink(missing_ok=True)
            for part, name in SIDE_FILES.items():
                replace_file(self._sides[part], self.folder / name)
            with open(layout_temp, "wb") as stream:
                np.savez(stream, **arrays)
            os.replace(layout_temp, self.folder / LAYOUT_FILE)
        except OSError:
            layout_temp.unlink(missing_ok=True)
            self.discard()

    def discard(self) -> None:
        """Drop what was noted (the run did not complete)."""
        for part, stream in self._streams.items():
            stream.close()
            self._sides[part].unlink(missing_ok=True)


def _bytes(data: bytes) -> npt.NDArray[np.uint8]:
    return np.frombuffer(data, dtype=np.uint8)


def first_flags(
    numbers: Numbers, carried: npt.NDArray[np.bool_], first: npt.NDArray[np.bool_], touched: Numbers
) -> npt.NDArray[np.bool_]:
    """Which of the lines ``numbers`` (a run's, in output order) is the first occurrence of
    its number.

    ``first`` gives the answer the last run found for the lines it also wrote in the same
    relative order (``carried``); only the lines whose number is in ``touched`` (the
    numbers of every record added or dropped since) can have another answer, and those are
    worked out again."""
    flags = first & carried
    if not len(touched):
        return flags
    size = int(max(numbers.max(initial=0), touched.max()) + 1)
    is_touched = np.zeros(size, dtype=bool)
    is_touched[touched] = True
    positions = np.flatnonzero(is_touched[numbers])
    flags[positions] = False
    nowhere = len(numbers)
    earliest = np.full(size, nowhere, dtype=np.int64)  # each number's first position
    np.minimum.at(earliest, numbers[positions], positions)  # linear, unlike a sort
    flags[earliest[earliest < nowhere]] = True
    return flags
