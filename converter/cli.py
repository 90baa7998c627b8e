"""The ``pfocr-rdf`` command line (click). Thin: parsing options and printing results."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import click
from click.decorators import FC
from rich import box
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from . import __version__
from .atomic import PartlyInPlace
from .convert import (
    ConvertOptions,
    convert_to_folder,
    validate_to_folder,
)
from .formats import DEFAULT_FORMATS, REJECTS_FILE, output_formats
from .interrupt import EXIT_INTERRUPTED, InterruptedAfterWrite, interrupts
from .pipeline import DEFAULT_BATCH_SIZE
from .query import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    BindError,
    QueryError,
    binding_hints,
    bundled_queries,
    prepare,
    query_endpoint,
    query_form,
    query_store,
    resolve_query,
    rows_from_json,
)
from .read import check_inputs
from .report import counted, rejection_lines, shacl_digest
from .store import (
    PASSWORD_VARIABLE,
    Credentials,
    StoreError,
    load_file,
    load_into_endpoint,
    load_into_store,
)
from .validate import DEFAULT_ENGINE, ENGINES, resolve_engine_name
from .vocab import compact

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _formats(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in output_formats()]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or value!r}; choose from "
            f"{','.join(output_formats())}"
        )
    return list(dict.fromkeys(names))


def _timestamp(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """An ISO 8601 date or date-time, as an xsd:dateTime in UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date such as 2026-11-26") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_inputs(inputs: tuple[str, ...]) -> None:
    try:
        check_inputs(inputs)
    except (FileNotFoundError, ValueError) as err:
        raise click.UsageError(str(err)) from None


inputs_argument = click.argument("inputs", nargs=-1, required=True)


def outdir_option(help_text: str) -> Callable[[FC], FC]:
    """The ``-o/--outdir`` option, with what goes in the folder."""
    return click.option(
        "-o",
        "--outdir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help_text,
    )


def jobs_option(help_text: str) -> Callable[[FC], FC]:
    """The ``-j/--jobs`` option, with what each worker does."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=os.cpu_count() or 1,
        show_default="number of cores",
        help=help_text,
    )


def _engine(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """The engine the run will use; says so in one line if ``shacl`` falls back."""
    name, notice = resolve_engine_name(value)
    if notice:
        click.echo(notice, err=True)
    return name


engine_option = click.option(
    "--shacl-engine",
    "engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    callback=_engine,
    help="SHACL engine: shacl (compiled, fast) or pyshacl (the reference implementation).",
)
batch_size_option = click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Records a worker converts per task.",
)


def _credentials(user: str | None) -> Credentials | None:
    """The account to reach a server with: the password from the environment, else asked
    on the terminal."""
    if user is None:
        return None
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None and sys.stdin.isatty():
        password = getpass.getpass(f"password of {user}: ")
    if password is None:
        raise click.UsageError(f"--user {user}: give the password in {PASSWORD_VARIABLE}")
    return Credentials(user, password)


def _notify(message: str) -> None:
    click.echo(message, err=True)


user_option = click.option(
    "--user",
    metavar="USER",
    help=f"The server account (Basic or Digest, as it asks); password from {PASSWORD_VARIABLE}, "
    "else asked on the terminal.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pfocr-rdf")
def cli() -> None:
    """Turn Pathway Figure OCR (PFOCR) records into validated linked data."""


@cli.command()
@inputs_argument
@outdir_option(
    "Folder for pfocr.<format>, rejects.jsonl, validation.ttl and dataset.ttl (created if absent)."
)
@click.option(
    "-f",
    "--format",
    "formats",
    default=",".join(DEFAULT_FORMATS),
    show_default=True,
    callback=_formats,
    help="Comma-separated output formats: ttl, nt, nq, trig, jsonld; each also gzip-compressed "
    "with .gz (nt.gz).",
)
@click.option(
    "--validate/--no-validate",
    default=True,
    show_default=True,
    help="Check every record against the SHACL shapes; violating records are rejected.",
)
@engine_option
@jobs_option("Worker processes (each converts and validates whole batches of records).")
@batch_size_option
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also load the converted records into this embedded store (created if absent).",
)
@click.option(
    "--created",
    callback=_timestamp,
    help="The creation date dataset.ttl states (ISO 8601, e.g. 2026-11-26 or "
    "2026-11-26T12:00:00Z); by default SOURCE_DATE_EPOCH's, else none.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Convert every record again, taking nothing kept in OUTDIR by the last run.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no SHACL digest.")
def convert(
    inputs: tuple[str, ...],
    outdir: Path,
    formats: list[str],
    validate: bool,
    engine: str,
    jobs: int,
    batch_size: int,
    store_dir: Path | None,
    created: str | None,
    full: bool,
    quiet: bool,
) -> None:
    """Convert PFOCR records to RDF.

    INPUTS are record files (.md, .md.gz), folders (searched recursively), pfocr-database
    folders (_figures/ with _data/ sidecars beside it), or - for one record on standard input.
    Exit status: 0 all converted, 1 some rejected (see rejects.jsonl), 2 usage error, 130
    interrupted (Ctrl-C or SIGTERM; the previous outputs stay as they were unless it says
    they were written).
    """
    _check_inputs(inputs)
    bar = tqdm(unit="record", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)

    def start(total: int) -> None:
        bar.total = total
        bar.refresh()

    options = ConvertOptions(
        formats=formats,
        validate=validate,
        engine=engine,
        jobs=jobs,
        batch_size=batch_size,
        store=store_dir,
        created=created,
        full=full,
    )
    try:
        with interrupts() as check:

            def progress(done: int) -> None:
                check()
                bar.update(done)

            summary, written = convert_to_folder(
                list(inputs), outdir, options, progress=progress, on_start=start
            )
    except KeyboardInterrupt:
        bar.close()
        click.echo("interrupted: no output was changed", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except InterruptedAfterWrite:
        bar.close()
        click.echo(
            f"interrupted after the outputs were written in {outdir}: they are complete; "
            "the next run writes them again from the outcomes this one kept",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except StoreError as err:
        bar.close()
        raise click.ClickException(f"{err} (no output was changed)") from None
    except OSError as err:  # a full disk, a folder that cannot be written
        bar.close()
        raise _write_failure(err, outdir) from None
    bar.close()
    for notice in summary.notices:
        click.echo(notice, err=True)
    if not quiet:
        for line in shacl_digest(summary.findings):
            click.echo(line, err=True)
        for orphan in summary.orphans:
            click.echo(f"orphan sidecar (no figure): {orphan}", err=True)
    click.echo(summary.line())
    for line in rejection_lines(outdir / REJECTS_FILE, summary.rejected):
        click.echo(line, err=True)
    if summary.unchanged:
        click.echo(f"outputs unchanged in {outdir}: nothing written")
    else:
        click.echo("wrote " + ", ".join(str(p) for p in written))
    if reuse := summary.reuse_line():
        click.echo(reuse)
    if store_dir is not None:
        changes = f" ({summary.store_changes})" if summary.store_changes else ""
        records = counted(summary.converted, "record")
        click.echo(f"loaded {records} into the store {store_dir}{changes}")
    sys.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


def _write_failure(err: OSError, outdir: Path) -> click.ClickException:
    """The error of a run whose outputs could not be written, saying what OUTDIR holds."""
    where, reason = err.filename or outdir, err.strerror or err
    if isinstance(err, PartlyInPlace):
        return click.ClickException(
            f"cannot put {where} in place: {reason}; {outdir} may hold some of this run's "
            "outputs beside the last run's: run the command again once this is fixed"
        )
    return click.ClickException(f"cannot write {where}: {reason} (no output was changed)")


@cli.command()
@inputs_argument
@outdir_option("Folder for validation.ttl and rejects.jsonl (created if absent).")
@engine_option
@jobs_option("Worker processes checking records in batches (RDF files: in the main process).")
@batch_size_option
@click.option("-q", "--quiet", is_flag=True, help="No SHACL digest on stderr.")
def validate(
    inputs: tuple[str, ...], outdir: Path, engine: str, jobs: int, batch_size: int, quiet: bool
) -> None:
    """Check records, or RDF files (.ttl, .nt, .nq, .trig; each also .gz), against the shapes.

    Writes OUTDIR/validation.ttl (a sh:ValidationReport) and OUTDIR/rejects.jsonl, and no RDF.
    In an RDF file each named graph is checked as one record. Exit status: 0 all valid, 1 a
    record has a violation or cannot be read, 2 usage error, 130 interrupted.
    """
    _check_inputs(inputs)
    try:
        with interrupts():
            summary, written = validate_to_folder(
                list(inputs), outdir, engine_name=engine, jobs=jobs, batch_size=batch_size
            )
    except KeyboardInterrupt:
        click.echo("interrupted: no output was changed", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except InterruptedAfterWrite:
        click.echo(f"interrupted after the reports were written in {outdir}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as err:
        raise _write_failure(err, outdir) from None
    if not quiet:
        for line in shacl_digest(summary.findings):
            click.echo(line, err=True)
    click.echo(summary.validation_line())
    for line in rejection_lines(outdir / REJECTS_FILE, summary.rejected):
        click.echo(line, err=True)
    click.echo("wrote " + ", ".join(str(p) for p in written))
    sys.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Embedded (pyoxigraph) store folder; created if absent.",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="A SPARQL 1.1 Graph Store HTTP Protocol endpoint, e.g. http://127.0.0.1:7878/store.",
)
@user_option
def load(
    files: tuple[Path, ...], store_dir: Path | None, endpoint: str | None, user: str | None
) -> None:
    """Load RDF files (.nq, .trig, .nt, .ttl, .jsonld; each also .gz) into a store.

    Each figure's named graph replaces the one already stored, so reloading the same records
    does not duplicate them. Give --store for the embedded store or --endpoint for a remote one.
    """
    if (store_dir is None) == (endpoint is None):
        raise click.UsageError("give exactly one of --store DIR or --endpoint URL")
    try:
        if store_dir is not None:
            stats = load_into_store(store_dir, [load_file(f) for f in files])
        else:
            assert endpoint is not None
            credentials = _credentials(user)
            with interrupts():
                stats = load_into_endpoint(endpoint, [load_file(f) for f in files], credentials)
    except StoreError as err:
        raise click.ClickException(str(err)) from None
    except KeyboardInterrupt:
        click.echo("interrupted: running the same command again completes the load", err=True)
        sys.exit(EXIT_INTERRUPTED)
    click.echo(stats.line())


def _bindings(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    bindings = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE")
        bindings[name.lstrip("?")] = value
    return bindings


@cli.command()
@click.argument("query", required=False)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Embedded (pyoxigraph) store folder.",
)
@click.option("--endpoint", metavar="URL", help="A SPARQL 1.1 query endpoint URL.")
@click.option(
    "-b",
    "--bind",
    "bindings",
    multiple=True,
    callback=_bindings,
    metavar="NAME=VALUE",
    help="Bind a variable: a string, or an IRI written <...> or prefix:local (ncbigene:5594). "
    "Repeatable.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["table", *RESULT_FORMATS, *GRAPH_FORMATS]),
    help="table, W3C SPARQL results (csv, tsv, json), or RDF for CONSTRUCT and DESCRIBE "
    "(ttl, nt; ttl when not given).",
)
@click.option("--list", "list_queries", is_flag=True, help="List the bundled queries.")
@user_option
def query(
    query: str | None,
    store_dir: Path | None,
    endpoint: str | None,
    bindings: dict[str, str],
    fmt: str,
    list_queries: bool,
    user: str | None,
) -> None:
    """Run a SPARQL query: SPARQL text, a .rq file, or a bundled query's name.

    With --store the default graph is the union of all named graphs; with --endpoint it is
    the server's (the bundled queries expect the union: oxigraph serve --union-default-graph).
    The data model's prefixes need no PREFIX line. CONSTRUCT and DESCRIBE give Turtle.
    """
    if list_queries:
        for item in bundled_queries().values():
            params = f"  [bind: {', '.join(item.parameters)}]" if item.parameters else ""
            click.echo(f"{item.name:28s} {item.title}{params}")
        return
    if query is None:
        raise click.UsageError("give a QUERY (or --list)")
    if (store_dir is None) == (endpoint is None):
        raise click.UsageError("give exactly one of --store DIR or --endpoint URL")
    for hint in binding_hints(bindings):
        click.echo(hint, err=True)
    try:
        text = prepare(resolve_query(query), bindings, check=store_dir is not None)
        if fmt == "table" and query_form(text) in ("CONSTRUCT", "DESCRIBE"):
            fmt = "ttl"  # RDF, not a table
        wire = "json" if fmt == "table" else fmt
        if store_dir is not None:
            data = query_store(store_dir, text, wire)
        else:
            assert endpoint is not None
            data = query_endpoint(endpoint, text, wire, _credentials(user), _notify)
    except BindError as err:
        raise click.UsageError(str(err)) from None
    except (QueryError, StoreError) as err:
        raise click.ClickException(str(err)) from None
    if fmt != "table":  # the W3C form as pyoxigraph writes it (CSV lines end in CRLF)
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    variables, rows = rows_from_json(data)
    console = Console()
    if not console.is_terminal:  # piped: one line per row, never an IRI cut in two
        console = Console(width=1 << 20)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for variable in variables:
        table.add_column(variable, overflow="fold")
    for row in rows:
        table.add_row(*(compact(cell) for cell in row))
    console.print(table)
    click.echo(counted(len(rows), "row"), err=True)


@cli.command()
@click.option(
    "--store",
    "store_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Embedded store folder to serve.",
)
@click.option(
    "--bind",
    "address",
    default="127.0.0.1:7878",
    show_default=True,
    help="Host and port to listen to.",
)
def serve(store_dir: Path, address: str) -> None:
    """Serve the embedded store as a read-only SPARQL endpoint (query URL: /query).

    Runs the Oxigraph server in this process; the default graph is the union of the named
    graphs.
    """
    server = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(server).exists():
        raise click.ClickException("the 'oxigraph' server is not installed (pip install oxigraph)")
    click.echo(f"SPARQL endpoint: http://{address}/query (Ctrl-C to stop)", err=True)
    command = [
        server,
        "serve-read-only",
        "--location",
        str(store_dir),
        "--bind",
        address,
        "--union-default-graph",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(server, command)  # the server takes this process: signals reach it, no orphan


def main() -> None:
    """Entry point of the ``pfocr-rdf`` script."""
    cli(prog_name="pfocr-rdf")
