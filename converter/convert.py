"""Whole runs: ``convert`` (records to RDF files) and ``validate`` (a SHACL report only)."""

from __future__ import annotations

import io
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from .describe import (
    DATASET,
    Counts,
    RunFacts,
    Statistics,
    created_date,
    describe,
    write_description,
)
from .model import DamagedEntry, Source, Stage, Stats
from .pipeline import (
    DEFAULT_BATCH_SIZE,
    BatchOptions,
    BatchResult,
    Converted,
    FigidRegister,
    Outcome,
    Rejected,
    convert_all,
    convert_one,
    violation_reason,
)
from .read import count_records, discover, orphan_sidecars
from .report import FindingLog, Summary
from .splice import (
    FIRST,
    LAYOUT_FILES,
    MAX_CHANGED_SHARE,
    NUMBER,
    Layout,
    LayoutRecorder,
    Numbers,
    Row,
    SharedFacts,
    first_flags,
    read_layout,
)
from .state import KeptIndex, KeptState, fingerprint, record_key
from .store import LoadFile, LoadStats, load_into_store, rdf_format
from .validate import DEFAULT_ENGINE, Finding, engine, ntriples_bytes
from .vocab import figid_of, figid_of_single_figure
from .write import GZIP, OutputWriter, open_rdf

RDF_SUFFIXES = tuple(
    f".{ext}{gz}" for ext in ("ttl", "nt", "nq", "trig", "jsonld") for gz in ("", GZIP)
)


class InputChanged(Exception):
    """A record's inputs changed during the run (it read them twice and found them
    different): nothing is written."""


class InterruptedAfterWrite(Exception):
    """The run was interrupted after its outputs were put in place, while it saved what
    the next run reuses (that run converts again what was not saved)."""


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
    """Convert ``inputs`` into ``outdir``; return the summary and the files written.

    Records are streamed from the inputs (counted first, for ``on_start``); ``progress`` is
    told how many were just done. Memory does not grow with the number of records, but for
    the figids seen (to reject duplicates) and what the layout notes of each record.
    """
    if on_start is not None:
        on_start(count_records(inputs))
    output = OutputWriter(
        outdir,
        options.formats,
        validation=options.validate,
        keep_nquads=options.store is not None,
        owns_folder=True,
    )
    orphans = orphan_sidecars(inputs)
    with closing(output) as writer, _interrupt_after_write(writer):
        run = _ConvertRun(outdir, writer, options, progress)
        try:
            written = run.write(discover(inputs, stdin=stdin), inputs)
            run.finish()
        except BaseException:
            run.layout.discard()
            raise
    run.summary.orphans = orphans
    return run.summary, written


@contextmanager
def _interrupt_after_write(writer: OutputWriter) -> Iterator[None]:
    """An interruption once ``writer``'s outputs are in place is InterruptedAfterWrite."""
    try:
        yield
    except KeyboardInterrupt:
        if writer.written is None:
            raise
        raise InterruptedAfterWrite from None


class _ConvertRun:
    """One convert run: its summary, output, kept outcomes, statistics and layout."""

    def __init__(
        self,
        outdir: Path,
        writer: OutputWriter,
        options: ConvertOptions,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.outdir, self.writer, self.options, self.progress = outdir, writer, options, progress
        self.summary = Summary(findings=FindingLog(writer.findings))
        self.kept = KeptState(outdir, fingerprint([f"validate={options.validate}", options.engine]))
        self._notice(self.kept.prepare())
        self.last_run, notice = self.kept.read_index()
        self._notice(notice)
        self.this_run = KeptIndex()
        self.previous: Layout | None = None
        if self.last_run and not options.full:
            formats = writer.streamed_formats
            self.previous, notice = read_layout(self.kept.folder, outdir, formats)
            self._notice(notice)
        self.batch_options = BatchOptions(
            options.validate,
            options.engine,
            writer.streamed_formats,
            kept=self.kept,
            reuse=not options.full,
        )
        self.statistics = Statistics()
        self.facts = SharedFacts()
        self.figids = FigidRegister()
        self.layout = LayoutRecorder(self.kept.folder, writer.streamed_formats, self.facts)
        self.other_subjects: list[int] = []

    def _notice(self, notice: str | None) -> None:
        if notice:
            self.summary.notices.append(notice)

    def keyed(self, sources: Iterable[Source]) -> Iterator[Source]:
        """``sources`` with their keys and where their kept outcomes lie."""
        for source in sources:
            key = record_key(source)
            kept_at = self.last_run.get(key) if key is not None else None
            if key is not None and kept_at is not None:
                self.this_run[key] = kept_at
            yield replace(source, key=key, kept_at=kept_at)

    def converted(
        self, sources: Iterable[Source], figids: FigidRegister | None, jobs: int
    ) -> Iterator[Outcome]:
        """The outcomes of ``sources`` (kept ones taken, others converted and kept) by
        ``jobs`` processes, duplicate figids rejected if ``figids`` is given."""

        def done(batch: BatchResult) -> None:
            self.summary.reused += batch.reused
            self.summary.damaged += batch.damaged
            self.this_run.update(batch.kept)
            self.kept.note(batch.kept)
            if self.progress is not None:
                self.progress(len(batch.outcomes))

        return convert_all(
            sources,
            self.batch_options,
            jobs=jobs,
            batch_size=self.options.batch_size,
            on_batch=done,
            figids=figids,
        )

    def write(self, sources: Iterable[Source], inputs: Sequence[str]) -> list[Path]:
        """Write every record of ``sources``, copying from the last run's outputs what did
        not change when its layout allows; then put the outputs in place."""
        keyed = self.keyed(sources)
        previous, self.previous = self.previous, None
        if previous is not None:
            listed = list(keyed)
            spliced = self._spliced(listed, previous)
            del previous  # not held while every record is written instead
            if not spliced:
                self._streamed(listed)
        else:
            self._streamed(keyed)
        self.summary.triples = self.writer.triples
        self.statistics.other_subjects = self.facts.distinct_subjects(
            self.layout.numbers(), self.other_subjects
        )
        self.summary.findings.close_report()

        def description(files: dict[str, Path], target: Path) -> None:
            summary = self.summary
            run = RunFacts(inputs, summary.read, summary.converted, summary.rejected)
            created = created_date(self.options.created)
            write_description(target, describe(self.statistics, files, run, created))

        loader = _store_loader(self.options.store)

        def load(nquads: Path, index: Path, described: Path | None) -> None:
            assert loader is not None
            changes = loader(nquads, index, described).update
            self.summary.store_changes = changes.line() if changes else None

        return self.writer.finish(
            before_commit=load if loader is not None else None, describe=description
        )

    def finish(self) -> None:
        """Keep, for the next run, the layout of the outputs now in place and the index of
        this run's outcomes; say if some kept ones were damaged."""
        self.layout.save(self.outdir, self.statistics.counts)
        self.kept.write_index(self.this_run, LAYOUT_FILES)
        if self.summary.damaged:
            self.summary.notices.append(
                f"{self.summary.damaged} outcomes kept in {self.kept.root} were damaged: those "
                "records were converted again"
            )

    # ------------------------------------------------------------------ a re-run

    def _spliced(self, sources: list[Source], previous: Layout) -> bool:
        """Write every record, copying from the last run's outputs the records whose chunk
        is unchanged; False (nothing done) when too many records changed for it to pay."""
        position = {row.key: index for index, row in enumerate(previous.rows) if row.key}
        items = []
        for source in sources:
            index = position.get(source.key or "") if source.kept_at else None
            items.append(_Item(source, index, None if index is None else previous.rows[index]))
        fresh = [item for item in items if item.index is None]
        if len(fresh) > MAX_CHANGED_SHARE * len(items):
            return False
        self.facts = self.layout.facts = previous.facts
        jobs = self.options.jobs if len(fresh) >= IN_PROCESS_BELOW else 1
        pending = self.converted((item.source for item in fresh), None, jobs)
        for item, outcome in zip(fresh, pending, strict=True):
            item.outcome = outcome
            if isinstance(outcome, Converted) and outcome.rdf is not None:
                item.numbers = self.facts.number(outcome.rdf.shared, outcome.rdf.shared_ends)[0]
                item.outcome = replace(outcome, rdf=None)  # kept: read back when written
        plan = _SplicePlan(self, items, previous)
        self.statistics = Statistics(plan.counts_kept(self.writer))
        for number, item in enumerate(items):
            self._write_item(item, plan, number)
        carried = len(items) - len(fresh)
        if self.progress is not None:
            self.progress(carried)
        self.summary.reused += carried
        return True

    def _write_item(self, item: _Item, plan: _SplicePlan, number: int) -> None:
        key = item.source.key or ""
        if item.duplicate is not None:
            count_outcome(self.summary, item.duplicate)
            self._reject(key, item.duplicate)
            return
        outcome = item.light_outcome()
        if isinstance(outcome, Rejected):
            count_outcome(self.summary, outcome)
            self._reject(key, outcome)
            return
        flagged = plan.flagged(number)
        if number in plan.copied:
            assert item.row is not None and item.index is not None
            count_outcome(self.summary, outcome)
            old_chunk = plan.previous.chunks[item.index]
            assert old_chunk is not None
            chunk = self.writer.splice(old_chunk, item.row.triples)
            self.summary.copied += 1
            digest = plan.previous.digests[item.index].tobytes()
            self.statistics.add_unchanged(chunk.figure, item.row.figure_subjects, digest)
            self.other_subjects += item.row.other_subjects
            self.layout.add(item.row, chunk, flagged.tobytes(), digest)
            return
        whole = self.whole(item)
        count_outcome(self.summary, whole)
        assert whole.rdf is not None
        numbers = array("I")
        numbers.frombytes(flagged.tobytes())
        lines = whole.rdf.shared.splitlines(keepends=True)
        self._render(key, whole, SharedFacts.first_stated(lines, numbers), numbers)

    def whole(self, item: _Item) -> Converted:
        """A converted record's outcome with its RDF: read back from the kept outcomes, or
        converted again if it cannot be (not kept: a full disk; damaged). Not kept in
        ``item``: what a re-run writes anew stays out of memory once written."""
        if isinstance(item.outcome, Converted) and item.outcome.rdf is not None:
            return item.outcome
        key = item.source.key
        at = self.this_run.get(key) if key is not None else None
        if at is not None:
            try:
                outcome = self.kept.load(at, self.writer.streamed_formats)
                if isinstance(outcome, Converted):
                    return outcome
            except DamagedEntry:
                self.summary.damaged += 1
        outcome = convert_one(item.source, self.batch_options)
        if not isinstance(outcome, Converted):  # its inputs were converted before
            raise InputChanged(f"{item.source.name} changed while the run read it: run again")
        return outcome

    # ------------------------------------------------------------------ every record written

    def _streamed(self, sources: Iterable[Source]) -> None:
        """Convert (or take the kept outcome of) every record and write each in order."""
        keys: deque[str | None] = deque()

        def noted(sources: Iterable[Source]) -> Iterator[Source]:
            for source in sources:
                keys.append(source.key)
                yield source

        for outcome in self.converted(noted(sources), self.figids, self.options.jobs):
            key = keys.popleft() or ""
            count_outcome(self.summary, outcome)
            if isinstance(outcome, Converted) and outcome.rdf is not None:
                rdf = outcome.rdf
                numbers, first = self.facts.number(rdf.shared, rdf.shared_ends)
                self._render(key, outcome, first, numbers)
            elif isinstance(outcome, Rejected):
                self._reject(key, outcome)

    def _render(self, key: str, outcome: Converted, first: bytes, numbers: array[int]) -> None:
        """Write a converted record, with ``first``, the shared facts it is the first to
        state (flagged FIRST in ``numbers``)."""
        rdf = outcome.rdf
        assert rdf is not None
        chunk = self.writer.add_record(rdf, first)
        digest = self.statistics.add_record(rdf.figure, rdf.own, outcome.tally, first)
        others = self.facts.number_subjects(outcome.tally.other_subjects)
        self.other_subjects += others
        triples = rdf.own_triples + first.count(b"\n")
        row = Row(
            key,
            outcome.source,
            outcome.figid,
            True,
            (outcome.stats.genes_with_id, outcome.stats.symbols_without_id),
            [f.as_dict() for f in outcome.findings],
            None,
            triples,
            outcome.tally.figure_subjects,
            others,
        )
        self.layout.add(row, chunk, numbers.tobytes(), digest)

    def _reject(self, key: str, outcome: Rejected) -> None:
        """List a rejected record. One rejected for its figid is noted as converted: the
        next run checks its figid again."""
        self.writer.add_reject(outcome.row())
        converted = outcome.stage is Stage.DUPLICATE
        reject = None if converted else outcome.row()
        findings = [f.as_dict() for f in outcome.findings]
        row = Row(key, outcome.source, outcome.figid, converted, (0, 0), findings, reject, 0, 0, [])
        self.layout.add(row, None, b"", bytes(16))


@dataclass
class _Item:
    """A record of a re-run: its place in the last run's layout (if it is there unchanged),
    or its new outcome (and its shared facts' numbers)."""

    source: Source
    index: int | None
    row: Row | None = None
    outcome: Outcome | None = None
    numbers: array[int] | None = None
    duplicate: Rejected | None = None

    def light_outcome(self) -> Outcome:
        """Its outcome, without its RDF when it comes from the layout."""
        if self.outcome is not None:
            return self.outcome
        row = self.row
        assert row is not None
        findings = [Finding(**f) for f in row.findings]
        if row.reject is not None:
            stage, reason = Stage(row.reject["stage"]), row.reject["reason"]
            return Rejected(row.source, row.figid, stage, reason, findings)
        assert row.figid is not None
        return Converted(row.source, row.figid, None, Stats(*row.stats), findings)

    @property
    def converted(self) -> bool:
        return self.row.converted if self.row is not None else isinstance(self.outcome, Converted)

    @property
    def figid(self) -> str | None:
        return self.row.figid if self.row is not None else self.light_outcome().figid


class _SplicePlan:
    """Which records of a re-run are copied from the last run's outputs, and which shared
    facts each record states first."""

    def __init__(self, run: _ConvertRun, items: list[_Item], previous: Layout) -> None:
        self.previous = previous
        starts = previous.line_starts

        def numbers_of(row: int) -> Numbers:
            """The flagged numbers of a record of the last run."""
            return previous.numbers[starts[row] : starts[row + 1]]

        segments: list[Numbers] = []
        carried: list[tuple[int, int]] = []
        """(segment, row of the last run) of each record with a chunk last time."""
        touched: list[Numbers] = []
        self._segment_of: dict[int, int] = {}
        """Item -> its segment of the run's shared-fact numbers (records with a chunk)."""
        for number, item in enumerate(items):
            figid = item.figid
            if not item.converted or figid is None:
                continue
            item.duplicate = run.figids.duplicate(item.source.name, figid)
            if item.duplicate is not None:
                continue
            self._segment_of[number] = len(segments)
            index = item.index
            if index is not None and previous.chunks[index] is not None:
                carried.append((len(segments), index))
                segments.append(numbers_of(index) & NUMBER)
                continue
            if item.numbers is None:  # kept without a chunk (a duplicate then): read it
                whole = run.whole(item)
                assert whole.rdf is not None
                item.numbers = run.facts.number(whole.rdf.shared, whole.rdf.shared_ends)[0]
            fresh = np.frombuffer(item.numbers, dtype=np.uint32) & NUMBER
            segments.append(fresh)
            touched.append(fresh)
        self._starts = np.zeros(len(segments) + 1, dtype=np.int64)
        np.cumsum([len(segment) for segment in segments], out=self._starts[1:])
        self.numbers = np.concatenate(segments) if segments else np.zeros(0, dtype=np.uint32)
        is_carried = np.zeros(len(self.numbers), dtype=bool)
        first_before = np.zeros(len(self.numbers), dtype=bool)
        for segment, index in carried:
            start, end = self._starts[segment], self._starts[segment + 1]
            is_carried[start:end] = True
            first_before[start:end] = (numbers_of(index) & FIRST) != 0
        rows = np.array([index for _, index in carried], dtype=np.int64)
        was_carried = np.zeros(len(previous.rows), dtype=bool)
        was_carried[rows] = True
        for dropped in np.flatnonzero(~was_carried & (previous.line_counts > 0)):
            touched.append(numbers_of(int(dropped)) & NUMBER)
        if np.all(np.diff(rows) > 0):
            touched_numbers = np.concatenate(touched) if touched else np.zeros(0, np.uint32)
        else:  # records in another order: every fact's first record is found again
            touched_numbers = self.numbers
        self.flags = first_flags(self.numbers, is_carried, first_before, touched_numbers)
        moved = np.flatnonzero(is_carried & (self.flags != first_before))
        moved_segments = set(np.searchsorted(self._starts, moved, side="right") - 1)
        copied_segments = {segment for segment, _ in carried} - moved_segments
        self.copied = {n for n, segment in self._segment_of.items() if segment in copied_segments}
        self._copied_rows = np.zeros(len(previous.rows), dtype=bool)
        copied_rows = [index for segment, index in carried if segment in copied_segments]
        self._copied_rows[copied_rows] = True

    def flagged(self, number: int) -> Numbers:
        """The item's shared-fact numbers, flagged FIRST where it states the fact first."""
        segment = self._segment_of[number]
        start, end = self._starts[segment], self._starts[segment + 1]
        flags = self.flags[start:end].astype(np.uint32) << np.uint32(31)
        return (self.numbers[start:end] | flags).astype(np.uint32)

    def counts_kept(self, writer: OutputWriter) -> Counts:
        """The last run's counts less those of its chunks not copied this time (counted
        from the last run's outputs)."""
        counts = Counts.from_parts(self.previous.counts.parts())
        for index, chunk in enumerate(self.previous.chunks):
            if chunk is not None and not self._copied_rows[index]:
                counts.subtract(Counts.of_lines(writer.written_before(chunk)))
        return counts


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
    with closing(OutputWriter(outdir, formats=[])) as writer, _interrupt_after_write(writer):
        summary = Summary(findings=FindingLog(writer.findings))
        sources = discover(records, stdin=stdin)
        options = BatchOptions(validate=True, engine=engine_name)
        figids = FigidRegister()
        outcomes = chain(
            convert_all(sources, options, jobs=jobs, batch_size=batch_size, figids=figids),
            *(_validate_rdf_file(path, engine_name) for path in rdf_files),
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
