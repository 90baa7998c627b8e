"""What a batch gives for each record: converted (its RDF, counts, findings) or rejected."""

from __future__ import annotations

from dataclasses import dataclass, field

from .describe import Tally
from .model import Stage, Stats
from .serialize import RecordRdf
from .validate import Finding


@dataclass
class Converted:
    source: str
    figid: str
    rdf: RecordRdf | None
    """The record's RDF (None when only validated)."""
    stats: Stats
    findings: list[Finding] = field(default_factory=list)
    """Warnings (a converted record has no violations)."""
    tally: Tally = field(default_factory=Tally)
    """The counts of the record's own graph, for the dataset description."""


@dataclass
class Rejected:
    source: str
    figid: str | None
    stage: Stage
    reason: str
    findings: list[Finding] = field(default_factory=list)

    def row(self) -> dict[str, object]:
        """The record's line in ``rejects.jsonl``."""
        row: dict[str, object] = {
            "file": self.source,
            "figid": self.figid,
            "stage": self.stage.value,
            "reason": self.reason,
        }
        if self.findings:
            row["violations"] = [f.as_dict() for f in self.findings if f.is_violation]
        return row


Outcome = Converted | Rejected
