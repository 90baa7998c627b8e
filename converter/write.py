"""Write stage: RDF files, the rejects report and the validation report, all-or-nothing.

Converted records are appended to a staging N-Quads file (one named graph per figure) as
they arrive, in input order; when the run completes, every requested format is serialized
from it by pyoxigraph, streaming, and each output replaces its previous version by an atomic
rename. A run that fails or is interrupted removes its temporary files and leaves the
previous outputs untouched: never a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .vocab import PREFIXES, SH

FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
DEFAULT_FORMATS = ("ttl", "nt")
BASENAME = "pfocr"
REJECTS_FILE = "rejects.jsonl"
VALIDATION_FILE = "validation.ttl"
FINDINGS_STAGING = "validation.nt"
"""The SHACL results as they arrive; turned into VALIDATION_FILE at the end, never kept."""


def is_about_figure(triple: ox.Triple, figure: str) -> bool:
    """Whether a triple belongs to the figure's own graph: it is about the figure or a node
    under its IRI (creator, mentions), or it links a shared node to the figure."""
    subject = triple.subject
    if isinstance(subject, ox.NamedNode) and (
        subject.value == figure or subject.value.startswith(figure + "#")
    ):
        return True
    return isinstance(triple.object, ox.NamedNode) and triple.object.value == figure


def record_nquads(triples: Iterable[ox.Triple], figure: str) -> bytes:
    """One record as N-Quads: what is about the figure in its named graph (the figure IRI),
    facts about shared entities (genes, taxa, paper, MeSH, ChEBI) in the default graph, so a
    store holds each shared fact once. Grouped by graph, then by subject."""
    graphs: dict[ox.NamedNode | ox.DefaultGraph, dict[object, list[ox.Triple]]] = {
        ox.NamedNode(figure): {},
        ox.DefaultGraph(): {},
    }
    named, default = graphs.values()
    for triple in triples:
        group = named if is_about_figure(triple, figure) else default
        group.setdefault(triple.subject, []).append(triple)
    quads = (
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for graph, by_subject in graphs.items()
        for group in by_subject.values()
        for t in group
    )
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    assert data is not None  # no output file given: serialize returns the bytes
    return data


class AtomicFiles:
    """Temporary files in one folder that replace their targets only on :meth:`commit`;
    whatever was not committed is deleted by :meth:`discard`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pending: dict[Path, Path] = {}

    def temp_for(self, name: str) -> Path:
        """A new temporary path that will become ``folder/name``."""
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        os.close(fd)
        self._pending[self.folder / name] = Path(temp)
        return Path(temp)

    def commit(self) -> list[Path]:
        """Rename every temporary file over its target; return the targets."""
        umask = os.umask(0)
        os.umask(umask)
        done = []
        for target, temp in self._pending.items():
            temp.chmod(0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual mode
            os.replace(temp, target)
            done.append(target)
        self._pending.clear()
        return done

    def drop(self, name: str) -> None:
        """Delete the temporary file for ``name``; ``name`` will not be written."""
        self._pending.pop(self.folder / name).unlink(missing_ok=True)

    def discard(self) -> None:
        for temp in self._pending.values():
            temp.unlink(missing_ok=True)
        self._pending.clear()


class OutputWriter:
    """The output folder of one run: staged RDF, rejects, validation findings. Use it as
    ``with closing(OutputWriter(...))``: leaving without :meth:`finish` removes every
    temporary file."""

    def __init__(self, outdir: Path, formats: Iterable[str], *, validation: bool = True) -> None:
        self.outdir = outdir
        self.formats = list(formats)
        outdir.mkdir(parents=True, exist_ok=True)
        self.files = AtomicFiles(outdir)
        self._staged_path = self.files.temp_for(f"{BASENAME}.nq")
        self._staged: IO[bytes] = open(self._staged_path, "wb")  # noqa: SIM115 - closed in finish
        self._rejects_path = self.files.temp_for(REJECTS_FILE)
        self._rejects: IO[str] = open(self._rejects_path, "w", encoding="utf-8")  # noqa: SIM115
        self._keep_nq = "nq" in self.formats
        self._findings_path = self.files.temp_for(FINDINGS_STAGING) if validation else None
        self.findings: IO[bytes] | None = (
            open(self._findings_path, "wb") if self._findings_path else None  # noqa: SIM115
        )
        """Where the SHACL report is streamed as N-Triples (None without validation)."""

    def add_record(self, nquads: bytes) -> None:
        self._staged.write(nquads)

    def add_reject(self, row: dict[str, Any]) -> None:
        self._rejects.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")

    def finish(self, before_commit: Callable[[Path], object] | None = None) -> list[Path]:
        """Serialize every format, then put all outputs in place; return their paths.

        ``before_commit`` gets the complete N-Quads (e.g. to load a store) before any
        output replaces the previous one; if it fails, no output is changed.
        """
        self._close_streams()
        for name in self.formats:
            if name != "nq":
                self._derive(name)
        if self._findings_path is not None:
            _reserialize(
                self._findings_path,
                ox.RdfFormat.N_TRIPLES,
                self.files.temp_for(VALIDATION_FILE),
                ox.RdfFormat.TURTLE,
                {**PREFIXES, "sh": SH},
            )
            self.files.drop(FINDINGS_STAGING)
        if before_commit is not None:
            before_commit(self._staged_path)
        if not self._keep_nq:
            self.files.drop(f"{BASENAME}.nq")
        return self.files.commit()

    def _derive(self, name: str) -> None:
        fmt = FORMATS[name]
        prefixes = PREFIXES if fmt not in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS) else None
        target = self.files.temp_for(f"{BASENAME}.{name}")
        _reserialize(self._staged_path, ox.RdfFormat.N_QUADS, target, fmt, prefixes)

    def _close_streams(self) -> None:
        for stream in (self._staged, self._rejects, self.findings):
            if stream is not None and not stream.closed:
                stream.close()

    def close(self) -> None:
        """Close the files; delete every temporary file not committed by :meth:`finish`."""
        self._close_streams()
        self.files.discard()


def _reserialize(
    source: Path,
    source_format: ox.RdfFormat,
    target: Path,
    fmt: ox.RdfFormat,
    prefixes: dict[str, str] | None,
) -> None:
    """Stream ``source`` into ``target`` in another format (graph names dropped if ``fmt``
    holds triples only)."""
    quads = ox.parse(path=source, format=source_format)
    statements: Iterator[ox.Quad] | Iterator[ox.Triple] = (
        quads if fmt.supports_datasets else (q.triple for q in quads)
    )
    ox.serialize(statements, target, fmt, prefixes=prefixes)
