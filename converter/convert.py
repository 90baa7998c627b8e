"""One ``pfocr-rdf convert`` run: find records, convert them, write every output."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .pipeline import DEFAULT_BATCH_SIZE, Converted, convert_all
from .read import discover, orphan_sidecars
from .report import FindingRow, Summary, validation_report
from .store import LoadStats, load_into_store, open_store
from .write import OutputWriter


@dataclass
class ConvertOptions:
    formats: Sequence[str]
    validate: bool = True
    jobs: int = 1
    batch_size: int = DEFAULT_BATCH_SIZE
    store: Path | None = None
    """Load the converted records into this embedded store too."""


def convert_to_folder(
    inputs: Sequence[str],
    outdir: Path,
    options: ConvertOptions,
    *,
    stdin: io.BufferedIOBase | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], object] | None = None,
) -> tuple[Summary, list[Path]]:
    """Convert ``inputs`` into ``outdir``; return the summary and the files written.

    ``on_start`` is told how many records were found; ``progress`` how many were just done.
    """
    sources = list(discover(inputs, stdin=stdin))
    if on_start is not None:
        on_start(len(sources))
    summary = Summary(orphans=orphan_sidecars(inputs, sources))
    with OutputWriter(outdir, options.formats) as writer:
        for outcome in convert_all(
            sources,
            validate=options.validate,
            jobs=options.jobs,
            batch_size=options.batch_size,
            on_batch=progress,
        ):
            summary.read += 1
            converted = isinstance(outcome, Converted)
            summary.findings.extend(
                FindingRow(outcome.source, outcome.figid, f, rejected=not converted)
                for f in outcome.findings
            )
            if isinstance(outcome, Converted):
                summary.converted += 1
                summary.triples += outcome.stats.triples
                summary.genes_with_id += outcome.stats.genes_with_id
                summary.symbols_without_id += outcome.stats.symbols_without_id
                writer.add_record(outcome.nquads)
            else:
                summary.rejected += 1
                summary.rejected_by_stage[outcome.stage.value] += 1
                writer.add_reject(outcome.row())
        report = validation_report(summary.findings) if options.validate else None
        written = writer.finish(report, before_commit=_store_loader(options.store))
    return summary, written


def _store_loader(store_dir: Path | None) -> Callable[[Path], LoadStats] | None:
    """A function that loads the run's N-Quads into the store, if one was asked for."""
    if store_dir is None:
        return None

    def load(nquads: Path) -> LoadStats:
        return load_into_store(open_store(store_dir, create=True), [nquads], ox.RdfFormat.N_QUADS)

    return load
