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
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice

import pyoxigraph as ox

from .describe import Tally
from .enrich import enrich
from .expand import expand
from .interrupt import ignore_in_worker, wait_for_room, workers_started
from .model import Record, RecordError, Source, Stage, Stats
from .outcome import Converted, Outcome, Rejected
from .read import load_record
from .serialize import RecordRdf, serialize_record
from .state import encode
from .validate import DEFAULT_ENGINE, Finding, engine

DEFAULT_BATCH_SIZE = 20
BATCHES_IN_FLIGHT_PER_JOB = 4
"""Batches sent to the workers and not yet written, per worker: when the main process
falls behind (a slow disk), the workers wait instead of results piling up in memory."""
MAX_LITERAL_BYTES = 12 * 1024 * 1024
"""Longer text values are refused: Oxigraph's parsers stop at 16 MiB per N-Quads line."""


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
    keep: bool = False
    """Encode each outcome for the kept state too (in the worker: it compresses)."""


@dataclass
class BatchResult:
    """A batch's outcomes, and each one encoded for the kept state (when asked for)."""

    outcomes: list[Outcome] = field(default_factory=list)
    encoded: list[bytes] = field(default_factory=list)


def run_batch(sources: Sequence[Source], options: BatchOptions) -> BatchResult:
    """The outcome of each source, in order (and each encoded, with ``options.keep``)."""
    result = BatchResult()
    for source in sources:
        outcome = convert_one(source, options)
        result.outcomes.append(outcome)
        if options.keep:
            result.encoded.append(encode(outcome))
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
) -> Iterator[BatchResult]:
    """The results of ``sources`` batch after batch, in input order.

    Sources are consumed as they come; with ``jobs > 1`` and more than one batch, batches
    are converted by a pool of worker processes and their results taken in order.
    """
    worker = partial(run_batch, options=options)
    all_batches = _batches(sources, batch_size)
    lookahead = list(islice(all_batches, 2))
    batches = chain(lookahead, all_batches)
    if jobs <= 1 or len(lookahead) <= 1:
        yield from map(worker, batches)
        return
    context = multiprocessing.get_context("spawn")
    room = threading.BoundedSemaphore(BATCHES_IN_FLIGHT_PER_JOB * jobs)
    stopping = threading.Event()

    def throttled() -> Iterator[list[Source]]:
        for batch in batches:  # the pool's feeder thread waits here
            if not wait_for_room(room, stopping):
                return
            yield batch

    with workers_started():
        pool = context.Pool(jobs, initializer=_worker_init)
    with pool:
        try:
            for result in pool.imap(worker, throttled()):
                room.release()
                yield result
        finally:
            stopping.set()


def outcomes_of(results: Iterable[BatchResult]) -> Iterator[Outcome]:
    """Every outcome of ``results``, in order."""
    for result in results:
        yield from result.outcomes


def _worker_init() -> None:
    """Keep the imported modules out of the garbage collector's way: a worker allocates
    many short-lived objects, and every full collection would scan the modules again."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    ignore_in_worker()


def deduplicated(outcomes: Iterable[Outcome]) -> Generator[Outcome, None, None]:
    """``outcomes``, each converted record whose figid an earlier one has rejected."""
    first: dict[str, str] = {}
    """Each figid converted so far, and the record it came from."""
    for outcome in outcomes:
        if isinstance(outcome, Converted):
            earlier = first.get(outcome.figid)
            if earlier is None:
                first[outcome.figid] = outcome.source
            else:
                reason = f"figid {outcome.figid!r} was already converted from {earlier}"
                outcome = Rejected(outcome.source, outcome.figid, Stage.DUPLICATE, reason)
        yield outcome
