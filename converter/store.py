"""Store stage: load RDF into the embedded pyoxigraph store or a remote SPARQL store.

Each figure is its own named graph (its IRI). Loading a file first removes the named graphs
it holds, so reloading the same records replaces them instead of duplicating them. Remote
stores are written through the SPARQL 1.1 Graph Store HTTP Protocol: one PUT per named graph
(``?graph=<figure IRI>``), triples outside any named graph POSTed to ``?default``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .describe import DATASET
from .write import DESCRIPTION_FILE, GZIP, open_rdf

RETRIES = 5
BACKOFF_SECONDS = 0.5
TIMEOUT_SECONDS = 300
NTRIPLES = "application/n-triples"


class StoreError(Exception):
    """A store cannot be opened, read or written; the message says which and why."""


@dataclass
class LoadStats:
    files: int = 0
    quads: int = 0
    """Quads added (embedded store) or sent (endpoint)."""
    graphs: int = 0
    """Named graphs written (endpoint) or held by the store after the load (embedded)."""
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.quads / self.seconds if self.seconds else 0.0
        return (
            f"loaded {self.files} files: {self.quads} quads in {self.graphs} named graphs, "
            f"{self.seconds:.2f} s ({rate:,.0f} quads/s)"
        )


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF format of a file, from its extension (before ``.gz`` if compressed)."""
    name = path.name.lower().removesuffix(GZIP)
    fmt = ox.RdfFormat.from_extension(name.rsplit(".", 1)[-1]) if "." in name else None
    if fmt is None:
        raise StoreError(
            f"{path}: unknown RDF file extension (use .nq, .trig, .nt, .ttl, each also .gz)"
        )
    return fmt


def open_store(path: Path, *, create: bool) -> ox.Store:
    """The on-disk store in folder ``path``; created when ``create`` is true."""
    if not create and not path.is_dir():
        hint = f"create one with 'pfocr-rdf load FILE --store {path}'"
        raise StoreError(f"no store at {path}: {hint}")
    try:
        return ox.Store(str(path))
    except OSError as err:
        raise StoreError(f"cannot open the store at {path}: {err}") from None


TRANSACTION_QUADS = 200_000
"""About how many quads one transaction writes into an existing store (whole records only)."""


@dataclass(frozen=True)
class LoadFile:
    """A file to load: its RDF format, and the named graph its triples go to (None: the
    graphs the file names, else the default graph)."""

    path: Path
    format: ox.RdfFormat
    graph: ox.NamedNode | None = None


def load_file(path: Path) -> LoadFile:
    """How to load ``path``: the format from its extension; a dataset description
    (``dataset.ttl``) goes to a named graph of its own, which a reload replaces."""
    if path.name.removesuffix(GZIP) == DESCRIPTION_FILE:
        return LoadFile(path, ox.RdfFormat.TURTLE, ox.NamedNode(DATASET))
    return LoadFile(path, rdf_format(path))


def load_into_store(store_dir: Path, files: Sequence[LoadFile]) -> LoadStats:
    """Load ``files`` into the store at ``store_dir``; their named graphs replace stored ones.

    A store that does not exist yet is bulk-loaded in a staging folder renamed into place
    when complete; an existing store is written in transactions of whole named graphs.
    Either way, an interrupted load never leaves half a record (a figure's graph) in the
    store.
    """
    start = time.perf_counter()
    if store_dir.exists():
        store = open_store(store_dir, create=False)
        stats = _load_transactions(store, files)
    else:
        staging = store_dir.with_name(f".{store_dir.name}.loading-{os.getpid()}")
        try:
            store = open_store(staging, create=True)
            stats = _bulk_load(store, files)
            del store  # closes the database before it moves
            os.replace(staging, store_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        store = open_store(store_dir, create=False)
    stats.graphs = sum(1 for _ in store.named_graphs())
    stats.seconds = time.perf_counter() - start
    return stats


def _parse(file: LoadFile) -> Iterator[ox.Quad]:
    try:
        with open_rdf(file.path) as stream:
            quads = ox.parse(stream, format=file.format)
            if file.graph is None:
                yield from quads
            else:
                yield from (ox.Quad(q.subject, q.predicate, q.object, file.graph) for q in quads)
    except SyntaxError as err:
        raise StoreError(f"{file.path}: not valid {file.format.name}: {err}") from None


def _bulk_load(store: ox.Store, files: Sequence[LoadFile]) -> LoadStats:
    stats = LoadStats()
    for file in files:
        try:
            with open_rdf(file.path) as stream:
                store.bulk_load(stream, format=file.format, to_graph=file.graph)
        except SyntaxError as err:
            raise StoreError(f"{file.path}: not valid {file.format.name}: {err}") from None
        except OSError as err:
            raise StoreError(f"{file.path}: cannot load: {err}") from None
        stats.files += 1
    store.flush()
    stats.quads = len(store)
    return stats


def _load_transactions(store: ox.Store, files: Sequence[LoadFile]) -> LoadStats:
    stats = LoadStats()
    replaced: set[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = set()
    batch: list[ox.Quad] = []

    def commit() -> None:
        store.extend(batch)  # one transaction: all of these records, or none
        stats.quads += len(batch)
        batch.clear()

    try:
        for file in files:
            for graph, quads in _graph_groups(_parse(file)):
                if isinstance(graph, ox.NamedNode) and graph not in replaced:
                    replaced.add(graph)
                    store.remove_graph(graph)
                batch.extend(quads)
                if len(batch) >= TRANSACTION_QUADS:
                    commit()
            stats.files += 1
        commit()
        store.flush()
    except OSError as err:
        raise StoreError(f"cannot write the store: {err}") from None
    return stats


def http_session(*, retry_reads: bool = True) -> requests.Session:
    """A session that retries connection errors and 5xx answers with exponential backoff;
    without ``retry_reads``, a request the endpoint accepted but did not answer in time is
    not sent again (a query that timed out would only time out again)."""
    retry = Retry(
        total=RETRIES,
        connect=RETRIES,
        read=RETRIES if retry_reads else 0,
        status=RETRIES,
        backoff_factor=BACKOFF_SECONDS,
        status_forcelist=(502, 503, 504),
        allowed_methods=None,  # PUT replaces a whole graph: retrying it is safe
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def send(session: requests.Session, method: str, url: str, **kwargs: object) -> requests.Response:
    """One HTTP request with retries; a clear StoreError on failure or an HTTP error."""
    try:
        response = session.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as err:
        if _timed_out(err):
            raise StoreError(
                f"{method} {url}: the endpoint gave no answer within {TIMEOUT_SECONDS} s"
            ) from None
        raise StoreError(f"{method} {url}: cannot reach the endpoint: {err}") from None
    if response.status_code >= 400:
        body = response.text.strip().replace("\n", " ")[:500]
        raise StoreError(f"{method} {url}: HTTP {response.status_code} {response.reason}: {body}")
    return response


def _timed_out(err: requests.RequestException) -> bool:
    """Whether the endpoint took the request but sent no answer in time (once retries are
    involved, urllib3 reports that as a connection error whose reason is a read timeout)."""
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(err, requests.Timeout) or isinstance(reason, ReadTimeoutError)


def _graph_groups(
    quads: Iterable[ox.Quad],
) -> Iterator[tuple[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, list[ox.Quad]]]:
    """Runs of consecutive quads of the same graph (pfocr-rdf writes each graph in one run)."""
    current: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None
    run: list[ox.Quad] = []
    for quad in quads:
        if quad.graph_name != current:
            if run and current is not None:
                yield current, run
            current, run = quad.graph_name, []
        run.append(quad)
    if run and current is not None:
        yield current, run


def load_into_endpoint(endpoint: str, files: Sequence[LoadFile]) -> LoadStats:
    """Write ``files`` to a Graph Store Protocol endpoint: one PUT per named graph (the first
    run of a graph replaces it, a later run adds to it), default-graph triples POSTed in
    batches."""
    stats = LoadStats()
    start = time.perf_counter()
    written: set[str] = set()
    default: list[ox.Triple] = []
    with http_session() as session:

        def send_triples(method: str, params: dict[str, str], triples: list[ox.Triple]) -> None:
            body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
            headers = {"Content-Type": NTRIPLES}
            send(session, method, endpoint, params=params, data=body, headers=headers)
            stats.quads += len(triples)

        for file in files:
            for graph, quads in _graph_groups(_parse(file)):
                triples = [q.triple for q in quads]
                if isinstance(graph, ox.NamedNode):
                    method = "POST" if graph.value in written else "PUT"
                    stats.graphs += method == "PUT"
                    written.add(graph.value)
                    send_triples(method, {"graph": graph.value}, triples)
                else:
                    default.extend(triples)
                    if len(default) >= TRANSACTION_QUADS:
                        send_triples("POST", {"default": ""}, default)
                        default = []
            stats.files += 1
        if default:
            send_triples("POST", {"default": ""}, default)
    stats.seconds = time.perf_counter() - start
    return stats
