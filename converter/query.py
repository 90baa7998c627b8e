"""Query stage: SPARQL over the embedded store or any SPARQL 1.1 endpoint.

A query is SPARQL text, a ``.rq`` file, or the name of a bundled query (``queries/``).
``--bind name=value`` pre-binds variables through a trailing ``VALUES`` clause, which every
SPARQL 1.1 engine understands. Results come in the W3C formats (CSV, TSV, JSON), written by
pyoxigraph for the embedded store and an endpoint alike, or as a table on the terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .resources import data_files
from .store import Credentials, StoreError, http_session, open_store, send

RESULT_FORMATS: dict[str, tuple[str, ox.QueryResultsFormat]] = {
    "json": ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    "csv": ("text/csv", ox.QueryResultsFormat.CSV),
    "tsv": ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
}
GRAPH_FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
}
_HEADER = re.compile(r"^#\s*(title|description|parameters):\s*(.*)$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryError(ValueError):
    """A query cannot be found, parsed or run; the message says why (with line:column)."""


@dataclass
class BundledQuery:
    name: str
    path: Path
    title: str
    description: str
    parameters: list[str]


def bundled_queries() -> dict[str, BundledQuery]:
    """The queries shipped in ``queries/``, by file name without ``.rq``."""
    queries = {}
    for path in data_files("queries", ".rq"):
        header: dict[str, str] = {}
        key = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            match = _HEADER.match(line)
            if match:
                key = match[1]
                header[key] = match[2].strip()
            elif key is not None:
                header[key] += " " + line.lstrip("#").strip()
        params = [p.strip() for p in header.get("parameters", "").split(",") if p.strip()]
        queries[path.stem] = BundledQuery(
            path.stem, path, header.get("title", path.stem), header.get("description", ""), params
        )
    return queries


def resolve_query(query: str) -> str:
    """The SPARQL text of ``query``: a file path, a bundled query name, or SPARQL itself."""
    candidate = Path(query)
    if query.endswith(".rq") or (len(query) < 256 and "\n" not in query and candidate.is_file()):
        try:
            return candidate.read_text(encoding="utf-8")
        except OSError as err:
            raise QueryError(f"cannot read query file {query}: {err.strerror}") from None
    bundled = bundled_queries()
    if query in bundled:
        return bundled[query].path.read_text(encoding="utf-8")
    if re.fullmatch(r"[a-z0-9-]+", query):
        raise QueryError(f"no bundled query named {query!r}; see 'pfocr-rdf query --list'")
    return query


def sparql_term(value: str) -> str:
    """A binding value as SPARQL: ``<iri>`` stays an IRI, anything else is a string."""
    if value.startswith("<") and value.endswith(">"):
        try:
            ox.NamedNode(value[1:-1])
        except ValueError as err:
            raise QueryError(f"invalid IRI {value}: {err}") from None
        return value
    return json.dumps(value, ensure_ascii=False)


_OUTER_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_COMMENT = re.compile(r"#[^\n]*")


def with_bindings(query: str, bindings: dict[str, str]) -> str:
    """``query`` with each variable bound to its value by a ``VALUES`` block.

    The block opens the query's outer ``WHERE`` group, so it restricts the pattern before
    any grouping (a trailing ``VALUES`` would be joined after aggregation: correct, but the
    engine would first compute every group). A query without a ``WHERE`` keyword gets the
    standard trailing ``VALUES`` clause instead.
    """
    if not bindings:
        return query
    for name in bindings:
        if not _VARIABLE.match(name):
            raise QueryError(f"invalid variable name {name!r} in --bind")
    names = " ".join(f"?{n}" for n in bindings)
    values = " ".join(sparql_term(v) for v in bindings.values())
    block = f"VALUES ({names}) {{ ({values}) }}"
    uncommented = _COMMENT.sub(lambda m: " " * len(m.group()), query)  # offsets unchanged
    where = _OUTER_WHERE.search(uncommented)
    if where is None:
        return f"{query.rstrip()}\n{block}\n"
    return f"{query[: where.end()]}\n  {block}\n{query[where.end() :]}"


def query_store(store_dir: Path | ox.Store, query: str, fmt: str) -> bytes:
    """Run ``query`` on the embedded store (its folder, or the store itself); results
    serialized in ``fmt``."""
    store = store_dir if isinstance(store_dir, ox.Store) else open_store(store_dir, create=False)
    try:
        results = store.query(query, use_default_graph_as_union=True)
        return _serialized(results, fmt)
    except SyntaxError as err:
        raise QueryError(f"SPARQL syntax {err}") from None
    except OSError as err:
        raise StoreError(f"query failed on {store_dir}: {err}") from None
    except (RuntimeError, ValueError) as err:  # e.g. a function the engine does not evaluate
        raise QueryError(f"the query cannot be evaluated: {err}") from None


def _serialized(
    results: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[ox.Triple], fmt: str
) -> bytes:
    """Query results in ``fmt`` (solutions are evaluated as they are serialized)."""
    if isinstance(results, (ox.QueryTriples, list)):
        if fmt not in GRAPH_FORMATS:
            raise QueryError("a CONSTRUCT/DESCRIBE query gives RDF: use --format ttl or nt")
        data = ox.serialize(results, format=GRAPH_FORMATS[fmt][1])
    else:
        if fmt not in RESULT_FORMATS:
            raise QueryError(
                "a SELECT/ASK query gives results: use --format table, csv, tsv or json"
            )
        data = results.serialize(format=RESULT_FORMATS[fmt][1])
    assert data is not None  # no output file given: serialize returns the bytes
    return data


ASK_VARIABLE = "__ASK_RETVAL"
"""The variable of the one row by which Virtuoso answers an ASK query in SPARQL JSON."""
ROW_CAP_HEADER = "X-SPARQL-MaxRows"
"""The header by which Virtuoso says it cut an answer at its ResultSetMaxRows."""


def query_endpoint(
    endpoint: str,
    query: str,
    fmt: str,
    credentials: Credentials | None = None,
    notify: Callable[[str], None] | None = None,
) -> bytes:
    """Run ``query`` on a SPARQL 1.1 endpoint (protocol: POST, form-encoded); the answer,
    asked as SPARQL JSON results (or N-Triples), written in ``fmt`` as the embedded store
    writes it. A row cap the endpoint signals is told to ``notify``."""
    graph = fmt in GRAPH_FORMATS
    media = GRAPH_FORMATS["nt"][0] if graph else RESULT_FORMATS["json"][0]
    with http_session(retry_reads=False, credentials=credentials) as session:
        try:
            response = send(
                session, "POST", endpoint, data={"query": query}, headers={"Accept": media}
            )
        except StoreError as err:
            if "HTTP 400" in str(err):
                raise QueryError(f"the endpoint refused the query: {err}") from None
            raise
    cap = response.headers.get(ROW_CAP_HEADER)
    if cap is not None and notify is not None:
        notify(
            f"the endpoint cut the answer at {cap} rows, its row cap ({ROW_CAP_HEADER}): "
            "page with LIMIT and OFFSET, or raise the cap"
        )
    try:
        if graph:
            triples = list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
            return _serialized(triples, fmt)
        results = ox.parse_query_results(
            _w3c_json(response.content), format=ox.QueryResultsFormat.JSON
        )
        return _serialized(results, fmt)
    except (SyntaxError, ValueError) as err:
        raise QueryError(f"{endpoint} answered with results that cannot be read: {err}") from None


def _w3c_json(data: bytes) -> bytes:
    """SPARQL JSON results in the W3C form, from Virtuoso's: its ``typed-literal`` terms
    as ``literal``, its blank node ids (``nodeID://b1``) as valid ids, and its answer to an
    ASK (``__ASK_RETVAL``: a row of 1, else none) as a boolean."""
    results: dict[str, Any] = json.loads(data)
    bindings = results.get("results", {}).get("bindings", [])
    if results.get("head", {}).get("vars") == [ASK_VARIABLE] and len(bindings) <= 1:
        true = bool(bindings) and bindings[0][ASK_VARIABLE]["value"] != "0"
        return json.dumps({"head": {}, "boolean": true}).encode()
    for binding in bindings:
        for term in binding.values():
            if term.get("type") == "typed-literal":
                term["type"] = "literal"
            elif term.get("type") == "bnode":
                term["value"] = re.sub(r"[^A-Za-z0-9]", "_", term["value"])
    return json.dumps(results).encode()


def rows_from_json(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Variables and rows (display text) of SPARQL JSON results; ASK gives one cell."""
    results: dict[str, Any] = json.loads(data)
    if "boolean" in results:
        return ["ask"], [[str(results["boolean"]).lower()]]
    variables: list[str] = results["head"]["vars"]
    rows = [
        [_display(binding.get(v)) for v in variables] for binding in results["results"]["bindings"]
    ]
    return variables, rows


def _display(term: dict[str, str] | None) -> str:
    if term is None:
        return ""
    if term["type"] == "uri":
        return term["value"]
    if term["type"] == "bnode":
        return f"_:{term['value']}"
    if "xml:lang" in term:
        return f"{term['value']}@{term['xml:lang']}"
    return term["value"]
