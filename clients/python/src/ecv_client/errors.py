"""Exceptions raised by the ECV client.

Every answer outside 2xx from the service is `application/problem+json` (RFC 9457) with a
stable `code`; `ProblemError` carries it whole, so a caller can branch on `code` and show
`detail` and the per-field `errors` (pointer or line, and why).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class EcvError(Exception):
    """Base class of every error this package raises."""


class UnreachableError(EcvError):
    """The service could not be reached (refused, DNS, timeout): no answer at all."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach ECV at {url}: {reason}")
        self.url = url
        self.reason = reason


class ProblemError(EcvError):
    """The service answered with an error status; `problem` is its problem+json body."""

    def __init__(self, status: int, problem: Dict[str, Any], method: str = "", path: str = "", retry_after: Optional[float] = None) -> None:
        self.status = status
        self.problem = problem
        self.method = method
        self.path = path
        #: Seconds the service asked to wait before a retry (`Retry-After` on 429 and 503).
        self.retry_after = retry_after
        super().__init__(self._message())

    @property
    def code(self) -> str:
        """The stable error code (`not_found`, `validation_failed`, `unauthorized`, …)."""
        return str(self.problem.get("code") or ("unavailable" if self.status >= 500 else "http_%d" % self.status))

    @property
    def title(self) -> str:
        return str(self.problem.get("title") or "")

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or "")

    @property
    def errors(self) -> List[Dict[str, Any]]:
        """Per-field errors: each has `message` and a `pointer` (JSON) or `line` (results.tsv)."""
        errs = self.problem.get("errors")
        return list(errs) if isinstance(errs, list) else []

    def _message(self) -> str:
        head = "%s %s: %d %s" % (self.method, self.path, self.status, self.code) if self.method else "%d %s" % (self.status, self.code)
        text = self.detail or self.title
        lines = [head + (": " + text if text else "")]
        for e in self.errors:
            where = "line %s: " % e["line"] if "line" in e else ("%s: " % e["pointer"] if e.get("pointer") else "")
            lines.append("  " + where + str(e.get("message", "")))
        return "\n".join(lines)
