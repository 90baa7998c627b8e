"""Every layout of the real database, on hand-written records (tests/data/layouts/): the
older front matter with inline lists, a 10-column genes table, the older diseases layout,
and the OCR word NA that found the Drosophila gene na."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import PROJECT, genes_tsv, record_text, write_db

import converter
from converter.convert import ConvertOptions, convert_to_folder

LAYOUTS = PROJECT / "tests" / "data" / "layouts"
FIG = "https://pfocr.wikipathways.org/figures/"
OLDER = f"{FIG}PMC7000001__older-inline-f1.html"
TEN = f"{FIG}PMC7000002__ten-columns-f2.html"
PF = "https://pfocr.wikipathways.org/vocab#"
GENE = "https://identifiers.org/ncbigene/"
MESH = "http://id.nlm.nih.gov/mesh/"
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
PREFIXES = """
PREFIX schema: <http://schema.org/>
PREFIX pfocr: <https://pfocr.wikipathways.org/vocab#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX wp: <http://vocabularies.wikipathways.org/wp#>
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    out = tmp_path_factory.mktemp("layouts")
    summary, _ = convert_to_folder([str(LAYOUTS)], out, ConvertOptions(formats=["nq"]))
    assert (summary.read, summary.converted, summary.violations) == (2, 2, 0)
    graph = ox.Store()
    graph.bulk_load(path=out / "pfocr.nq", format=ox.RdfFormat.N_QUADS)
    return graph


def select(store: ox.Store, query: str) -> set[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return {tuple(term.value for term in row) for row in solutions}


def mentions(store: ox.Store, figure: str) -> set[tuple[str, ...]]:
    """(entity, OCR word, matched text or '', match source or '') of each mention."""
    return select(
        store,
        f"""SELECT ?entity ?word ?match ?source WHERE {{
            <{figure}> pfocr:hasMention ?m . ?m pfocr:mentionOf ?entity ; pfocr:ocrText ?word .
            OPTIONAL {{ ?m pfocr:matchedText ?mt }} OPTIONAL {{ ?m pfocr:matchSource ?ms }}
            BIND(COALESCE(?mt, "") AS ?match) BIND(COALESCE(?ms, "") AS ?source)
        }}""",
    )


def test_older_front_matter_without_sidecars_takes_its_inline_lists(store: ox.Store) -> None:
    # the inline genes list: entrez is the id, hgnc_symbol the symbol, symbol the matched
    # text; the PI3K item has no entrez and makes nothing. Chemicals and diseases in the
    # word, source, identifier form: MESH ids are MeSH, CHEBI ids ChEBI; Cancer has none.
    chebi = "https://identifiers.org/chebi/CHEBI:16618"
    assert mentions(store, OLDER) == {
        (f"{GENE}3643", "Insulin receptor", "INSULINRECEPTOR", "hgnc_alias_name"),
        (f"{GENE}207", "AKT", "AKT", "bioentities_symbol"),
        (f"{GENE}208", "AKT", "AKT", "bioentities_symbol"),
        (f"{MESH}D005947", "Glucose", "", "MESH"),
        (chebi, "PIP3", "", "CHEBI"),
        (f"{MESH}D003920", "Diabetes", "", "MESH"),
    }
    # the list has no organism: no taxon, no wp:organismName, no HGNC link
    assert select(store, f"SELECT ?o WHERE {{ <{OLDER}> wp:organism|wp:organismName ?o }}") == set()
    assert select(store, f"SELECT ?s WHERE {{ <{GENE}207> wp:bdbHgncSymbol ?s }}") == set()
    assert select(store, f"SELECT ?s WHERE {{ <{GENE}207> rdfs:label ?s }}") == {("AKT1",)}
    # pathway_score is the classifier score; organisms, a plain string, is one name
    found = select(
        store,
        f"SELECT ?p ?o WHERE {{ <{OLDER}> pfocr:pathwayScore|pfocr:organismName ?o ; ?p ?o }}",
    )
    assert found == {(f"{PF}pathwayScore", "0.8123"), (f"{PF}organismName", "Homo sapiens")}


def test_a_sidecar_wins_over_the_inline_list(store: ox.Store) -> None:
    genes = select(store, f"SELECT ?g WHERE {{ <{TEN}> schema:mentions ?g ; a wp:Pathway }}")
    assert (f"{GENE}1",) not in genes and (f"{GENE}45338",) in genes


def test_ten_column_genes_and_older_diseases(store: ox.Store) -> None:
    # the OCR word NA (and its match NA) of the fly gene na are text; the row whose id is
    # NaN makes nothing; count_direct NA makes no count; there is no count_synonym column
    # (chemicals: NA is the word that found sodium; the TTX row's match is missing)
    assert mentions(store, TEN) == {
        (f"{GENE}45338", "NA", "NA", "ncbigene_symbol"),
        (f"{GENE}20271", "Nav1.5", "NAV1.5", "ncbigene_synonym"),
        (f"{MESH}D012964", "NA", "Sodium", ""),
        (f"{MESH}D014118", "TTX", "", ""),
        (f"{MESH}D001145", "Arrhythmia", "", "MESH"),
        (f"{MESH}D004827", "epilepsy", "", "mesh"),
    }
    counts = select(
        store,
        f"""SELECT ?gene ?p ?n WHERE {{ <{TEN}> pfocr:hasMention ?m .
            ?m pfocr:mentionOf ?gene ; ?p ?n . FILTER(isNumeric(?n)) }}""",
    )
    assert counts == {
        (f"{GENE}45338", f"{PF}directCount", "3"),
        (f"{GENE}45338", f"{PF}matchCount", "5"),
        (f"{GENE}20271", f"{PF}matchCount", "2"),
    }
    diseases = select(
        store, f"SELECT ?d WHERE {{ <{TEN}> schema:mentions ?d . ?d a schema:MedicalCondition }}"
    )
    assert diseases == {(f"{MESH}D001145",), (f"{MESH}D004827",)}


def test_a_figure_names_each_of_its_taxa(store: ox.Store) -> None:
    # WikiPathways' species query finds the figure for each species of its genes
    for name in ("Drosophila melanogaster", "Mus musculus"):
        found = select(store, f'SELECT ?f WHERE {{ ?f a wp:Pathway ; wp:organismName "{name}" }}')
        assert found == {(TEN,)}, name
    through_taxon = select(
        store,
        f"""SELECT ?taxon ?name WHERE {{ <{TEN}> wp:organism ?taxon ; wp:organismName ?name .
            ?taxon rdfs:label ?name }}""",
    )
    assert through_taxon == {
        (f"{TAXON}7227", "Drosophila melanogaster"),
        (f"{TAXON}10090", "Mus musculus"),
    }


def test_an_inline_list_that_is_not_a_list_rejects_the_record(tmp_path: Path) -> None:
    text = (LAYOUTS / "_figures" / "PMC7000001__older-inline-f1.md").read_text()
    broken = text.replace("diseases:\n- word: Diabetes", "diseases: Diabetes\nx:\n- word: Diabetes")
    (tmp_path / "_figures").mkdir()
    (tmp_path / "_figures" / "PMC7000001__older-inline-f1.md").write_text(broken)
    summary, _ = convert_to_folder([str(tmp_path)], tmp_path / "out", ConvertOptions(["nt"]))
    assert summary.rejected == 1
    (row,) = (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()
    assert '"stage": "record", "reason": "field \'diseases\' must be a list"' in row


def test_an_odd_value_in_one_row_costs_a_warning_not_the_figure(tmp_path: Path) -> None:
    # a count that is no number (kept as the text written), a row without its OCR word, and
    # two rows of one mention disagreeing on a count: the figure and its other gene stay
    rows = (
        "9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\t7157\tx\t3a\t0\t1",
        "9606\tHomo sapiens\tPrimates\tNaN\tMDM2\tMDM2\t4193\tx\t1\t0\t1",
        "9606\tHomo sapiens\tPrimates\tTP53\tTP53\tTP53\t7157\tx\t3\t0\t2",
    )
    db = write_db(
        tmp_path, {"PMC1__odd": record_text("PMC1__odd")}, {"PMC1__odd-genes.tsv": genes_tsv(*rows)}
    )
    result = converter.convert([str(db)])
    assert (result.summary.converted, result.summary.violations) == (1, 0)
    warned = {(f["path"].rpartition("#")[2], f["severity"]) for f in result.findings}
    assert warned == {("directCount", "Warning"), ("matchCount", "Warning"), ("ocrText", "Warning")}
    store = result.oxigraph()
    counts = select(
        store, f"SELECT ?n WHERE {{ ?m pfocr:mentionOf <{GENE}7157> ; pfocr:directCount ?n }}"
    )
    assert counts == {("3a",), ("3",)}
    genes = select(store, "SELECT ?g WHERE { ?f a wp:Pathway ; schema:mentions ?g }")
    assert genes == {(f"{GENE}7157",), (f"{GENE}4193",)}


def test_an_inline_list_item_left_out_is_named(tmp_path: Path) -> None:
    text = (LAYOUTS / "_figures" / "PMC7000001__older-inline-f1.md").read_text()
    (tmp_path / "_figures").mkdir()
    path = tmp_path / "_figures" / "PMC7000001__older-inline-f1.md"
    path.write_text(text.replace("entrez: '207'", "entrez: AKT1"))
    result = converter.convert([str(path)])
    assert (result.summary.converted, result.summary.violations) == (1, 0)
    (finding,) = [f for f in result.findings if f["path"].endswith("#leftOutRow")]
    assert finding["value"] == "genes list, item 2: ncbigene_id 'AKT1' is malformed"
    assert finding["severity"] == "Warning"
