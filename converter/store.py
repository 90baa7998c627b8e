"""Store stage: load RDF into the embedded pyoxigraph store or a remote SPARQL store.

Each figure is its own named graph (its IRI). Loading a file first removes the named graphs
it holds, so reloading the same records replaces them instead of duplicating them. Remote
stores are written through the SPARQL 1.1 Graph Store HTTP Protocol: one PUT per named graph
(``?graph=<figure IRI>``), triples outside any named graph POSTed to ``?default``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

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
    """The RDF format of a file, from its extension."""
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".").lower())
    if fmt is None:
        raise StoreError(f"{path}: unknown RDF file extension (use .nq, .trig, .nt, .ttl)")
    return fmt


def open_store(path: Path, *, create: bool) -> ox.Store:
    """The on-disk store in folder ``path``; created when ``create`` is true."""
    if not create and not path.is_dir():
        raise StoreError(
            f"no store at {path}: create one with 'pfocr-rdf load FILE --store {path}'"
        )
    try:
        return ox.Store(str(path))
    except OSError as err:
        raise StoreError(f"cannot open the store at {path}: {err}") from None


def _graph_names(path: Path, fmt: ox.RdfFormat) -> list[ox.NamedNode]:
    """The named graphs of a dataset file, in order of first appearance."""
    names: dict[ox.NamedNode, None] = {}
    for quad in ox.parse(path=path, format=fmt):
        if isinstance(quad.graph_name, ox.NamedNode):
            names[quad.graph_name] = None
    return list(names)


def load_into_store(
    store: ox.Store, files: Sequence[Path], fmt: ox.RdfFormat | None = None
) -> LoadStats:
    """Bulk-load ``files``; named graphs they hold replace those already in the store.

    The format comes from each file's extension unless ``fmt`` is given. Into a store with
    no named graph yet there is nothing to replace, and the files are loaded in one pass.
    """
    stats = LoadStats()
    start = time.perf_counter()
    for path in files:
        file_format = fmt or rdf_format(path)
        before = len(store)
        try:
            if file_format.supports_datasets and next(store.named_graphs(), None) is not None:
                for graph in _graph_names(path, file_format):
                    store.remove_graph(graph)
                before = len(store)
            store.bulk_load(path=path, format=file_format)
        except SyntaxError as err:
            raise StoreError(f"{path}: not valid {file_format.name}: {err}") from None
        except OSError as err:
            raise StoreError(f"{path}: cannot load: {err}") from None
        stats.files += 1
        stats.quads += len(store) - before
    store.flush()
    stats.seconds = time.perf_counter() - start
    stats.graphs = sum(1 for _ in store.named_graphs())
    return stats


def http_session() -> requests.Session:
    """A session that retries connection errors and 5xx answers with exponential backoff."""
    retry = Retry(
        total=RETRIES,
        connect=RETRIES,
        read=RETRIES,
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
        raise StoreError(f"{method} {url}: cannot reach the endpoint: {err}") from None
    if response.status_code >= 400:
        body = response.text.strip().replace("\n", " ")[:500]
        raise StoreError(f"{method} {url}: HTTP {response.status_code} {response.reason}: {body}")
    return response


def _graph_groups(
    quads: Iterable[ox.Quad],
) -> Iterator[tuple[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, list[ox.Triple]]]:
    """Runs of consecutive quads of the same graph (pfocr-rdf writes each graph in one run)."""
    current: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None
    run: list[ox.Triple] = []
    for quad in quads:
        if quad.graph_name != current:
            if run and current is not None:
                yield current, run
            current, run = quad.graph_name, []
        run.append(quad.triple)
    if run and current is not None:
        yield current, run


def load_into_endpoint(endpoint: str, files: Sequence[Path]) -> LoadStats:
    """Write ``files`` to a Graph Store Protocol endpoint, one request per named graph."""
    stats = LoadStats()
    start = time.perf_counter()
    written: set[str] = set()
    with http_session() as session:
        for path in files:
            fmt = rdf_format(path)
            try:
                for graph, triples in _graph_groups(ox.parse(path=path, format=fmt)):
                    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
                    if isinstance(graph, ox.NamedNode):
                        # the first run of a graph replaces it; a later run of the same graph adds
                        method = "POST" if graph.value in written else "PUT"
                        params = {"graph": graph.value}
                        if method == "PUT":
                            stats.graphs += 1
                        written.add(graph.value)
                    else:
                        method, params = "POST", {"default": ""}
                    send(
                        session,
                        method,
                        endpoint,
                        params=params,
                        data=body,
                        headers={"Content-Type": NTRIPLES},
                    )
                    stats.quads += len(triples)
            except SyntaxError as err:
                raise StoreError(f"{path}: not valid {fmt.name}: {err}") from None
            stats.files += 1
    stats.seconds = time.perf_counter() - start
    return stats
