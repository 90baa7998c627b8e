"""Keep stage: what a run keeps in OUTDIR so that the next run converts only what changed.

The kept state is one sqlite database, ``OUTDIR/.pfocr-state/state.sqlite``. It holds each
record's outcome (what its worker made: its N-Triples, what is costly to make again such
as its N-Quads, Turtle fragment and gzip members, its counts and findings, or its
rejection), with a checksum, under a key that is a digest of the record's absolute path, bytes
and sidecars' bytes; and a note of the last complete run (a digest of its inputs and options,
each output's size and digest, its triple count). The database belongs to a
*fingerprint*, a digest of everything else that changes an outcome: this converter's code
and data files, the libraries' versions, and the options that change a conversion
(validation, the engine; not the output formats).

Transactions keep it whole: new outcomes are committed batch by batch (a killed run leaves
what it converted for the next), and a run that does not complete leaves the last run's
note as it was. A database that cannot be read, or that another fingerprint made, is
rebuilt, with one line saying so. Nothing kept is executed (JSON and bytes, no pickle).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lz4.block
import xxhash

from . import __version__
from .describe import Counts, Tally
from .formats import GZIP
from .model import Source, Stage, Stats
from .outcome import Converted, Outcome, Rejected
from .read import SIDECAR_KINDS
from .resources import PACKAGE_DIR, data_dir
from .serialize import RecordRdf, own_graph_parts
from .validate import Finding

STATE_DIR = ".pfocr-state"
DATABASE = "state.sqlite"
SCHEMA = "pfocr-rdf kept state 3"
LIBRARIES = ("pyoxigraph", "pyld", "PyYAML", "shacl", "pyshacl", "rdflib", "lz4")
FULL_DISK_BYTES = 1 << 20
"""Less free space than this where the state is kept is a full disk, for the messages."""
KEPT_PARTS = ("nq", "ttl", *(name + GZIP for name in ("nt", "nq", "ttl")))
"""The parts of an own graph kept beside its N-Triples, as the formats written made them:
each costs more to make again than to read back (the N-Quads, which compress well, too)."""


class DamagedEntry(Exception):
    """A kept outcome cannot be read back (altered, foreign): it is never trusted."""


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
    """The key of a record's outcome: a digest of its absolute path (``db`` and ``./db``
    give the same key; links are not followed), bytes and sidecars' bytes; None when they
    cannot all be read (its conversion then says why) or when its sidecars would be found
    by a figid that only its front matter gives."""
    digest = xxhash.xxh3_128()
    where = source.name if source.path is None else os.path.abspath(source.path)
    digest.update(where.encode("utf-8", "surrogateescape") + b"\n")
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
    """The kept state of one OUTDIR, for one fingerprint. Close it when the run is done."""

    def __init__(self, outdir: Path, fingerprint: str) -> None:
        self.root = outdir / STATE_DIR
        self.path = self.root / DATABASE
        self.notice: str | None = None
        """One line saying what was dropped (another fingerprint, a damaged database)."""
        self._used: set[str] = set()
        """The keys of the outcomes this run took or kept: the others are dropped."""
        outdir.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open(fingerprint)
        except sqlite3.OperationalError as err:  # a full disk, a folder that cannot be written
            raise _write_error(err, self.path) from None
        except sqlite3.DatabaseError:  # not a database, or a damaged one
            self.notice = (
                f"the kept state in {self.root} is damaged: every record is converted again"
            )
            self._drop_all()
            self._db = self._open(fingerprint)

    def _open(self, fingerprint: str) -> sqlite3.Connection:
        """The database, made anew if it was made for another fingerprint (or is absent)."""
        if self.root.is_dir():
            for path in self.root.iterdir():  # what an earlier version kept: dropped
                if not path.name.startswith(DATABASE):
                    self.notice = self.notice or self._other_version()
                    _remove(path)
        self.root.mkdir(exist_ok=True)
        db = sqlite3.connect(self.path)  # each `with db:` block one transaction
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # never corrupt; the last commits may go
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
                made = dict(db.execute("SELECT name, value FROM meta"))
                wanted = {"schema": SCHEMA, "fingerprint": fingerprint}
                if {name: made.get(name) for name in wanted} != wanted:
                    if made:
                        self.notice = self.notice or self._other_version()
                    db.execute("DROP TABLE IF EXISTS outcomes")
                    db.execute("DELETE FROM meta")
                    db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
                db.execute(
                    "CREATE TABLE IF NOT EXISTS outcomes "
                    "(key TEXT PRIMARY KEY, head TEXT NOT NULL, body BLOB NOT NULL, "
                    "checksum TEXT NOT NULL)"
                )
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _other_version(self) -> str:
        return (
            f"what {self.root} kept was made by another version of pfocr-rdf or with other "
            "options: every record is converted again"
        )

    def _drop_all(self) -> None:
        for path in self.root.iterdir() if self.root.is_dir() else ():
            _remove(path)

    def keys(self) -> set[str]:
        """The keys outcomes are kept under."""
        return {key for (key,) in self._db.execute("SELECT key FROM outcomes")}

    def load(self, key: str, formats: Iterable[str], *, head_only: bool = False) -> Outcome:
        """The outcome kept under ``key``, its own graph made for ``formats`` (without its
        RDF with ``head_only``); DamagedEntry if it is missing or cannot be read."""
        column = "head, NULL, NULL" if head_only else "head, body, checksum"
        try:
            row = self._db.execute(
                f"SELECT {column} FROM outcomes WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.DatabaseError as err:
            raise DamagedEntry(str(err)) from None
        if row is None:
            raise DamagedEntry(f"no outcome kept under {key}")
        self._used.add(key)
        head, body, kept = row
        if body is not None and checksum(head, body) != kept:
            raise DamagedEntry(f"the outcome kept under {key} does not match its checksum")
        return decode(head, body, formats)

    def keep(self, entries: Sequence[tuple[str, bytes]]) -> None:
        """Keep a batch's new outcomes (key, :func:`encode`'s bytes), in one transaction; a
        batch that cannot be kept (a full disk) is not, and the run goes on."""
        rows = []
        for key, entry in entries:
            head, body = split(entry)
            rows.append((key, head, body, checksum(head, body)))
            self._used.add(key)
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?)", rows)
        except sqlite3.DatabaseError:
            pass  # not kept: converted again next time

    def last_run(self) -> dict[str, Any] | None:
        """The note of the last complete run, if there is one."""
        row = self._db.execute("SELECT value FROM meta WHERE name = 'run'").fetchone()
        try:
            return dict(json.loads(row[0])) if row is not None else None
        except (ValueError, TypeError):
            return None

    def save_run(self, note: dict[str, Any]) -> None:
        """Note a complete run and drop the outcomes it did not use, in one transaction; an
        OSError naming the database if it cannot be written."""
        try:
            with self._db:
                self._db.execute("CREATE TEMP TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY)")
                self._db.execute("DELETE FROM used")
                self._db.executemany("INSERT INTO used VALUES (?)", ((k,) for k in self._used))
                self._db.execute("DELETE FROM outcomes WHERE key NOT IN (SELECT key FROM used)")
                note_text = json.dumps(note)
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('run', ?)", (note_text,))
        except sqlite3.DatabaseError as err:
            raise _write_error(err, self.path) from None

    def close(self) -> None:
        self._db.close()


def _write_error(err: sqlite3.Error, path: Path) -> OSError:
    """sqlite's failure to write ``path`` as an OSError naming it; a full disk said as such
    (sqlite reports one as a disk I/O error)."""
    try:
        full = shutil.disk_usage(path.parent).free < FULL_DISK_BYTES
    except OSError:
        full = False
    if full:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return OSError(errno.EIO, str(err), str(path))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- entries


def encode(outcome: Outcome) -> bytes:
    """An outcome as bytes: the length of a JSON header, the header, and for a converted
    record its own graph, shared facts and the kept parts of its own graph, compressed
    together. Made in the worker; :func:`split` cuts it into the database's columns."""
    header: dict[str, Any] = {
        "source": outcome.source,
        "figid": outcome.figid,
        "findings": [f.as_dict() for f in outcome.findings],
    }
    body = b""
    if isinstance(outcome, Rejected):
        header.update(kind="rejected", stage=outcome.stage.value, reason=outcome.reason)
    else:
        assert outcome.rdf is not None
        record, tally = outcome.rdf, outcome.tally
        kept = {name: part for name, part in record.parts.items() if name in KEPT_PARTS}
        header.update(
            kind="converted",
            stats=[outcome.stats.genes_with_id, outcome.stats.symbols_without_id],
            figure=record.figure,
            own_triples=record.own_triples,
            own_bytes=len(record.own),
            shared_bytes=len(record.shared),
            shared_ends=record.shared_ends,
            parts={name: len(part) for name, part in kept.items()},
            counts=tally.counts.parts(),
            figure_subjects=tally.figure_subjects,
            other_subjects=list(tally.other_subjects),
        )
        parts = b"".join([record.own, record.shared, *kept.values()])
        body = lz4.block.compress(parts)
    head = json.dumps(header, ensure_ascii=False).encode()
    return len(head).to_bytes(8, "big") + head + body


def checksum(head: str, body: bytes) -> str:
    """A digest of a kept outcome, to find one damaged since it was kept."""
    digest = xxhash.xxh3_64(head.encode())
    digest.update(body)
    return digest.hexdigest()


def split(entry: bytes) -> tuple[str, bytes]:
    """An encoded outcome as its header (JSON text) and body."""
    size = int.from_bytes(entry[:8], "big")
    return entry[8 : 8 + size].decode(), entry[8 + size :]


def decode(head: str, body: bytes | None, formats: Iterable[str]) -> Outcome:
    """The outcome :func:`encode` made, its own graph made for ``formats`` (no RDF when
    ``body`` is None); DamagedEntry if it is not such an outcome."""
    try:
        header = json.loads(head)
        findings = [Finding(**f) for f in header["findings"]]
        if header["kind"] == "rejected":
            stage = Stage(header["stage"])
            return Rejected(header["source"], header["figid"], stage, header["reason"], findings)
        record = None if body is None else _record(header, lz4.block.decompress(body), formats)
        tally = Tally(
            Counts.from_parts(header["counts"]),
            header["figure_subjects"],
            tuple(header["other_subjects"]),
        )
        stats = Stats(*header["stats"])
        return Converted(header["source"], header["figid"], record, stats, findings, tally)
    except (ValueError, KeyError, TypeError, RuntimeError) as err:
        raise DamagedEntry(f"unreadable entry: {err}") from None


def _record(header: dict[str, Any], data: bytes, formats: Iterable[str]) -> RecordRdf:
    """A record's RDF from its header and decompressed body."""
    own_end = header["own_bytes"]
    shared_end = own_end + header["shared_bytes"]
    own, shared = data[:own_end], data[own_end:shared_end]
    kept, at = {}, shared_end
    for name, length in header["parts"].items():
        kept[name] = data[at : at + length]
        at += length
    if at != len(data):
        raise ValueError("the parts do not add up")
    wanted = list(formats)
    missing = [name for name in wanted if name not in kept]
    made = own_graph_parts(own, header["figure"], missing)
    parts = {name: kept[name] if name in kept else made[name] for name in wanted}
    figure = header["figure"]
    return RecordRdf(
        figure, own, header["own_triples"], shared, tuple(header["shared_ends"]), parts
    )
