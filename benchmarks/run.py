#!/usr/bin/env python3
"""Benchmark pfocr-rdf against the baseline (../shared/bench/naive.py) on the same corpus.

For each corpus size: build an N-record pfocr-database folder with make_corpus.py, run
``pfocr-rdf convert`` (validation on, sidecars, Turtle + N-Triples, plus N-Quads for the store)
and the baseline on it in the same run, then bulk-load the output into the embedded store
and run every bundled query. Prints records/s, ms per record, peak RSS, the ratio to the
baseline, and a per-stage profile; the last line is the throughput ratio.

usage: python benchmarks/run.py [--sizes 1000 10000 100000] [--jobs N] [--workdir DIR]
       [--virtuoso]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BENCH = PROJECT.parent / "shared" / "bench"
REAL = [PROJECT.parent / "shared" / "pfocr-real", PROJECT.parent / "shared" / "pfocr-sample"]
"""The real records (skipped when absent), profiled beside the synthetic corpus."""
BIN = Path(sys.executable).parent


@dataclass
class Run:
    seconds: float
    returncode: int
    output: str
    main_rss_mib: float
    """Peak RSS of the command's own process."""
    worker_rss_mib: float
    """Peak RSS of the largest of its child processes (0 without children)."""

    @property
    def peak_rss_mib(self) -> float:
        """The largest single process of the tree."""
        return max(self.main_rss_mib, self.worker_rss_mib)


def _peak_rss_kib(pid: int) -> int:
    """VmHWM (the peak resident set) of a live process, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` and their children (Linux /proc)."""
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_children(kid)]
    return found


def measure(command: list[str]) -> Run:
    """Wall time, peak RSS of the main process and of its largest child, sampled from
    /proc every 50 ms (VmHWM: not wait4's ru_maxrss, which counts the RSS of this process,
    the benchmark, at the fork that started the command).

    What earlier commands wrote is put on disk first: the kernel writes files out after
    the process that made them ends, and each command is timed without that of the one
    before (as a re-run days after the last release would be)."""
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in [process.pid, *_children(process.pid)]:
                peaks[pid] = max(peaks.get(pid, 0), _peak_rss_kib(pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    done.set()
    sampler.join()
    process.wait()
    seconds = time.perf_counter() - start
    main = peaks.pop(process.pid, 0)
    return Run(
        seconds, process.returncode, output, main / 1024, max(peaks.values(), default=0) / 1024
    )


def corpus(workdir: Path, size: int) -> Path:
    """An N-record pfocr-database folder made by make_corpus.py (kept between runs)."""
    folder = workdir / f"corpus-{size}"
    if not (folder / "_figures").is_dir() or len(list((folder / "_figures").iterdir())) != size:
        shutil.rmtree(folder, ignore_errors=True)
        command = [sys.executable, str(BENCH / "make_corpus.py"), str(folder), "-n", str(size)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return folder


def count_lines(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def bench_size(
    workdir: Path,
    size: int,
    formats: list[str],
    jobs: int,
    batch_size: int,
    baseline: bool,
    virtuoso: bool = False,
) -> list[dict[str, float | str]]:
    """One row per output-format set: convert (ours, each set; then the baseline once), load
    the run that wrote N-Quads into a new store, and run the bundled queries on it (with
    ``virtuoso``, also load it into Virtuoso both ways)."""
    folder = corpus(workdir, size)
    rows: list[dict[str, float | str]] = []
    for fmt in formats:
        out = workdir / f"out-{size}-{fmt.replace(',', '-')}"
        shutil.rmtree(out, ignore_errors=True)
        convert = [str(BIN / "pfocr-rdf"), "convert", str(folder), "-o", str(out), "-q"]
        options = ["-f", fmt, "-j", str(jobs), "--batch-size", str(batch_size)]
        ours = measure([*convert, *options])
        if ours.returncode not in (0, 1):
            raise SystemExit(f"pfocr-rdf convert failed:\n{ours.output}")
        rows.append(
            {
                "size": float(size),
                "formats": fmt,
                "out": str(out),
                "ours_s": ours.seconds,
                "main_rss": ours.main_rss_mib,
                "worker_rss": ours.worker_rss_mib,
                "triples": float(count_lines(out / "pfocr.nt")) if "nt" in fmt else 0.0,
            }
        )
    if baseline:
        prefix = workdir / f"naive-{size}"
        naive = measure([sys.executable, str(BENCH / "naive.py"), str(folder), "-o", str(prefix)])
        if naive.returncode not in (0, 1):
            raise SystemExit(f"baseline failed:\n{naive.output}")
        for row in rows:
            row.update(
                {
                    "naive_s": naive.seconds,
                    "naive_rss": naive.peak_rss_mib,
                    "naive_triples": float(count_lines(prefix.with_suffix(".nt"))),
                }
            )
    with_quads = [r for r in rows if "nq" in str(r["formats"]).split(",")]
    if with_quads:
        with_quads[0].update(store_figures(workdir, size, Path(str(with_quads[0]["out"])), folder))
        if virtuoso:
            with_quads[0].update(virtuoso_times(workdir, size, Path(str(with_quads[0]["out"]))))
    return rows


def store_figures(workdir: Path, size: int, out: Path, folder: Path) -> dict[str, float | str]:
    """Bulk-load ``out/pfocr.nq`` into a new store (and with ``oxigraph load``), then time
    every bundled query on it."""
    nquads = out / "pfocr.nq"
    row: dict[str, float | str] = {"quads": float(count_lines(nquads))}
    store = workdir / f"store-{size}"
    shutil.rmtree(store, ignore_errors=True)
    load = measure([str(BIN / "pfocr-rdf"), "load", str(nquads), "--store", str(store)])
    row["load_s"] = load.seconds
    reference = workdir / f"oxigraph-store-{size}"
    shutil.rmtree(reference, ignore_errors=True)
    oxigraph = BIN / "oxigraph"
    if oxigraph.exists():  # Oxigraph's own bulk loader on the same file, for comparison
        command = [str(oxigraph), "load", "--location", str(reference), "--file", str(nquads)]
        row["oxigraph_load_s"] = measure(command).seconds
        shutil.rmtree(reference, ignore_errors=True)
    row.update(query_times(store, folder))
    row.update(release_times(workdir, size, folder, store))
    return row


def virtuoso_times(workdir: Path, size: int, out: Path) -> dict[str, float]:
    """Seconds to load ``out/pfocr.nq`` into a new Virtuoso database through the Graph Store
    Protocol (``pfocr-rdf load --endpoint``), and with Virtuoso's bulk loader (``ld_dir`` and
    ``rdf_loader_run``), each until a checkpoint has made it durable."""
    sys.path.insert(0, str(PROJECT / "tests"))
    from helpers import virtuoso_server

    from converter.store import PASSWORD_VARIABLE
    from converter.vocab import SHARED_GRAPH

    nquads = out / "pfocr.nq"
    times: dict[str, float] = {}
    for way in ("protocol", "bulk"):
        database = workdir / f"virtuoso-{size}-{way}"
        shutil.rmtree(database, ignore_errors=True)
        database.mkdir()
        with virtuoso_server(database, allowed=out) as server:
            sql = ["isql-vt", f"127.0.0.1:{server.sql_port}", "dba", "dba"]
            if way == "protocol":
                load = [str(BIN / "pfocr-rdf"), "load", str(nquads), "--endpoint", server.store]
                env = {**os.environ, PASSWORD_VARIABLE: "dba"}
                start = time.perf_counter()
                subprocess.run(
                    [*load, "--user", "dba"], check=True, env=env, stdout=subprocess.DEVNULL
                )
                subprocess.run([*sql, "exec=checkpoint;"], check=True, stdout=subprocess.DEVNULL)
            else:
                bulk = (
                    f"ld_dir('{out}', 'pfocr.nq', '{SHARED_GRAPH}'); rdf_loader_run(); checkpoint;"
                )
                start = time.perf_counter()
                subprocess.run([*sql, f"exec={bulk}"], check=True, stdout=subprocess.DEVNULL)
            times[f"virtuoso_{way}_s"] = time.perf_counter() - start
        shutil.rmtree(database, ignore_errors=True)
    return times


def release_times(workdir: Path, size: int, folder: Path, store: Path) -> dict[str, float]:
    """Seconds (and peak RSS of the largest process) for the next release of the corpus (1%
    of the records changed: a third edited, a third removed, a third added): a full
    conversion of a copy, a re-run of it unchanged, a re-run after the changes with the last
    outputs read from disk (as days after the last release), the update of ``store`` (built
    from the corpus) with that run's N-Quads, a re-run after a second 1% changed right
    after, and a re-run after one letter of one record changed (its length
    kept)."""
    work = workdir / f"corpus-{size}-release"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(folder, work, copy_function=os.link)  # hard links: a copy in seconds
    out = workdir / f"out-{size}-release"
    shutil.rmtree(out, ignore_errors=True)
    convert = [
        str(BIN / "pfocr-rdf"),
        "convert",
        str(work),
        "-o",
        str(out),
        "-f",
        "ttl,nt,nq",
        "-q",
    ]
    full = measure(convert)
    times = {"release_full_s": full.seconds, "release_full_rss": full.peak_rss_mib}
    unchanged = measure(convert)
    if "outputs unchanged" not in unchanged.output:
        raise SystemExit(f"the unchanged re-run wrote its outputs:\n{unchanged.output}")
    times["release_unchanged_s"] = unchanged.seconds
    times["release_unchanged_rss"] = unchanged.peak_rss_mib
    figures = sorted((work / "_figures").glob("*.md"))
    share = max(1, size // 100)
    for step, changes in (("cold", figures[:share]), ("warm", figures[share : 2 * share])):
        change_records(work, changes)
        if step == "cold":
            evict(out)
        changed = measure(convert)
        if changed.returncode not in (0, 1):
            raise SystemExit(f"the re-run after the changes failed:\n{changed.output}")
        times[f"release_changed_{step}_s"] = changed.seconds
        times[f"release_changed_{step}_rss"] = changed.peak_rss_mib
        if step == "cold":
            load = [str(BIN / "pfocr-rdf"), "load", str(out / "pfocr.nq"), "--store", str(store)]
            update = measure(load)
            if update.returncode != 0 or "figure graphs:" not in update.output:
                raise SystemExit(f"the store update failed:\n{update.output}")
            times["update_s"] = update.seconds
    record = figures[-1]
    text = record.read_text(encoding="utf-8")
    at = text.index("figtitle: ") + len("figtitle: ")
    while not text[at].isalpha():  # a letter, whose case changes
        at += 1
    record.unlink()  # a new file, not the linked original
    record.write_text(text[:at] + text[at].swapcase() + text[at + 1 :], encoding="utf-8")
    edited = measure(convert)
    times["release_same_length_s"] = edited.seconds
    times["release_same_length_rss"] = edited.peak_rss_mib
    return times


def change_records(work: Path, records: list[Path]) -> None:
    """Edit the first third of ``records``, remove the second (with their sidecars), and
    add a copy of each of the last under a new figid."""
    third = len(records) // 3
    for record in records[:third]:  # edited: a new file, not the linked original
        text = record.read_text(encoding="utf-8").replace("figtitle: ", "figtitle: Revised ", 1)
        record.unlink()
        record.write_text(text, encoding="utf-8")
    for record in records[third : 2 * third]:  # removed, with its sidecars
        figid = record.name.removesuffix(".md")
        record.unlink()
        for sidecar in (work / "_data").glob(f"{figid}-*.tsv"):
            sidecar.unlink()
    for record in records[2 * third :]:  # added: a copy under a new figid
        figid = record.name.removesuffix(".md")
        text = record.read_text(encoding="utf-8").replace(figid, f"{figid}-new")
        (record.parent / f"{figid}-new.md").write_text(text, encoding="utf-8")
        for sidecar in (work / "_data").glob(f"{figid}-*.tsv"):
            kind = sidecar.name.removeprefix(f"{figid}-")
            shutil.copyfile(sidecar, sidecar.parent / f"{figid}-new-{kind}")


def evict(folder: Path) -> None:
    """Drop the files of ``folder`` from the page cache (once on disk), so that the next
    command reads them from the disk."""
    os.sync()
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as stream:
                os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def query_times(store: Path, folder: Path) -> dict[str, float]:
    """Seconds each bundled query takes as a user runs it (``query_<name>``), and the sum."""
    listing = subprocess.run(
        [str(BIN / "pfocr-rdf"), "query", "--list"], check=True, capture_output=True, text=True
    ).stdout
    first_figure = sorted((folder / "_figures").iterdir())[0].name.removesuffix(".md")
    bindings = {  # as users run them: for one figure (unbound, the first compares every pair)
        "figures-sharing-genes": [
            "--bind",
            f"figure=<https://pfocr.wikipathways.org/figures/{first_figure}.html>",
        ],
        "genes-of-figure": ["--bind", f"figid={first_figure}"],
        "metabolites-of-figure": ["--bind", f"figid={first_figure}"],
    }
    times = {}
    for name in (line.split()[0] for line in listing.splitlines() if line.strip()):
        command = [str(BIN / "pfocr-rdf"), "query", "--store", str(store), name, "-f", "csv"]
        run = measure([*command, *bindings.get(name, [])])
        if run.returncode != 0:
            raise SystemExit(f"query {name} failed:\n{run.output}")
        times[f"query_{name}"] = run.seconds
    times["queries_s"] = sum(times.values())
    return times


def stage_profile(folders: list[Path], records: int, batch_size: int) -> dict[str, float]:
    """Milliseconds per record of each stage, in one process, on the first ``records``
    records of ``folders``."""
    from converter.describe import Tally
    from converter.enrich import enrich
    from converter.expand import expand
    from converter.formats import STREAMED_FORMATS
    from converter.model import Record
    from converter.read import (
        _decode,
        _read_bytes,
        add_inline_tables,
        discover,
        parse_front_matter,
        read_sidecars,
    )
    from converter.serialize import serialize_record
    from converter.validate import engine
    from converter.write import OutputWriter

    sources = list(discover([str(f) for f in folders]))[:records]
    totals: dict[str, float] = {}

    def timed(stage: str, start: float) -> None:
        totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - start

    serialized = []
    for source in sources:
        assert source.data_dir is not None and source.stem_figid is not None
        t = time.perf_counter()
        text = _decode(source.name, _read_bytes(source))
        sidecars = read_sidecars(source.data_dir, source.stem_figid)
        timed("read", t)
        t = time.perf_counter()
        front = parse_front_matter(source.name, text)
        add_inline_tables(sidecars, front)
        record = Record(source.name, source.stem_figid, front, sidecars)
        timed("yaml", t)
        t = time.perf_counter()
        described = expand(record)
        timed("expand (pyld)", t)
        t = time.perf_counter()
        graph, _ = enrich(record, described)
        Tally.of(graph.figure, graph.own.terms(), graph.own.subjects(), graph.shared.subjects())
        timed("enrich", t)
        t = time.perf_counter()
        serialized.append(serialize_record(graph, STREAMED_FORMATS))
        timed("serialize (worker)", t)
    for name in ("shacl", "pyshacl"):
        checker = engine(name)
        for start in range(0, len(serialized), batch_size):
            batch = serialized[start : start + batch_size]
            t = time.perf_counter()
            checker.validate(b"".join(r.ntriples for r in batch))
            timed(f"validate: {name}", t)
    with tempfile.TemporaryDirectory() as folder:
        writer = OutputWriter(Path(folder), ["ttl", "nt", "nq"], validation=False)
        t = time.perf_counter()
        for rdf in serialized:
            writer.add_record(rdf)
        timed("write (main process)", t)
        writer.close()
    return {stage: seconds / len(serialized) * 1000 for stage, seconds in totals.items()}


def table_row(row: dict[str, float | str]) -> str:
    """One line of the results table (columns empty where that part was not run)."""
    n = {k: v for k, v in row.items() if isinstance(v, float)}
    size = n["size"]
    cells = [
        f"{size:.0f}",
        str(row["formats"]),
        f"{n['ours_s']:.1f}",
        f"{size / n['ours_s']:.0f}",
        f"{n['main_rss']:.0f} / {n['worker_rss']:.0f}",
        f"{n['triples']:.0f}" if n["triples"] else "-",
    ]
    if "naive_s" in n:
        cells += [
            f"{n['naive_s']:.1f}",
            f"{size / n['naive_s']:.0f}",
            f"{n['naive_rss']:.0f}",
            f"{n['naive_triples']:.0f}",
            f"**{n['naive_s'] / n['ours_s']:.2f}x**",
        ]
    else:
        cells += ["-"] * 5
    if "load_s" in n:
        oxigraph = n.get("oxigraph_load_s")
        cells += [
            f"{n['load_s']:.1f}",
            f"{n['quads'] / n['load_s']:,.0f}",
            f"{n['quads'] / oxigraph:,.0f}" if oxigraph else "-",
            f"{n['queries_s']:.1f}",
        ]
    else:
        cells += ["-"] * 4
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| records | formats | pfocr-rdf s | rec/s | peak RSS MiB main / worker | distinct triples "
    "| baseline s | rec/s | peak RSS MiB | triples | throughput ratio "
    "| load s | quads/s | oxigraph load quads/s | queries s |"
)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


RELEASE_STEPS = {
    "unchanged": "re-run, nothing changed",
    "changed_cold": "re-run after 1% changed, outputs from disk",
    "changed_warm": "re-run after 1% changed, right after the store update",
    "same_length": "re-run after one letter changed",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workdir", type=Path, default=HERE / "work")
    parser.add_argument(
        "--no-baseline-above",
        type=int,
        default=10_000,
        help="skip the baseline for larger corpora (it needs over an hour at 100k)",
    )
    parser.add_argument(
        "--virtuoso",
        action="store_true",
        help="also load the N-Quads into Virtuoso: by the protocol and by its bulk loader",
    )
    parser.add_argument("--profile-records", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=None, help="pfocr-rdf --batch-size")
    parser.add_argument(
        "--formats",
        nargs="+",
        default=["ttl,nt", "ttl,nt,nq"],
        help="output-format sets to time (the baseline writes ttl,nt; nq feeds the store)",
    )
    args = parser.parse_args()
    if args.batch_size is None:
        from converter.pipeline import DEFAULT_BATCH_SIZE

        args.batch_size = DEFAULT_BATCH_SIZE
    if not (BENCH / "make_corpus.py").is_file():
        raise SystemExit(f"{BENCH} is missing: the benchmark needs ../shared/bench and the sample")
    args.workdir.mkdir(parents=True, exist_ok=True)

    print(f"machine: {machine()}; pfocr-rdf --jobs {args.jobs}")
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    rows: list[dict[str, float | str]] = []
    for size in args.sizes:
        baseline = size <= args.no_baseline_above
        for row in bench_size(
            args.workdir, size, args.formats, args.jobs, args.batch_size, baseline, args.virtuoso
        ):
            rows.append(row)
            print(table_row(row), flush=True)
    print()
    loaded = [r for r in rows if "load_s" in r]
    if loaded:
        print("bundled queries, seconds each (as users run them, one process per query):")
        for name in (key for key in loaded[-1] if key.startswith("query_")):
            times = " | ".join(f"{r['size']:.0f}: {r[name]:.2f}" for r in loaded)
            print(f"  {name.removeprefix('query_'):28s} {times}")
        for r in loaded:
            full, rss = float(r["release_full_s"]), float(r["release_full_rss"])
            print(
                f"next release at {r['size']:.0f} records, ttl,nt,nq: full run {full:.1f} s, "
                f"peak RSS {rss:.0f} MiB; store update {float(r['update_s']):.2f} s against "
                f"{float(r['load_s']):.1f} s to build it "
                f"({float(r['load_s']) / float(r['update_s']):.1f}x)"
            )
            for step, name in RELEASE_STEPS.items():
                seconds, peak = float(r[f"release_{step}_s"]), float(r[f"release_{step}_rss"])
                print(
                    f"  {name:44s} {seconds:6.2f} s ({full / seconds:5.1f}x faster than the "
                    f"full run), peak RSS {peak:.0f} MiB ({peak / rss:.2f}x the full run's)"
                )
    for r in (r for r in rows if "virtuoso_bulk_s" in r):
        protocol, bulk = float(r["virtuoso_protocol_s"]), float(r["virtuoso_bulk_s"])
        print(
            f"Virtuoso at {r['size']:.0f} records ({r['quads']:.0f} quads): pfocr-rdf load "
            f"--endpoint {protocol:.1f} s, bulk loader {bulk:.1f} s "
            f"(protocol / bulk loader: {protocol / bulk:.2f}x)"
        )
    synthetic = stage_profile([corpus(args.workdir, 1000)], args.profile_records, args.batch_size)
    real_folders = [f for f in REAL if (f / "_figures").is_dir()]
    real = (
        stage_profile(real_folders, args.profile_records, args.batch_size) if real_folders else {}
    )
    print(
        f"per-stage profile, one process, ms/record: synthetic ({args.profile_records} corpus "
        f"records) | real ({', '.join(f.name for f in real_folders) or 'absent'})"
    )
    for stage, ms in synthetic.items():
        print(
            f"  {stage:24s} {ms:7.2f} | {real[stage]:7.2f}" if real else f"  {stage:24s} {ms:7.2f}"
        )
    stages = [stage for stage in synthetic if stage != "validate: pyshacl"]
    total = " | ".join(f"{sum(p[s] for s in stages):7.2f}" for p in (synthetic, real) if p)
    print(f"  {'all stages (shacl)':24s} {total}")
    same = [r for r in rows if r["formats"] == rows[-1]["formats"]]
    if len(same) > 1:
        small, large = same[-2], same[-1]
        print(
            f"peak RSS at {large['size']:.0f} vs {small['size']:.0f} records "
            f"({large['formats']}): main process "
            f"{float(large['main_rss']) / float(small['main_rss']):.2f}x, largest worker "
            f"{float(large['worker_rss']) / float(small['worker_rss']):.2f}x"
        )
    for row in rows:
        if "naive_s" in row:
            print(
                f"throughput ratio pfocr-rdf ({row['formats']}) / baseline at "
                f"{float(row['size']):.0f} records: "
                f"{float(row['naive_s']) / float(row['ours_s']):.2f}x"
            )


if __name__ == "__main__":
    main()
