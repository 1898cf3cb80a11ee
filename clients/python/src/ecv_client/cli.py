"""`python -m ecv_client`: the loop's calls from a shell, with the `ecv` CLI's exit codes.

gate: 0 accept, 1 reject, 3 reanchor (re-anchoring pending), 2 usage or service error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from .client import Client
from .errors import EcvError
from .types import GateAnswer

EXIT = {"accept": 0, "reject": 1, "reanchor": 3}
EXIT_ERROR = 2


def _f3(v: Optional[float]) -> str:
    return "n/a" if v is None else "%.3f" % v


def format_gate(a: GateAnswer) -> str:
    """The lines `ecv gate` prints for an answer."""
    conf = a["confidence"]
    lines = ["%s  %s  K=%s  C=%s  threshold=%s" % (a["decision"].upper(), a["experiment"], _f3(a["compounded"]), _f3(conf["value"] if conf else None), a["threshold"])]
    if a["weakest"]:
        lines.append("weakest link: %s (C=%s)" % (a["weakest"]["key"], _f3(a["weakest"]["confidence"])))
    lines += ["- [%s] %s" % (r["code"], r["message"]) for r in a["reasons"]]
    lines += ["  job %s: reproduce %s seed %s (%s)" % (j["id"], j["experiment"], j["seed"], j["state"]) for j in a["reanchor"]["jobs"]]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="ECV service URL (default: ECV_URL, else http://127.0.0.1:8080)")
    common.add_argument("--token", help="bearer token (default: ECV_TOKEN)")
    common.add_argument("--project", "-p", help="project (default: ECV_PROJECT, else ecv.json's name)")
    ap = argparse.ArgumentParser(prog="python -m ecv_client", description="ECV client: gate and ingest from a research loop.")
    sub = ap.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gate", parents=[common], help="gate an experiment: exit 0 accept, 1 reject, 3 reanchor, 2 error")
    g.add_argument("experiment")
    g.add_argument("--threshold", type=float, help="raise the project's threshold for this call")
    g.add_argument("--wait", type=float, help="long-poll up to this many seconds for reproductions (one call)")
    g.add_argument("--wait-for", type=float, metavar="SECONDS", help="keep gating until decided or SECONDS pass")
    g.add_argument("--json", action="store_true", help="print the answer as JSON")
    i = sub.add_parser("ingest", parents=[common], help="ingest a results.tsv (keep-chain premises): exit 0, 2 on error")
    i.add_argument("file")
    i.add_argument("--create", action="store_true", help="create the project when missing (admin)")
    i.add_argument("--direction", choices=["minimize", "maximize"])
    i.add_argument("--strict", action="store_true", help="any row warning rejects the file")
    sub.add_parser("bar", parents=[common], help="print the bar a keep on the accepted head must beat")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)  # a usage error exits 2, like `ecv`
    try:
        client = Client(url=args.url, token=args.token, project=args.project)
        if args.command == "gate":
            if args.wait_for is not None:
                answer = client.wait_for(args.experiment, timeout=args.wait_for, threshold=args.threshold)
            else:
                answer = client.gate(args.experiment, threshold=args.threshold, wait=args.wait)
            print(json.dumps(answer, indent=2) if args.json else format_gate(answer))
            return EXIT[answer["decision"]]
        if args.command == "ingest":
            res = client.ingest(args.file, create=args.create, direction=args.direction, strict=args.strict)
            print("%d new, %d changed, %d unchanged" % (res["created"], res.get("updated", 0), res["unchanged"]))
            for w in res.get("warnings") or []:
                print("  line %s: %s" % (w.get("line", "?"), w.get("message", "")), file=sys.stderr)
            return 0
        bar = client.bar()
        print("" if bar is None else repr(bar))
        return 0
    except EcvError as e:
        print("ecv_client %s: %s" % (args.command, e), file=sys.stderr)
        return EXIT_ERROR
