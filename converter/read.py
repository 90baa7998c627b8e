"""Read stage: find input records, parse their YAML front matter, read their sidecar tables.

YAML is loaded so that every scalar stays the text written (design pitfall 3): only plain
``null``, ``~`` and empty values are YAML nulls. Gene symbols such as ``On`` or ``1e5`` and
ids such as ``2001-01-01`` reach the graph exactly as written. Anchors and aliases, which no
PFOCR record uses, are refused (this also stops "billion laughs" alias bombs).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import yaml

from .model import Record, RecordError, SidecarRow, Sidecars, Source, Stage

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""A record larger than this (after gunzip) is refused rather than read into memory."""

SIDECAR_KINDS = ("genes", "chemicals", "diseases")
FIGURES_DIR = "_figures"
DATA_DIR = "_data"

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TextPreservingLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe YAML loader (libyaml when available) that keeps every scalar as its text."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A node met twice is an alias (*name) of an anchored node (&name).
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML anchors/aliases (&name, *name) are not allowed", node.start_mark
            )
        return super().construct_object(node, deep)


def _scalar_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


def _refuse_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"YAML tag {node.tag} is not allowed in a PFOCR record", node.start_mark
    )


TextPreservingLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
for _tag in ("bool", "int", "float", "timestamp"):
    TextPreservingLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _scalar_as_text)
for _tag in ("binary", "set", "omap", "pairs"):
    TextPreservingLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
TextPreservingLoader.add_constructor(None, _refuse_tag)  # any unknown tag, e.g. !python/...


# --------------------------------------------------------------------------- discovery


def discover(inputs: Iterable[str], stdin: io.BufferedIOBase | None = None) -> Iterator[Source]:
    """Yield a Source per record named by ``inputs``, in a stable order.

    An input is ``-`` (one record on standard input), a record file (``.md``/``.md.gz``), a
    pfocr-database folder (``_figures/`` with ``_data/`` beside it) or any folder, searched
    recursively. Symlinked folders are followed once; a symlink loop is not followed again.
    """
    for item in inputs:
        if item == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield Source(name="<stdin>", data=stream.read())
            continue
        path = Path(item)
        if path.is_dir():
            figures = path / FIGURES_DIR
            root = figures if figures.is_dir() else path
            yield from _walk(root)
        else:
            yield Source(name=item, path=path, data_dir=_data_dir_for(path))


def check_inputs(inputs: Sequence[str]) -> None:
    """Raise FileNotFoundError naming the inputs that do not exist (``-`` is standard
    input), ValueError if standard input is named twice or a folder holds no record."""
    missing = [i for i in inputs if i != "-" and not os.path.lexists(i)]
    if missing:
        raise FileNotFoundError(f"input not found: {', '.join(missing)}")
    if list(inputs).count("-") > 1:
        raise ValueError("standard input ('-') can be given once")
    for item in inputs:
        if item != "-" and os.path.isdir(item) and next(discover([item]), None) is None:
            hint = " (a _data folder holds sidecars: give the folder above it)"
            raise ValueError(
                f"no record (.md, .md.gz) in the folder {item}"
                + (hint if Path(item).resolve().name == DATA_DIR else "")
            )


def _is_record_file(name: str) -> bool:
    return name.endswith((".md", ".md.gz"))


def _walk(root: Path) -> Iterator[Source]:
    seen_dirs: set[tuple[int, int]] = set()
    problems: list[Source] = []

    def note_error(err: OSError) -> None:
        problems.append(Source(name=str(err.filename or root), path=Path(err.filename or root)))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=note_error):
        here = Path(dirpath)
        try:
            st = here.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:  # a symlink loop or a second link to the same folder
            dirnames[:] = []
            continue
        seen_dirs.add(key)
        dirnames[:] = sorted(d for d in dirnames if d != DATA_DIR)
        data_dir = _data_dir_for(here / "x")
        for name in sorted(filenames):
            if _is_record_file(name):
                yield Source(name=str(here / name), path=here / name, data_dir=data_dir)
    yield from problems


def _data_dir_for(record_path: Path) -> Path | None:
    """The ``_data`` folder beside the record's folder, if there is one."""
    candidate = record_path.parent.parent / DATA_DIR
    return candidate if candidate.is_dir() else None


def count_records(inputs: Iterable[str]) -> int:
    """How many records :func:`discover` will yield (standard input counts as one)."""
    files = [i for i in inputs if i != "-"]
    return sum(1 for _ in discover(files)) + (len(list(inputs)) - len(files))


def orphan_sidecars(inputs: Iterable[str]) -> list[str]:
    """Sidecar files of the pfocr-database folders in ``inputs`` that no record claims."""
    folders = [Path(i) for i in inputs if i != "-" and (Path(i) / FIGURES_DIR).is_dir()]
    orphans = []
    for folder in folders:
        data_dir = folder / DATA_DIR
        if not data_dir.is_dir():
            continue
        figids = {s.stem_figid for s in discover([str(folder)]) if s.data_dir == data_dir}
        for entry in sorted(os.listdir(data_dir)):
            figid, _, kind = entry.rpartition("-")
            if kind.removesuffix(".tsv") in SIDECAR_KINDS and figid not in figids:
                orphans.append(str(data_dir / entry))
    return orphans


# --------------------------------------------------------------------------- records


def load_record(source: Source) -> Record:
    """Read and parse one record and its sidecars; raise RecordError with the reason."""
    text = _decode(source.name, _read_bytes(source))
    front = parse_front_matter(source.name, text)
    figid = front.get("figid")
    if not isinstance(figid, str) or not figid.strip():
        raise RecordError(Stage.RECORD, "field 'figid' is missing or not a text value")
    figid = figid.strip()
    expected = source.stem_figid
    if expected is not None and figid != expected:
        raise RecordError(
            Stage.RECORD, f"field 'figid' is {figid!r} but the file name says {expected!r}"
        )
    sidecars = read_sidecars(source.data_dir, figid) if source.data_dir else Sidecars()
    add_inline_tables(sidecars, front)
    return Record(source_name=source.name, figid=figid, front=front, sidecars=sidecars)


def _read_bytes(source: Source) -> bytes:
    if source.data is not None:
        raw = source.data
    else:
        assert source.path is not None
        try:
            if source.path.stat().st_size > MAX_RECORD_BYTES and not source.name.endswith(".gz"):
                raise RecordError(Stage.READ, f"file is larger than {MAX_RECORD_BYTES} bytes")
            raw = source.path.read_bytes()
        except RecordError:
            raise
        except IsADirectoryError:
            raise RecordError(Stage.READ, "is a folder, not a record file") from None
        except OSError as err:
            raise RecordError(Stage.READ, f"cannot read file: {err.strerror or err}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
                raw = stream.read(MAX_RECORD_BYTES + 1)
        except (OSError, EOFError, zlib.error) as err:
            raise RecordError(Stage.READ, f"not a valid gzip file: {err}") from None
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(Stage.READ, f"record is larger than {MAX_RECORD_BYTES} bytes")
    if not raw.strip():
        raise RecordError(Stage.READ, "file is empty")
    return raw


def _decode(name: str, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise RecordError(
            Stage.READ, f"not valid UTF-8 text (line {line}, byte {err.start}): {err.reason}"
        ) from None
    return text.removeprefix("\ufeff")


_OPEN = re.compile(r"\A---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


def parse_front_matter(name: str, text: str) -> dict[str, Any]:
    """The YAML front matter of a record as a mapping; the Markdown body is ignored."""
    opening = _OPEN.match(text)
    if opening is None:
        raise RecordError(Stage.YAML, "no YAML front matter: the file must start with a '---' line")
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        raise RecordError(Stage.YAML, "unterminated YAML front matter: no closing '---' line")
    body = text[opening.end() : closing.start()]
    if "\x00" in body:
        raise RecordError(Stage.YAML, "front matter contains NUL bytes (a binary file?)")
    try:
        data = yaml.load(body, Loader=TextPreservingLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = err.problem or err.context or "invalid YAML"
        raise RecordError(Stage.YAML, f"invalid YAML front matter{where}: {problem}") from None
    except yaml.YAMLError as err:
        raise RecordError(Stage.YAML, f"invalid YAML front matter: {err}") from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise RecordError(Stage.YAML, f"front matter is {kind}, expected a mapping of fields")
    return data


# --------------------------------------------------------------------------- sidecars

REQUIRED_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    # Each kind lists the accepted layouts; a table must have every column of one of them.
    "genes": (("word", "ncbigene_symbol", "ncbigene_id", "organism_id"),),
    "chemicals": (("word", "mesh"), ("word", "source", "identifier")),
    "diseases": (("word", "mesh"), ("word", "source", "identifier")),
}

INLINE_COLUMNS: dict[str, dict[str, str]] = {
    # The older front-matter layout's inline lists, by kind: item key -> sidecar column.
    "genes": {
        "word": "word",
        "symbol": "match",
        "source": "source",
        "hgnc_symbol": "ncbigene_symbol",
        "entrez": "ncbigene_id",
    },
    "chemicals": {"word": "word", "source": "source", "identifier": "identifier"},
    "diseases": {"word": "word", "source": "source", "identifier": "identifier"},
}


def read_sidecars(data_dir: Path, figid: str) -> Sidecars:
    """Read ``<figid>-genes.tsv``, ``-chemicals.tsv`` and ``-diseases.tsv`` if present."""
    sidecars = Sidecars()
    for kind in SIDECAR_KINDS:
        path = data_dir / f"{figid}-{kind}.tsv"
        if path.is_file():
            setattr(sidecars, kind, read_table(path, kind))
            sidecars.files[kind] = str(path)
    return sidecars


def add_inline_tables(sidecars: Sidecars, front: dict[str, Any]) -> None:
    """Take the older layout's inline ``genes:``, ``chemicals:``, ``diseases:`` lists of the
    front matter as the tables of the kinds that have no sidecar file."""
    for kind, columns in INLINE_COLUMNS.items():
        items = front.get(kind)
        if kind in sidecars.files or items is None:
            continue
        if not isinstance(items, list):
            raise RecordError(Stage.RECORD, f"field {kind!r} must be a list")
        rows = []
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict) or any(
                isinstance(value, (dict, list)) for value in item.values()
            ):
                raise RecordError(
                    Stage.RECORD, f"item {number} of field {kind!r} must map names to text"
                )
            values = {columns.get(str(k), str(k)): "" if v is None else v for k, v in item.items()}
            rows.append(SidecarRow(number, values, unit="item"))
        setattr(sidecars, kind, rows)


def read_table(path: Path, kind: str) -> list[SidecarRow]:
    """Rows of a tab-separated sidecar with a header; ragged rows and missing columns fail."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RecordError(Stage.SIDECAR, f"not valid UTF-8 text: {err.reason}", str(path)) from None
    except OSError as err:
        raise RecordError(Stage.SIDECAR, f"cannot read: {err.strerror}", str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return []
    header = [column.strip() for column in header]
    layouts = REQUIRED_COLUMNS[kind]
    if not any(set(layout) <= set(header) for layout in layouts):
        wanted = " or ".join(", ".join(layout) for layout in layouts)
        raise RecordError(
            Stage.SIDECAR,
            f"{kind} table has columns {', '.join(header)}; expected at least {wanted}",
            str(path),
        )
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise RecordError(
                Stage.SIDECAR,
                f"line {line} has {len(values)} fields, the header has {len(header)}",
                str(path),
            )
        rows.append(SidecarRow(line, dict(zip(header, values, strict=True))))
    return rows
