"""Expand stage: offline pyld expansion of schema-jsonld, with the design.md fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import parse_nt, record_text, value

from converter.expand import expand, offline_loader
from converter.model import Record, RecordError, Sidecars, Stage
from converter.read import parse_front_matter

F = "https://pfocr.wikipathways.org/figures/PMC1234567__test-f1.html"


def record(**fields: str) -> Record:
    front = parse_front_matter("t.md", record_text(**fields))
    return Record("t.md", "PMC1234567__test-f1", front, Sidecars())


def test_expanded_description_hand_checked() -> None:
    expected = parse_nt(f"""
<{F}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://schema.org/Dataset> .
<{F}> <http://schema.org/description> "A test caption." .
<{F}> <http://schema.org/license> <https://creativecommons.org/publicdomain/zero/1.0/> .
<{F}> <http://schema.org/creator> <{F}#creator> .
<{F}#creator> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://schema.org/Organization> .
<{F}#creator> <http://schema.org/name> "WikiPathways" .
<{F}> <http://schema.org/keywords> "TP53" .
<{F}> <http://schema.org/keywords> "MDM2" .
""")
    assert set(expand(record())) == expected


def test_keywords_yaml_would_type_stay_text() -> None:
    triples = expand(record(keywords="  - On\n  - NO\n  - 1e5\n  - 2001-01-01\n  - ~\n  - NA"))
    keywords = {value(t.object) for t in triples if value(t.predicate).endswith("keywords")}
    assert keywords == {"On", "NO", "1e5", "2001-01-01"}


def test_no_blank_nodes_and_same_iris_every_run() -> None:
    first, second = expand(record()), expand(record())
    assert first == second
    assert all(not value(t.subject).startswith("_:") for t in first)


@pytest.mark.parametrize(
    "context",
    [
        "https://example.org/context.jsonld",
        '\'{"@vocab": "http://evil.example/"}\'',
        "\n    '@vocab': http://evil.example/\n    name: http://evil.example/name",
    ],
)
def test_other_contexts_are_refused(context: str, no_network: list[object]) -> None:
    with pytest.raises(RecordError, match=r"must be the schema\.org context") as err:
        expand(record(context=context))
    assert err.value.stage is Stage.EXPAND
    assert no_network == []


def test_loader_refuses_every_other_url() -> None:
    with pytest.raises(Exception, match="refusing to fetch"):
        offline_loader("https://example.org/x.jsonld")


def test_expansion_opens_no_socket(no_network: list[object]) -> None:
    assert len(expand(record())) == 8
    assert no_network == []


def test_id_must_agree_with_figid() -> None:
    with pytest.raises(RecordError, match=r"means 'https://pfocr\.wikipathways\.org/figures/PMC"):
        expand(record(jsonld_id="https://pfocr.wikipathways.org/figures/PMC1__other.html"))


def test_license_that_is_neither_cc0_nor_an_iri_is_refused() -> None:
    rec = record()
    rec.front["schema-jsonld"]["license"] = "All rights reserved"
    with pytest.raises(RecordError, match="neither CC0 nor an absolute IRI"):
        expand(rec)


def test_keywords_must_be_a_list() -> None:
    rec = record()
    rec.front["schema-jsonld"]["keywords"] = "TP53, MDM2"
    with pytest.raises(RecordError, match="keywords must be a list"):
        expand(rec)


def test_context_file_ships_in_the_package() -> None:
    import converter

    bundled = Path(converter.__file__).parent / "data" / "schemaorg-context-30.0.jsonld"
    assert bundled.stat().st_size > 100_000
