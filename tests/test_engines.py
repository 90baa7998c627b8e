"""The SHACL engines give the same outputs; the default one falls back when missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, SAMPLE, output_files

from converter.cli import cli
from converter.convert import ConvertOptions, convert_to_folder
from converter.formats import FORMATS
from converter.validate import ENGINES


def outputs(inputs: Path, out: Path, engine: str, jobs: int) -> dict[str, bytes]:
    options = ConvertOptions(formats=list(FORMATS), engine=engine, jobs=jobs, batch_size=3)
    convert_to_folder([str(inputs)], out, options)
    return output_files(out)


@pytest.mark.parametrize("name", ["examples", "sample"])
def test_same_bytes_whatever_the_engine_and_the_jobs(name: str, tmp_path: Path) -> None:
    inputs = {"examples": EXAMPLES, "sample": SAMPLE}[name]
    if not (inputs / "_figures").is_dir():
        pytest.skip(f"{inputs} is not present")
    reference = outputs(inputs, tmp_path / "shacl-1", "shacl", 1)
    assert reference["validation.ttl"].count(b"sh:ValidationResult") >= 1  # findings compared
    assert outputs(inputs, tmp_path / "shacl-2", "shacl", 2) == reference
    assert outputs(inputs, tmp_path / "pyshacl-1", "pyshacl", 1) == reference


def test_missing_compiled_engine_falls_back_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("converter.validate.compiled_engine_available", lambda: False)
    result = CliRunner().invoke(cli, ["convert", str(EXAMPLES), "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    notice = "the shacl engine is not installed here: validating with pyshacl"
    assert result.stderr.count(notice) == 1
    assert sorted(ENGINES) == ["pyshacl", "shacl"]
