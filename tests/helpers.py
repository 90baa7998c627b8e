"""Test helpers: hand-written records in pfocr-database layout, and real SPARQL servers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "examples"
SAMPLE = PROJECT.parent / "shared" / "pfocr-sample"
REAL = PROJECT.parent / "shared" / "pfocr-real"

GENES_HEADER = (
    "organism_id\torganism_name\torganism_group\tword\tmatch\tncbigene_symbol\tncbigene_id"
    "\tsource\tcount_direct\tcount_synonym\tcount_match\n"
)

RECORD_TEMPLATE = """---
figid: {figid}
figtitle: {figtitle}
organisms:
- Homo sapiens
organisms_ner:
- NA
pmcid: {pmcid}
filename: {image}.jpg
figlink: /pmc/articles/{pmcid}/figure/F1/
number: F1
caption: A test caption.
papertitle: A test paper.
reftext: Test Author, et al. Test J. 2020;1:1.
year: '{year}'
doi: {doi}
journal_title: Test Journal
journal_nlm_ta: Test J
publisher_name: Test Press
keywords: alpha | beta
automl_pathway: {score}
figid_alias: {pmcid}__F1
figtype: Figure
redirect_from: /figures/{pmcid}__F1
ndex: ''
seo: CreativeWork
schema-jsonld:
  '@context': {context}
  '@id': {jsonld_id}
  '@type': Dataset
  description: {description}
  license: CC0
  name: CreativeWork
  creator:
    '@type': Organization
    name: WikiPathways
  keywords:
{keywords}
---
"""


def record_text(figid: str = "PMC1234567__test-f1", **fields: str) -> str:
    """A valid record; any template field can be overridden with text written as YAML."""
    pmcid = figid.split("__", 1)[0]
    values = {
        "figid": figid,
        "figtitle": "A test pathway",
        "pmcid": pmcid,
        "image": figid.split("__", 1)[-1],
        "year": "2020",
        "doi": "10.1000/test.1",
        "score": "0.9",
        "context": "https://schema.org/",
        "jsonld_id": f"https://pfocr.wikipathways.org/figures/{figid}.html",
        "description": "A test caption.",
        "keywords": "  - TP53\n  - MDM2",
    }
    values.update(fields)
    return RECORD_TEMPLATE.format(**values)


def write_db(
    root: Path,
    records: dict[str, str],
    sidecars: dict[str, str] | None = None,
) -> Path:
    """A pfocr-database folder: ``records`` figid -> text, ``sidecars`` file name -> text."""
    (root / "_figures").mkdir(parents=True, exist_ok=True)
    (root / "_data").mkdir(exist_ok=True)
    for figid, text in records.items():
        (root / "_figures" / f"{figid}.md").write_text(text, encoding="utf-8")
    for name, text in (sidecars or {}).items():
        (root / "_data" / name).write_text(text, encoding="utf-8")
    return root


def genes_tsv(*rows: str) -> str:
    """A genes sidecar; each row is tab-separated text in the real column order."""
    return GENES_HEADER + "".join(row + "\n" for row in rows)


def parse_nt(text: str) -> set[ox.Triple]:
    """Hand-written N-Triples as a set of triples."""
    return {q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)}


def can_chmod_unreadable(path: Path) -> bool:
    """Whether removing read permission really stops this process reading (not as root)."""
    path.chmod(0)
    try:
        with open(path, "rb"):
            return False
    except PermissionError:
        return True
    finally:
        path.chmod(0o644)


def value(term: object) -> str:
    """The text of an IRI or literal (pyoxigraph also types terms as RDF-star triples)."""
    assert isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)), term
    return term.value


def output_files(folder: Path) -> dict[str, bytes]:
    """The files of an output folder by name (not what a run keeps for the next one, in
    its ``.pfocr-state`` folder)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def report_findings(report: Path) -> set[tuple[str | None, ...]]:
    """Each result of a validation.ttl as (figure, severity, focus, path, value, message)."""
    store = ox.Store()
    store.load(path=report, format=ox.RdfFormat.TURTLE)
    rows = store.query(
        """PREFIX sh: <http://www.w3.org/ns/shacl#>
        PREFIX pfocr: <https://pfocr.wikipathways.org/vocab#>
        SELECT ?figure ?severity ?focus ?path ?value ?message WHERE {
          ?r a sh:ValidationResult ; pfocr:figure ?figure ; sh:resultSeverity ?severity ;
             sh:focusNode ?focus ; sh:resultMessage ?message .
          OPTIONAL { ?r sh:resultPath ?path } OPTIONAL { ?r sh:value ?value } }"""
    )
    assert isinstance(rows, ox.QuerySolutions)
    return {tuple(None if t is None else t.value for t in row) for row in rows}


# ------------------------------------------------------------------ real SPARQL servers


@dataclass(frozen=True)
class Server:
    """A SPARQL server a test started: its query URL, its Graph Store Protocol URL, and the
    account that may write there (None: anyone may)."""

    name: str
    query: str
    store: str
    user: str | None = None
    password: str | None = None
    sql_port: int | None = None
    """Virtuoso's SQL port (``isql-vt 127.0.0.1:PORT dba dba``)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(
    name: str, port: int, process: subprocess.Popen[bytes], path: str | None, seconds: float = 60
) -> None:
    """Wait until ``process`` accepts connections on ``port`` (and, given ``path``, answers
    an HTTP GET of it with 200)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            if path is None:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            elif requests.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start listening on {port}")


@contextmanager
def running(command: list[str], port: int, path: str | None = None) -> Iterator[None]:
    """``command`` running until the block ends (stopped, killed if it lingers)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(Path(command[0]).name, port, process, path)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def oxigraph_binary() -> str:
    """The ``oxigraph`` server of this environment (PyPI package ``oxigraph``)."""
    found = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(found).exists():
        pytest.fail("the oxigraph server (PyPI package 'oxigraph') is not installed")
    return found


@contextmanager
def oxigraph_server(location: Path, *, read_only: bool = False) -> Iterator[Server]:
    """``oxigraph serve`` (or ``serve-read-only``) of ``location`` on 127.0.0.1, a free port
    and a union default graph."""
    port = free_port()
    mode = "serve-read-only" if read_only else "serve"
    command = [oxigraph_binary(), mode, "--location", str(location)]
    command += ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    with running(command, port):
        yield Server("oxigraph", f"http://127.0.0.1:{port}/query", f"http://127.0.0.1:{port}/store")


VIRTUOSO_INI = """[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {allowed}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {db}
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = {max_rows}
"""


@contextmanager
def virtuoso_server(
    folder: Path, *, allowed: Path | None = None, max_rows: int = 10000
) -> Iterator[Server]:
    """Debian's Virtuoso 7 (``virtuoso-t``) with a new database in ``folder``, on 127.0.0.1
    and free ports, its ``dba`` account's password ``dba`` (as installed); ``allowed`` is a
    folder its bulk loader may read. Skips the test when Virtuoso is not installed."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource)")
    http_port, sql_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    settings = {"db": folder, "sql_port": sql_port, "http_port": http_port}
    ini.write_text(VIRTUOSO_INI.format(allowed=allowed or folder, max_rows=max_rows, **settings))
    command = [binary, "+foreground", "+configfile", str(ini)]
    with running(command, http_port, path="/sparql?query=ASK%7B%7D"):
        base = f"http://127.0.0.1:{http_port}"
        yield Server(
            "virtuoso", f"{base}/sparql", f"{base}/sparql-graph-crud-auth", "dba", "dba", sql_port
        )
