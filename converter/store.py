"""Store stage: load RDF into the embedded pyoxigraph store or a remote SPARQL store.

Each figure is its own named graph (its IRI). Loading a file first removes the named graphs
it holds, so reloading the same records replaces them instead of duplicating them. Remote
stores are written through the SPARQL 1.1 Graph Store HTTP Protocol: one PUT per named graph
(``?graph=<figure IRI>``); triples outside any named graph go to named graphs of their own
(``SHARED_GRAPH``), and a note on the server (``LOADED_GRAPH``) lets the next load send only
what changed.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import requests
import xxhash
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .describe import DATASET
from .formats import DESCRIPTION_FILE, GZIP, GZIP_MAGIC, INDEX_END, INDEX_SUFFIX, open_rdf
from .report import counted
from .vocab import (
    LOADED_GRAPH,
    PFOCR,
    PROBE_GRAPH,
    RDFS,
    SHARED_GRAPH,
    figid_of,
    shared_graph,
)

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
    update: GraphChanges | None = None
    """What an update of the figure graphs did (None: the files were loaded whole)."""
    notice: str | None = None

    def line(self) -> str:
        rate = self.quads / self.seconds if self.seconds else 0.0
        changes = f"; {self.update.line()}" if self.update else ""
        notice = f"{self.notice}\n" if self.notice else ""
        return notice + (
            f"loaded {counted(self.files, 'file')}: {counted(self.quads, 'quad')} in "
            f"{counted(self.graphs, 'named graph')}, {self.seconds:.2f} s ({rate:,.0f} quads/s)"
            f"{changes}"
        )


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF format of a file, from its extension (before ``.gz`` if compressed)."""
    name = path.name.lower().removesuffix(GZIP)
    fmt = ox.RdfFormat.from_extension(name.rsplit(".", 1)[-1]) if "." in name else None
    if fmt is None:
        raise StoreError(
            f"{path}: unknown RDF file extension "
            "(use .nq, .trig, .nt, .ttl, .jsonld, each also .gz)"
        )
    return fmt


def open_store(path: Path, *, create: bool) -> ox.Store:
    """The on-disk store in folder ``path``; created when ``create`` is true."""
    if not create and not (path / "CURRENT").is_file():  # RocksDB's marker of a database
        hint = f"create one with 'pfocr-rdf load FILE --store {path}'"
        what = "is not a store" if path.exists() else "does not exist"
        raise StoreError(f"no store at {path}: the folder {what}; {hint}")
    try:
        return ox.Store(str(path))
    except OSError as err:
        raise StoreError(f"cannot open the store at {path}: {err}") from None


TRANSACTION_QUADS = 200_000
"""About how many quads one transaction writes into an existing store (whole records only)."""


@dataclass
class GraphChanges:
    """What updating a store by a run's graph index did."""

    added: int = 0
    replaced: int = 0
    removed: int = 0
    unchanged: int = 0
    shared_added: int = 0
    shared_removed: int = 0
    shared_unit: str = "facts"
    """What shared_added and shared_removed count: facts, or (on a server) their graphs."""

    def line(self) -> str:
        return (
            f"figure graphs: {self.added} added, {self.replaced} replaced, {self.removed} "
            f"removed, {self.unchanged} unchanged; shared {self.shared_unit}: "
            f"{self.shared_added} added, {self.shared_removed} removed"
        )


@dataclass(frozen=True)
class LoadFile:
    """A file to load: its RDF format, the named graph its triples go to (None: the graphs
    the file names, else the default graph), and the graph index ``convert`` wrote beside
    an N-Quads output."""

    path: Path
    format: ox.RdfFormat
    graph: ox.NamedNode | None = None
    index: Path | None = None


def load_file(path: Path) -> LoadFile:
    """How to load ``path``: the format from its extension; a dataset description
    (``dataset.ttl``) goes to a named graph of its own, which a reload replaces; an N-Quads
    output of ``convert`` comes with its graph index."""
    if path.name.removesuffix(GZIP) == DESCRIPTION_FILE:
        return LoadFile(path, ox.RdfFormat.TURTLE, ox.NamedNode(DATASET))
    fmt = rdf_format(path)
    index = path.with_name(path.name + INDEX_SUFFIX)
    has_index = fmt == ox.RdfFormat.N_QUADS and index.is_file()
    return LoadFile(path, fmt, index=index if has_index else None)


@dataclass(frozen=True)
class GraphSpan:
    """One figure graph of an N-Quads output: a digest of its own graph (as N-Triples), and
    the byte ranges (offset, length) of its quads and of the shared facts written after
    them."""

    digest: str
    own: tuple[int, int]
    shared: tuple[int, int]


def read_index(path: Path, nquads: Path) -> dict[str, GraphSpan]:
    """The graph index ``convert`` wrote beside the N-Quads output ``nquads``; a StoreError
    if it is damaged or was written for another file."""
    spans = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        *rows, end = lines or [""]
        marker, _, size = end.partition("\t")
        if marker != INDEX_END or int(size) != nquads.stat().st_size:
            raise StoreError(
                f"{path} is not the graph index of {nquads} (written for another file, or cut "
                "short): convert again, or remove it to load the file whole"
            )
        for number, row in enumerate(rows, 1):
            fields = row.split("\t")
            if len(fields) != 6:
                raise StoreError(f"{path}: line {number} is not a graph index line")
            figure, digest, *ranges = fields
            start, length, shared_start, shared_length = (int(n) for n in ranges)
            spans[figure] = GraphSpan(digest, (start, length), (shared_start, shared_length))
    except (OSError, ValueError) as err:
        raise StoreError(f"{path}: cannot read the graph index: {err}") from None
    return spans


LOADED_DIR = "pfocr-rdf"
"""In the store's folder: what the last load of a ``convert`` output put in the store (a
digest per figure graph, and the shared facts), to update it by the difference next time."""


def load_into_store(store_dir: Path, files: Sequence[LoadFile]) -> LoadStats:
    """Load ``files`` into the store at ``store_dir``; their named graphs replace stored ones.

    A store that does not exist yet is bulk-loaded in a staging folder renamed into place
    when complete; an existing store is written in transactions of whole named graphs.
    Either way, an interrupted load never leaves half a record (a figure's graph) in the
    store.
    """
    start = time.perf_counter()
    indexed = [file for file in files if file.index is not None]
    run = _Run.of(indexed[0]) if len(indexed) == 1 else None  # one convert output per store
    if store_dir.exists():
        store = open_store(store_dir, create=False)
        loaded = _loaded(store_dir) if run is not None else None
        if run is not None and loaded is not None:
            changes = _update(store, run, *loaded)
            stats = _load_transactions(store, [f for f in files if f is not run.file])
            stats.files += 1
            stats.quads += changes.quads
            stats.update = changes.counts
        else:
            stats = _load_transactions(store, files)
            if run is not None:
                if (store_dir / LOADED_DIR).exists():
                    stats.notice = (
                        f"the note of the last load in {store_dir / LOADED_DIR} is damaged: "
                        "every figure graph was replaced"
                    )
                _remove_gone(store, run.spans, {})  # what was there is unknown: none stays
        if run is not None:
            _remember_loaded(store_dir, run)
    else:
        staging = store_dir.with_name(f".{store_dir.name}.loading-{os.getpid()}")
        try:
            store = open_store(staging, create=True)
            stats = _bulk_load(store, files)
            if run is not None:
                _remember_loaded(staging, run)
            del store  # closes the database before it moves
            os.replace(staging, store_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        store = open_store(store_dir, create=False)
    stats.graphs = sum(1 for _ in store.named_graphs())
    stats.seconds = time.perf_counter() - start
    return stats


@dataclass(frozen=True)
class _Run:
    """A convert output being loaded: its N-Quads file, its graph index (read once), and
    its shared facts (read once, from the ranges the index gives)."""

    file: LoadFile
    spans: dict[str, GraphSpan]
    shared: bytes

    @classmethod
    def of(cls, file: LoadFile) -> _Run:
        assert file.index is not None
        spans = read_index(file.index, file.path)
        try:
            with open(file.path, "rb") as data:
                shared = b"".join(_read_span(data, span.shared) for span in spans.values())
        except OSError as err:
            raise StoreError(f"{file.path}: cannot read: {err}") from None
        return cls(file, spans, shared)


@dataclass
class _Update:
    counts: GraphChanges
    quads: int


def _loaded(store_dir: Path) -> tuple[dict[str, str], bytes] | None:
    """What the last load of a convert output put in the store, if it is known: a digest
    per figure graph, and the shared facts (N-Triples)."""
    folder = store_dir / LOADED_DIR
    try:
        lines = (folder / "graphs.tsv").read_text(encoding="utf-8").splitlines()
        digests = dict(line.split("\t", 1) for line in lines)
        return digests, (folder / "shared.nt").read_bytes()
    except (OSError, ValueError):
        return None


def _remember_loaded(store_dir: Path, run: _Run) -> None:
    """Note the figure graphs and the shared facts of ``run``, now in the store. The note
    replaces the previous one only once complete: a load interrupted before that leaves the
    previous note, from which the next load updates the store again (each step of an update
    can be done twice)."""
    folder, staging = store_dir / LOADED_DIR, store_dir / f".{LOADED_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    (staging / "shared.nt").write_bytes(run.shared)
    rows = "".join(f"{figure}\t{span.digest}\n" for figure, span in run.spans.items())
    (staging / "graphs.tsv").write_text(rows, encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)


def _remove_gone(store: ox.Store, spans: dict[str, GraphSpan], loaded: dict[str, str]) -> int:
    """Remove the figure graphs of records that are not in the run: those the last load
    noted, and any other figure graph in the store. Returns how many."""
    stored = {
        g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode) and figid_of(g.value)
    }
    gone = (stored | loaded.keys()) - spans.keys()
    for figure in gone:
        store.remove_graph(ox.NamedNode(figure))
    return len(gone & stored)


def _read_span(data: IO[bytes], span: tuple[int, int]) -> bytes:
    """The bytes of one range of an N-Quads output, decompressed if it is gzip (each range
    of a compressed output is whole gzip members)."""
    start, size = span
    data.seek(start)
    chunk = data.read(size)
    return gzip.decompress(chunk) if chunk[:2] == GZIP_MAGIC else chunk


def _update(store: ox.Store, run: _Run, loaded: dict[str, str], shared: bytes) -> _Update:
    """Bring the store from what was loaded last (``loaded``: graph digests, ``shared``:
    shared facts) to ``run``: replace the figure graphs whose digest changed, add the new
    ones, remove those of records that are gone, and add and remove the shared facts by
    the difference."""
    counts, quads = GraphChanges(), 0
    try:
        counts.removed = _remove_gone(store, run.spans, loaded)
        with open(run.file.path, "rb") as data:
            batch: list[ox.Quad] = []
            for figure, span in run.spans.items():
                if loaded.get(figure) == span.digest:
                    counts.unchanged += 1
                    continue
                if figure in loaded:
                    counts.replaced += 1
                else:
                    counts.added += 1
                store.remove_graph(ox.NamedNode(figure))  # also one the last load did not note
                batch.extend(ox.parse(_read_span(data, span.own), format=ox.RdfFormat.N_QUADS))
                if len(batch) >= TRANSACTION_QUADS:
                    store.extend(batch)
                    quads += len(batch)
                    batch.clear()
            store.extend(batch)
            quads += len(batch)
        new_lines = run.shared.splitlines(keepends=True)
        old_lines = shared.splitlines(keepends=True)
        stale = _missing_from(old_lines, new_lines)
        fresh = _missing_from(new_lines, old_lines)
        for quad in ox.parse(b"".join(stale), format=ox.RdfFormat.N_TRIPLES):
            store.remove(quad)
        store.extend(ox.parse(b"".join(fresh), format=ox.RdfFormat.N_TRIPLES))
        counts.shared_added, counts.shared_removed = len(fresh), len(stale)
        quads += len(fresh)
        store.flush()
    except SyntaxError as err:
        raise StoreError(
            f"{run.file.path}: not valid N-Quads where its graph index points: {err}"
        ) from None
    except OSError as err:
        raise StoreError(f"cannot update the store: {err}") from None
    return _Update(counts, quads)


def _missing_from(lines: list[bytes], others: list[bytes]) -> list[bytes]:
    """The lines of ``lines`` that ``others`` does not have (compared by 128-bit digests)."""
    known = {xxhash.xxh3_128_digest(line) for line in others}
    return [line for line in lines if xxhash.xxh3_128_digest(line) not in known]


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


PASSWORD_VARIABLE = "PFOCR_RDF_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    """The account a server is reached with (the password is never shown)."""

    user: str
    password: str = field(repr=False)


class Session(requests.Session):
    """A session that, once a server answers 401, authenticates as that answer's
    ``WWW-Authenticate`` asks (Digest or Basic) with ``credentials``."""

    def __init__(self, credentials: Credentials | None) -> None:
        super().__init__()
        self.credentials = credentials

    def authenticate(self, challenge: requests.Response) -> bool:
        """Take up the scheme ``challenge`` (a 401) asks for; False if none can be used."""
        if self.credentials is None or self.auth is not None:
            return False
        scheme = challenge.headers.get("WWW-Authenticate", "").split(" ", 1)[0].lower()
        user, password = self.credentials.user, self.credentials.password
        if scheme == "digest":
            self.auth = HTTPDigestAuth(user, password)
        elif scheme == "basic":
            self.auth = HTTPBasicAuth(user, password)
        return self.auth is not None


def http_session(*, retry_reads: bool = True, credentials: Credentials | None = None) -> Session:
    """A session that retries connection errors and 5xx answers with exponential backoff;
    without ``retry_reads``, a request the endpoint accepted but did not answer in time is
    not sent again (a query that timed out would only time out again). It authenticates
    with ``credentials`` when the server asks."""
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
    session = Session(credentials)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def send(
    session: Session, method: str, url: str, *, missing_ok: bool = False, **kwargs: object
) -> requests.Response:
    """One HTTP request with retries, authenticated if the server asks; a clear StoreError on
    failure or an HTTP error (but for 404 when ``missing_ok``)."""
    response = _request(session, method, url, **kwargs)
    if response.status_code == 401 and session.authenticate(response):
        response = _request(session, method, url, **kwargs)
    if response.status_code == 404 and missing_ok:
        return response
    if response.status_code >= 400:
        body = response.text.strip().replace("\n", " ")[:500]
        detail = f": {body}" if body else ""
        hint = _refusal_hint(response.status_code, session.credentials)
        raise StoreError(
            f"{method} {url}: HTTP {response.status_code} {response.reason}{detail}{hint}"
        )
    return response


def _refusal_hint(status: int, credentials: Credentials | None) -> str:
    """What to do about a refusal (401: who to be; 403: what to grant)."""
    if status == 401:
        if credentials is None:
            return (
                f" (the server asks for an account: --user USER, password in {PASSWORD_VARIABLE})"
            )
        return f" (the user {credentials.user} was refused: is the password right?)"
    if status == 403:
        return " (this account may not do that here: see docs/servers.md for what to grant)"
    return ""


def _request(session: Session, method: str, url: str, **kwargs: object) -> requests.Response:
    try:
        return session.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as err:
        if _timed_out(err):
            raise StoreError(
                f"{method} {url}: the endpoint gave no answer within {TIMEOUT_SECONDS} s"
            ) from None
        raise StoreError(f"{method} {url}: cannot reach the endpoint: {err}") from None


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


def load_into_endpoint(
    endpoint: str, files: Sequence[LoadFile], credentials: Credentials | None = None
) -> LoadStats:
    """Write ``files`` to a Graph Store Protocol endpoint, after a probe write shows it may.

    Each named graph is PUT (the first run of a graph replaces it, a later run adds to it);
    default-graph triples go to named graphs of their own (a server may have no writable
    default graph): an N-Quads output of ``convert`` with its graph index puts the shared
    facts each record first stated in ``SHARED_GRAPH/<figid>`` and updates the server by
    what changed since the load the server's ``LOADED_GRAPH`` notes; other files' are
    POSTed to ``SHARED_GRAPH``.
    """
    start = time.perf_counter()
    indexed = [file for file in files if file.index is not None]
    run = _Run.of(indexed[0]) if len(indexed) == 1 else None
    with http_session(credentials=credentials) as session:
        _probe(session, endpoint)
        remote = _Remote(session, endpoint)
        try:
            stats = remote.update(run, remote.loaded()) if run is not None else LoadStats()
            stats.files = len(files)
            for file in files:
                if run is None or file is not run.file:
                    remote.load(file, stats)
        except StoreError as err:
            raise StoreError(
                f"{err}\n{remote.written} graphs were written before this failure (the server "
                "may hold part of the load): running the same command again completes it"
            ) from None
    stats.seconds = time.perf_counter() - start
    return stats


def _probe(session: Session, endpoint: str) -> None:
    """Write and delete a one-triple graph, so that a refusal (no account, no permission, a
    request the server does not take) comes before any figure graph is written."""
    graph = {"graph": PROBE_GRAPH}
    triple = f'<{PROBE_GRAPH}> <{RDFS}comment> "pfocr-rdf checks it may write here" .\n'
    try:
        send(session, "PUT", endpoint, params=graph, data=triple.encode(), headers=_NT)
        send(session, "DELETE", endpoint, params=graph, missing_ok=True)
    except StoreError as err:
        raise StoreError(f"{err}\nnothing was loaded") from None


_NT = {"Content-Type": NTRIPLES}
GRAPH_DIGEST = f"{PFOCR}graphDigest"
PENDING = "pending"
"""The digest noted for a graph a load is about to write for the first time."""
CHANGING = "changing"
"""The digest noted for a graph a load is about to replace or remove."""


class _Remote:
    """The graphs of one endpoint, written through the Graph Store Protocol."""

    def __init__(self, session: Session, endpoint: str) -> None:
        self.session, self.endpoint = session, endpoint
        self.written = 0

    def write(self, method: str, graph: str, body: bytes) -> None:
        """PUT (replace) or POST (add to) ``graph`` with N-Triples ``body``."""
        send(self.session, method, self.endpoint, params={"graph": graph}, data=body, headers=_NT)
        self.written += method == "PUT" and graph != LOADED_GRAPH

    def delete(self, graph: str) -> None:
        send(self.session, "DELETE", self.endpoint, params={"graph": graph}, missing_ok=True)

    def loaded(self) -> dict[str, str]:
        """What the server's ``LOADED_GRAPH`` says the last load wrote: a digest per graph
        (empty when the server has no such note)."""
        headers = {"Accept": NTRIPLES}
        params = {"graph": LOADED_GRAPH}
        response = send(
            self.session, "GET", self.endpoint, params=params, headers=headers, missing_ok=True
        )
        if response.status_code == 404:
            return {}
        try:
            triples = ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)
            return {
                t.subject.value: t.object.value
                for t in triples
                if t.predicate.value == GRAPH_DIGEST and isinstance(t.subject, ox.NamedNode)
            }
        except SyntaxError:
            return {}  # a damaged note: every graph is written again

    def update(self, run: _Run, loaded: dict[str, str]) -> LoadStats:
        """Bring the server from what ``loaded`` notes to ``run``: PUT each figure graph and
        shared-facts graph whose digest changed or that is new, DELETE those of records that
        are gone, then note the new digests. Every graph about to change is first noted
        (``PENDING`` if new, ``CHANGING`` if replaced or removed), so that the note of a
        load stopped midway still covers what the server may hold: the next load writes or
        removes those graphs again."""
        stats, counts = LoadStats(), GraphChanges(shared_unit="fact graphs")
        digests = {figure: span.digest for figure, span in run.spans.items()}
        try:
            with open(run.file.path, "rb") as data:
                for figure, span in run.spans.items():
                    if shared := _read_span(data, span.shared):
                        digests[_shared_graph_of(figure)] = xxhash.xxh3_128_hexdigest(shared)
                changed = {
                    graph for graph, digest in digests.items() if loaded.get(graph) != digest
                }
                gone = loaded.keys() - digests.keys()
                if changed or gone:
                    pending = {
                        graph: PENDING if loaded.get(graph, PENDING) == PENDING else CHANGING
                        for graph in (*changed, *gone)
                    }
                    self.write("PUT", LOADED_GRAPH, _note({**loaded, **pending}))
                for figure, span in run.spans.items():
                    if figure in changed:
                        self._put_triples(figure, _read_span(data, span.own), stats)
                        stats.graphs += 1
                        known = loaded.get(figure, PENDING) != PENDING
                        counts.added += not known
                        counts.replaced += known
                    else:
                        counts.unchanged += 1
                    if (graph := _shared_graph_of(figure)) in changed:
                        self._put_triples(graph, _read_span(data, span.shared), stats)
                        counts.shared_added += 1
        except OSError as err:
            raise StoreError(f"{run.file.path}: cannot read: {err}") from None
        for graph in gone:
            self.delete(graph)
            if figid_of(graph):
                counts.removed += 1
            else:
                counts.shared_removed += 1
        self.write("PUT", LOADED_GRAPH, _note(digests))
        stats.update = counts
        return stats

    def _put_triples(self, graph: str, lines: bytes, stats: LoadStats) -> None:
        """PUT N-Quads or N-Triples lines (one graph's) as the triples of ``graph``."""
        try:
            quads = ox.parse(lines, format=ox.RdfFormat.N_QUADS)
            triples = [q.triple for q in quads]
        except SyntaxError as err:
            raise StoreError(f"not valid N-Quads where the graph index points: {err}") from None
        self.write("PUT", graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        stats.quads += len(triples)

    def load(self, file: LoadFile, stats: LoadStats) -> None:
        """Write ``file``: each named graph PUT (later runs of it POSTed), default-graph
        triples POSTed to ``SHARED_GRAPH`` in batches."""
        written: set[str] = set()
        default: list[ox.Triple] = []

        def send_triples(method: str, graph: str, triples: list[ox.Triple]) -> None:
            self.write(method, graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
            stats.quads += len(triples)

        for graph, quads in _graph_groups(_parse(file)):
            triples = [q.triple for q in quads]
            if isinstance(graph, ox.NamedNode):
                method = "POST" if graph.value in written else "PUT"
                stats.graphs += method == "PUT"
                written.add(graph.value)
                send_triples(method, graph.value, triples)
            else:
                default.extend(triples)
                if len(default) >= TRANSACTION_QUADS:
                    send_triples("POST", SHARED_GRAPH, default)
                    default = []
        if default:
            send_triples("POST", SHARED_GRAPH, default)


def _shared_graph_of(figure: str) -> str:
    """On a server, the graph of the shared facts the figure ``figure`` stated first."""
    return shared_graph(figid_of(figure) or figure)


def _note(digests: dict[str, str]) -> bytes:
    """The N-Triples of ``LOADED_GRAPH`` noting ``digests`` (graph IRI -> digest)."""
    return "".join(f'<{g}> <{GRAPH_DIGEST}> "{d}" .\n' for g, d in digests.items()).encode()
