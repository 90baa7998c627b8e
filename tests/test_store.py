"""Store and SPARQL: the embedded store, the bundled queries, a real Oxigraph HTTP server."""

from __future__ import annotations

import re
import shutil
import socket
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, PROJECT, free_port, record_text, running

from converter.cli import cli
from converter.describe import DATASET
from converter.query import (
    BindError,
    QueryError,
    bundled_queries,
    prepare,
    rows_from_json,
    with_bindings,
)
from converter.vocab import QUERY_PREFIXES, compact

FIG = "https://pfocr.wikipathways.org/figures/"
F1, F2 = f"{FIG}PMC9000001__ex-mapk-g001.html", f"{FIG}PMC9000001__ex-mapk-g002.html"
F3, F4 = f"{FIG}PMC9000002__ex-glycolysis-f2.html", f"{FIG}PMC9000003__ex-p53-f1.html"
T1 = "EGFR to ERK signaling through the RAS-RAF-MEK cascade"
T2 = "ERK feedback on SOS1 and RAF"
T3 = "Glucose to lactate in hyperglycemic tissue"
ID1, ID2 = "PMC9000001__ex-mapk-g001", "PMC9000001__ex-mapk-g002"
ID3 = "PMC9000002__ex-glycolysis-f2"
CHEBI, WP = "https://identifiers.org/chebi/CHEBI:", "http://vocabularies.wikipathways.org/wp#"
GENE, TAXON = "https://identifiers.org/ncbigene/", "http://purl.obolibrary.org/obo/NCBITaxon_"
MESH = "http://id.nlm.nih.gov/mesh/"
PAPER, DOI = "https://identifiers.org/pmc/PMC9000001", "https://doi.org/10.5555/example.2021.001"

# Each expected table was derived by hand from the records and sidecars in examples/.
EXPECTED: dict[tuple[str, tuple[str, ...]], list[list[str]]] = {
    ("figures-mentioning-gene", ("symbol=MAPK1",)): [
        [F1, T1, f"{GENE}5594", "MAPK1", f"{TAXON}9606"],
        [F2, T2, f"{GENE}5594", "MAPK1", f"{TAXON}9606"],
    ],
    ("genes-per-figure", ()): [[F1, "8"], [F2, "5"], [F3, "4"], [F4, "0"]],
    ("top-genes", ()): [
        [f"{GENE}5594", "MAPK1", "2"],
        [f"{GENE}5595", "MAPK3", "2"],
        [f"{GENE}6654", "SOS1", "2"],
        [f"{GENE}673", "BRAF", "1"],
        [f"{GENE}1848", "DUSP6", "1"],
        [f"{GENE}1956", "EGFR", "1"],
        [f"{GENE}2885", "GRB2", "1"],
        [f"{GENE}3099", "HK2", "1"],
        [f"{GENE}15277", "Hk2", "1"],
        [f"{GENE}3845", "KRAS", "1"],
    ],
    ("figures-per-organism", ()): [
        [f"{TAXON}9606", "Homo sapiens", "3"],
        [f"{TAXON}10090", "Mus musculus", "1"],
    ],
    ("figures-sharing-genes", (f"figure=<{F1}>",)): [[F1, F2, "3"]],
    ("chemicals-and-diseases", ()): [
        [
            F3,
            "chemical",
            f"{MESH}D000255",
            "Adenosine Triphosphate",
            "https://identifiers.org/chebi/CHEBI:15422",
        ],
        [F3, "chemical", f"{MESH}D005947", "Glucose", "https://identifiers.org/chebi/CHEBI:4167"],
        [F3, "chemical", f"{MESH}D011773", "", ""],
        [F3, "chemical", f"{MESH}D019344", "", ""],
        [
            F3,
            "disease",
            f"{MESH}D003920",
            "Diabetes Mellitus",
            "http://purl.obolibrary.org/obo/DOID_9351",
        ],
    ],
    ("figures-of-paper", ("pmcid=PMC9000001",)): [
        ["PMC9000001", PAPER, F1, T1],
        ["PMC9000001", PAPER, F2, T2],
    ],
    # PMC9000002 has no DOI: binding ?doi must not match it
    ("figures-of-doi", (f"doi=<{DOI}>",)): [[DOI, PAPER, F1, T1], [DOI, PAPER, F2, T2]],
    ("figures-of-wikipathway", ()): [["https://identifiers.org/wikipathways/WP382", F1, T1]],
    ("pathways-of-gene", (f"id=<{GENE}5594>",)): [
        [f"{GENE}5594", ID1, T1, "PFOCR"],
        [f"{GENE}5594", ID2, T2, "PFOCR"],
    ],
    ("genes-of-figure", (f"figid={ID3}",)): [
        [ID3, f"{GENE}3099", "3099", "HK2"],
        [ID3, f"{GENE}15277", "15277", "Hk2"],
        [ID3, f"{GENE}3939", "3939", "LDHA"],
        [ID3, f"{GENE}5315", "5315", "PKM"],
    ],
    ("metabolites-of-figure", ()): [
        [ID3, f"{CHEBI}15422", "CHEBI:15422", "ATP"],
        [ID3, f"{CHEBI}4167", "CHEBI:4167", "D-glucopyranose"],
    ],
    # the human genes of each figure (the mouse Hk2 has no HGNC symbol)
    ("figures-for-data-source", (f"linkout=<{WP}bdbHgncSymbol>",)): [
        [f"{WP}bdbHgncSymbol", ID1, T1, "8"],
        [f"{WP}bdbHgncSymbol", ID2, T2, "5"],
        [f"{WP}bdbHgncSymbol", ID3, T3, "3"],
    ],
    # PFOCR alone has no WikiPathways pathway to join with (see test_wikipathways.py)
    ("wikipathways-overlap", ()): [],
    ("figures-for-species", ("species=Mus musculus",)): [
        ["Mus musculus", f"{TAXON}10090", ID3, T3],
    ],
}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def rows(target: list[str], name: str, binds: tuple[str, ...]) -> list[list[str]]:
    args = ["query", *target, name, "-f", "json"]
    for bind in binds:
        args += ["--bind", bind]
    code, out = invoke(*args)
    assert code == 0, out
    return rows_from_json(out.encode())[1]


def test_every_bundled_query_has_an_expected_table() -> None:
    assert {name for name, _ in EXPECTED} == set(bundled_queries())


@pytest.mark.parametrize(("name", "binds"), list(EXPECTED))
def test_bundled_query_on_the_embedded_store(
    store: Path, name: str, binds: tuple[str, ...]
) -> None:
    assert rows(["--store", str(store)], name, binds) == EXPECTED[(name, binds)]


def test_reload_replaces_instead_of_duplicating(converted: Path, tmp_path: Path) -> None:
    folder = tmp_path / "db"
    for _ in range(2):
        invoke("load", str(converted / "pfocr.nq"), "--store", str(folder))
    store = ox.Store(str(folder))
    assert len(store) == 521
    assert len(list(store.named_graphs())) == 4
    del store
    for _ in range(2):  # the run's description goes to a graph of its own, replaced too
        code, _ = invoke(
            "convert", str(EXAMPLES), "-o", str(tmp_path / "o"), "--store", str(folder)
        )
        assert code == 0
    store = ox.Store(str(folder))
    described = len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(DATASET))))
    assert described > 0 and len(store) == 521 + described
    assert len(list(store.named_graphs())) == 5


def test_convert_and_load_in_one_go(tmp_path: Path) -> None:
    code, out = invoke(
        "convert", str(EXAMPLES), "-o", str(tmp_path / "o"), "--store", str(tmp_path / "db")
    )
    assert code == 0 and "loaded 4 records into the store" in out
    assert (
        rows(["--store", str(tmp_path / "db")], "genes-per-figure", ())
        == EXPECTED[("genes-per-figure", ())]
    )


def test_query_from_text_and_file(store: Path, tmp_path: Path) -> None:
    figure_class = "<https://pfocr.wikipathways.org/vocab#Figure>"
    text = f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f a {figure_class} }}"
    assert rows(["--store", str(store)], text, ()) == [["4"]]
    (tmp_path / "count.rq").write_text(text)
    assert rows(["--store", str(store)], str(tmp_path / "count.rq"), ()) == [["4"]]


@pytest.mark.parametrize("fmt, start", [("csv", "figure,genes\r\n"), ("tsv", "?figure\t?genes\n")])
def test_w3c_result_formats(store: Path, fmt: str, start: str) -> None:
    args = ["query", "--store", str(store), "genes-per-figure", "-f", fmt]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout_bytes.startswith(start.encode())


def test_syntax_error_names_line_and_column(store: Path) -> None:
    code, out = invoke("query", "--store", str(store), "SELECT * WHERE {\n  ?s ?p }")
    assert code == 1
    assert out.splitlines() == [
        "Error: SPARQL syntax error at line 2, column 3: this triple pattern is incomplete "
        "(subject, predicate, object)",
        "    ?s ?p }",
        "    ^",
    ]


@pytest.mark.parametrize(
    "query, where, words",
    [
        ("SELEC ?x WHERE {}", "1, column 1", "a query starts with SELECT, CONSTRUCT, ASK or"),
        ("SELECT ?x WHERE { ?x ?y }", "1, column 19", "this triple pattern is incomplete"),
        ("SELECT ?x {\n ?x ?y ?z .\n FILTER(?x = ) }", "3, column 2", "this FILTER clause is"),
        ("SELECT ?x WHERE { ?x a ?y } GROUP ?x", "1, column 29", "this GROUP clause is"),
        ("SELECT (COUNT(?x)) { ?x ?y ?z }", "1, column 18", "unexpected ')' (an expression"),
        ('SELECT ?x {\n  ?x ?y "abc }', "2, column 9", "this string is never closed"),
        ("SELECT ?x { ?x ?y ?z ", "1, column 11", "this '{' is never closed"),
        ("SELECT ?x { ?x ?y ?z }}", "1, column 23", "this '}' closes nothing"),
        ("ASK { FILTER(?y > 3 }", "1, column 21", "')' expected before this '}'"),
        ("SELECT * { ?x ex:p ?y }", "1, column 15", "the prefix ex: is not declared"),
        ("SELECT * { ?x <a b> ?y }", "1, column 20", "an IRI before here is not valid"),
        ('SELECT * { ?x ?p "a\\q" }', "1, column 21", "an invalid escape in a string"),
    ],
)
def test_a_syntax_error_says_in_words_what_is_wrong_where(
    query: str, where: str, words: str
) -> None:
    with pytest.raises(QueryError) as caught:
        prepare(query, {})
    first, text, caret = str(caught.value).split("\n")
    assert first.startswith(f"SPARQL syntax error at line {where}: {words}")
    line, column = (int(n) for n in re.findall(r"\d+", where))
    assert text == "  " + query.split("\n")[line - 1]
    assert caret == "  " + " " * (column - 1) + "^"


def test_the_data_model_prefixes_need_no_declaration(store: Path) -> None:
    declared = (
        "PREFIX pfocr: <https://pfocr.wikipathways.org/vocab#>\n"
        "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
        "SELECT ?f ?id WHERE { ?f a pfocr:Figure ; dcterms:identifier ?id } ORDER BY ?id"
    )
    bare = declared.split("\n")[-1]
    assert rows(["--store", str(store)], bare, ()) == rows(["--store", str(store)], declared, ())
    assert len(rows(["--store", str(store)], bare, ())) == 4
    # the query's own declaration wins: schema.org over https names nothing in the data
    own = "PREFIX schema: <https://schema.org/>\nSELECT * WHERE { ?f schema:mentions ?g }"
    assert rows(["--store", str(store)], own, ()) == []
    assert rows(["--store", str(store)], own.split("\n")[1], ())  # http, as the data has it


def test_the_table_shows_only_prefixes_a_query_can_use(store: Path) -> None:
    code, out = invoke("query", "--store", str(store), "top-genes")
    assert code == 0
    first = out.splitlines()[2].split()
    assert first[:2] == ["ncbigene:5594", "MAPK1"]
    again = f"SELECT ?symbol WHERE {{ {first[0]} rdfs:label ?symbol }}"
    assert rows(["--store", str(store)], again, ()) == [["MAPK1"]]
    for prefix, namespace in QUERY_PREFIXES.items():  # every prefix compact() may show
        assert compact(namespace + "x") == f"{prefix}:x"
        prepare(f"SELECT * WHERE {{ ?s ?p {prefix}:x }}", {})


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    code, out = invoke("query", "--store", str(tmp_path / "nowhere"), "top-genes")
    assert code == 1 and f"no store at {tmp_path / 'nowhere'}" in out
    assert not (tmp_path / "nowhere").exists()


def test_folder_that_is_no_store_is_an_error_and_left_alone(tmp_path: Path) -> None:
    """A typo naming the input or output folder must not become a new, empty store."""
    folder = tmp_path / "pfocr-out"
    folder.mkdir()
    (folder / "pfocr.ttl").write_text("")
    code, out = invoke("query", "--store", str(folder), "top-genes")
    assert code == 1 and f"no store at {folder}: the folder is not a store" in out
    assert sorted(p.name for p in folder.iterdir()) == ["pfocr.ttl"]


def test_unknown_bundled_query(store: Path) -> None:
    code, out = invoke("query", "--store", str(store), "top-gene")
    assert code == 1 and "no bundled query named 'top-gene'" in out


# ------------------------------------------------------------------ a real SPARQL server


def test_unreachable_endpoint_is_clear(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("converter.store.BACKOFF_SECONDS", 0.01)
    url = f"http://127.0.0.1:{free_port()}/store"
    code, out = invoke("load", str(converted / "pfocr.nq"), "--endpoint", url)
    assert code == 1 and "cannot reach the endpoint" in out


def test_an_endpoint_that_never_answers_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("converter.store.TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr("converter.store.BACKOFF_SECONDS", 0.01)
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        code, out = invoke("query", "--endpoint", url, "top-genes")
    assert code == 1 and "gave no answer within 0.5 s" in out and "Traceback" not in out


def test_serve_answers_queries(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "db"
    shutil.copytree(store, copy)
    port = free_port()
    exe = Path(sys.executable).with_name("pfocr-rdf")
    with running([str(exe), "serve", "--store", str(copy), "--bind", f"127.0.0.1:{port}"], port):
        got = rows(["--endpoint", f"http://127.0.0.1:{port}/query"], "top-genes", ())
        assert got == EXPECTED[("top-genes", ())]


def test_bindings_open_the_outer_where_group() -> None:
    query = "# WHERE { in a comment\nSELECT ?f (COUNT(?g) AS ?n) WHERE {\n  ?f ?p ?g }\nGROUP BY ?f"
    bound = with_bindings(query, {"f": "<https://example.org/x>", "g": 'say "hi"'})
    assert bound.startswith("# WHERE { in a comment\nSELECT ?f (COUNT(?g) AS ?n) WHERE {\n")
    assert 'VALUES (?f ?g) { (<https://example.org/x> "say \\"hi\\"") }\n' in bound
    assert bound.index("VALUES") < bound.index("?f ?p ?g") < bound.index("GROUP BY")


def test_a_bind_of_a_variable_the_query_lacks_is_a_usage_error(store: Path) -> None:
    code, out = invoke(
        "query", "--store", str(store), "figures-mentioning-gene", "--bind", "sybmol=MAPK1"
    )
    assert code == 2
    assert (
        "the query has no variable ?sybmol to bind "
        "(its variables: ?figure, ?title, ?gene, ?symbol, ?organism)" in out
    )
    # a variable in a comment, a string or an IRI is no variable of the query
    query = 'SELECT ?s WHERE { ?s <http://x/?p> "?o" } # ?c'
    with pytest.raises(BindError, match=r"no variable \?c .*its variables: \?s\)"):
        with_bindings(query, {"c": "x"})


def test_an_iri_without_brackets_gets_a_hint(store: Path) -> None:
    code, out = invoke(
        "query", "--store", str(store), "pathways-of-gene", "--bind", f"id={GENE}5594"
    )
    assert code == 0 and "0 rows" in out
    assert f"hint: --bind id={GENE}5594 binds a string; for an IRI write id='<{GENE}5594>'" in out


@pytest.mark.parametrize(
    "bind",
    ["id=ncbigene:5594", "id=eg:5594"],  # a data-model prefix, one the query declares
)
def test_a_prefixed_name_binds_an_iri(store: Path, bind: str) -> None:
    query = f"PREFIX eg: <{GENE}>\n" + bundled_queries()["pathways-of-gene"].path.read_text()
    assert (
        rows(["--store", str(store)], query, (bind,))
        == EXPECTED[("pathways-of-gene", (f"id=<{GENE}5594>",))]
    )


def test_bindings_without_where_keyword_trail_the_query() -> None:
    assert with_bindings("SELECT * { ?s ?p ?o }", {"s": "<https://example.org/x>"}) == (
        "SELECT * { ?s ?p ?o }\nVALUES (?s) { (<https://example.org/x>) }\n"
    )


def test_a_function_the_engine_cannot_evaluate_is_a_clear_error(store: Path) -> None:
    query = (
        "PREFIX fn: <http://www.w3.org/2005/xpath-functions#>\n"
        'SELECT (fn:substring("abc", 2) AS ?x) WHERE {}'
    )
    code, out = invoke("query", "--store", str(store), query)  # raises if uncaught
    assert code == 1
    assert out.strip().splitlines() == [
        "Error: the query cannot be evaluated: The custom function "
        "<http://www.w3.org/2005/xpath-functions#substring> is not supported"
    ]


def updated_release(db: Path) -> None:
    """The next release of a copy of examples/: one record edited, one removed (with its
    sidecars), one added."""
    g001 = db / "_figures" / "PMC9000001__ex-mapk-g001.md"
    g001.write_text(g001.read_text().replace("EGFR to ERK signaling", "EGFR to ERK signalling"))
    (db / "_figures" / "PMC9000001__ex-mapk-g002.md").unlink()
    (db / "_data" / "PMC9000001__ex-mapk-g002-genes.tsv").unlink()
    (db / "_figures" / "PMC9000004__ex-new-f1.md").write_text(record_text("PMC9000004__ex-new-f1"))


@pytest.mark.parametrize("nquads", ["nq", "nq.gz"])
def test_a_new_release_updates_only_what_changed(tmp_path: Path, nquads: str) -> None:
    db, folder = tmp_path / "db", tmp_path / "store"
    shutil.copytree(EXAMPLES, db)
    code, _ = invoke("convert", str(db), "-o", str(tmp_path / "one"), "-f", nquads, "-q")
    assert code == 0
    assert invoke("load", str(tmp_path / "one" / f"pfocr.{nquads}"), "--store", str(folder))[0] == 0
    excerpt = PROJECT / "tests" / "data" / "wikipathways-excerpt.ttl"  # other data beside
    assert invoke("load", str(excerpt), "--store", str(folder))[0] == 0
    updated_release(db)
    code, _ = invoke("convert", str(db), "-o", str(tmp_path / "two"), "-f", nquads, "-q")
    assert code == 0
    new = tmp_path / "two" / f"pfocr.{nquads}"
    code, out = invoke("load", str(new), "--store", str(folder))
    assert code == 0
    assert "figure graphs: 1 added, 1 replaced, 1 removed, 2 unchanged" in out, out
    # the store holds what a store built from the new release and the excerpt holds
    rebuilt = tmp_path / "rebuilt"
    assert invoke("load", str(new), str(excerpt), "--store", str(rebuilt))[0] == 0
    assert set(ox.Store(str(folder))) == set(ox.Store(str(rebuilt)))
    # RAF1 and DUSP6 were only in the removed figure: their facts are gone; ELK1 (excerpt) stays
    updated = ox.Store(str(folder))
    assert not list(updated.quads_for_pattern(ox.NamedNode(f"{GENE}5894"), None, None))
    assert list(updated.quads_for_pattern(ox.NamedNode(f"{GENE}2002"), None, None))


def test_an_update_answers_every_bundled_query_as_a_rebuilt_store(tmp_path: Path) -> None:
    db, folder, rebuilt = tmp_path / "db", tmp_path / "store", tmp_path / "rebuilt"
    shutil.copytree(EXAMPLES, db)
    assert invoke("convert", str(db), "-o", str(tmp_path / "o"), "--store", str(folder))[0] == 0
    updated_release(db)
    code, out = invoke("convert", str(db), "-o", str(tmp_path / "o"), "--store", str(folder))
    assert code == 0 and "1 added, 1 replaced, 1 removed, 2 unchanged" in out, out
    assert invoke("load", str(tmp_path / "o" / "pfocr.nt"), "--store", str(rebuilt))[0] == 0
    for name, binds in EXPECTED:
        assert rows(["--store", str(folder)], name, binds) == rows(
            ["--store", str(rebuilt)], name, binds
        ), name


def test_an_interrupted_update_is_done_again_by_the_next_load(tmp_path: Path) -> None:
    db, folder = tmp_path / "db", tmp_path / "store"
    shutil.copytree(EXAMPLES, db)
    invoke("convert", str(db), "-o", str(tmp_path / "one"), "-f", "nq", "-q")
    invoke("load", str(tmp_path / "one" / "pfocr.nq"), "--store", str(folder))
    updated_release(db)
    invoke("convert", str(db), "-o", str(tmp_path / "two"), "-f", "nq", "-q")
    new = tmp_path / "two" / "pfocr.nq"
    # an update stopped half-way: the new figure loaded, nothing else, the note not written
    half = ox.Store(str(folder))
    added = ox.NamedNode("https://pfocr.wikipathways.org/figures/PMC9000004__ex-new-f1.html")
    half.extend(q for q in ox.parse(path=new) if q.graph_name == added)
    del half
    code, out = invoke("load", str(new), "--store", str(folder))
    assert code == 0 and "1 removed" in out, out
    rebuilt = tmp_path / "rebuilt"
    invoke("load", str(new), "--store", str(rebuilt))
    assert set(ox.Store(str(folder))) == set(ox.Store(str(rebuilt)))
    # without any note (a store loaded by an older version): every graph replaced, and the
    # graphs of records that are gone removed
    shutil.rmtree(folder / "pfocr-rdf")
    code, out = invoke("load", str(tmp_path / "one" / "pfocr.nq"), "--store", str(folder))
    assert code == 0 and "figure graphs" not in out
    assert len(list(ox.Store(str(folder)).named_graphs())) == 4


def test_a_damaged_note_or_a_foreign_index_is_never_trusted(tmp_path: Path) -> None:
    out, folder = tmp_path / "out", tmp_path / "store"
    invoke("convert", str(EXAMPLES), "-o", str(out), "-f", "nq", "-q")
    invoke("load", str(out / "pfocr.nq"), "--store", str(folder))
    (folder / "pfocr-rdf" / "graphs.tsv").write_text("not a note")
    code, text = invoke("load", str(out / "pfocr.nq"), "--store", str(folder))
    assert code == 0 and "is damaged: every figure graph was replaced" in text, text
    assert len(ox.Store(str(folder))) == 521
    code, text = invoke("load", str(out / "pfocr.nq"), "--store", str(folder))
    assert code == 0 and "4 unchanged" in text, text  # the note was written again
    # an index beside a file it was not written for (another run's N-Quads)
    other = tmp_path / "other"
    invoke(
        "convert",
        str(EXAMPLES / "_figures" / "PMC9000003__ex-p53-f1.md"),
        "-o",
        str(other),
        "-f",
        "nq",
        "-q",
    )
    (out / "pfocr.nq.graphs.tsv").replace(other / "pfocr.nq.graphs.tsv")
    code, text = invoke("load", str(other / "pfocr.nq"), "--store", str(folder))
    assert code == 1 and "is not the graph index of" in text and "Traceback" not in text


def test_a_piped_table_never_cuts_an_iri(store: Path) -> None:
    long = "https://example.org/" + "a-rather-long-path-segment/" * 6
    query = f'SELECT ?iri ?label WHERE {{ BIND(<{long}> AS ?iri) BIND("x" AS ?label) }}'
    code, out = invoke("query", "--store", str(store), query)
    assert code == 0
    (row,) = [line for line in out.splitlines() if "https://" in line]
    assert row.split() == [long, "x"]
    assert out.rstrip().endswith("1 row")


def test_construct_without_format_gives_turtle(store: Path) -> None:
    query = "CONSTRUCT { ?g rdfs:label ?s } WHERE { ?g a wp:GeneProduct ; rdfs:label ?s }"
    result = CliRunner().invoke(cli, ["query", "--store", str(store), query])
    assert result.exit_code == 0, result.output
    labels = list(ox.parse(result.stdout_bytes, format=ox.RdfFormat.TURTLE))
    # 14 genes with NCBI Gene ids in the examples, each labelled with its symbol
    assert len(labels) == 14 and {t.object.value for t in labels} >= {"MAPK1", "Hk2"}
    described = CliRunner().invoke(cli, ["query", "--store", str(store), "DESCRIBE ncbigene:5594"])
    assert described.exit_code == 0 and list(
        ox.parse(described.stdout_bytes, format=ox.RdfFormat.TURTLE)
    )


def test_one_file_loaded_is_said_in_the_singular(converted: Path, tmp_path: Path) -> None:
    code, out = invoke("load", str(converted / "pfocr.nq"), "--store", str(tmp_path / "db"))
    assert code == 0 and out.startswith("loaded 1 file: 521 quads in 4 named graphs, ")
