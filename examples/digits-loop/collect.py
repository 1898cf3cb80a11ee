#!/usr/bin/env python3
"""After the loop: wait until the re-anchoring jobs the gate scheduled have been reproduced,
then dump what ECV knows to one JSON file: experiments with C, K and reproductions; for every
keep the read-only gate decision as the loop left it (`gateAtEnd`) and after settling
(`gateSettled`: keeps still at `reanchor` are gated again, and their reproductions run, until
none is or no new job is scheduled); and every recorded gate call.

    collect.py --url http://127.0.0.1:PORT --project digits --gates gates.jsonl --out final.json

Talks plain HTTP (urllib): GET /v1/projects/{p}, /experiments, /experiments/{key},
/experiments/{key}/gate (read-only: schedules nothing), /gate-decisions; POST /gate to settle.
Exit 0; 1 when jobs were still pending at --drain-timeout (the dump is written anyway).
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def get(url, path):
    with urllib.request.urlopen(url.rstrip("/") + path, timeout=60) as r:
        return json.loads(r.read().decode())


def paged(url, path, key="items", cursor="after", next_field="next", limit=1000):
    out, after = [], None
    while True:
        q = {"limit": limit, **({cursor: after} if after is not None else {})}
        page = get(url, "%s?%s" % (path, urllib.parse.urlencode(q)))
        out.extend(page[key])
        after = page.get(next_field)
        if after is None or not page[key]:
            return out


def post(url, path, body):
    req = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read().decode())


def drain(url, p, wanted, timeout):
    """Waits until every (experiment, seed) in `wanted` has a finished reproduction (value or
    failure). Returns what is still pending at the timeout."""
    t0 = time.time()
    pending = {k: set(v) for k, v in wanted.items()}
    while pending and time.time() - t0 < timeout:
        for key in list(pending):
            e = get(url, "/v1/projects/%s/experiments/%s" % (p, urllib.parse.quote(key)))
            if pending[key] <= {r["seed"] for r in e.get("reproductions", [])}:
                del pending[key]
        if pending:
            n = sum(len(s) for s in pending.values())
            print("collect: %d reproduction(s) of %d experiment(s) pending" % (n, len(pending)), file=sys.stderr, flush=True)
            time.sleep(3)
    return pending


def jobs_of(answers):
    wanted = {}
    for a in answers:
        for j in (a.get("reanchor") or {}).get("jobs", []):
            wanted.setdefault(j["experiment"], set()).add(j["seed"])
    return wanted


def read_only_gates(url, p, keys):
    out = {}
    for k in keys:
        try:
            out[k] = get(url, "/v1/projects/%s/experiments/%s/gate" % (p, urllib.parse.quote(k)))
        except urllib.error.HTTPError as err:
            out[k] = {"decision": "error", "status": err.code}
    return out


def count(answers):
    c = {}
    for a in answers.values():
        c[a["decision"]] = c.get(a["decision"], 0) + 1
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--gates", required=True, help="gates.jsonl written by loop.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--drain-timeout", type=float, default=900)
    ap.add_argument("--settle-rounds", type=int, default=10,
                    help="gate again every keep still at reanchor, until none is (0: skip)")
    a = ap.parse_args()
    p = urllib.parse.quote(a.project)

    with open(a.gates) as f:
        gates = [json.loads(l) for l in f if l.strip()]
    wanted = {}
    for g in gates:
        for j in g.get("jobs", []):
            wanted.setdefault(j["experiment"], set()).add(j["seed"])
    t0 = time.time()
    pending = drain(a.url, p, wanted, a.drain_timeout)
    drained_s = time.time() - t0

    keys = [e["key"] for e in paged(a.url, "/v1/projects/%s/experiments" % p) if e["status"] == "keep"]
    at_end = read_only_gates(a.url, p, keys)
    n_rep_end = sum(len(get(a.url, "/v1/projects/%s/experiments/%s" % (p, urllib.parse.quote(k)))["reproductions"])
                    for k in [e["key"] for e in paged(a.url, "/v1/projects/%s/experiments" % p)])
    print("collect: after the loop's own gate calls: %s, %d reproductions" % (count(at_end), n_rep_end), flush=True)

    # Settle: what ECV answers when every keep still at `reanchor` is gated again (as a CI
    # `ecv check` or the next morning's loop would), with the reproductions that costs.
    settled, rounds, t1 = at_end, 0, time.time()
    while rounds < a.settle_rounds and any(v["decision"] == "reanchor" for v in settled.values()):
        rounds += 1
        answers = [post(a.url, "/v1/projects/%s/gate" % p, {"experiment": k})
                   for k in keys if settled[k]["decision"] == "reanchor"]
        new = jobs_of(answers)
        pending = drain(a.url, p, new, a.drain_timeout)
        settled = read_only_gates(a.url, p, keys)
        print("collect: settle round %d: %d gate calls, %d jobs -> %s" % (
            rounds, len(answers), sum(len(v) for v in new.values()), count(settled)), flush=True)
        if not new or pending:
            break
    settle_s = time.time() - t1

    project = get(a.url, "/v1/projects/%s" % p)
    experiments = [get(a.url, "/v1/projects/%s/experiments/%s" % (p, urllib.parse.quote(e["key"])))
                   for e in paged(a.url, "/v1/projects/%s/experiments" % p)]
    decisions = paged(a.url, "/v1/projects/%s/gate-decisions" % p)
    out = {
        "project": project,
        "experiments": experiments,
        "gateAtEnd": at_end,
        "gateSettled": settled,
        "reproductionsAtEnd": n_rep_end,
        "gateDecisions": decisions,
        "drain": {"seconds": round(drained_s, 1), "settleSeconds": round(settle_s, 1), "settleRounds": rounds,
                  "pending": {k: sorted(v) for k, v in pending.items()}},
    }
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    n_rep = sum(len(e.get("reproductions", [])) for e in experiments)
    print("collect: %d experiments, %d reproductions, settled decisions on keeps %s, %d gate calls recorded -> %s"
          % (len(experiments), n_rep, count(settled), len(decisions), a.out), flush=True)
    return 1 if pending else 0


if __name__ == "__main__":
    sys.exit(main())
