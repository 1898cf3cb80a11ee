#!/usr/bin/env python3
"""Many-seed truth for a finished loop: re-runs commits of the loop with fresh seeds.

    evaluate.py OUT [--seeds 20] [--seed-base 1000] [--jobs 2] [--discard-seeds 0]

OUT is run-loop.sh's output directory (OUT/repo, OUT/results.tsv). Every kept commit (and every
commit in OUT/gates.jsonl: an obey-mode loop marks a rejected keep `discard`) is
checked out in its own git worktree (OUT/eval/worktrees/<commit>) and run as
`ECV_SEED=s $PYTHON train.py` for s = seed-base … seed-base+seeds-1: seeds neither the loop
(seed 0) nor ECV's reproductions (1, 2, 3, …) used. With --discard-seeds k > 0, every
discarded commit is run with the first k of those seeds too (flat keep's lost improvements).
Keeps run one process per seed, exactly as a runner does (`--keep-mode process`); discards, by
default, run all their seeds in one process per commit (`--discard-mode batch`: train.py is
executed afresh with runpy for each seed, with ECV_SEED set, so the values are the same, without
paying the interpreter and numpy start-up each time; `--check-batch K` verifies that on K keeps).
Results go to OUT/truth.json, one list of values per commit (null for a failed run); values
already there are reused, so an interrupted evaluation resumes.
"""

import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

METRIC = re.compile(r"^val_accuracy:\s*(\S+)", re.M)


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout.strip()


def find_python():
    for c in [os.environ.get("PYTHON"), "python3", "/usr/bin/python3"]:
        if c and shutil.which(c) and subprocess.run([c, "-c", "import numpy, sklearn"], capture_output=True).returncode == 0:
            return shutil.which(c)
    sys.exit("evaluate: no python3 with numpy and scikit-learn")


def run_one(python, wt, seed, timeout):
    env = dict(os.environ, ECV_SEED=str(seed), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        p = subprocess.run([python, "train.py"], cwd=wt, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    m = METRIC.findall(p.stdout)
    return float(m[-1]) if p.returncode == 0 and m else None


BATCH = r"""
import contextlib, io, json, os, re, runpy, sys
wt = sys.argv[1]
os.chdir(wt)
sys.path.insert(0, wt)
for s in sys.argv[2:]:
    os.environ["ECV_SEED"] = s
    buf, code = io.StringIO(), 0
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_path("train.py", run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except Exception:
        code = 1
    m = re.findall(r"^val_accuracy:\s*(\S+)", buf.getvalue(), re.M)
    print(json.dumps([int(s), float(m[-1]) if code == 0 and m else None]), flush=True)
"""


def run_batch(python, wt, seeds, timeout):
    """All `seeds` of one commit in one interpreter: {seed: value or None}."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        p = subprocess.run([python, "-c", BATCH, wt, *map(str, seeds)], env=env, capture_output=True, text=True, timeout=timeout * len(seeds))
    except subprocess.TimeoutExpired:
        return {s: None for s in seeds}
    got = dict(json.loads(l) for l in p.stdout.splitlines() if l.startswith("["))
    return {s: got.get(s) for s in seeds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-base", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--discard-seeds", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--keep-mode", choices=["process", "batch"], default="process")
    ap.add_argument("--discard-mode", choices=["process", "batch"], default="batch")
    ap.add_argument("--check-batch", type=int, default=3, help="keeps on which batch mode is checked against process mode")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    repo = os.path.join(out, "repo")
    python = find_python()
    os.environ.setdefault("DIGITS_CACHE_DIR", os.path.join(out, "cache"))
    with open(os.path.join(out, "results.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f.readlines()[1:] if l.strip()]
    # Keeps, and every commit a loop gated (in obey mode a rejected keep's row became `discard`).
    gated = []
    if os.path.exists(os.path.join(out, "gates.jsonl")):
        with open(os.path.join(out, "gates.jsonl")) as f:
            gated = [json.loads(l)["commit"] for l in f if l.strip()]
    keep_commits = [r[0] for r in rows if r[3] == "keep" or r[0] in set(gated)]
    plan = [(c, a.seeds, a.keep_mode) for c in dict.fromkeys(keep_commits)]
    if a.discard_seeds > 0:
        plan += [(r[0], min(a.discard_seeds, a.seeds), a.discard_mode) for r in rows if r[3] == "discard" and r[0] not in keep_commits]
    truth_path = os.path.join(out, "truth.json")
    truth = {"seedBase": a.seed_base, "values": {}}
    if os.path.exists(truth_path):
        with open(truth_path) as f:
            truth = json.load(f)
        if truth.get("seedBase") != a.seed_base:
            sys.exit("evaluate: %s was made with seed base %s" % (truth_path, truth.get("seedBase")))
    values = truth["values"]

    wt_root = os.path.join(out, "eval", "worktrees")
    os.makedirs(wt_root, exist_ok=True)
    tasks = []  # (commit, worktree, [seed indices]): one process per task
    for commit, k, mode in plan:
        have = values.setdefault(commit, [])
        if len(have) >= k:
            continue
        wt = os.path.join(wt_root, commit)
        if not os.path.exists(wt):
            git(repo, "worktree", "add", "-q", "--detach", wt, commit)
        idx = list(range(len(have), k))
        tasks += [(commit, wt, [i]) for i in idx] if mode == "process" else [(commit, wt, idx)]
    n_runs = sum(len(t[2]) for t in tasks)
    print("evaluate: %d commits, %d runs to do in %d processes (%d workers, python %s)" % (len(plan), n_runs, len(tasks), a.jobs, python), flush=True)

    lock = threading.Lock()
    pending = {c: {} for c, _, _ in tasks}
    done = [0]
    t0 = time.time()

    def work(task):
        commit, wt, idx = task
        if len(idx) == 1:
            got = {idx[0]: run_one(python, wt, a.seed_base + idx[0], a.timeout)}
        else:
            by_seed = run_batch(python, wt, [a.seed_base + i for i in idx], a.timeout)
            got = {i: by_seed[a.seed_base + i] for i in idx}
        with lock:
            pending[commit].update(got)
            have = values[commit]
            while len(have) in pending[commit]:  # keep each list in seed order
                have.append(pending[commit].pop(len(have)))
            before = done[0]
            done[0] += len(idx)
            if done[0] // 100 > before // 100 or done[0] == n_runs:
                with open(truth_path + ".tmp", "w") as f:
                    json.dump(truth, f)
                os.replace(truth_path + ".tmp", truth_path)
                el = time.time() - t0
                print("evaluate: %d/%d runs, %.0f s, ~%.0f s left" % (done[0], n_runs, el, el / done[0] * (n_runs - done[0])), flush=True)

    with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(work, tasks))
    # Batch mode must give the very values of one process per seed: check on a few keeps.
    checked = []
    for commit, _k, mode in [p for p in plan if p[2] == "process"][: a.check_batch]:
        wt = os.path.join(wt_root, commit)
        seeds = [a.seed_base + i for i in range(min(3, len(values[commit])))]
        by_seed = run_batch(python, wt, seeds, a.timeout)
        same = all(by_seed[s] == values[commit][s - a.seed_base] for s in seeds)
        checked.append({"commit": commit, "seeds": seeds, "identical": same})
        if not same:
            print("evaluate: WARNING batch mode differs on %s: %s vs %s" % (commit, by_seed, values[commit][:3]), flush=True)
    truth["batchCheck"] = checked
    with open(truth_path + ".tmp", "w") as f:
        json.dump(truth, f)
    os.replace(truth_path + ".tmp", truth_path)
    git(repo, "worktree", "prune")
    for commit, _k, _m in plan:
        wt = os.path.join(wt_root, commit)
        if os.path.exists(wt):
            git(repo, "worktree", "remove", "--force", wt)
    print("evaluate: done in %.0f s -> %s" % (time.time() - t0, truth_path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
