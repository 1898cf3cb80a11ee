"""ECV client: gate, ingest and post experiments from a Python research loop (stdlib only).

    from ecv_client import Client
    ecv = Client("http://ecv:8080", token="ecv_…", project="nanogpt")
    ecv.ingest("results.tsv")
    answer = ecv.wait_for(commit, timeout=900)   # accept / reject / reanchor
"""

from .client import DEFAULT_URL, Client, gate, ingest, post_experiment, project_from_file, wait_for
from .errors import EcvError, ProblemError, UnreachableError
from .types import Decision, GateAnswer, Reason, UpsertResult

__version__ = "0.1.0"

__all__ = [
    "Client",
    "DEFAULT_URL",
    "Decision",
    "EcvError",
    "GateAnswer",
    "ProblemError",
    "Reason",
    "UnreachableError",
    "UpsertResult",
    "gate",
    "ingest",
    "post_experiment",
    "project_from_file",
    "wait_for",
]
