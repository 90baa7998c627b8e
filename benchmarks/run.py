#!/usr/bin/env python3
"""Benchmark pfocr-rdf against the baseline (../shared/bench/naive.py) on the same corpus.

For each corpus size: build an N-record pfocr-database folder with make_corpus.py, run
``pfocr-rdf convert`` (validation on, sidecars, Turtle + N-Triples, plus N-Quads for the store)
and the baseline on it in the same run, then bulk-load the output into the embedded store
and run every bundled query. Prints records/s, ms per record, peak RSS, the ratio to the
baseline, and a per-stage profile; the last line is the throughput ratio.

usage: python benchmarks/run.py [--sizes 1000 10000 100000] [--jobs N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BENCH = PROJECT.parent / "shared" / "bench"
BIN = Path(sys.executable).parent


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    returncode: int
    output: str


def measure(command: list[str]) -> Run:
    """Wall time and peak RSS (the largest process of the tree) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, process.returncode, output)


def corpus(workdir: Path, size: int) -> Path:
    folder = workdir / f"corpus-{size}"
    if not (folder / "_figures").is_dir() or len(list((folder / "_figures").iterdir())) != size:
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [sys.executable, str(BENCH / "make_corpus.py"), str(folder), "-n", str(size)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def count_lines(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def bench_size(workdir: Path, size: int, jobs: int, baseline: bool) -> dict[str, float]:
    folder = corpus(workdir, size)
    out = workdir / f"out-{size}"
    shutil.rmtree(out, ignore_errors=True)
    ours = measure(
        [
            str(BIN / "pfocr-rdf"),
            "convert",
            str(folder),
            "-o",
            str(out),
            "-f",
            "ttl,nt,nq",
            "-j",
            str(jobs),
            "-q",
        ]
    )
    if ours.returncode not in (0, 1):
        raise SystemExit(f"pfocr-rdf convert failed:\n{ours.output}")
    triples = count_lines(out / "pfocr.nt")
    row = {"size": size, "ours_s": ours.seconds, "ours_rss": ours.peak_rss_mib, "triples": triples}
    if baseline:
        naive = measure(
            [
                sys.executable,
                str(BENCH / "naive.py"),
                str(folder),
                "-o",
                str(workdir / f"naive-{size}"),
            ]
        )
        if naive.returncode not in (0, 1):
            raise SystemExit(f"baseline failed:\n{naive.output}")
        row.update(
            {
                "naive_s": naive.seconds,
                "naive_rss": naive.peak_rss_mib,
                "naive_triples": count_lines(workdir / f"naive-{size}.nt"),
            }
        )
    store = workdir / f"store-{size}"
    shutil.rmtree(store, ignore_errors=True)
    load = measure([str(BIN / "pfocr-rdf"), "load", str(out / "pfocr.nq"), "--store", str(store)])
    quads = count_lines(out / "pfocr.nq")
    row.update({"load_s": load.seconds, "quads": quads})
    query_seconds = 0.0
    names = subprocess.run(
        [str(BIN / "pfocr-rdf"), "query", "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    for name in [n for n in names if "-" in n and n.islower()]:
        run = measure([str(BIN / "pfocr-rdf"), "query", "--store", str(store), name, "-f", "csv"])
        query_seconds += run.seconds
    row["queries_s"] = query_seconds
    return row


def stage_profile(workdir: Path, records: int) -> list[tuple[str, float]]:
    """Milliseconds per record of each stage, in one process, on ``records`` corpus records."""
    from converter.enrich import enrich
    from converter.expand import expand
    from converter.model import Source
    from converter.read import _decode, _read_bytes, parse_front_matter, read_sidecars
    from converter.validate import to_rdflib, validate_graph
    from converter.vocab import figure_iri
    from converter.write import record_nquads
    from converter.model import Record
    from converter.pipeline import DEFAULT_BATCH_SIZE
    from converter.read import discover

    sources: list[Source] = list(discover([str(corpus(workdir, 1000))]))[:records]
    totals: dict[str, float] = {}

    def timed(stage: str, start: float) -> None:
        totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - start

    prepared = []
    for source in sources:
        t = time.perf_counter()
        text = _decode(source.name, _read_bytes(source))
        timed("read", t)
        t = time.perf_counter()
        front = parse_front_matter(source.name, text)
        timed("yaml", t)
        t = time.perf_counter()
        assert source.data_dir is not None and source.stem_figid is not None
        record = Record(
            source.name, source.stem_figid, front, read_sidecars(source.data_dir, source.stem_figid)
        )
        timed("read", t)
        t = time.perf_counter()
        described = expand(record)
        timed("expand", t)
        t = time.perf_counter()
        triples, _ = enrich(record, described)
        timed("enrich", t)
        prepared.append((record, triples))
    for start in range(0, len(prepared), DEFAULT_BATCH_SIZE):
        batch = prepared[start : start + DEFAULT_BATCH_SIZE]
        t = time.perf_counter()
        validate_graph(to_rdflib(x for _, triples in batch for x in triples))
        timed("validate", t)
    for record, triples in prepared:
        t = time.perf_counter()
        record_nquads(triples, figure_iri(record.figid))
        timed("write", t)
    return [(stage, seconds / len(prepared) * 1000) for stage, seconds in totals.items()]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workdir", type=Path, default=HERE / "work")
    parser.add_argument(
        "--no-baseline-above",
        type=int,
        default=10_000,
        help="skip the baseline for larger corpora (it needs over an hour at 100k)",
    )
    parser.add_argument("--profile-records", type=int, default=200)
    args = parser.parse_args()
    if not (BENCH / "make_corpus.py").is_file():
        raise SystemExit(f"{BENCH} is missing: the benchmark needs ../shared/bench and the sample")
    args.workdir.mkdir(parents=True, exist_ok=True)

    print(f"machine: {machine()}; pfocr-rdf --jobs {args.jobs}")
    print(
        "| records | pfocr-rdf s | rec/s | ms/rec | peak RSS MiB | triples | baseline s | "
        "rec/s | ms/rec | peak RSS MiB | triples | throughput ratio | load s | quads/s | queries s |"
    )
    print("|" + "---|" * 15)
    rows = []
    for size in args.sizes:
        row = bench_size(args.workdir, size, args.jobs, baseline=size <= args.no_baseline_above)
        rows.append(row)
        naive = (
            f"{row['naive_s']:.1f} | {size / row['naive_s']:.0f} | {row['naive_s'] / size * 1000:.1f} | "
            f"{row['naive_rss']:.0f} | {row['naive_triples']:.0f} | {row['naive_s'] / row['ours_s']:.2f}x"
            if "naive_s" in row
            else "– | – | – | – | – | –"
        )
        print(
            f"| {size} | {row['ours_s']:.1f} | {size / row['ours_s']:.0f} | {row['ours_s'] / size * 1000:.2f} | "
            f"{row['ours_rss']:.0f} | {row['triples']:.0f} | {naive} | {row['load_s']:.1f} | "
            f"{row['quads'] / row['load_s']:,.0f} | {row['queries_s']:.1f} |",
            flush=True,
        )
    print()
    print(f"per-stage profile, one process, {args.profile_records} corpus records (ms per record):")
    for stage, ms in stage_profile(args.workdir, args.profile_records):
        print(f"  {stage:9s} {ms:7.2f}")
    measured = [r for r in rows if "naive_s" in r]
    if len(rows) > 1:
        small, large = rows[-2], rows[-1]
        print(
            f"peak RSS {large['size']} vs {small['size']} records: "
            f"{large['ours_rss'] / small['ours_rss']:.2f}x"
        )
    if measured:
        last = measured[-1]
        print(
            f"throughput ratio pfocr-rdf / baseline at {last['size']} records: "
            f"{last['naive_s'] / last['ours_s']:.2f}x"
        )


if __name__ == "__main__":
    main()
