"""The Python interface: convert records in memory, query a store, for notebooks and scripts.

:func:`convert` runs the pipeline of ``pfocr-rdf convert`` (read, expand, enrich, validate)
on the records and keeps the outcomes in memory instead of writing files; :func:`query` runs
a bundled query or SPARQL text as ``pfocr-rdf query`` does, on a store in memory, a store
folder or an endpoint, and gives rows of Python values.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pyoxigraph as ox

from .convert import count_outcome
from .model import Source
from .outcome import Converted, Rejected
from .pipeline import BatchOptions, convert_all, deduplicated, outcomes_of
from .query import prepare, query_endpoint, query_store, resolve_query
from .read import check_inputs, discover, orphan_sidecars
from .report import Summary
from .validate import DEFAULT_ENGINE, resolve_engine_name

if TYPE_CHECKING:
    import rdflib

Input: TypeAlias = "str | os.PathLike[str]"
"""A record file or folder as ``pfocr-rdf convert`` takes it, or the text of a record."""
Binding: TypeAlias = "str | ox.NamedNode"
"""A string, or an IRI: a ``pyoxigraph.NamedNode``, an ``rdflib.URIRef`` or ``"<iri>"``."""


@dataclass
class Conversion:
    """What :func:`convert` made of the records: their RDF, rejections, findings, counts."""

    summary: Summary
    """The counts ``pfocr-rdf convert`` prints (``read``, ``converted``, ``rejected``,
    ``triples``, ``genes_with_id``, ``violations`` …; ``summary.line()`` is its line)."""
    rejected: list[dict[str, Any]]
    """One row per rejected record, as ``rejects.jsonl`` has them (``file``, ``figid``,
    ``stage``, ``reason``, and ``violations`` for a record SHACL rejected)."""
    findings: list[dict[str, Any]]
    """Every SHACL result, of converted and rejected records: ``file``, ``figid``,
    ``severity``, ``shape``, ``focus``, ``path``, ``value``, ``message``, ``component``."""
    nquads: bytes
    """The converted records as N-Quads (the quads ``-f nq`` writes, in another order)."""

    def oxigraph(self) -> ox.Store:
        """A new in-memory pyoxigraph store of the records: one named graph per figure, the
        facts about shared entities (genes, taxa, papers, MeSH, ChEBI) in the default graph."""
        store = ox.Store()
        store.bulk_load(self.nquads, format=ox.RdfFormat.N_QUADS)
        return store

    def rdflib(self) -> rdflib.Dataset:
        """The same quads as a new ``rdflib.Dataset``."""
        import rdflib

        dataset = rdflib.Dataset()
        dataset.parse(data=self.nquads, format="nquads")
        return dataset


def convert(
    inputs: Input | Iterable[Input],
    *,
    validate: bool = True,
    engine: str = DEFAULT_ENGINE,
    jobs: int = 1,
) -> Conversion:
    """Convert records in memory, as ``pfocr-rdf convert`` would, writing nothing.

    ``inputs`` are record files (``.md``, ``.md.gz``), folders (a pfocr-database folder, or
    any folder searched for records), or the text of a record (a string holding a line
    break); one input alone may be given as it is. A record that cannot be converted is
    rejected with its reason in :attr:`Conversion.rejected`, never raised. ``engine`` is the
    SHACL engine (``shacl`` or ``pyshacl``); ``jobs`` worker processes convert in parallel.

    Raises FileNotFoundError for a path that does not exist, ValueError for no input, a
    folder holding no record, an unknown engine or a ``jobs`` below 1.
    """
    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    texts = {n: str(i) for n, i in enumerate(items) if isinstance(i, str) and "\n" in i}
    paths = [os.fspath(i) for n, i in enumerate(items) if n not in texts]
    if not items:
        raise ValueError("no input given")
    check_inputs(paths)
    if jobs < 1:
        raise ValueError(f"jobs must be 1 or more, not {jobs}")
    engine, notice = resolve_engine_name(engine)
    if notice:
        warnings.warn(notice, stacklevel=2)
    sources = chain.from_iterable(
        _text_source(n, texts[n]) if n in texts else discover([os.fspath(item)])
        for n, item in enumerate(items)
    )
    options = BatchOptions(validate=validate, engine=engine, formats=("nq",))
    summary = Summary()
    rejected: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    store = ox.Store()
    outcomes = deduplicated(outcomes_of(convert_all(sources, options, jobs=jobs)))
    with closing(outcomes):  # an interrupt anywhere ends the pool of workers now
        for outcome in outcomes:
            count_outcome(summary, outcome)
            for finding in outcome.findings:
                found = {"file": outcome.source, "figid": outcome.figid, **finding.as_dict()}
                findings.append(found)
            if isinstance(outcome, Rejected):
                rejected.append(outcome.row())
            elif isinstance(outcome, Converted) and outcome.rdf is not None:
                store.bulk_load(outcome.rdf.parts["nq"], format=ox.RdfFormat.N_QUADS)
                store.bulk_load(outcome.rdf.shared, format=ox.RdfFormat.N_QUADS)
    summary.triples = len(store)
    summary.orphans = orphan_sidecars(paths)
    nquads = store.dump(format=ox.RdfFormat.N_QUADS)
    assert nquads is not None  # no output file given: dump returns the bytes
    return Conversion(summary, rejected, findings, nquads)


def _text_source(number: int, text: str) -> Iterator[Source]:
    """The record written in ``text``, the ``number``-th input (named so in reports)."""
    yield Source(name=f"<record {number + 1}>", data=text.encode("utf-8", "surrogatepass"))


def query(
    store: ox.Store | str | os.PathLike[str], query: str, **bindings: Binding
) -> list[dict[str, Any]]:
    """Run a query as ``pfocr-rdf query`` does and give its rows as dicts of Python values.

    ``store`` is a pyoxigraph store (such as :meth:`Conversion.oxigraph`'s), a store folder
    (made by ``pfocr-rdf load`` or ``convert --store``), or a SPARQL endpoint URL
    (``http://`` or ``https://``). ``query`` is a bundled query's name (``pfocr-rdf query
    --list``), a ``.rq`` file or SPARQL text; the default graph is the union of the figure
    graphs; the data model's prefixes need no declaration. ``bindings`` bind variables of the
    query: a string, or an IRI given as ``pyoxigraph.NamedNode``, ``rdflib.URIRef``,
    ``"<iri>"`` or ``"prefix:local"`` (a data-model prefix, or one the query declares).

    In a row, an IRI is an ``rdflib.URIRef`` (a ``str`` that binds as an IRI when passed
    back), a literal its Python value (``int``, ``float``, ``bool``, ``datetime.date`` …,
    else ``str``), an unbound variable None. An ASK query gives one row ``{"ask": bool}``.

    Raises FileNotFoundError for a store folder that does not exist, ValueError (a
    ``QueryError``) for a query that cannot be found, parsed or evaluated or a binding of a
    variable it does not have, and ``StoreError`` when the store or endpoint cannot be
    reached. An endpoint's row cap that cut the answer is a warning.
    """
    endpoint = isinstance(store, str) and store.startswith(("http://", "https://"))
    text = prepare(
        resolve_query(query), {n: _binding(v) for n, v in bindings.items()}, check=not endpoint
    )
    if endpoint:
        assert isinstance(store, str)
        data = query_endpoint(
            store, text, "json", notify=lambda cut: warnings.warn(cut, stacklevel=3)
        )
    elif isinstance(store, ox.Store):
        data = query_store(store, text, "json")
    else:
        folder = Path(store)
        if not folder.is_dir():
            raise FileNotFoundError(f"no store folder at {folder}")
        data = query_store(folder, text, "json")
    return _rows(data)


def _binding(value: Binding) -> str:
    """A binding as ``--bind`` takes it: ``<iri>`` for an IRI, else the string itself."""
    rdflib = sys.modules.get("rdflib")  # a URIRef can only come from a loaded rdflib
    if isinstance(value, ox.NamedNode) or (rdflib is not None and isinstance(value, rdflib.URIRef)):
        return f"<{value if isinstance(value, str) else value.value}>"
    if not isinstance(value, str):
        raise TypeError(f"a binding is a str or an IRI, not {type(value).__name__}")
    return value


def _rows(data: bytes) -> list[dict[str, Any]]:
    """SPARQL JSON results as rows of Python values (rdflib reads the W3C format)."""
    from rdflib.query import Result

    result = Result.parse(io.BytesIO(data), format="json")
    if result.type == "ASK":
        return [{"ask": bool(result.askAnswer)}]
    variables = result.vars or []
    return [{str(v): _value(binding.get(v)) for v in variables} for binding in result.bindings]


def _value(term: rdflib.term.Node | None) -> Any:
    """A result term as a Python value: a literal's value, an IRI or blank node as it is."""
    from rdflib import Literal

    return term.toPython() if isinstance(term, Literal) else term
