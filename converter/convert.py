"""Whole runs: ``convert`` (records to RDF files) and ``validate`` (a SHACL report only)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from .describe import DATASET, RunFacts, Statistics, created_date, describe, write_description
from .model import Location, Source, Stage, Stats
from .pipeline import (
    DEFAULT_BATCH_SIZE,
    BatchOptions,
    BatchResult,
    Converted,
    Outcome,
    Rejected,
    convert_all,
    violation_reason,
)
from .read import count_records, discover, orphan_sidecars
from .report import FindingLog, Summary
from .state import KeptState, fingerprint, record_key
from .store import LoadFile, LoadStats, load_into_store, rdf_format
from .validate import DEFAULT_ENGINE, engine, ntriples_bytes
from .vocab import figid_of, figid_of_single_figure
from .write import GZIP, OutputWriter, open_rdf

RDF_SUFFIXES = tuple(
    f".{ext}{gz}" for ext in ("ttl", "nt", "nq", "trig", "jsonld") for gz in ("", GZIP)
)


@dataclass
class ConvertOptions:
    formats: Sequence[str]
    validate: bool = True
    engine: str = DEFAULT_ENGINE
    """The SHACL engine: ``shacl`` or ``pyshacl``."""
    jobs: int = 1
    batch_size: int = DEFAULT_BATCH_SIZE
    store: Path | None = None
    """Load the converted records into this embedded store too."""
    created: str | None = None
    """The creation date ``dataset.ttl`` states (else ``SOURCE_DATE_EPOCH``, else none)."""
    full: bool = False
    """Convert every record, taking nothing kept by the last run (it is kept anew)."""


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

    Records are streamed from the inputs (counted first, for ``on_start``); ``progress`` is
    told how many were just done. Memory does not grow with the number of records, but for
    the figids seen (to reject duplicates).
    """
    if on_start is not None:
        on_start(count_records(inputs))
    keep_nquads = options.store is not None
    output = OutputWriter(
        outdir,
        options.formats,
        validation=options.validate,
        keep_nquads=keep_nquads,
        owns_folder=True,
    )
    with closing(output) as writer:
        summary = Summary(findings=FindingLog(writer.findings))
        statistics = Statistics()
        kept = KeptState(outdir, fingerprint([f"validate={options.validate}", options.engine]))
        if notice := kept.prepare():
            summary.notices.append(notice)
        last_run, notice = kept.read_index()
        if notice:
            summary.notices.append(notice)
        this_run: dict[str, Location] = {}

        def keyed(sources: Iterable[Source]) -> Iterator[Source]:
            for source in sources:
                key = record_key(source)
                kept_at = last_run.get(key) if key is not None else None
                if key is not None and kept_at is not None:
                    this_run[key] = kept_at
                yield replace(source, key=key, kept_at=kept_at)

        def done(batch: BatchResult) -> None:
            summary.reused += batch.reused
            summary.damaged += batch.damaged
            this_run.update(batch.kept)
            kept.note(batch.kept)
            if progress is not None:
                progress(len(batch.outcomes))

        batch_options = BatchOptions(
            options.validate,
            options.engine,
            writer.streamed_formats,
            kept=kept,
            reuse=not options.full,
        )
        for outcome in convert_all(
            keyed(discover(inputs, stdin=stdin)),
            batch_options,
            jobs=options.jobs,
            batch_size=options.batch_size,
            on_batch=done,
        ):
            _account(summary, writer, outcome, statistics)
        summary.triples = writer.triples
        summary.findings.close_report()

        def description(files: dict[str, Path], target: Path) -> None:
            run = RunFacts(inputs, summary.read, summary.converted, summary.rejected)
            created = created_date(options.created)
            write_description(target, describe(statistics, files, run, created))

        loader = _store_loader(options.store)

        def load(nquads: Path, index: Path, described: Path | None) -> None:
            assert loader is not None
            changes = loader(nquads, index, described).update
            summary.store_changes = changes.line() if changes else None

        written = writer.finish(
            before_commit=load if loader is not None else None, describe=description
        )
    kept.write_index(this_run)
    if summary.damaged:
        summary.notices.append(
            f"{summary.damaged} outcomes kept in {kept.root} were damaged: those records were "
            "converted again"
        )
    summary.orphans = orphan_sidecars(inputs)
    return summary, written


def _account(
    summary: Summary, writer: OutputWriter, outcome: Outcome, statistics: Statistics | None = None
) -> None:
    """Count one outcome in the summary (and the triples written in ``statistics``) and
    write it where it belongs."""
    summary.read += 1
    converted = isinstance(outcome, Converted)
    for finding in outcome.findings:
        summary.findings.add(outcome.source, outcome.figid, finding, rejected=not converted)
    if isinstance(outcome, Converted):
        summary.converted += 1
        summary.genes_with_id += outcome.stats.genes_with_id
        summary.symbols_without_id += outcome.stats.symbols_without_id
        if outcome.rdf is not None:
            shared = writer.add_record(outcome.rdf)
            if statistics is not None:
                rdf = outcome.rdf
                statistics.add_record(rdf.figure, rdf.own, outcome.tally, shared)
    else:
        summary.rejected += 1
        summary.rejected_by_stage[outcome.stage.value] += 1
        writer.add_reject(outcome.row())


def validate_to_folder(
    inputs: Sequence[str],
    outdir: Path,
    *,
    engine_name: str = DEFAULT_ENGINE,
    jobs: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: io.BufferedIOBase | None = None,
) -> tuple[Summary, list[Path]]:
    """SHACL-check records or RDF files; write ``validation.ttl`` and ``rejects.jsonl`` only.

    Records go through the whole conversion, validation included, without writing RDF.
    In an RDF file each named graph is a record, checked with the shared facts (default
    graph) it reaches; a file without named graphs is one record.
    """
    rdf_files = [Path(i) for i in inputs if i.lower().endswith(RDF_SUFFIXES)]
    records = [i for i in inputs if not i.lower().endswith(RDF_SUFFIXES)]
    with closing(OutputWriter(outdir, formats=[])) as writer:
        summary = Summary(findings=FindingLog(writer.findings))
        sources = discover(records, stdin=stdin)
        options = BatchOptions(validate=True, engine=engine_name)
        for outcome in convert_all(sources, options, jobs=jobs, batch_size=batch_size):
            _account(summary, writer, outcome)
        for path in rdf_files:
            for outcome in _validate_rdf_file(path, engine_name):
                _account(summary, writer, outcome)
        summary.findings.close_report()
        written = writer.finish()
    summary.orphans = orphan_sidecars(records)
    return summary, written


def _validate_rdf_file(path: Path, engine_name: str) -> list[Outcome]:
    """One outcome per named graph of ``path`` (and one for its default graph)."""
    try:
        with open_rdf(path) as stream:
            quads = list(ox.parse(stream, format=rdf_format(path)))
    except (SyntaxError, ValueError, OSError, EOFError) as err:
        return [Rejected(str(path), None, Stage.READ, f"cannot read RDF: {err}")]
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in quads:
        name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
        graphs.setdefault(name, []).append(quad.triple)
    shared = graphs.pop("", [])
    if not graphs:  # triples only: the whole file is one record
        graphs[""] = shared
    else:  # each figure graph with the shared facts (default graph) it reaches
        by_subject: dict[str, list[ox.Triple]] = {}
        for triple in shared:
            if isinstance(triple.subject, ox.NamedNode):
                by_subject.setdefault(triple.subject.value, []).append(triple)
        graphs = {
            name: [*triples, *_reachable(triples, by_subject)] for name, triples in graphs.items()
        }
    checker = engine(engine_name)
    outcomes: list[Outcome] = []
    for name, triples in graphs.items():
        figid = figid_of(name) or figid_of_single_figure(triples)
        findings = checker.validate(ntriples_bytes(triples))
        if any(f.is_violation for f in findings):
            reason = violation_reason(findings)
            outcomes.append(Rejected(str(path), figid, Stage.VALIDATE, reason, findings))
        else:
            outcomes.append(Converted(str(path), figid or name, None, Stats(), findings))
    return outcomes


def _reachable(triples: list[ox.Triple], by_subject: dict[str, list[ox.Triple]]) -> list[ox.Triple]:
    """The shared triples (indexed by subject IRI) about nodes reachable from ``triples``."""
    frontier = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    frontier |= {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    seen: set[str] = set()
    found: list[ox.Triple] = []
    while frontier:
        node = frontier.pop()
        seen.add(node)
        for triple in by_subject.get(node, []):
            found.append(triple)
            if isinstance(triple.object, ox.NamedNode) and triple.object.value not in seen:
                frontier.add(triple.object.value)
    return found


def _store_loader(
    store_dir: Path | None,
) -> Callable[[Path, Path, Path | None], LoadStats] | None:
    """A function that loads the run's N-Quads (updating the figure graphs that changed
    since the last load, by their index) and its description (in the description's own
    graph) into the store, if one was asked for."""
    if store_dir is None:
        return None

    def load(nquads: Path, index: Path, description: Path | None) -> LoadStats:
        files = [LoadFile(nquads, ox.RdfFormat.N_QUADS, index=index)]
        if description is not None:
            files.append(LoadFile(description, ox.RdfFormat.TURTLE, ox.NamedNode(DATASET)))
        return load_into_store(store_dir, files)

    return load
