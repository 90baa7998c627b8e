"""The ``pfocr-rdf`` command line (click). Thin: parsing options and printing results."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click
from tqdm import tqdm

from . import __version__
from .convert import ConvertOptions, convert_to_folder
from .pipeline import DEFAULT_BATCH_SIZE
from .report import shacl_digest
from .write import DEFAULT_FORMATS, FORMATS

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _formats(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or value!r}; choose from {','.join(FORMATS)}"
        )
    return list(dict.fromkeys(names))


def _check_inputs(inputs: tuple[str, ...]) -> None:
    missing = [i for i in inputs if i != "-" and not os.path.lexists(i)]
    if missing:
        raise click.UsageError(f"input not found: {', '.join(missing)}")
    if inputs.count("-") > 1:
        raise click.UsageError("standard input ('-') can be given once")


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C: temporary files removed, old outputs kept."""
    raise KeyboardInterrupt(f"signal {signum}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pfocr-rdf")
def cli() -> None:
    """Turn Pathway Figure OCR (PFOCR) records into validated linked data."""


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for pfocr.<format>, rejects.jsonl and validation.ttl.",
)
@click.option(
    "-f",
    "--format",
    "formats",
    default=",".join(DEFAULT_FORMATS),
    show_default=True,
    callback=_formats,
    help=f"Comma-separated output formats: {','.join(FORMATS)}.",
)
@click.option(
    "--validate/--no-validate",
    default=True,
    show_default=True,
    help="Check every record against the SHACL shapes; violating records are rejected.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="number of cores",
    help="Worker processes.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Records per batch (per SHACL call).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no SHACL digest.")
def convert(
    inputs: tuple[str, ...],
    outdir: Path,
    formats: list[str],
    validate: bool,
    jobs: int,
    batch_size: int,
    quiet: bool,
) -> None:
    """Convert PFOCR records to RDF.

    INPUTS are record files (.md, .md.gz), folders (searched recursively), pfocr-database
    folders (_figures/ with _data/ sidecars beside it), or - for one record on standard input.
    Exit status: 0 all converted, 1 some rejected (see rejects.jsonl), 2 usage error.
    """
    _check_inputs(inputs)
    signal.signal(signal.SIGTERM, _terminate)
    bar = tqdm(unit="record", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)

    def start(total: int) -> None:
        bar.total = total
        bar.refresh()

    options = ConvertOptions(formats=formats, validate=validate, jobs=jobs, batch_size=batch_size)
    try:
        summary, written = convert_to_folder(
            list(inputs), outdir, options, progress=bar.update, on_start=start
        )
    except KeyboardInterrupt:
        bar.close()
        click.echo("interrupted: no output was changed", err=True)
        sys.exit(130)
    bar.close()
    if not quiet:
        for line in shacl_digest(summary.findings):
            click.echo(line, err=True)
        for orphan in summary.orphans:
            click.echo(f"orphan sidecar (no figure): {orphan}", err=True)
    click.echo(summary.line())
    click.echo("wrote " + ", ".join(str(p) for p in written))
    sys.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


def main() -> None:
    """Entry point of the ``pfocr-rdf`` script."""
    cli(prog_name="pfocr-rdf")
