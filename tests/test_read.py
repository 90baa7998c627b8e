"""Read stage: discovery, front matter, YAML typing, sidecars."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import pytest
from helpers import genes_tsv, record_text, write_db

from converter.model import RecordError, Source, Stage
from converter.read import (
    count_records,
    discover,
    load_record,
    orphan_sidecars,
    parse_front_matter,
)


def front(yaml_body: str) -> dict[str, object]:
    return parse_front_matter("t.md", f"---\n{yaml_body}\n---\n")


@pytest.mark.parametrize(
    "written, expected",
    [
        ("On", "On"),
        ("off", "off"),
        ("NO", "NO"),
        ("yes", "yes"),
        ("1e5", "1e5"),
        ("0x1F", "0x1F"),
        ("2001-01-01", "2001-01-01"),
        ("007", "007"),
        ("1.50", "1.50"),
        ("'quoted'", "quoted"),
        ("!!int 12", "12"),
    ],
)
def test_scalars_stay_the_text_written(written: str, expected: str) -> None:
    assert front(f"keywords:\n- {written}") == {"keywords": [expected]}


@pytest.mark.parametrize("written", ["~", "null", "Null", ""])
def test_yaml_nulls_are_none(written: str) -> None:
    assert front(f"doi: {written}") == {"doi": None}


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n"
    with pytest.raises(RecordError, match="aliases") as err:
        front(bomb)
    assert err.value.stage is Stage.YAML


@pytest.mark.parametrize(
    "text, message",
    [
        ("no front matter here\n", "no YAML front matter"),
        ("---\nfigid: x\n", "unterminated"),
        ("---\nfigid: [unclosed\n---\n", "invalid YAML front matter at line"),
        ("---\n- a\n- b\n---\n", "front matter is a list"),
        ("---\njust text\n---\n", "front matter is a str"),
        ("---\n---\n", "front matter is empty"),
        ("---\nx: !!python/object:os.system echo\n---\n", "not allowed"),
        ("---\nx: !!binary aGVsbG8=\n---\n", "not allowed"),
    ],
)
def test_bad_front_matter_says_why(text: str, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse_front_matter("t.md", text)


def test_yaml_error_names_the_line_of_the_file() -> None:
    # line 1 is '---', so the bad line 3 of the file is line 2 of the YAML
    with pytest.raises(RecordError, match="line 3, column 11: mapping values are not allowed"):
        parse_front_matter("t.md", "---\nfigid: a\nkey: value: other\n---\n")


def test_crlf_and_bom_are_accepted(tmp_path: Path) -> None:
    text = "\ufeff" + record_text().replace("\n", "\r\n")
    path = tmp_path / "PMC1234567__test-f1.md"
    path.write_bytes(text.encode("utf-8"))
    record = load_record(Source(name=str(path), path=path))
    assert record.figid == "PMC1234567__test-f1"
    assert record.front["schema-jsonld"]["keywords"] == ["TP53", "MDM2"]


def test_gzip_record(tmp_path: Path) -> None:
    path = tmp_path / "PMC1234567__test-f1.md.gz"
    path.write_bytes(gzip.compress(record_text().encode()))
    assert load_record(Source(name=str(path), path=path)).figid == "PMC1234567__test-f1"


def test_figid_must_match_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "PMC1__other.md"
    path.write_text(record_text())
    with pytest.raises(RecordError, match="file name says 'PMC1__other'"):
        load_record(Source(name=str(path), path=path))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not valid UTF-8"),
        (b"---\nfigid: caf\xe9\n---\n", "not valid UTF-8 text \\(line 2"),
        (b"\x1f\x8b\x08\x00broken", "not a valid gzip file"),
    ],
)
def test_unreadable_bytes(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(content)
    with pytest.raises(RecordError, match=message):
        load_record(Source(name=str(path), path=path))


def test_discover_database_folder_pairs_records_with_data(tmp_path: Path) -> None:
    db = write_db(
        tmp_path / "db",
        {"PMC2__b": record_text("PMC2__b"), "PMC1__a": record_text("PMC1__a")},
        {"PMC1__a-genes.tsv": genes_tsv(), "PMC9__gone-genes.tsv": genes_tsv()},
    )
    sources = list(discover([str(db)]))
    assert [s.stem_figid for s in sources] == ["PMC1__a", "PMC2__b"]
    assert all(s.data_dir == db / "_data" for s in sources)
    assert orphan_sidecars([str(db)]) == [str(db / "_data" / "PMC9__gone-genes.tsv")]
    assert count_records([str(db), "-"]) == 3


def test_a_record_alone_has_no_sidecars(tmp_path: Path) -> None:
    (tmp_path / "PMC1__a.md").write_text(record_text("PMC1__a"))
    (source,) = discover([str(tmp_path / "PMC1__a.md")])
    assert source.data_dir is None
    assert load_record(source).sidecars.genes == []


def test_discover_recurses_and_survives_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "PMC1__a.md").write_text(record_text("PMC1__a"))
    (tmp_path / "a" / "top.md.gz").write_bytes(gzip.compress(b"x"))
    (tmp_path / "a" / "notes.txt").write_text("not a record")
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")
    names = [Path(s.name).name for s in discover([str(tmp_path)])]
    assert names == ["top.md.gz", "PMC1__a.md"]


def test_stdin_is_one_record() -> None:
    (source,) = discover(["-"], stdin=io.BytesIO(record_text().encode()))
    assert source.name == "<stdin>"
    assert load_record(source).figid == "PMC1234567__test-f1"


def test_sidecars_both_chemical_layouts(tmp_path: Path) -> None:
    db = write_db(
        tmp_path,
        {"PMC1__a": record_text("PMC1__a"), "PMC2__b": record_text("PMC2__b")},
        {
            "PMC1__a-chemicals.tsv": "word\tmesh\tmatch\tname\tchebi\n"
            "ATP\tmesh:D000255\tAdenosine Triphosphate\tATP\tchebi:15422\n",
            "PMC2__b-chemicals.tsv": "word\tsource\tidentifier\nPGE2\tMESH\tD015232\n",
        },
    )
    a, b = (load_record(s) for s in discover([str(db)]))
    assert a.sidecars.chemicals[0].values["chebi"] == "chebi:15422"
    assert b.sidecars.chemicals[0].values == {
        "word": "PGE2",
        "source": "MESH",
        "identifier": "D015232",
    }
    assert b.sidecars.chemicals[0].line == 2


@pytest.mark.parametrize(
    "table, message",
    [
        ("word\tsymbol\nX\tY\n", "genes table has columns word, symbol"),
        (genes_tsv("9606\tHomo sapiens\tPrimates\tTP53"), "line 2 has 4 fields, the header has 11"),
    ],
)
def test_malformed_sidecar_names_file_and_line(tmp_path: Path, table: str, message: str) -> None:
    db = write_db(tmp_path, {"PMC1__a": record_text("PMC1__a")}, {"PMC1__a-genes.tsv": table})
    (source,) = discover([str(db)])
    with pytest.raises(RecordError, match=message) as err:
        load_record(source)
    assert err.value.file is not None and err.value.file.endswith("PMC1__a-genes.tsv")
