"""Whole runs: ``convert`` (records to RDF files) and ``validate`` (a SHACL report only).

A convert run takes the kept outcome of each record whose inputs did not change since the
last run (:mod:`converter.state`), converts the others, and writes every output through
one writer, record after record in input order: a re-run's outputs are a full run's bytes
by construction. When every input and option is unchanged and the outputs in OUTDIR are
those the last run wrote (each one's size and digest), nothing is written at all.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import xxhash

from .describe import (
    DATASET,
    RunFacts,
    Statistics,
    created_date,
    describe,
    write_description,
)
from .formats import GZIP, open_rdf
from .interrupt import after_write
from .model import Source, Stage, Stats
from .outcome import Converted, Outcome, Rejected
from .pipeline import (
    DEFAULT_BATCH_SIZE,
    BatchOptions,
    convert_all,
    convert_one,
    deduplicated,
    outcomes_of,
    violation_reason,
)
from .read import count_records, discover, orphan_sidecars
from .report import FindingLog, Summary
from .state import DamagedEntry, KeptState, encode, fingerprint, record_key
from .store import LoadFile, LoadStats, load_into_store, rdf_format
from .validate import DEFAULT_ENGINE, engine, ntriples_bytes
from .vocab import figid_of, figid_of_single_figure
from .write import OutputWriter, file_identity

RDF_SUFFIXES = tuple(
    f".{ext}{gz}" for ext in ("ttl", "nt", "nq", "trig", "jsonld") for gz in ("", GZIP)
)

IN_PROCESS_BELOW = 150
"""A re-run with fewer records to convert converts them in this process: for so few,
starting worker processes costs more than it saves (benchmarks/README.md)."""


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
    """Convert ``inputs`` into ``outdir``; return the summary and the files written (none
    when the outputs in place are already this run's).

    Records are streamed from the inputs (counted first, for ``on_start``); ``progress`` is
    told how many were just done.
    """
    if on_start is not None:
        on_start(count_records(inputs))
    orphans = orphan_sidecars(inputs)
    options_kept = [f"validate={options.validate}", options.engine]
    with closing(KeptState(outdir, fingerprint(options_kept))) as kept:
        run = _ConvertRun(outdir, kept, options, inputs, progress)
        written = run.write(discover(inputs, stdin=stdin))
    run.summary.orphans = orphans
    return run.summary, written


class _ConvertRun:
    """One convert run: its summary, kept state and the digest of its inputs."""

    def __init__(
        self,
        outdir: Path,
        kept: KeptState,
        options: ConvertOptions,
        inputs: Sequence[str],
        progress: Callable[[int], None] | None,
    ) -> None:
        self.outdir, self.kept, self.options, self.progress = outdir, kept, options, progress
        self.inputs = inputs
        self.summary = Summary()
        if kept.notice:
            self.summary.notices.append(kept.notice)
        self.known = set() if options.full else kept.keys()
        """The keys of the outcomes kept (none taken with ``--full``)."""
        self._inputs = xxhash.xxh3_128()
        """A digest of the run's inputs and options, as the sources are keyed."""
        for part in (*options.formats, "|", created_date(options.created) or "", *inputs):
            self._inputs.update(f"{part}\n".encode())

    def keyed(self, sources: Iterable[Source]) -> Iterator[Source]:
        """``sources`` with their keys (each noted in the digest of the inputs)."""
        for source in sources:
            key = record_key(source)
            self._inputs.update(f"{source.name}\t{key}\n".encode())
            yield replace(source, key=key)

    def write(self, sources: Iterable[Source]) -> list[Path]:
        """Write every record of ``sources`` and put the outputs in place; return them
        (none when the outputs in place are already what the run would write)."""
        jobs = self.options.jobs
        keyed: Iterable[Source] = self.keyed(sources)
        if self.known:  # a re-run: every source keyed first
            keyed = list(keyed)
            if self._unchanged(keyed):
                return []
            fresh = sum(1 for source in keyed if source.key not in self.known)
            jobs = jobs if fresh >= IN_PROCESS_BELOW else 1
        writer = OutputWriter(
            self.outdir,
            self.options.formats,
            validation=self.options.validate,
            keep_nquads=self.options.store is not None,
            owns_folder=True,
        )
        with closing(writer), after_write(writer):
            self.summary.findings = FindingLog(writer.findings)
            batch = BatchOptions(
                self.options.validate, self.options.engine, writer.streamed_formats, keep=True
            )
            statistics = Statistics()
            outcomes = deduplicated(self._outcomes(keyed, batch, jobs))
            with closing(outcomes):  # an interrupt anywhere ends the pool of workers now
                for outcome in outcomes:
                    count_outcome(self.summary, outcome)
                    if isinstance(outcome, Converted) and outcome.rdf is not None:
                        rdf = outcome.rdf
                        first = writer.add_record(rdf)
                        statistics.add_record(rdf.figure, rdf.own, outcome.tally, first)
                    elif isinstance(outcome, Rejected):
                        writer.add_reject(outcome.row())
            self.summary.triples = writer.triples
            self.summary.findings.close_report()
            written = writer.finish(*self._finishers(statistics))
            self._save(writer.identities)
        return written

    def _outcomes(
        self, sources: Iterable[Source], options: BatchOptions, jobs: int
    ) -> Iterator[Outcome]:
        """The outcome of every source in order: kept ones taken, the others converted
        (by ``jobs`` processes) and kept."""
        order: deque[Source | None] = deque()
        """Each source walked so far, None for one sent to be converted."""
        fresh_keys: deque[str | None] = deque()

        def fresh() -> Iterator[Source]:
            for source in sources:
                if source.key in self.known:
                    order.append(source)
                else:
                    order.append(None)
                    fresh_keys.append(source.key)
                    yield source

        batch_size = self.options.batch_size
        for result in convert_all(fresh(), options, jobs=jobs, batch_size=batch_size):
            keys = [fresh_keys.popleft() for _ in result.outcomes]
            pairs = zip(keys, result.encoded, strict=True)
            self.kept.keep([(key, entry) for key, entry in pairs if key is not None])
            for outcome in result.outcomes:
                while (source := order.popleft()) is not None:
                    yield self._kept(source, options)
                yield outcome
            self._progress(len(result.outcomes))
        while order:
            source = order.popleft()
            assert source is not None
            yield self._kept(source, options)

    def _kept(self, source: Source, options: BatchOptions) -> Outcome:
        """The kept outcome of ``source``, named as this run's inputs spell it; a new one
        (kept) if it is damaged, or if it is a sidecar's rejection (whose reason names the
        sidecar as the inputs were spelled then)."""
        assert source.key is not None
        self._progress(1)
        try:
            outcome = self.kept.load(source.key, options.formats)
            if not (isinstance(outcome, Rejected) and outcome.stage is Stage.SIDECAR):
                self.summary.reused += 1
                return replace(outcome, source=source.name)
        except DamagedEntry:
            self.summary.damaged += 1
        outcome = convert_one(source, options)
        self.kept.keep([(source.key, encode(outcome))])
        return outcome

    def _progress(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done)

    def _unchanged(self, sources: list[Source]) -> bool:
        """Whether every input and option is the last run's and the outputs in OUTDIR are
        those it wrote; then the summary is made from the kept outcomes, and True."""
        last = self.kept.last_run()
        if (
            self.options.store is not None  # a store is always loaded
            or last is None
            or last.get("inputs") != self._inputs.hexdigest()
            or any(source.key not in self.known for source in sources)
            or not _outputs_are(self.outdir, last.get("outputs", {}))
        ):
            return False
        summary = Summary(notices=self.summary.notices)
        try:
            heads = (self.kept.load(str(source.key), (), head_only=True) for source in sources)
            for outcome in deduplicated(heads):
                count_outcome(summary, outcome)
        except DamagedEntry:
            return False
        summary.triples, summary.reused, summary.unchanged = last["triples"], summary.read, True
        self._progress(summary.read)
        self.summary = summary
        return True

    def _save(self, identities: dict[str, Any]) -> None:
        """Note this run in the kept state (the outputs in place), and say if some kept
        outcomes were damaged."""
        note = {"inputs": self._inputs.hexdigest(), "outputs": identities}
        try:
            self.kept.save_run({**note, "triples": self.summary.triples})
        except OSError as err:
            self.summary.notices.append(
                f"cannot note this run in {err.filename}: {err.strerror}; the outputs are "
                "complete, and the next run writes them again"
            )
        if self.summary.damaged:
            self.summary.notices.append(
                f"{self.summary.damaged} outcomes kept in {self.kept.root} were damaged: those "
                "records were converted again"
            )

    def _finishers(
        self, statistics: Statistics
    ) -> tuple[
        Callable[[Path, Path, Path | None], object] | None, Callable[[dict[str, Path], Path], None]
    ]:
        """What the writer calls before putting the outputs in place: the store load (if
        asked for), and the description."""

        def description(files: dict[str, Path], target: Path) -> None:
            summary = self.summary
            run = RunFacts(self.inputs, summary.read, summary.converted, summary.rejected)
            created = created_date(self.options.created)
            write_description(target, describe(statistics, files, run, created))

        loader = _store_loader(self.options.store)
        if loader is None:
            return None, description

        def load(nquads: Path, index: Path, described: Path | None) -> None:
            assert loader is not None
            changes = loader(nquads, index, described).update
            self.summary.store_changes = changes.line() if changes else None

        return load, description


def _outputs_are(outdir: Path, identities: dict[str, Any]) -> bool:
    """Whether the files of ``outdir`` named in ``identities`` have those sizes and digests."""
    try:
        if any((outdir / name).stat().st_size != size for name, (size, _) in identities.items()):
            return False
        return all(file_identity(outdir / name) == kept for name, kept in identities.items())
    except (OSError, ValueError, TypeError):
        return False


def count_outcome(summary: Summary, outcome: Outcome) -> None:
    """Count one outcome (and its findings) in the summary."""
    summary.read += 1
    converted = isinstance(outcome, Converted)
    for finding in outcome.findings:
        summary.findings.add(outcome.source, outcome.figid, finding, rejected=not converted)
    if isinstance(outcome, Converted):
        summary.converted += 1
        summary.genes_with_id += outcome.stats.genes_with_id
        summary.symbols_without_id += outcome.stats.symbols_without_id
    else:
        summary.rejected += 1
        summary.rejected_by_stage[outcome.stage.value] += 1


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
    graph) its record stated; a file without named graphs is one record.
    """
    rdf_files = [Path(i) for i in inputs if i.lower().endswith(RDF_SUFFIXES)]
    records = [i for i in inputs if not i.lower().endswith(RDF_SUFFIXES)]
    orphans = orphan_sidecars(records)
    with closing(OutputWriter(outdir, formats=[])) as writer, after_write(writer):
        summary = Summary(findings=FindingLog(writer.findings))
        sources = discover(records, stdin=stdin)
        options = BatchOptions(validate=True, engine=engine_name)
        converted = deduplicated(
            outcomes_of(convert_all(sources, options, jobs=jobs, batch_size=batch_size))
        )
        with closing(converted):  # an interrupt anywhere ends the pool of workers now
            outcomes = chain(
                converted, *(_validate_rdf_file(path, engine_name) for path in rdf_files)
            )
            for outcome in outcomes:
                count_outcome(summary, outcome)
                if isinstance(outcome, Rejected):
                    writer.add_reject(outcome.row())
        summary.findings.close_report()
        written = writer.finish()
    summary.orphans = orphans
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
    else:  # each figure graph with the shared facts (default graph) its record stated
        by_subject: dict[ox.NamedNode, list[ox.Triple]] = {}
        for triple in shared:
            if isinstance(triple.subject, ox.NamedNode):
                by_subject.setdefault(triple.subject, []).append(triple)
        graphs = {
            name: [*triples, *_stated_shared(triples, by_subject)]
            for name, triples in graphs.items()
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


def _stated_shared(
    triples: list[ox.Triple], by_subject: dict[ox.NamedNode, list[ox.Triple]]
) -> list[ox.Triple]:
    """The shared triples (indexed by subject) that the record of the figure graph
    ``triples`` stated, as far as the default graph tells: a record states facts about the
    nodes its own graph names (a gene, its taxon, a MeSH term, a ChEBI compound each have a
    triple there), and a link from one shared node to another only when its own graph names
    both. So a MeSH term's ChEBI equivalent, stated by another record that links the
    compound to its figure, is not checked with this figure, as convert did not check it."""
    nodes = {t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}
    nodes |= {t.object for t in triples if isinstance(t.object, ox.NamedNode)}
    return [
        triple
        for node in nodes
        for triple in by_subject.get(node, [])
        if triple.object in nodes or triple.object not in by_subject
    ]


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
