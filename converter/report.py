"""What a run tells people: the summary line, the SHACL report in RDF and on the terminal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox

from .validate import Finding
from .vocab import PFOCR, PREFIXES, RDF, SH, XSD, compact, figure_iri

FIRST_FINDINGS_SHOWN = 3
"""How many findings of one record the terminal summary shows."""


@dataclass
class FindingRow:
    """A finding with the record it belongs to."""

    file: str
    figid: str | None
    finding: Finding
    rejected: bool


@dataclass
class Summary:
    read: int = 0
    converted: int = 0
    rejected: int = 0
    triples: int = 0
    genes_with_id: int = 0
    symbols_without_id: int = 0
    orphans: list[str] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    rejected_by_stage: Counter[str] = field(default_factory=Counter)

    @property
    def violations(self) -> int:
        return sum(1 for row in self.findings if row.finding.is_violation)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.violations

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        balance = "ok" if self.read == self.converted + self.rejected else "MISMATCH"
        stages = ", ".join(f"{n} {s}" for s, n in sorted(self.rejected_by_stage.items()))
        by_stage = f" [{stages}]" if stages else ""
        return (
            f"{self.read} records read: {self.converted} converted, {self.rejected} rejected"
            f"{by_stage} ({balance}); {self.triples} triples; genes: {self.genes_with_id} with "
            f"NCBI Gene ids, {self.symbols_without_id} symbols without; SHACL: {self.violations} "
            f"violations, {self.warnings} warnings; {len(self.orphans)} orphan sidecars"
        )

    def validation_line(self) -> str:
        """The one-line summary of a ``validate`` run."""
        return (
            f"{self.read} records checked: {self.converted} valid, {self.rejected} rejected; "
            f"SHACL: {self.violations} violations, {self.warnings} warnings"
        )


def shacl_digest(rows: list[FindingRow]) -> list[str]:
    """Terminal lines: counts per shape and message, then the first findings per record."""
    if not rows:
        return []
    lines = ["SHACL results by shape and message:"]
    counts = Counter((r.finding.severity, r.finding.shape, r.finding.message) for r in rows)
    for (severity, shape, message), count in sorted(counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {count:6d}  {severity:9s} {shape}: {message}")
    rejected = [r for r in rows if r.rejected]
    shown: Counter[str] = Counter()
    if rejected:
        lines.append("Rejected by SHACL (first findings per record):")
    for row in rejected:
        if not row.finding.is_violation or shown[row.file] >= FIRST_FINDINGS_SHOWN:
            continue
        shown[row.file] += 1
        f = row.finding
        value = f" value {f.value!r}" if f.value is not None else ""
        where = compact(f.path) if f.path else compact(f.focus)
        lines.append(f"  {row.file} [{row.figid}] {where}{value}: {f.message}")
    return lines


def validation_report(rows: list[FindingRow]) -> bytes:
    """The findings as a standard ``sh:ValidationReport`` in Turtle.

    Each ``sh:ValidationResult`` also names the record file (``pfocr:sourceFile``) and the
    figure (``pfocr:figure``) it belongs to.
    """
    report = ox.BlankNode("report")
    sh = {
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
    rdf_type = ox.NamedNode(RDF + "type")
    conforms = not any(r.finding.is_violation for r in rows)
    triples = [
        ox.Triple(report, rdf_type, sh["ValidationReport"]),
        ox.Triple(
            report,
            sh["conforms"],
            ox.Literal(str(conforms).lower(), datatype=ox.NamedNode(XSD + "boolean")),
        ),
    ]
    for index, row in enumerate(rows, start=1):
        f = row.finding
        result = ox.BlankNode(f"r{index}")
        triples += [
            ox.Triple(report, sh["result"], result),
            ox.Triple(result, rdf_type, sh["ValidationResult"]),
            ox.Triple(result, sh["focusNode"], _node(f.focus)),
            ox.Triple(result, sh["resultMessage"], ox.Literal(f.message)),
            ox.Triple(result, sh["resultSeverity"], ox.NamedNode(SH + f.severity)),
            ox.Triple(
                result,
                sh["sourceConstraintComponent"],
                ox.NamedNode(f"{SH}{f.component}ConstraintComponent"),
            ),
            ox.Triple(result, ox.NamedNode(PFOCR + "sourceFile"), ox.Literal(row.file)),
        ]
        if f.path is not None and not f.path.startswith("^"):
            triples.append(ox.Triple(result, sh["resultPath"], ox.NamedNode(f.path)))
        if f.value is not None:
            triples.append(ox.Triple(result, sh["value"], _node(f.value)))
        if row.figid is not None:
            figure = ox.NamedNode(figure_iri(row.figid))
            triples.append(ox.Triple(result, ox.NamedNode(PFOCR + "figure"), figure))
    prefixes = {**PREFIXES, "sh": SH}
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    assert data is not None  # no output file given: serialize returns the bytes
    return data


def _node(value: str) -> ox.NamedNode | ox.Literal:
    try:
        return ox.NamedNode(value)
    except ValueError:
        return ox.Literal(value)
