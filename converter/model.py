"""The data that flows between the stages: inputs, parsed records, results, rejections."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class Stage(str, Enum):
    """The pipeline stage at which a record was rejected (the ``stage`` of a rejects row)."""

    READ = "read"
    YAML = "yaml"
    RECORD = "record"
    SIDECAR = "sidecar"
    EXPAND = "expand"
    ENRICH = "enrich"
    VALIDATE = "validate"
    DUPLICATE = "duplicate"


class RecordError(Exception):
    """A record cannot be converted; carries the stage and a reason a person understands."""

    def __init__(self, stage: Stage, reason: str, file: str | None = None) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason
        self.file = file


@dataclass(frozen=True)
class Source:
    """One input record as found on disk or on standard input, not yet read."""

    name: str
    """What the user sees in messages: the path as given, or ``<stdin>``."""
    path: Path | None = None
    data: bytes | None = None
    """The record's bytes when it came from standard input."""
    data_dir: Path | None = None
    """The pfocr-database ``_data`` folder holding this record's sidecars, if any."""
    key: str | None = None
    """A digest of the record's inputs (its absolute path, bytes and sidecars), when the
    run keeps what it converts for the next run."""

    @property
    def stem_figid(self) -> str | None:
        """The figid the file name promises (``<figid>.md`` or ``<figid>.md.gz``)."""
        if self.path is None:
            return None
        name = self.path.name
        for suffix in (".md.gz", ".md"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return None


@dataclass
class SidecarRow:
    """One row of a sidecar table (or of an inline list), with its place for messages."""

    line: int
    values: dict[str, str]
    unit: str = "line"
    """What ``line`` counts: ``line`` of a sidecar file, ``item`` of an inline list."""

    @property
    def where(self) -> str:
        """The row's place, as messages say it: ``line 3``, ``item 2``."""
        return f"{self.unit} {self.line}"


@dataclass
class Sidecars:
    """The sidecar tables of one figure; a missing table is an empty list."""

    genes: list[SidecarRow] = field(default_factory=list)
    chemicals: list[SidecarRow] = field(default_factory=list)
    diseases: list[SidecarRow] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Sidecar kind -> the file its table was read from."""


@dataclass
class Record:
    """A parsed record: its front matter (strings, lists, mappings, None) and sidecars."""

    source_name: str
    figid: str
    front: dict[str, Any]
    sidecars: Sidecars


@dataclass
class Stats:
    """Per-record counts that add up into the run summary."""

    genes_with_id: int = 0
    symbols_without_id: int = 0


MISSING = frozenset({"", "NA", "N/A", ".na.character", ".na", "NULL", "null", "None", "NaN"})
"""How the real data spells a missing value (design pitfall 4); such values make no triple."""

MISSING_TEXT = MISSING - {"NA"}
"""Missing values in a column of OCR text (a row's ``word``, a gene row's ``match``): there
``NA`` is text, the word that found the Drosophila gene ``na``."""


def present(value: object, missing: frozenset[str] = MISSING) -> str | None:
    """The value as text, or None when it is missing (None, or one of ``missing``)."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    return None if text in missing else text


def present_text(value: object) -> str | None:
    """A value of an OCR-text column as text, or None when missing (:data:`MISSING_TEXT`)."""
    return present(value, MISSING_TEXT)
