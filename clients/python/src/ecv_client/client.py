"""HTTP client of the ECV service, on the standard library only (urllib).

The same rules as the `ecv` CLI: the URL comes from the argument or ECV_URL, the token from
the argument or ECV_TOKEN, the project from the argument, ECV_PROJECT or ./ecv.json.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union, cast

from .errors import EcvError, ProblemError, UnreachableError
from .types import GateAnswer, Json, UpsertResult

DEFAULT_URL = "http://127.0.0.1:8080"
# A long poll is cut into calls of at most this many seconds, so that proxies and load
# balancers with idle timeouts do not drop a connection that is waiting on purpose.
MAX_WAIT_PER_CALL = 300.0

PathOrBytes = Union[str, "os.PathLike[str]", bytes]


def project_from_file(directory: str) -> Optional[str]:
    """The project name in `directory/ecv.json` (what `ecv init` wrote), or None."""
    path = os.path.join(directory, "ecv.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            name = json.load(f).get("name")
    except (OSError, ValueError) as e:
        raise EcvError("%s is not valid JSON: %s" % (path, e)) from e
    return name if isinstance(name, str) and name else None


class Client:
    """One ECV service. Methods return the service's JSON answers; errors raise `ProblemError`."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, project: Optional[str] = None, timeout: float = 60.0) -> None:
        self.url = (url or os.environ.get("ECV_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("ECV_TOKEN") or None)
        self.project = project or os.environ.get("ECV_PROJECT") or project_from_file(os.getcwd())
        self.timeout = timeout

    # --- the loop's calls -------------------------------------------------------------

    def gate(self, experiment: str, project: Optional[str] = None, *, threshold: Optional[float] = None, wait: Optional[float] = None) -> GateAnswer:
        """Gate an experiment (SPEC §5): accept, reject or reanchor. Recorded by the service.

        `wait` long-polls up to that many seconds (≤ 3600) while reproductions run.
        """
        body: Json = {"experiment": experiment}
        if threshold is not None:
            body["threshold"] = threshold
        if wait is not None:
            body["wait"] = wait
        timeout = max(self.timeout, (wait or 0) + 30.0)
        return cast(GateAnswer, self.request("POST", self._p(project, "/gate"), body, timeout=timeout))

    def wait_for(self, experiment: str, project: Optional[str] = None, *, timeout: float = 900.0, threshold: Optional[float] = None) -> GateAnswer:
        """Gate and keep waiting until the decision leaves `reanchor` or `timeout` seconds pass.

        Returns the last answer: `reanchor` means the reproductions did not land in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            answer = self.gate(experiment, project, threshold=threshold, wait=max(0.0, min(remaining, MAX_WAIT_PER_CALL)))
            if answer["decision"] != "reanchor" or deadline - time.monotonic() <= 0:
                return answer
            if not answer["reanchor"]["jobs"]:
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))  # nothing to wait on: don't spin

    def ingest(self, results: PathOrBytes, project: Optional[str] = None, *, create: bool = False, direction: Optional[str] = None, strict: bool = False) -> UpsertResult:
        """Ingest a results.tsv (a path, or its bytes): all or nothing, idempotent (SPEC §7).

        Premises follow the log's keep chain; for git lineage and diffs use `ecv ingest --git`.
        """
        if isinstance(results, bytes):
            data = results
        else:
            with open(results, "rb") as f:
                data = f.read()
        query: Dict[str, str] = {}
        if create:
            query["create"] = "true"
        if direction:
            query["direction"] = direction
        if strict:
            query["strict"] = "true"
        path = self._p(project, "/results") + ("?" + urllib.parse.urlencode(query) if query else "")
        return cast(UpsertResult, self.request("POST", path, data, content_type="text/tab-separated-values"))

    def post_experiment(self, experiment: Union[Mapping[str, Any], Sequence[Mapping[str, Any]]], project: Optional[str] = None) -> UpsertResult:
        """Store one experiment (a dict) or a list of up to 10,000 in one transaction."""
        body = dict(experiment) if isinstance(experiment, Mapping) else [dict(e) for e in experiment]
        return cast(UpsertResult, self.request("POST", self._p(project, "/experiments"), body))

    def bar(self, project: Optional[str] = None) -> Optional[float]:
        """The value the next proposal on the accepted head must beat; None before there is one."""
        answer = self.request("GET", self._p(project, "/bar"))
        return cast(Optional[float], answer["bar"])

    def experiment(self, key: str, project: Optional[str] = None) -> Json:
        """One stored experiment with its confidence, K and premises."""
        return cast(Json, self.request("GET", self._p(project, "/experiments/" + urllib.parse.quote(key, safe=""))))

    def create_project(self, config: Mapping[str, Any]) -> Json:
        """Create a project (admin token): `{ name, metric: { name, direction }, … }`."""
        return cast(Json, self.request("POST", "/v1/projects", dict(config)))

    # --- transport -------------------------------------------------------------------

    def _p(self, project: Optional[str], rest: str) -> str:
        name = project or self.project
        if not name:
            raise EcvError("no project: pass project=, set ECV_PROJECT, or run where ecv.json is")
        return "/v1/projects/" + urllib.parse.quote(name, safe="") + rest

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json", timeout: Optional[float] = None) -> Any:
        """One HTTP call; returns the parsed JSON answer, raises `ProblemError` on 4xx/5xx."""
        headers = {"accept": "application/json", "user-agent": "ecv-client-python/0.1"}
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        data: Optional[bytes] = None
        if body is not None:
            headers["content-type"] = content_type
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as res:
                return _json(res.read(), res.headers.get("content-type", ""))
        except urllib.error.HTTPError as e:
            raw = e.read()
            parsed = _json(raw, e.headers.get("content-type", "")) if raw else None
            problem = parsed if isinstance(parsed, dict) else {"status": e.code, "title": e.reason, "detail": raw.decode("utf-8", "replace")[:500]}
            retry = e.headers.get("retry-after")
            raise ProblemError(e.code, problem, method, path, float(retry) if retry and retry.replace(".", "", 1).isdigit() else None) from None
        except urllib.error.URLError as e:
            raise UnreachableError(self.url, str(e.reason)) from None
        except (socket.timeout, TimeoutError, ConnectionError) as e:
            raise UnreachableError(self.url, str(e) or type(e).__name__) from None


def _json(raw: bytes, content_type: str) -> Any:
    if "json" not in content_type:
        return raw.decode("utf-8", "replace")
    return json.loads(raw) if raw else None


def _client(url: Optional[str], token: Optional[str], project: Optional[str]) -> Client:
    return Client(url=url, token=token, project=project)


# Module-level shortcuts: one call, configured from the arguments or the environment.


def gate(experiment: str, project: Optional[str] = None, *, threshold: Optional[float] = None, wait: Optional[float] = None, url: Optional[str] = None, token: Optional[str] = None) -> GateAnswer:
    """`Client(url, token, project).gate(experiment, …)`."""
    return _client(url, token, project).gate(experiment, threshold=threshold, wait=wait)


def wait_for(experiment: str, project: Optional[str] = None, *, timeout: float = 900.0, threshold: Optional[float] = None, url: Optional[str] = None, token: Optional[str] = None) -> GateAnswer:
    """`Client(url, token, project).wait_for(experiment, …)`."""
    return _client(url, token, project).wait_for(experiment, timeout=timeout, threshold=threshold)


def ingest(results: PathOrBytes, project: Optional[str] = None, *, create: bool = False, direction: Optional[str] = None, strict: bool = False, url: Optional[str] = None, token: Optional[str] = None) -> UpsertResult:
    """`Client(url, token, project).ingest(results, …)`."""
    return _client(url, token, project).ingest(results, create=create, direction=direction, strict=strict)


def post_experiment(experiment: Union[Mapping[str, Any], Sequence[Mapping[str, Any]]], project: Optional[str] = None, *, url: Optional[str] = None, token: Optional[str] = None) -> UpsertResult:
    """`Client(url, token, project).post_experiment(experiment)`."""
    return _client(url, token, project).post_experiment(experiment)


__all__: List[str] = ["Client", "DEFAULT_URL", "gate", "ingest", "post_experiment", "project_from_file", "wait_for"]
