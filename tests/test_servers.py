"""Real SPARQL servers, Oxigraph and Virtuoso (as Debian ships it): load, reload, update by
what changed, and every bundled query answered as the embedded store answers it."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from helpers import EXAMPLES, Server, oxigraph_server, virtuoso_server
from test_store import EXPECTED, updated_release

import converter
from converter.cli import cli
from converter.query import rows_from_json
from converter.store import StoreError, _Remote
from converter.vocab import LOADED_GRAPH, PROBE_GRAPH

MAX_ROWS = 1000
"""Virtuoso's row cap in these tests: above the bundled queries' answers, below its own
system graphs' triples."""


def invoke(*args: str, password: str | None = None) -> tuple[int, bytes, str]:
    """Exit status, stdout bytes and stderr of a command (``password`` in the environment)."""
    env = {"PFOCR_RDF_PASSWORD": password}  # None: not set
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def start(name: str, folder: Path) -> Iterator[Server]:
    """Start the server ``name`` on a new database in ``folder``."""
    folder.mkdir(exist_ok=True)
    if name == "oxigraph":
        with oxigraph_server(folder) as server:
            yield server
    else:
        with virtuoso_server(folder, max_rows=MAX_ROWS) as server:
            yield server


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server shared by this module's tests (one per kind)."""
    yield from start(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(params=["oxigraph", "virtuoso"])
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server of its own for one test."""
    yield from start(request.param, tmp_path / request.param)


def load(server: Server, *files: Path, user: bool = True) -> tuple[int, str]:
    """``pfocr-rdf load FILES --endpoint`` the server, as its account (if it has one)."""
    account = ["--user", server.user] if user and server.user else []
    code, out, err = invoke(
        "load", *map(str, files), "--endpoint", server.store, *account, password=server.password
    )
    return code, out.decode() + err


def answer(target: list[str], name: str, binds: tuple[str, ...], fmt: str) -> bytes:
    args = ["query", *target, name, "-f", fmt]
    for bind in binds:
        args += ["--bind", bind]
    code, out, err = invoke(*args)
    assert code == 0, err
    return out


def count(server: Server | Path, query: str) -> int:
    """The one number a COUNT query gives on a server or an embedded store."""
    target = ["--store", str(server)] if isinstance(server, Path) else ["--endpoint", server.query]
    return int(rows_from_json(answer(target, query, (), "json"))[1][0][0])


PFOCR_TRIPLES = f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
  FILTER(STRSTARTS(STR(?g), "https://pfocr.wikipathways.org/") && ?g != <{LOADED_GRAPH}>) }}"""
SHARED_GRAPHS = """SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
  FILTER(STRSTARTS(STR(?g), "https://pfocr.wikipathways.org/rdf/shared/")) }"""
FIGURE_GRAPHS = """SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
  FILTER(STRSTARTS(STR(?g), "https://pfocr.wikipathways.org/figures/")) }"""


@pytest.fixture(scope="module")
def loaded_server(server: Server, converted: Path) -> Server:
    """The server with the examples loaded twice (through the graph index), then once more
    from a copy without the index (every graph written again)."""
    code, out = load(server, converted / "pfocr.nq")
    assert code == 0 and "521 quads in 4 named graphs" in out, out
    assert "figure graphs: 4 added, 0 replaced, 0 removed, 0 unchanged" in out, out
    code, out = load(server, converted / "pfocr.nq")
    assert code == 0 and "0 quads in 0 named graphs" in out and "4 unchanged" in out, out
    bare = converted / "bare"
    bare.mkdir(exist_ok=True)
    shutil.copy(converted / "pfocr.nq", bare / "pfocr.nq")
    code, out = load(server, bare / "pfocr.nq")
    assert code == 0 and "521 quads in 4 named graphs" in out, out
    return server


@pytest.mark.parametrize(("name", "binds"), list(EXPECTED))
def test_every_bundled_query_answers_as_on_the_embedded_store(
    loaded_server: Server, store: Path, name: str, binds: tuple[str, ...]
) -> None:
    remote, local = ["--endpoint", loaded_server.query], ["--store", str(store)]
    assert rows_from_json(answer(remote, name, binds, "json"))[1] == EXPECTED[(name, binds)]
    for fmt in ("csv", "tsv", "json"):  # the same W3C bytes
        assert answer(remote, name, binds, fmt) == answer(local, name, binds, fmt), fmt


def test_reloads_did_not_duplicate(loaded_server: Server) -> None:
    # 521 distinct triples: 336 in the figure graphs, 185 shared facts in graphs of their
    # own; loading without the index POSTed the shared facts again into
    # https://pfocr.wikipathways.org/rdf/shared, so each is there once more
    assert count(loaded_server, PFOCR_TRIPLES) == 521 + 185
    assert count(loaded_server, FIGURE_GRAPHS) == 4


def test_a_new_release_updates_only_what_changed(
    fresh_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "db"
    shutil.copytree(EXAMPLES, db)
    assert invoke("convert", str(db), "-o", str(tmp_path / "one"), "-f", "nq", "-q")[0] == 0
    assert load(fresh_server, tmp_path / "one" / "pfocr.nq")[0] == 0
    updated_release(db)
    assert invoke("convert", str(db), "-o", str(tmp_path / "two"), "-f", "nq", "-q")[0] == 0
    new = tmp_path / "two" / "pfocr.nq"
    with monkeypatch.context() as patch:  # the server stops taking graphs after the first
        write = _Remote.write

        def first_only(remote: _Remote, method: str, graph: str, body: bytes) -> None:
            if remote.written and method == "PUT":
                raise StoreError(f"PUT {graph}: cannot reach the endpoint")
            write(remote, method, graph, body)

        patch.setattr(_Remote, "write", first_only)
        code, out = load(fresh_server, new)
    assert code == 1 and "1 graphs were written before this failure" in out, out
    assert "running the same command again completes it" in out
    code, out = load(fresh_server, new)
    assert code == 0, out
    # the graph written before the failure is written again: the note was not updated
    assert "figure graphs: 1 added, 1 replaced, 1 removed, 2 unchanged" in out, out
    rebuilt = tmp_path / "rebuilt"
    assert invoke("load", str(new), "--store", str(rebuilt))[0] == 0
    local = ["--store", str(rebuilt)]
    for name, binds in EXPECTED:
        remote = answer(["--endpoint", fresh_server.query], name, binds, "csv")
        assert remote == answer(local, name, binds, "csv"), name
    # the same triples, each once
    everything = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert count(fresh_server, PFOCR_TRIPLES) == count(rebuilt, everything)
    # RAF1 was only in the removed figure: its facts are gone from the server
    raf1 = "SELECT (COUNT(*) AS ?n) WHERE { <https://identifiers.org/ncbigene/5894> ?p ?o }"
    assert count(fresh_server, raf1) == 0


def test_a_shared_graph_a_stopped_load_wrote_is_removed_by_the_next(tmp_path: Path) -> None:
    """A known figure that gains a shared-facts graph (the record that stated them first is
    gone) in a load stopped before its note: the next load knows of that graph, and
    removes it when the facts move back."""
    db, first = tmp_path / "db", "PMC9000001__ex-mapk-g001"
    shutil.copytree(EXAMPLES, db)
    releases = {}
    for name in ("with", "without"):
        out = tmp_path / name
        assert invoke("convert", str(db), "-o", str(out), "-f", "nq", "-q")[0] == 0
        releases[name] = out / "pfocr.nq"
        (db / "_figures" / f"{first}.md").unlink(missing_ok=True)  # g002 states more first
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(oxigraph_server(tmp_path / "server"))
        assert load(server, releases["with"])[0] == 0
        write = _Remote.write

        def no_final_note(remote: _Remote, method: str, graph: str, body: bytes) -> None:
            final = b'"pending"' not in body and b'"changing"' not in body
            if method == "PUT" and graph == LOADED_GRAPH and final:
                raise StoreError(f"PUT {graph}: cannot reach the endpoint")
            write(remote, method, graph, body)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_Remote, "write", no_final_note)
            code, said = load(server, releases["without"])
        # every change made (g001 removed, g002's shared graph replaced), but not noted
        assert code == 1 and "1 graphs were written before this failure" in said, said
        assert count(server, FIGURE_GRAPHS) == 3
        assert load(server, releases["with"])[0] == 0
        rebuilt = stack.enter_context(oxigraph_server(tmp_path / "rebuilt"))
        assert load(rebuilt, releases["with"])[0] == 0
        assert count(server, SHARED_GRAPHS) == count(rebuilt, SHARED_GRAPHS) > 0
        assert count(server, PFOCR_TRIPLES) == count(rebuilt, PFOCR_TRIPLES)


def test_a_refusal_comes_before_anything_is_written(
    fresh_server: Server, converted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fresh_server.user is None:
        pytest.skip("this Oxigraph server lets anyone write")
    code, out = load(fresh_server, converted / "pfocr.nq", user=False)
    assert code == 1 and "HTTP 401" in out and "--user USER" in out and "nothing was loaded" in out
    urls: list[str] = []
    request = requests.Session.request

    def spy(self: requests.Session, method: str, url: str, **kwargs: object) -> requests.Response:
        urls.append(url)
        return request(self, method, url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(requests.Session, "request", spy)
    account = ["--endpoint", fresh_server.store, "--user", "dba"]
    code, _, err = invoke("load", str(converted / "pfocr.nq"), *account, password="s3cret")
    assert code == 1 and "the user dba was refused" in err and "s3cret" not in err
    assert urls and not [url for url in urls if "s3cret" in url]
    assert count(fresh_server, FIGURE_GRAPHS) == 0
    probe = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{PROBE_GRAPH}> {{ ?s ?p ?o }} }}"
    assert count(fresh_server, probe) == 0
    # the unauthenticated Graph Store endpoint Debian's Virtuoso has refuses writes
    public = fresh_server.store.removesuffix("-auth")
    code, _, err = invoke("load", str(converted / "pfocr.nq"), "--endpoint", public)
    assert code == 1 and "HTTP 403" in err and "nothing was loaded" in err, err
    assert count(fresh_server, FIGURE_GRAPHS) == 0


def test_a_row_cap_is_reported(loaded_server: Server) -> None:
    if loaded_server.name != "virtuoso":
        pytest.skip("Oxigraph has no row cap")
    args = ["query", "--endpoint", loaded_server.query, "-f", "csv"]
    code, out, err = invoke(*args, "SELECT ?s WHERE { ?s ?p ?o }")
    assert code == 0 and out.count(b"\r\n") == MAX_ROWS + 1
    assert f"cut the answer at {MAX_ROWS} rows, its row cap (X-SPARQL-MaxRows)" in err
    code, out, err = invoke(*args, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 10")
    assert code == 0 and out.count(b"\r\n") == 11 and err == ""
    with pytest.warns(UserWarning, match=f"cut the answer at {MAX_ROWS} rows"):
        rows = converter.query(loaded_server.query, "SELECT ?s WHERE { ?s ?p ?o }")
    assert len(rows) == MAX_ROWS


def test_ask_and_construct_as_on_the_embedded_store(loaded_server: Server, store: Path) -> None:
    remote, local = ["--endpoint", loaded_server.query], ["--store", str(store)]
    for query, formats in {
        "ASK { ?s a <https://pfocr.wikipathways.org/vocab#Figure> }": ("json", "csv", "tsv"),
        "ASK { ?s a <https://example.org/Nothing> }": ("json",),
    }.items():
        for fmt in formats:
            assert answer(remote, query, (), fmt) == answer(local, query, (), fmt), (query, fmt)
    figure = "https://pfocr.wikipathways.org/figures/PMC9000003__ex-p53-f1.html"
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{figure}> {{ ?s ?p ?o }} }}"
    for fmt in ("nt", "ttl"):  # the same triples, in an order the query leaves open
        got = set(ox.parse(answer(remote, construct, (), fmt), format=ox.RdfFormat.TURTLE))
        assert got == set(ox.parse(answer(local, construct, (), fmt), format=ox.RdfFormat.TURTLE))
        assert len(got) == 23


def test_http_error_is_clear(server: Server) -> None:
    code, _, err = invoke("query", "--endpoint", server.query, "SELECT * WHERE {")
    assert code == 1 and "the endpoint refused the query" in err and "HTTP 400" in err


def test_the_real_sample_answers_as_on_the_embedded_store(
    fresh_server: Server, sample: Path, tmp_path: Path
) -> None:
    """The issue's check by hand: the sample's N-Quads and dataset.ttl loaded in one command
    (non-ASCII text included); every bundled query gives the embedded store's CSV and TSV."""
    out, store = tmp_path / "out", tmp_path / "db"
    assert invoke("convert", str(sample), "-o", str(out), "-f", "nq", "-q")[0] == 0
    code, text = load(fresh_server, out / "pfocr.nq", out / "dataset.ttl")
    assert code == 0 and "figure graphs: " in text, text
    assert (
        invoke("load", str(out / "pfocr.nq"), str(out / "dataset.ttl"), "--store", str(store))[0]
        == 0
    )
    for name, binds in EXPECTED:
        for fmt in ("csv", "tsv"):
            remote = answer(["--endpoint", fresh_server.query], name, binds, fmt)
            assert remote == answer(["--store", str(store)], name, binds, fmt), (name, fmt)
    everything = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert count(fresh_server, PFOCR_TRIPLES) >= count(store, everything) > 6588


def test_a_user_without_a_password_is_a_usage_error(converted: Path) -> None:
    """No PFOCR_RDF_PASSWORD and no terminal to ask on: a clear error, nothing sent."""
    args = ["--endpoint", "http://127.0.0.1:9/store", "--user", "dba"]
    code, _, err = invoke("load", str(converted / "pfocr.nq"), *args)
    assert code == 2 and "--user dba: give the password in PFOCR_RDF_PASSWORD" in err
    assert "cannot reach" not in err
