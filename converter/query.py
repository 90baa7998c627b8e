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
from .vocab import QUERY_PREFIXES

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


class BindError(QueryError):
    """A ``--bind`` that cannot apply to the query (a variable it does not have)."""


# What is neither keyword nor variable: comments, strings and IRIs (SPARQL's IRIREF).
_OPAQUE = re.compile(
    r"#[^\n]*"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>',
    re.DOTALL,
)
_VARIABLE_USE = re.compile(r"[?$]([A-Za-z0-9_]+)")
_PREFIX_DECL = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^<>\s]*)>", re.IGNORECASE)
_PREFIXED = re.compile(r"([A-Za-z][\w.-]*)?:([\w.:%-]*)")
IRI_SCHEMES = ("http://", "https://", "urn:")
"""Values that look like IRIs: bound as strings unless written ``<...>``, with a hint."""


def masked(query: str) -> str:
    """``query`` with comments, strings and IRIs blanked (offsets and lines unchanged)."""
    return _OPAQUE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), query)


def query_variables(query: str) -> list[str]:
    """The variables ``query`` mentions, in order of first use."""
    return list(dict.fromkeys(_VARIABLE_USE.findall(masked(query))))


def declared_prefixes(query: str) -> dict[str, str]:
    """The prefixes ``query`` declares (``PREFIX name: <iri>``), name to namespace."""
    blank = masked(query)
    return {m[1] or "": m[2] for m in _PREFIX_DECL.finditer(query) if blank[m.start()] != " "}


def sparql_term(value: str, prefixes: dict[str, str] | None = None) -> str:
    """A binding value as SPARQL: ``<iri>`` stays an IRI, ``name:local`` of a known prefix
    becomes that IRI, anything else is a string."""
    prefixed = _PREFIXED.fullmatch(value)
    if prefixed and prefixes and (prefixed[1] or "") in prefixes:
        value = f"<{prefixes[prefixed[1] or '']}{prefixed[2]}>"
    if value.startswith("<") and value.endswith(">"):
        try:
            ox.NamedNode(value[1:-1])
        except ValueError as err:
            raise QueryError(f"invalid IRI {value}: {err}") from None
        return value
    return json.dumps(value, ensure_ascii=False)


def binding_hints(bindings: dict[str, str]) -> list[str]:
    """A hint per value that looks like an IRI but will be bound as a string."""
    return [
        f"hint: --bind {name}={value} binds a string; for an IRI write {name}='<{value}>'"
        for name, value in bindings.items()
        if value.lower().startswith(IRI_SCHEMES)
    ]


_OUTER_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def with_bindings(query: str, bindings: dict[str, str]) -> str:
    """``query`` with each variable bound to its value by a ``VALUES`` block.

    The block opens the query's outer ``WHERE`` group, so it restricts the pattern before
    any grouping (a trailing ``VALUES`` would be joined after aggregation: correct, but the
    engine would first compute every group). A query without a ``WHERE`` keyword gets the
    standard trailing ``VALUES`` clause instead. A value ``name:local`` is an IRI when
    ``name`` is a prefix of the data model or one the query declares. Raises BindError for a
    variable the query does not mention.
    """
    if not bindings:
        return query
    variables = query_variables(query)
    for name in bindings:
        if not _VARIABLE.match(name):
            raise BindError(f"invalid variable name {name!r} in --bind")
        if name not in variables:
            have = ", ".join(f"?{v}" for v in variables) or "none"
            raise BindError(f"the query has no variable ?{name} to bind (its variables: {have})")
    prefixes = {**QUERY_PREFIXES, **declared_prefixes(query)}
    names = " ".join(f"?{n}" for n in bindings)
    values = " ".join(sparql_term(v, prefixes) for v in bindings.values())
    block = f"VALUES ({names}) {{ ({values}) }}"
    where = _OUTER_WHERE.search(masked(query))
    if where is None:
        return f"{query.rstrip()}\n{block}\n"
    return f"{query[: where.end()]}\n  {block}\n{query[where.end() :]}"


_PREFIX_USE = re.compile(r"(?<![\w.:-])([A-Za-z][\w.-]*):")
_ENGINE_ERROR = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)
_PROLOGUE = re.compile(r"\s*(?:(?:PREFIX\s+(?:[A-Za-z][\w.-]*)?:|BASE)\s*)*", re.IGNORECASE)
_QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
_CLOSING = {"(": ")", "{": "}", "[": "]"}
_EXPECTED_SHOWN = {"BY": "BY", '"{"': "'{'"}
"""The engine's expectations worth repeating (most of its lists are a parser's internals)."""


def prepare(query: str, bindings: dict[str, str], *, check: bool = True) -> str:
    """The text to run for ``query``: the data model's prefixes it uses without declaring
    them declared (its own declarations win), ``bindings`` applied; with ``check``, its
    syntax checked first, as pyoxigraph reads it (an endpoint may read more)."""
    undeclared = {p: ns for p, ns in QUERY_PREFIXES.items() if p not in declared_prefixes(query)}
    try:
        if check:  # parsed on an empty store; a SELECT is evaluated lazily, so not run
            ox.Store().query(query, prefixes=undeclared)
    except SyntaxError as err:
        raise QueryError(syntax_error(query, str(err))) from None
    except (RuntimeError, ValueError):
        pass  # not a syntax error (a function the engine lacks): said when the query runs
    used = set(_PREFIX_USE.findall(masked(query)))
    header = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in undeclared.items() if p in used)
    return header + with_bindings(query, bindings)


def query_form(query: str) -> str:
    """The first word after the prologue, in capitals: SELECT, CONSTRUCT, ASK, DESCRIBE."""
    blank = masked(query)
    prologue = _PROLOGUE.match(blank)
    assert prologue is not None  # the pattern matches the empty string
    form = re.match(r"\w*", blank[prologue.end() :])
    assert form is not None
    return form[0].upper()


def syntax_error(query: str, message: str) -> str:
    """The engine's syntax error ``message`` in words, with the line and column of the
    fault and that line of ``query`` marked."""
    engine = _ENGINE_ERROR.match(message)
    if engine is None:
        return f"SPARQL syntax error: {message}"
    line, column = int(engine[1]), int(engine[2])
    offset = sum(len(x) + 1 for x in query.split("\n")[: line - 1]) + column - 1
    offset, words = _fault(query, min(offset, len(query)), engine[3])
    line = query.count("\n", 0, offset) + 1
    start = query.rfind("\n", 0, offset) + 1
    text = query[start:].split("\n", 1)[0]
    caret = re.sub(r"[^\t]", " ", text[: offset - start]) + "^"
    return (
        f"SPARQL syntax error at line {line}, column {offset - start + 1}: {words}\n"
        f"  {text}\n  {caret}"
    )


def _fault(query: str, offset: int, expected: str) -> tuple[int, str]:
    """Where and what is wrong, from the engine's furthest ``offset`` and what it
    ``expected`` there (an unmatched bracket or quote is found first)."""
    blank = masked(query)
    unbalanced = _unbalanced(blank)
    if unbalanced is not None:
        return unbalanced
    if query_form(query) not in _QUERY_FORMS:
        prologue = _PROLOGUE.match(blank)
        assert prologue is not None  # the pattern matches the empty string
        return prologue.end(), "a query starts with SELECT, CONSTRUCT, ASK or DESCRIBE"
    known = {*QUERY_PREFIXES, *declared_prefixes(query)}
    for use in _PREFIX_USE.finditer(blank):
        if use[1] not in known:
            prefix = f"{use[1]}:"
            return use.start(), f"the prefix {prefix} is not declared: add PREFIX {prefix} <IRI>"
    if "IRI parsing failed" in expected:
        return offset, "an IRI before here is not valid (absolute, no spaces: <https://…>)"
    if "'\\''" in expected:
        return offset, "an invalid escape in a string (\\t \\n \\r \\b \\f \\\" \\' \\\\ are known)"
    start = _construct_start(query)
    if start is not None and start <= offset:
        offset = start
    elif offset >= len(query.rstrip()):
        return offset, "the query ends too early"
    token = re.match(r"[?$]?\w+|\S", query[offset:])
    word = token[0] if token else query[offset]
    if word.isupper():
        return offset, f"this {word} clause is incomplete or misspelled"
    if (len(word) > 1 and word[0] in "?$<_") or re.match(r"\w*:", query[offset:]):
        return offset, "this triple pattern is incomplete (subject, predicate, object)"
    hint = f" (expected {_EXPECTED_SHOWN[expected]})" if expected in _EXPECTED_SHOWN else ""
    if word == ")" and re.search(r"\bSELECT\b[^{]*$", blank[:offset], re.IGNORECASE):
        hint = " (an expression in SELECT is written (expression AS ?name))"
    return offset, f"unexpected '{word}'{hint}"


def _construct_start(query: str) -> int | None:
    """Where the construct that cannot be read starts, as rdflib's parser (which stops at
    the start of a construct, not at the furthest character it tried) tells."""
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(query)
    except Exception as err:  # pyparsing's ParseException has the offset; others, none
        loc = getattr(err, "loc", None)
        return loc if isinstance(loc, int) else None
    return None


def _unbalanced(blank: str) -> tuple[int, str] | None:
    """Where the (masked) query leaves a string unterminated or a bracket unmatched."""
    quote = re.search(r"[\"']", blank)
    if quote:
        return quote.start(), "this string is never closed"
    opened: list[int] = []
    for match in re.finditer(r"[(){}\[\]]", blank):
        char = match[0]
        if char in _CLOSING:
            opened.append(match.start())
        elif not opened:
            return match.start(), f"this '{char}' closes nothing"
        elif _CLOSING[blank[opened[-1]]] != char:
            return match.start(), f"'{_CLOSING[blank[opened[-1]]]}' expected before this '{char}'"
        else:
            opened.pop()
    if opened:
        return opened[-1], f"this '{blank[opened[-1]]}' is never closed"
    return None


def query_store(store_dir: Path | ox.Store, query: str, fmt: str) -> bytes:
    """Run ``query`` on the embedded store (its folder, or the store itself); results
    serialized in ``fmt``."""
    store = store_dir if isinstance(store_dir, ox.Store) else open_store(store_dir, create=False)
    try:
        results = store.query(query, use_default_graph_as_union=True)
        return _serialized(results, fmt)
    except SyntaxError as err:
        raise QueryError(syntax_error(query, str(err))) from None
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
