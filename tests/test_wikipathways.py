"""WikiPathways' own query patterns answer on PFOCR exactly what the sidecars say.

The queries are written the way WikiPathways' public query collection writes them
(``wp:Pathway``, ``dc:identifier``, ``dc:title``, ``dcterms:identifier``, ``wp:DataNode``,
``wp:bdb*``, ``wp:organismName``), with the prefixes WikiPathways' query page declares. The
expected answers are read from the sidecars here, with the csv module, not by the converter.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, PROJECT, REAL, SAMPLE

from converter.cli import cli
from converter.convert import ConvertOptions, convert_to_folder
from converter.model import MISSING
from converter.query import rows_from_json

PREFIXES = """
PREFIX wp: <http://vocabularies.wikipathways.org/wp#>
PREFIX dc: <http://purl.org/dc/elements/1.1/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""
HUMAN = "9606"


@dataclass
class Sidecars:
    """What the sidecars of a pfocr-database folder say, per figid."""

    figids: set[str] = field(default_factory=set)
    genes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    symbols: dict[str, str] = field(default_factory=dict)  # gene id -> symbol
    gene_taxon: dict[str, str] = field(default_factory=dict)  # gene id -> taxid
    taxa: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    taxon_names: dict[str, str] = field(default_factory=dict)
    chebi: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def given(value: str | None) -> str | None:
    return None if value is None or value.strip() in MISSING else value.strip()


def read_sidecars(folder: Path) -> Sidecars:
    said = Sidecars(figids={p.stem for p in (folder / "_figures").glob("*.md")})
    for table in sorted((folder / "_data").glob("*.tsv")):
        figid, kind = table.stem.rsplit("-", 1)
        if figid not in said.figids:  # an orphan sidecar: no figure to be part of
            continue
        with open(table, encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE):
                if kind == "genes" and (gene := given(row["ncbigene_id"])):
                    said.genes[figid].add(gene)
                    if symbol := given(row["ncbigene_symbol"]):
                        said.symbols[gene] = symbol
                    if taxid := given(row["organism_id"]):
                        said.gene_taxon[gene] = taxid
                        said.taxa[figid].add(taxid)
                        if name := given(row.get("organism_name")):
                            said.taxon_names.setdefault(taxid, name)
                elif kind == "chemicals":
                    if chebi := given(row.get("chebi")):  # chebi:<n>
                        said.chebi[figid].add(chebi.split(":")[-1])
                    elif (given(row.get("source")) or "").lower() == "chebi":  # older layout
                        said.chebi[figid].add((given(row["identifier"]) or "").split(":")[-1])
    return said


@pytest.fixture(scope="module", params=["examples", "sample", "real"])
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ox.Store, Sidecars]:
    folder = {"examples": EXAMPLES, "sample": SAMPLE, "real": REAL}[request.param]
    if not (folder / "_figures").is_dir():
        pytest.skip(f"{folder} is not present")
    out = tmp_path_factory.mktemp(f"{request.param}-out")
    summary, _ = convert_to_folder([str(folder)], out, ConvertOptions(formats=["nq"]))
    said = read_sidecars(folder)
    assert summary.converted == len(said.figids)  # every record is in the graph
    store = ox.Store()
    store.bulk_load(path=out / "pfocr.nq", format=ox.RdfFormat.N_QUADS)
    return store, said


def select(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(term.value for term in row) for row in solutions]


def test_genes_of_each_figure(corpus: tuple[ox.Store, Sidecars]) -> None:
    store, said = corpus
    for figid in said.figids:
        found = select(
            store,
            f"""SELECT DISTINCT ?id WHERE {{
                ?pathway a wp:Pathway ; dcterms:identifier "{figid}" .
                ?gene a wp:GeneProduct ; dcterms:isPartOf ?pathway ; dcterms:identifier ?id .
            }}""",
        )
        assert {id_ for (id_,) in found} == said.genes.get(figid, set()), figid


def test_metabolites_of_each_figure(corpus: tuple[ox.Store, Sidecars]) -> None:
    store, said = corpus
    for figid in said.figids:
        found = select(
            store,
            f"""SELECT DISTINCT ?chebi WHERE {{
                ?pathway a wp:Pathway ; dcterms:identifier "{figid}" .
                ?metabolite a wp:Metabolite ; dcterms:isPartOf ?pathway ; wp:bdbChEBI ?chebi .
            }}""",
        )
        expected = {f"https://identifiers.org/chebi/CHEBI:{n}" for n in said.chebi.get(figid, ())}
        assert {chebi for (chebi,) in found} == expected, figid


def test_figure_gene_pairs_for_ncbi_gene(corpus: tuple[ox.Store, Sidecars]) -> None:
    # WikiPathways' "pathways for a data source" pattern, with wp:bdbEntrezGene
    store, said = corpus
    found = select(
        store,
        """SELECT DISTINCT ?wpid ?identifier WHERE {
            ?gene dcterms:identifier ?id ; dcterms:isPartOf ?pathwayRes ;
                  wp:bdbEntrezGene ?identifier .
            ?pathwayRes a wp:Pathway ; dcterms:identifier ?wpid ; dc:title ?title .
        }""",
    )
    expected = {
        (figid, f"https://identifiers.org/ncbigene/{gene}")
        for figid, genes in said.genes.items()
        for gene in genes
    }
    assert set(found) == expected


def test_data_node_and_gene_product_counts(corpus: tuple[ox.Store, Sidecars]) -> None:
    store, said = corpus
    genes = set().union(*said.genes.values())
    compounds = set().union(*said.chebi.values())
    count = "SELECT (COUNT(DISTINCT ?node) AS ?n) WHERE {{ ?node a {} }}"
    assert select(store, count.format("wp:DataNode")) == [(str(len(genes) + len(compounds)),)]
    assert select(store, count.format("wp:GeneProduct")) == [(str(len(genes)),)]
    assert select(store, count.format("wp:Metabolite")) == [(str(len(compounds)),)]


def test_linkout_counts(corpus: tuple[ox.Store, Sidecars]) -> None:
    # WikiPathways' linkout-counts query
    store, said = corpus
    found = select(
        store,
        """SELECT ?pred (COUNT(DISTINCT ?entity) AS ?count) WHERE {
            VALUES ?pred { wp:bdbChEBI wp:bdbEntrezGene wp:bdbHgncSymbol }
            ?entity ?pred []
        } GROUP BY ?pred""",
    )
    genes = set().union(*said.genes.values())
    human = {g for g in genes if said.gene_taxon.get(g) == HUMAN and g in said.symbols}
    wp = "http://vocabularies.wikipathways.org/wp#"
    expected = {
        f"{wp}bdbEntrezGene": len(genes),
        f"{wp}bdbChEBI": len(set().union(*said.chebi.values())),
        f"{wp}bdbHgncSymbol": len(human),
    }
    assert {pred: int(n) for pred, n in found} == {k: v for k, v in expected.items() if v}


def test_hgnc_symbols_are_the_human_genes_symbols(corpus: tuple[ox.Store, Sidecars]) -> None:
    store, said = corpus
    found = select(
        store, "SELECT ?id ?hgnc WHERE { ?g wp:bdbHgncSymbol ?hgnc ; dcterms:identifier ?id }"
    )
    assert found
    for gene, hgnc in found:
        assert said.gene_taxon[gene] == HUMAN
        assert hgnc == f"https://identifiers.org/hgnc.symbol/{said.symbols[gene]}"


def test_pathways_for_a_species(corpus: tuple[ox.Store, Sidecars]) -> None:
    # WikiPathways' "pathways for a species" pattern finds every figure with genes of it,
    # figures of several species included
    store, said = corpus
    for taxid, name in said.taxon_names.items():
        found = select(
            store,
            f"""SELECT DISTINCT ?wpIdentifier WHERE {{
                ?pathway dc:title ?title ; dcterms:identifier ?wpIdentifier ;
                         dc:identifier ?identifier ; wp:organismName "{name}" .
            }}""",
        )
        expected = {figid for figid, taxa in said.taxa.items() if taxid in taxa}
        assert {figid for (figid,) in found} == expected, name


def test_figures_for_a_species_include_figures_of_several(
    corpus: tuple[ox.Store, Sidecars],
) -> None:
    store, said = corpus
    found = select(
        store,
        """SELECT DISTINCT ?figid ?taxon ?name WHERE {
            ?figure a wp:Pathway ; dcterms:identifier ?figid ; wp:organism ?taxon .
            ?taxon rdfs:label ?name .
        }""",
    )
    taxon = "http://purl.obolibrary.org/obo/NCBITaxon_"
    expected = {
        (figid, f"{taxon}{taxid}", said.taxon_names[taxid])
        for figid, taxa in said.taxa.items()
        for taxid in taxa
    }
    assert set(found) == expected


def test_organism_names_pair_with_their_taxa(corpus: tuple[ox.Store, Sidecars]) -> None:
    # a figure names each of its taxa; pairing wp:organism with wp:organismName on the
    # figure (WikiPathways' "pathways per species") gives n x n rows for n taxa, going
    # through the taxon's label gives each taxon with its own name
    store, said = corpus
    paired = select(
        store,
        """SELECT DISTINCT ?pw ?organism ?label WHERE {
            ?pw dc:title ?title ; wp:organism ?organism ; wp:organismName ?label .
        }""",
    )
    assert len(paired) == sum(len(taxa) ** 2 for taxa in said.taxa.values())
    through_taxon = select(
        store,
        """SELECT DISTINCT ?figid ?organism ?label WHERE {
            ?pw dcterms:identifier ?figid ; wp:organism ?organism ; wp:organismName ?label .
            ?organism rdfs:label ?label .
        }""",
    )
    taxon = "http://purl.obolibrary.org/obo/NCBITaxon_"
    expected = {
        (figid, f"{taxon}{taxid}", said.taxon_names[taxid])
        for figid, taxa in said.taxa.items()
        for taxid in taxa
    }
    assert set(through_taxon) == expected and len(through_taxon) == len(expected)


def test_join_with_wikipathways_rdf(tmp_path: Path) -> None:
    # examples/ loaded beside a hand-written excerpt in WikiPathways RDF's form: WP382 with
    # MAPK1, MAPK3, KRAS and ELK1 (ELK1 is in no example figure)
    runner = CliRunner()
    out, store = tmp_path / "out", str(tmp_path / "store")
    assert (
        runner.invoke(cli, ["convert", str(EXAMPLES), "-o", str(out), "-f", "nq", "-q"]).exit_code
        == 0
    )
    excerpt = PROJECT / "tests" / "data" / "wikipathways-excerpt.ttl"
    loaded = runner.invoke(cli, ["load", str(out / "pfocr.nq"), str(excerpt), "--store", store])
    assert loaded.exit_code == 0, loaded.output

    def rows(*args: str) -> list[list[str]]:
        result = runner.invoke(cli, ["query", "--store", store, *args, "-f", "json"])
        assert result.exit_code == 0, result.output
        return rows_from_json(result.stdout.encode())[1]

    g001, g002 = "PMC9000001__ex-mapk-g001", "PMC9000001__ex-mapk-g002"
    assert rows("wikipathways-overlap", "--bind", "wpid=WP382") == [
        ["WP382", "MAPK signaling", g001, "3"],  # MAPK1, MAPK3, KRAS
        ["WP382", "MAPK signaling", g002, "2"],  # MAPK1, MAPK3
    ]
    gene = "https://identifiers.org/ncbigene/5594"
    assert rows("pathways-of-gene", "--bind", f"id=<{gene}>") == [
        [gene, g001, "EGFR to ERK signaling through the RAS-RAF-MEK cascade", "PFOCR"],
        [gene, g002, "ERK feedback on SOS1 and RAF", "PFOCR"],
        [gene, "WP382", "MAPK signaling", "Wikipathways"],
    ]
    # what tells them apart: only PFOCR figures are pfocr:Figure
    figures = rows(
        "PREFIX pfocr: <https://pfocr.wikipathways.org/vocab#> "
        "PREFIX wp: <http://vocabularies.wikipathways.org/wp#> "
        "SELECT (COUNT(?p) AS ?n) WHERE { ?p a wp:Pathway FILTER NOT EXISTS { ?p a pfocr:Figure } }"
    )
    assert figures == [["1"]]
