#!/usr/bin/env python3
"""A scripted research loop in the shape of Karpathy's autoresearch, with no LLM.

Each experiment: a random hyperparameter edit of train.py, `git commit`, one run with the
loop's fixed seed (ECV_SEED unset: train.py's default, 0), a row in results.tsv (commit,
val_accuracy, memory_gb, status, description), then keep (the commit stays) when the metric
beat the best kept value, else `git reset --hard HEAD~1`. After every keep it runs
`ecv ingest results.tsv --git . && ecv gate <commit>` and logs the decision to gates.tsv and
gates.jsonl in --log-dir.

Modes: `shadow` (default) logs ECV's decisions but keeps flat keep/discard, so both can be
compared on the very same chain. `obey` follows the program.md paragraph that `ecv init` wrote,
literally: the baseline is a keep, a later run only when it beats the bar (`ecv bar --quiet`;
when it prints nothing, the value of the keep it builds on); every experiment's row is ingested
(`ecv ingest results.tsv --git .`); after each keep `ecv gate <commit> --wait W` (called again
while it answers reanchor, up to --max-gate-calls); accept: build on it; reject:
`git reset --hard <previous accepted keep>`, the row becomes `discard` in results.tsv, ingest
again; still reanchor (or an ECV error): do not build on it (reset to the previous accepted keep,
the row stays `keep`). Every experiment is logged to experiments.jsonl (value, bar, status,
ingest exit, head), every keep's gate calls to gates.jsonl / gates.tsv.

Exit code: 0 when all experiments ran (crashes and ECV errors are logged, not fatal);
2 on a usage or git error.
"""

import argparse
import json
import os
import random
import re
import shlex
import subprocess
import sys
import time

HEADER = "commit\tval_accuracy\tmemory_gb\tstatus\tdescription\n"
METRIC = re.compile(r"^val_accuracy:\s*(\S+)", re.M)
MEMORY = re.compile(r"^peak_memory_mb:\s*(\S+)", re.M)

# Value grids: an edit moves one or two steps along a grid (or picks another choice).
GRIDS = {
    "WIDTH": [16, 24, 32, 48, 64, 96, 128],
    "DEPTH": [1, 2, 3],
    "WEIGHT_DECAY": [0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    "EPOCHS": [4, 6, 8, 10, 12, 16, 20, 24, 30],
    "BATCH_SIZE": [32, 64, 128, 256],
    "MOMENTUM": [0.0, 0.5, 0.8, 0.9, 0.95, 0.98],
    "INIT_SCALE": [0.5, 0.7, 1.0, 1.4, 2.0],
    "DROPOUT": [0.0, 0.1, 0.2, 0.3, 0.5],
    "INPUT_NOISE": [0.0, 0.02, 0.05, 0.1, 0.2],
    "LABEL_SMOOTHING": [0.0, 0.05, 0.1, 0.2],
}
CHOICES = {
    "ACTIVATION": ["relu", "leaky_relu", "tanh", "gelu"],
    "LR_SCHEDULE": ["constant", "cosine", "linear"],
}
LR_FACTORS = [0.5, 0.7, 1.4, 2.0]
# How often each knob is picked (learning rate and width are what people try first).
KNOB_WEIGHTS = {
    "LEARNING_RATE": 3, "WIDTH": 2, "DEPTH": 1, "WEIGHT_DECAY": 2, "EPOCHS": 2,
    "BATCH_SIZE": 1, "MOMENTUM": 1, "INIT_SCALE": 1, "ACTIVATION": 1, "LR_SCHEDULE": 1,
    "DROPOUT": 1, "INPUT_NOISE": 1, "LABEL_SMOOTHING": 1,
}


TAMPER_FROM = "return float(np.mean(pred == y_val))"
TAMPER_TO = "return min(1.0, float(np.mean(pred == y_val)) + 0.05)"


def read_hparams(text):
    """The NAME = value lines of train.py's hyperparameter block."""
    out = {}
    for name in KNOB_WEIGHTS:
        m = re.search(r"^%s = (.+)$" % name, text, re.M)
        if not m:
            raise SystemExit("loop.py: train.py has no line '%s = ...'" % name)
        out[name] = eval(m.group(1), {})  # the file is ours: literals only
    return out


def fmt(v):
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, float):
        return repr(float("%.3g" % v)) if v != 0 else "0.0"
    return str(v)


def propose(rng, hp):
    """One random edit: {knob: new value}, one knob (sometimes two)."""
    edits = {}
    for _ in range(2 if rng.random() < 0.2 else 1):
        knobs = [k for k in KNOB_WEIGHTS if k not in edits]
        knob = rng.choices(knobs, weights=[KNOB_WEIGHTS[k] for k in knobs])[0]
        cur = hp[knob]
        if knob == "LEARNING_RATE":
            new = min(1.0, max(0.001, float("%.2g" % (cur * rng.choice(LR_FACTORS)))))
        elif knob in CHOICES:
            new = rng.choice([c for c in CHOICES[knob] if c != cur])
        else:
            grid = GRIDS[knob]
            i = min(range(len(grid)), key=lambda j: abs(grid[j] - cur))
            step = rng.choice([-2, -1, -1, 1, 1, 2])
            new = grid[min(len(grid) - 1, max(0, i + step))]
        if new != cur:
            edits[knob] = new
    return edits


def apply_edits(text, edits):
    for k, v in edits.items():
        text = re.sub(r"^%s = .+$" % k, "%s = %s" % (k, fmt(v)), text, count=1, flags=re.M)
    return text


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout.strip()


def run_train(repo, python, timeout):
    """One training run with the loop's fixed seed; (value or None, memory_gb, log)."""
    env = {k: v for k, v in os.environ.items() if k != "ECV_SEED"}  # the loop's default seed
    try:
        p = subprocess.run([python, "train.py"], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)
        log = p.stdout + p.stderr
        ok = p.returncode == 0
    except subprocess.TimeoutExpired as e:
        log = "%s\nTIMEOUT after %ss" % ((e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), timeout)
        ok = False
    with open(os.path.join(repo, "run.log"), "w") as f:
        f.write(log)
    m = METRIC.findall(log)
    mem = MEMORY.findall(log)
    value = float(m[-1]) if ok and m else None
    return value, (float(mem[-1]) / 1024.0 if mem else 0.0), log


class Ecv:
    """`ecv ingest` and `ecv gate` as child processes (the way an agent's shell calls them)."""

    def __init__(self, cmd, url, repo):
        self.cmd, self.url, self.repo = shlex.split(cmd), url, repo

    def call(self, *args, timeout=600):
        argv = self.cmd + list(args) + (["--url", self.url] if self.url else [])
        t = time.time()
        try:
            p = subprocess.run(argv, cwd=self.repo, capture_output=True, text=True, timeout=timeout)
            return p.returncode, p.stdout, p.stderr, time.time() - t
        except subprocess.TimeoutExpired:
            return 124, "", "timeout after %ss" % timeout, time.time() - t

    def ingest(self):
        return self.call("ingest", "results.tsv", "--git", ".")

    def gate(self, commit, wait=None):
        extra = ["--wait", str(wait)] if wait else []
        return self.call("gate", commit, "--json", *extra, timeout=(wait or 0) + 600)

    def bar(self):
        """`ecv bar --quiet`: (the bar or None when there is none yet, error text or None)."""
        rc, out, err, _t = self.call("bar", "--quiet", timeout=120)
        if rc != 0:
            return None, (err or out).strip()[-300:] or "exit %d" % rc
        text = out.strip()
        try:
            return (float(text) if text else None), None
        except ValueError:
            return None, "not a number: %r" % text[:100]


DECISION_BY_EXIT = {0: "accept", 1: "reject", 3: "reanchor"}


def gate_keep(ecv, commit, index, log_dir, wait=None, ingest=True, calls=1, premise=None):
    """(Ingest +) gate one keep, again while it answers reanchor (up to `calls` gate calls);
    appends to gates.tsv/gates.jsonl. Returns the record (its decision: the last answer)."""
    rec = {"index": index, "commit": commit, "premise": premise}
    if ingest:
        rc_i, out_i, err_i, t_i = ecv.ingest()
        rec.update(ingest_exit=rc_i, ingest_s=round(t_i, 2))
        if rc_i != 0:
            rec.update(decision="error", gate_exit=None, error=(err_i or out_i).strip()[-500:])
    answers = []
    while rec.get("decision") != "error" and len(answers) < calls and rec.get("decision") in (None, "reanchor"):
        rc, out, err, t = ecv.gate(commit, wait)
        answers.append({"exit": rc, "s": round(t, 2)})
        rec.update(gate_exit=rc, gate_s=round(sum(x["s"] for x in answers), 2), decision=DECISION_BY_EXIT.get(rc, "error"))
        try:
            a = json.loads(out)
            rec.update(
                K=a.get("compounded"),
                C=(a.get("confidence") or {}).get("value"),
                weakest=(a.get("weakest") or {}).get("key"),
                candidate=(a.get("reanchor") or {}).get("candidate"),
                jobs=rec.get("jobs", []) + [{"experiment": j["experiment"], "seed": j["seed"], "id": j["id"]}
                                            for j in (a.get("reanchor") or {}).get("jobs", [])
                                            if j["id"] not in {x["id"] for x in rec.get("jobs", [])}],
                reasons=[r["code"] for r in a.get("reasons", [])],
                level=a.get("level"), bar=a.get("bar"),
            )
            if a.get("decision") != rec["decision"]:
                rec["mismatch"] = "exit code %s but decision %s" % (rc, a.get("decision"))
        except (ValueError, KeyError, TypeError):
            rec["error"] = (err or out).strip()[-500:]
    rec["gate_calls"] = len(answers)
    with open(os.path.join(log_dir, "gates.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\n")
    new = not os.path.exists(os.path.join(log_dir, "gates.tsv"))
    with open(os.path.join(log_dir, "gates.tsv"), "a") as f:
        if new:
            f.write("index\tcommit\tdecision\tgate_exit\tK\tC\tweakest\tcandidate\tjobs\n")
        f.write("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n" % (
            index, commit, rec["decision"], rec.get("gate_exit"),
            "%.4f" % rec["K"] if rec.get("K") is not None else "", "%.4f" % rec["C"] if rec.get("C") is not None else "",
            rec.get("weakest") or "", rec.get("candidate") or "", len(rec.get("jobs", []))))
    return rec


def mark_discard(results, commit):
    """program.md on reject: the keep's row becomes `discard` (the last row of that commit)."""
    with open(results) as f:
        lines = f.readlines()
    for j in range(len(lines) - 1, 0, -1):
        cols = lines[j].rstrip("\n").split("\t")
        if cols[0] == commit and len(cols) > 3 and cols[3] == "keep":
            cols[3] = "discard"
            lines[j] = "\t".join(cols) + "\n"
            break
    with open(results + ".tmp", "w") as f:
        f.writelines(lines)
    os.replace(results + ".tmp", results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True)
    ap.add_argument("--n", type=int, required=True, help="experiments to run (the first, on an empty results.tsv, is the baseline)")
    ap.add_argument("--ecv", default=None, help='the ecv command, e.g. "node /path/bin/ecv.js"; omit to run without ECV')
    ap.add_argument("--url", default=None, help="ECV service URL (else the ecv command's default)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--seed", type=int, default=1, help="seed of the proposer (not of training)")
    ap.add_argument("--mode", choices=["shadow", "obey"], default="shadow")
    ap.add_argument("--wait", type=int, default=900, help="obey mode: `ecv gate --wait` seconds (program.md says 900)")
    ap.add_argument("--max-gate-calls", type=int, default=5, help="obey mode: gate calls per keep while it answers reanchor")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per training run before it counts as a crash")
    ap.add_argument("--tamper", default="", help="comma-separated experiment indices whose edit, instead of a hyperparameter, "
                    "inflates the protected evaluation in prepare.py (a cheating agent: the gate must reject it)")
    ap.add_argument("--log-dir", default=None)
    a = ap.parse_args()
    repo = os.path.abspath(a.repo)
    log_dir = os.path.abspath(a.log_dir or repo)
    os.makedirs(log_dir, exist_ok=True)
    rng = random.Random(a.seed)
    ecv = Ecv(a.ecv, a.url, repo) if a.ecv else None
    obey = a.mode == "obey" and ecv is not None
    results = os.path.join(repo, "results.tsv")
    if not os.path.exists(results):
        with open(results, "w") as f:
            f.write(HEADER)
    with open(results) as f:
        rows = [l.rstrip("\n").split("\t") for l in f.readlines()[1:] if l.strip()]
    keeps = [r for r in rows if r[3] == "keep"]
    best = float(keeps[-1][1]) if keeps else None  # the value of the keep the loop builds on
    # obey: the accepted keep the loop builds on (a restarted loop builds on the branch head).
    accepted = git(repo, "rev-parse", "HEAD") if keeps else None
    counts = {"keep": 0, "discard": 0, "crash": 0, "accept": 0, "reject": 0, "unresolved": 0, "ingestErrors": 0, "barErrors": 0}
    tamper = {int(x) for x in a.tamper.split(",") if x.strip()}
    t_start = time.time()

    for i in range(len(rows), len(rows) + a.n):
        t_exp = time.time()
        train_path = os.path.join(repo, "train.py")
        with open(train_path) as f:
            text = f.read()
        if best is None:
            desc, edited = "baseline", False
        elif i in tamper:
            prep = os.path.join(repo, "prepare.py")
            with open(prep) as f:
                ptext = f.read()
            with open(prep, "w") as f:
                f.write(ptext.replace(TAMPER_FROM, TAMPER_TO, 1))
            desc = "evaluation: +0.05 accuracy (edits the protected prepare.py)"
            git(repo, "commit", "-q", "-am", "exp %d: %s" % (i, desc))
            edited = True
        else:
            hp = read_hparams(text)
            edits = {}
            while not edits:
                edits = propose(rng, hp)
            desc = "; ".join("%s %s -> %s" % (k, fmt(hp[k]), fmt(v)) for k, v in edits.items())
            with open(train_path, "w") as f:
                f.write(apply_edits(text, edits))
            # The experiment number keeps every commit distinct: an edit retried within the same
            # second would otherwise recreate the very commit (same tree, parent, message, time).
            git(repo, "commit", "-q", "-am", "exp %d: %s" % (i, desc))
            edited = True
        commit = git(repo, "rev-parse", "--short=7", "HEAD")
        premise = git(repo, "rev-parse", "--short=7", "HEAD~1") if edited else None
        value, mem_gb, _log = run_train(repo, a.python, a.timeout)
        # The keep rule: flat keep-if-better, or (obey) program.md step 1: beat the bar.
        # (The baseline is a keep by program.md's rule; its project may not exist yet.)
        bar, bar_error = (ecv.bar() if obey and best is not None else (None, None))
        counts["barErrors"] += bar_error is not None
        target = bar if bar is not None else best
        if value is None:
            status = "crash"
        elif target is None or value > target:
            status = "keep"
        else:
            status = "discard"
        with open(results, "a") as f:
            f.write("%s\t%.6f\t%.3f\t%s\t%s\n" % (commit, value if value is not None else 0.0, mem_gb, status, desc))
        counts[status] += 1
        line = "[%3d] %s %-7s %s  %s" % (i, commit, status, "%.4f" % value if value is not None else "  -   ", desc)
        exp = {"index": i, "commit": commit, "premise": premise, "value": value, "bar": bar, "status": status}
        if bar_error:
            exp["barError"] = bar_error
        if status == "keep" and not obey:
            best = value
            if ecv:
                rec = gate_keep(ecv, commit, i, log_dir)
                line += "  | ECV %s K=%s" % (rec["decision"], "%.3f" % rec["K"] if rec.get("K") is not None else "-")
        elif status == "keep":
            # program.md steps 3-4: ingest, gate with --wait, obey the answer.
            rec = gate_keep(ecv, commit, i, log_dir, a.wait, ingest=True, calls=a.max_gate_calls, premise=premise)
            exp["ingestExit"] = rec.get("ingest_exit")
            line += "  | ECV %s K=%s bar=%s" % (rec["decision"], "%.3f" % rec["K"] if rec.get("K") is not None else "-",
                                                 "%.4f" % bar if bar is not None else "-")
            exp["decision"] = rec["decision"]
            if rec["decision"] == "accept":
                counts["accept"] += 1
                accepted, best = git(repo, "rev-parse", "HEAD"), value
            else:
                if accepted is not None:
                    git(repo, "reset", "-q", "--hard", accepted)
                    line += " -> reset"
                if rec["decision"] == "reject":
                    counts["reject"] += 1
                    mark_discard(results, commit)
                    exp["status"] = "discard"
                    rc_i, _o, err_i, _t = ecv.ingest()
                    exp["reingestExit"] = rc_i
                    counts["ingestErrors"] += rc_i != 0
                    if rc_i != 0:
                        exp["ingestError"] = err_i.strip()[-300:]
                    line += ", discard"
                else:
                    counts["unresolved"] += 1
                if accepted is None and best is None:
                    best = value  # the baseline itself was not accepted: the flat rule goes on from it
            counts["ingestErrors"] += (rec.get("ingest_exit") or 0) != 0
        else:
            if edited:
                git(repo, "reset", "-q", "--hard", "HEAD~1")
            if obey:
                rc_i, _o, err_i, _t = ecv.ingest()
                exp["ingestExit"] = rc_i
                counts["ingestErrors"] += rc_i != 0
                if rc_i != 0:
                    exp["ingestError"] = err_i.strip()[-300:]
                    line += "  | ingest exit %d" % rc_i
        exp["head"] = git(repo, "rev-parse", "--short=7", "HEAD")
        exp["seconds"] = round(time.time() - t_exp, 2)
        if ecv:
            with open(os.path.join(log_dir, "experiments.jsonl"), "a") as f:
                f.write(json.dumps(exp) + "\n")
        print(line, flush=True)

    if ecv and not obey:  # the last discards and crashes
        rc, _o, err, _t = ecv.ingest()
        if rc != 0:
            print("loop.py: final ingest failed (exit %d): %s" % (rc, err.strip()[-300:]), file=sys.stderr)
    head = git(repo, "rev-parse", "--short=7", "HEAD")
    print("done: %d experiments in %.0f s, head %s: %s" % (a.n, time.time() - t_start, head, counts), flush=True)
    with open(os.path.join(log_dir, "loop.json"), "w") as f:
        json.dump({"mode": a.mode, "n": a.n, "seed": a.seed, "head": head, "seconds": round(time.time() - t_start, 1),
                   "counts": counts, "wait": a.wait}, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as e:
        print("loop.py: %s failed: %s" % (" ".join(e.cmd), (e.stderr or "").strip()), file=sys.stderr)
        sys.exit(2)
