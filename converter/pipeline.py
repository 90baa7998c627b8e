"""The data flow of one run: read → expand → enrich → validate → write, in batches.

Batches of records are converted independently (in worker processes with ``jobs > 1``):
each record is read, expanded, enriched, serialized (N-Triples, and N-Quads and Turtle
fragments as the run writes them) and SHACL-checked in the worker, so the main process only
appends bytes. Results are taken in input order, so the output is the same whatever the
number of workers. Every record read ends up converted or rejected with a reason: the accounting
``read == converted + rejected`` holds for every run.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .describe import Tally
from .enrich import enrich
from .expand import expand
from .model import DamagedEntry, Location, Record, RecordError, Source, Stage, Stats
from .read import load_record, prefetch
from .validate import DEFAULT_ENGINE, Finding, engine
from .write import DigestSet, RecordRdf, serialize_record

if TYPE_CHECKING:
    from .state import KeptState

DEFAULT_BATCH_SIZE = 20
BATCHES_IN_FLIGHT_PER_JOB = 4
"""Batches sent to the workers and not yet written, per worker: when the main process
falls behind (a slow disk), the workers wait instead of results piling up in memory."""
MAX_LITERAL_BYTES = 12 * 1024 * 1024
"""Longer text values are refused: Oxigraph's parsers stop at 16 MiB per N-Quads line."""


@dataclass
class Converted:
    source: str
    figid: str
    rdf: RecordRdf | None
    """The record's RDF (None when only validated)."""
    stats: Stats
    findings: list[Finding] = field(default_factory=list)
    """Warnings (a converted record has no violations)."""
    tally: Tally = field(default_factory=Tally)
    """The counts of the record's own graph, for the dataset description."""


@dataclass
class Rejected:
    source: str
    figid: str | None
    stage: Stage
    reason: str
    findings: list[Finding] = field(default_factory=list)

    def row(self) -> dict[str, object]:
        """The record's line in ``rejects.jsonl``."""
        row: dict[str, object] = {
            "file": self.source,
            "figid": self.figid,
            "stage": self.stage.value,
            "reason": self.reason,
        }
        if self.findings:
            row["violations"] = [f.as_dict() for f in self.findings if f.is_violation]
        return row


Outcome = Converted | Rejected


@dataclass
class _Prepared:
    source: Source
    record: Record
    rdf: RecordRdf
    stats: Stats
    tally: Tally


def _prepare(source: Source, formats: tuple[str, ...]) -> _Prepared | Rejected:
    """Read, expand, enrich and serialize one record, or say why it cannot be."""
    stage = Stage.READ
    figid = source.stem_figid
    try:
        record = load_record(source)
        figid = record.figid
        stage = Stage.EXPAND
        described = expand(record)
        stage = Stage.ENRICH
        graph, stats = enrich(record, described)
        own = graph.own
        tally = Tally.of(graph.figure, own.terms(), own.subjects(), graph.shared.subjects())
        rdf = serialize_record(graph, formats)
        for part in (rdf.own, rdf.shared):  # each line lives in one part: no joined copy
            _check_literal_sizes(part)
    except RecordError as err:
        reason = f"{err.file}: {err.reason}" if err.file else err.reason
        return Rejected(source.name, figid, err.stage, reason)
    except Exception as err:  # a record must never stop the run: report it instead
        return Rejected(source.name, figid, stage, f"unexpected {type(err).__name__}: {err}")
    return _Prepared(source, record, rdf, stats, tally)


def _check_literal_sizes(ntriples: bytes) -> None:
    """Refuse a record with a text value over MAX_LITERAL_BYTES (only a record whose
    N-Triples are that long can have one)."""
    if len(ntriples) <= MAX_LITERAL_BYTES:
        return
    for line in ntriples.splitlines():
        if len(line) <= MAX_LITERAL_BYTES:
            continue
        for triple in ox.parse(line, format=ox.RdfFormat.N_TRIPLES):
            size = len(str(triple.object.value).encode("utf-8"))
            if isinstance(triple.object, ox.Literal) and size > MAX_LITERAL_BYTES:
                raise RecordError(
                    Stage.ENRICH,
                    f"the value of {triple.predicate.value} is {size / 2**20:.1f} MiB; values "
                    f"over {MAX_LITERAL_BYTES // 2**20} MiB are refused (RDF parsers such as "
                    "Oxigraph's stop at 16 MiB per line)",
                )


def violation_reason(findings: Sequence[Finding]) -> str:
    """The rejects-report reason for a record with SHACL violations: the first, and a count."""
    violations = [f for f in findings if f.is_violation]
    first = violations[0]
    where = f" ({first.path})" if first.path else ""
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return f"SHACL {first.shape}{where}: {first.message} [focus {first.focus}]{more}"


@dataclass(frozen=True)
class BatchOptions:
    """What a worker needs to know to convert a batch."""

    validate: bool = True
    engine: str = DEFAULT_ENGINE
    formats: tuple[str, ...] = ()
    """The streamed output formats each record is serialized for (``nt``, ``nq``, ``ttl``)."""
    kept: KeptState | None = None
    """Where outcomes are kept for the next run (by the key of each source)."""
    reuse: bool = True
    """Take the kept outcome of a record whose inputs are unchanged instead of converting it."""


@dataclass
class BatchResult:
    """A batch's outcomes; how many were kept ones (and how many kept ones were damaged);
    where the new ones were kept, by key."""

    outcomes: list[Outcome] = field(default_factory=list)
    reused: int = 0
    damaged: int = 0
    kept: dict[str, Location] = field(default_factory=dict)


def run_batch(sources: Sequence[Source], options: BatchOptions) -> BatchResult:
    """The outcome of each source, in order: its kept outcome when its inputs are unchanged
    (and reuse is on), else a new conversion, kept for the next run."""
    kept = options.kept
    result = BatchResult()
    new: list[tuple[str, Outcome]] = []
    prefetch([source for source in sources if source.kept_at is None])
    for source in sources:
        outcome = None
        if kept is not None and source.kept_at is not None and options.reuse:
            try:
                outcome = kept.load(source.kept_at, options.formats)
            except DamagedEntry:
                result.damaged += 1
        if outcome is not None:
            result.reused += 1
        else:
            outcome = convert_one(source, options)
            if source.key is not None:
                new.append((source.key, outcome))
        result.outcomes.append(outcome)
    if kept is not None:
        result.kept = kept.keep(new)
    return result


def convert_one(source: Source, options: BatchOptions) -> Outcome:
    """Read, convert and validate one record."""
    item = _prepare(source, options.formats)
    if isinstance(item, Rejected):
        return item
    # each record alone: what is said of it never depends on the records beside it (and
    # the engine costs the same per record alone as in a batch, measured)
    found = engine(options.engine).validate(item.rdf.ntriples) if options.validate else []
    if any(f.is_violation for f in found):
        reason = violation_reason(found)
        return Rejected(item.source.name, item.record.figid, Stage.VALIDATE, reason, found)
    return Converted(item.source.name, item.record.figid, item.rdf, item.stats, found, item.tally)


def _batches(sources: Iterable[Source], size: int) -> Iterator[list[Source]]:
    iterator = iter(sources)
    while batch := list(islice(iterator, size)):
        yield batch


def convert_all(
    sources: Iterable[Source],
    options: BatchOptions,
    *,
    jobs: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[BatchResult], None] | None = None,
    figids: FigidRegister | None = None,
) -> Iterator[Outcome]:
    """Outcomes for ``sources`` in input order, duplicates of an earlier figid rejected
    (figids seen are noted in ``figids``; without it, no figid is checked); ``on_batch`` is
    told of each batch done.

    Sources are consumed as they come; with ``jobs > 1`` and more than one batch, batches
    are converted by a pool of worker processes and their results taken in order.
    """
    worker = partial(run_batch, options=options)
    all_batches = _batches(sources, batch_size)
    lookahead = list(islice(all_batches, 2))
    batches = chain(lookahead, all_batches)
    if jobs > 1 and len(lookahead) > 1:
        context = multiprocessing.get_context("spawn")
        in_flight = threading.BoundedSemaphore(BATCHES_IN_FLIGHT_PER_JOB * jobs)

        stopping = threading.Event()

        def throttled() -> Iterator[list[Source]]:
            for batch in batches:  # the pool's feeder thread waits here
                while not in_flight.acquire(timeout=0.1):
                    if stopping.is_set():  # the run ends (an interrupt): let the pool close
                        return
                yield batch

        def released(results: Iterable[BatchResult]) -> Iterator[BatchResult]:
            for result in results:
                in_flight.release()
                yield result

        with _workers_ignore_ctrl_c():
            pool = context.Pool(jobs, initializer=_worker_init)
        with pool:
            results = released(pool.imap(worker, throttled()))
            try:
                yield from _deduplicated(results, figids, on_batch)
            finally:
                stopping.set()
    else:
        yield from _deduplicated(map(worker, batches), figids, on_batch)


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes with Ctrl-C ignored from their first instruction: the
    disposition SIG_IGN survives exec, so a worker still importing its modules when the
    terminal's Ctrl-C reaches the process group prints no traceback; the main process ends
    the run. A Ctrl-C meanwhile is held (blocked) and reaches the main process afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; _worker_init covers the rest
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _worker_init() -> None:
    """Keep the imported modules out of the garbage collector's way: a worker allocates
    many short-lived objects, and every full collection would scan the modules again."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process ends the run and the pool


class FigidRegister:
    """The figids converted so far in a run, each with the record it came from. It grows
    with the records, so it is kept small: each figid's digest in a table, the records'
    names in one buffer."""

    def __init__(self) -> None:
        self._figids = DigestSet()
        self._names = bytearray()
        self._ends = array("Q")

    def duplicate(self, source: str, figid: str) -> Rejected | None:
        """The rejection of a record whose figid an earlier record has; else None (and the
        figid is noted as this record's)."""
        number, new = self._figids.number(figid.encode("utf-8", "surrogatepass"))
        if new:
            self._names += source.encode("utf-8", "surrogatepass")
            self._ends.append(len(self._names))
            return None
        start = self._ends[number - 1] if number else 0
        earlier = self._names[start : self._ends[number]].decode("utf-8", "surrogatepass")
        return Rejected(
            source, figid, Stage.DUPLICATE, f"figid {figid!r} was already converted from {earlier}"
        )


def _deduplicated(
    results: Iterable[BatchResult],
    figids: FigidRegister | None,
    on_batch: Callable[[BatchResult], None] | None,
) -> Iterator[Outcome]:
    for result in results:
        for outcome in result.outcomes:
            if figids is not None and isinstance(outcome, Converted):
                outcome = figids.duplicate(outcome.source, outcome.figid) or outcome
            yield outcome
        if on_batch is not None:
            on_batch(result)
