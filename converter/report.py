"""What a run tells people: the summary line, the SHACL report in RDF and on the terminal.

Findings are not kept: each is counted, written at once to the run's SHACL report (as
N-Triples, turned into Turtle when the run completes), and the first few of the first
rejected records are kept for the terminal. Memory stays flat however many records a run has.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .validate import Finding
from .vocab import PFOCR, RDF, SH, XSD, compact, compact_path, figure_iri

FIRST_FINDINGS_SHOWN = 3
"""How many findings of one rejected record the terminal digest shows."""
RECORDS_SHOWN = 20
"""How many rejected records the terminal digest shows (all are in rejects.jsonl)."""

_SH = {
    name: ox.NamedNode(SH + name)
    for name in (
        "ValidationReport",
        "ValidationResult",
        "conforms",
        "result",
        "focusNode",
        "resultPath",
        "value",
        "resultMessage",
        "resultSeverity",
        "sourceConstraintComponent",
    )
}
_RDF_TYPE = ox.NamedNode(RDF + "type")
_SOURCE_FILE = ox.NamedNode(PFOCR + "sourceFile")
_FIGURE = ox.NamedNode(PFOCR + "figure")
REPORT_NODE = ox.BlankNode("report")


@dataclass
class SampledFinding:
    """A finding kept for the terminal digest, with the record it belongs to."""

    file: str
    figid: str | None
    finding: Finding


class FindingLog:
    """The SHACL findings of a run: counted, sampled, and streamed to the report."""

    def __init__(self, report: IO[bytes] | None = None) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()
        """(severity, shape, message) -> how many results."""
        self.sample: list[SampledFinding] = []
        self._report = report
        self._results = 0
        self._sampled: Counter[str] = Counter()

    @property
    def violations(self) -> int:
        return sum(n for (severity, _, _), n in self.counts.items() if severity == "Violation")

    @property
    def warnings(self) -> int:
        return sum(self.counts.values()) - self.violations

    def add(self, file: str, figid: str | None, finding: Finding, rejected: bool) -> None:
        self.counts[(finding.severity, finding.shape, finding.message)] += 1
        if rejected and finding.is_violation and self._keep_for_digest(file):
            self.sample.append(SampledFinding(file, figid, finding))
        if self._report is not None:
            self._results += 1
            triples = _result_triples(f"r{self._results}", file, figid, finding)
            ox.serialize(triples, self._report, ox.RdfFormat.N_TRIPLES)

    def _keep_for_digest(self, file: str) -> bool:
        if file not in self._sampled and len(self._sampled) >= RECORDS_SHOWN:
            return False
        if self._sampled[file] >= FIRST_FINDINGS_SHOWN:
            return False
        self._sampled[file] += 1
        return True

    def close_report(self) -> None:
        """Write the report node itself (``sh:conforms`` over the whole run)."""
        if self._report is None:
            return
        conforms = ox.Literal(
            str(self.violations == 0).lower(), datatype=ox.NamedNode(XSD + "boolean")
        )
        triples = [
            ox.Triple(REPORT_NODE, _RDF_TYPE, _SH["ValidationReport"]),
            ox.Triple(REPORT_NODE, _SH["conforms"], conforms),
        ]
        ox.serialize(triples, self._report, ox.RdfFormat.N_TRIPLES)


def _result_triples(label: str, file: str, figid: str | None, f: Finding) -> list[ox.Triple]:
    """One ``sh:ValidationResult`` of the report, naming its record file and figure."""
    result = ox.BlankNode(label)
    triples = [
        ox.Triple(REPORT_NODE, _SH["result"], result),
        ox.Triple(result, _RDF_TYPE, _SH["ValidationResult"]),
        ox.Triple(result, _SH["focusNode"], _node(f.focus)),
        ox.Triple(result, _SH["resultMessage"], ox.Literal(f.message)),
        ox.Triple(result, _SH["resultSeverity"], ox.NamedNode(SH + f.severity)),
        ox.Triple(
            result,
            _SH["sourceConstraintComponent"],
            ox.NamedNode(f"{SH}{f.component}ConstraintComponent"),
        ),
        ox.Triple(result, _SOURCE_FILE, ox.Literal(file)),
    ]
    if f.path is not None and not f.path.startswith(("<", "^")):  # a plain IRI path
        triples.append(ox.Triple(result, _SH["resultPath"], ox.NamedNode(f.path)))
    if f.value is not None:
        triples.append(ox.Triple(result, _SH["value"], _node(f.value)))
    if figid is not None:
        triples.append(ox.Triple(result, _FIGURE, ox.NamedNode(figure_iri(figid))))
    return triples


def _node(value: str) -> ox.NamedNode | ox.Literal:
    try:
        return ox.NamedNode(value)
    except ValueError:
        return ox.Literal(value)


@dataclass
class Summary:
    read: int = 0
    converted: int = 0
    rejected: int = 0
    triples: int = 0
    genes_with_id: int = 0
    symbols_without_id: int = 0
    orphans: list[str] = field(default_factory=list)
    findings: FindingLog = field(default_factory=FindingLog)
    rejected_by_stage: Counter[str] = field(default_factory=Counter)
    store_changes: str | None = None
    """What loading the store changed, when the load updated it by the differences."""
    reused: int = 0
    """Records whose kept outcome was taken (their inputs unchanged since the last run)."""
    unchanged: bool = False
    """Whether the outputs in place were already this run's (nothing was written)."""
    damaged: int = 0
    """Kept outcomes that could not be trusted (those records were converted again)."""
    notices: list[str] = field(default_factory=list)
    """One-line notices about the run (what it kept was dropped or damaged)."""

    def reuse_line(self) -> str | None:
        """How many outcomes were taken from the last run, if any."""
        if not self.reused:
            return None
        return (
            f"{counted(self.reused, 'record')} unchanged since the last run (their kept "
            "outcomes taken), "
            f"{self.read - self.reused} converted"
        )

    @property
    def violations(self) -> int:
        return self.findings.violations

    @property
    def warnings(self) -> int:
        return self.findings.warnings

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        balance = "" if self.read == self.converted + self.rejected else " (MISMATCH)"
        stages = ", ".join(f"{n} {s}" for s, n in sorted(self.rejected_by_stage.items()))
        by_stage = f" [{stages}]" if stages else ""
        return (
            f"{counted(self.read, 'record')} read: {self.converted} converted, "
            f"{self.rejected} rejected{by_stage}{balance}; {counted(self.triples, 'triple')}; "
            f"genes: {self.genes_with_id} with NCBI Gene ids, "
            f"{counted(self.symbols_without_id, 'symbol')} without; {self._shacl()}; "
            f"{counted(len(self.orphans), 'orphan sidecar')}"
        )

    def validation_line(self) -> str:
        """The one-line summary of a ``validate`` run."""
        return (
            f"{counted(self.read, 'record')} checked: {self.converted} valid, "
            f"{self.rejected} rejected; {self._shacl()}"
        )

    def _shacl(self) -> str:
        violations, warnings = counted(self.violations, "violation"), self.warnings
        return f"SHACL: {violations}, {counted(warnings, 'warning')}"


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1: ``1 record``, ``2 records``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


REJECTIONS_SHOWN = 5
"""How many rejected records the terminal lists after the summary (all are in rejects.jsonl)."""
_REASON_SHOWN = 200
"""Characters of a reason the terminal shows (rejects.jsonl has it whole)."""


def rejection_lines(rejects: Path, rejected: int) -> list[str]:
    """Terminal lines: the first rejections of ``rejects`` (file, stage, reason), how many
    more there are, and where they all are."""
    if not rejected:
        return []
    with rejects.open(encoding="utf-8") as stream:
        rows = [json.loads(line) for line in islice(stream, REJECTIONS_SHOWN)]
    lines = [f"{counted(rejected, 'record')} rejected, all listed in {rejects}:"]
    for row in rows:
        reason = row["reason"]
        if len(reason) > _REASON_SHOWN:
            reason = reason[: _REASON_SHOWN - 1] + "…"
        lines.append(f"  {row['file']} ({row['stage']}): {reason}")
    if rejected > len(rows):
        lines.append(f"  … and {rejected - len(rows)} more")
    return lines


def shacl_digest(log: FindingLog) -> list[str]:
    """Terminal lines: counts per shape and message, then the first findings per record."""
    if not log.counts:
        return []
    lines = ["SHACL results by shape and message:"]
    for (severity, shape, message), count in sorted(log.counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {count:6d}  {severity:9s} {shape}: {message}")
    if log.sample:
        lines.append("Rejected by SHACL (first findings per record):")
    for row in log.sample:
        f = row.finding
        value = f" value {f.value!r}" if f.value is not None else ""
        where = compact_path(f.path) if f.path else compact(f.focus)
        lines.append(f"  {row.file} [{row.figid}] {where}{value}: {f.message}")
    records = {row.file for row in log.sample}
    if len(records) >= RECORDS_SHOWN:
        lines.append(f"  (the first {RECORDS_SHOWN} rejected records; all are in rejects.jsonl)")
    return lines
