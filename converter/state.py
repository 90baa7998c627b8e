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
leaves complete entries or none. It holds a JSON header and the N-Triples (LZ4-compressed:
fast, see benchmarks/README.md), with a checksum of both: a damaged entry is converted
again, never trusted, and nothing in it is executed (no pickle).
"""

from __future__ import annotations

import json
import os
import shutil
from array import array
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from itertools import islice
from pathlib import Path
from typing import Any

import lz4.frame
import xxhash

from . import __version__
from .describe import Counts, Tally
from .model import DamagedEntry, Location, Source, Stage, Stats
from .pipeline import Converted, Outcome, Rejected
from .read import SIDECAR_KINDS
from .resources import PACKAGE_DIR, data_dir
from .validate import Finding
from .write import DigestSet, RecordRdf, own_graph_parts, replace_file

STATE_DIR = ".pfocr-state"
INDEX_FILE = "index.tsv"
MAGIC = b"pfocr-rdf kept outcome 1\n"
LIBRARIES = ("pyoxigraph", "pyld", "PyYAML", "shacl", "pyshacl", "rdflib", "numpy")


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


class KeptIndex:
    """Where kept outcomes lie, by key (a record key: 32 hex digits). One entry grows with
    the records, so it is kept small: the key's 16 bytes, a pack number and the entry's
    offset and length in arrays, found through a digest table."""

    def __init__(self) -> None:
        self._slots = DigestSet()
        self._keys = bytearray()
        self._packs: dict[str, int] = {}
        self._pack_names: list[str] = []
        self._pack = array("I")
        self._offset = array("Q")
        self._length = array("Q")

    def __len__(self) -> int:
        return len(self._pack)

    def __setitem__(self, key: str, at: Location) -> None:
        pack, offset, length = at
        raw = bytes.fromhex(key)
        number, new = self._slots.number(raw)
        pack_number = self._packs.setdefault(pack, len(self._pack_names))
        if pack_number == len(self._pack_names):
            self._pack_names.append(pack)
        if new:
            self._keys += raw
            self._pack.append(pack_number)
            self._offset.append(offset)
            self._length.append(length)
        else:
            self._pack[number], self._offset[number] = pack_number, offset
            self._length[number] = length

    def get(self, key: str) -> Location | None:
        number = self._slots.find(bytes.fromhex(key))
        return None if number is None else self._at(number)

    def _at(self, number: int) -> Location:
        pack = self._pack_names[self._pack[number]]
        return pack, self._offset[number], self._length[number]

    def update(self, where: Mapping[str, Location]) -> None:
        for key, at in where.items():
            self[key] = at

    def items(self) -> Iterator[tuple[str, Location]]:
        for number in range(len(self)):
            yield self._keys[16 * number : 16 * number + 16].hex(), self._at(number)

    def packs(self) -> set[str]:
        """The packs the entries lie in."""
        return {self._pack_names[number] for number in set(self._pack)}


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

    def load(self, at: Location, formats: Iterable[str]) -> Outcome:
        """The outcome kept at ``at`` (its own graph made for ``formats``); DamagedEntry
        for an entry that is missing or cannot be trusted."""
        pack, offset, length = at
        try:
            with open(self.folder / pack, "rb") as stream:
                stream.seek(offset)
                data = stream.read(length)
        except OSError as err:
            raise DamagedEntry(str(err)) from None
        return decode(data, formats)

    def keep(self, outcomes: Iterable[tuple[str, Outcome]]) -> dict[str, Location]:
        """Keep a batch's new outcomes (by key) in one pack file, written atomically, and
        return where each lies; a pack that cannot be written (a full disk) is not kept,
        and the run goes on."""
        entries = [(key, encode(outcome)) for key, outcome in outcomes]
        if not entries:
            return {}
        data = b"".join(entry for _, entry in entries)
        name = f"{xxhash.xxh3_128_hexdigest(data)}.pack"
        if not _write_whole(self.folder / name, [data]):
            return {}
        where, offset = {}, 0
        for key, entry in entries:
            where[key] = (name, offset, len(entry))
            offset += len(entry)
        return where

    def read_index(self) -> tuple[KeptIndex, str | None]:
        """Where the kept outcomes lie, by key (the last run's, and those of a run that was
        stopped since), and a notice if the index is damaged (then nothing is taken)."""
        path = self.folder / INDEX_FILE
        if not path.exists():
            return KeptIndex(), None
        try:
            index = KeptIndex()
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    if not line.endswith("\n"):  # a line cut short by a kill: not kept
                        break
                    key, pack, offset, length = line[:-1].split("\t")
                    index[key] = (pack, int(offset), int(length))
            return index, None
        except (OSError, ValueError, UnicodeDecodeError):
            notice = f"the index of {self.folder} is damaged: every record is converted again"
            return KeptIndex(), notice

    def note(self, where: Mapping[str, Location]) -> None:
        """Add new outcomes to the index as they are kept, so that a run stopped half-way
        leaves what it converted for the next."""
        if where:
            try:
                with open(self.folder / INDEX_FILE, "ab") as stream:
                    stream.writelines(_index_rows(where.items()))
            except OSError:
                pass  # not noted (a full disk): converted again next time

    def write_index(self, index: KeptIndex, others: Iterable[str] = ()) -> None:
        """Replace the index by this run's outcomes (atomically), and delete the packs that
        no outcome of it lies in, and temporary files left behind; files named in
        ``others`` (kept beside the outcomes by others) stay."""
        if not _write_whole(self.folder / INDEX_FILE, _index_rows(index.items())):
            return
        used = index.packs() | {INDEX_FILE, *others}
        for path in self.folder.iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)


INDEX_BLOCK = 10_000
"""Index lines made and written at a time, so that the whole index is never held in
memory as text."""


def _index_rows(where: Iterable[tuple[str, Location]]) -> Iterator[bytes]:
    """The index's lines, a block at a time."""
    rows = (f"{key}\t{p}\t{o}\t{n}\n" for key, (p, o, n) in where)
    while block := "".join(islice(rows, INDEX_BLOCK)):
        yield block.encode()


def _write_whole(path: Path, blocks: Iterable[bytes]) -> bool:
    """Write ``path`` (the bytes of ``blocks``) under a temporary name, then put it in
    place: it is whole or absent. False when it cannot be written (a full disk), and
    nothing is left."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as stream:
            stream.writelines(blocks)
        replace_file(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        return False
    return True


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
            shared_ends=record.shared_ends,
            counts=tally.counts.parts(),
            figure_subjects=tally.figure_subjects,
            other_subjects=list(tally.other_subjects),
        )
        rdf = lz4.frame.compress(record.own + record.shared)
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
        rdf = lz4.frame.decompress(data[start + 8 + size :])
        own, shared = rdf[: header["own_bytes"]], rdf[header["own_bytes"] :]
        figure = header["figure"]
        parts = own_graph_parts(own, figure, formats)
        ends = tuple(header["shared_ends"])
        record = RecordRdf(figure, own, header["own_triples"], shared, ends, parts)
        tally = Tally(
            Counts.from_parts(header["counts"]),
            header["figure_subjects"],
            tuple(header["other_subjects"]),
        )
        stats = Stats(*header["stats"])
        return Converted(header["source"], header["figid"], record, stats, findings, tally)
    except (ValueError, KeyError, TypeError, RuntimeError) as err:
        raise DamagedEntry(f"unreadable entry: {err}") from None
