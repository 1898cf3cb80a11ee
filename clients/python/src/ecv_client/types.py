"""Typed shapes of the answers (a subset of openapi.yaml: the fields a loop reads)."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict

# Optional keys are declared in `total=False` subclasses (NotRequired is Python 3.11+ only).

Decision = Literal["accept", "reject", "reanchor"]


class Reason(TypedDict):
    code: str
    message: str


class Confidence(TypedDict):
    value: float
    components: Dict[str, float]
    reasons: List[Reason]


class Weakest(TypedDict):
    key: str
    confidence: float


class _GateJob(TypedDict):
    id: str
    experiment: str
    seed: int
    state: str


class GateJob(_GateJob, total=False):
    purpose: str


class Reanchor(TypedDict):
    candidate: Optional[str]
    jobs: List[GateJob]
    used: int
    budget: int


class Level(TypedDict):
    mean: float
    sd: float


class _GateAnswer(TypedDict):

    decision: Decision
    experiment: str
    confidence: Optional[Confidence]
    compounded: Optional[float]
    threshold: float
    weakest: Optional[Weakest]
    reasons: List[Reason]
    reanchor: Reanchor
    anchored: bool
    level: Optional[Level]
    bar: Optional[float]
    head: Optional[str]


class GateAnswer(_GateAnswer, total=False):
    """`POST /v1/projects/{p}/gate` (SPEC §5)."""

    thresholdSource: str


class _UpsertItem(TypedDict):
    key: str
    created: bool


class UpsertItem(_UpsertItem, total=False):
    version: int


class IngestWarning(TypedDict, total=False):
    """A row-level warning of a results.tsv ingest."""

    line: int
    code: str
    message: str


class _UpsertResult(TypedDict):
    created: int
    unchanged: int
    items: List[UpsertItem]


class UpsertResult(_UpsertResult, total=False):
    """`POST …/experiments` and `POST …/results`: what was written."""

    updated: int
    absent: int
    restored: int
    warnings: List[IngestWarning]


Json = Dict[str, Any]
