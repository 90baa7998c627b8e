"""Test helpers: hand-written records in pfocr-database layout."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

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
