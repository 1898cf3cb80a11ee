#!/usr/bin/env python3
"""Many-seed truth for a finished loop: re-runs commits of the loop with fresh seeds.

    evaluate.py OUT [--seeds 20] [--seed-base 1000] [--jobs 2] [--discard-seeds 0]

OUT is run-loop.sh's output directory (OUT/repo, OUT/results.tsv). Every kept commit is
checked out in its own git worktree (OUT/eval/worktrees/<commit>) and run as
`ECV_SEED=s $PYTHON train.py` for s = seed-base … seed-base+seeds-1: seeds neither the loop
(seed 0) nor ECV's reproductions (1, 2, 3, …) used. With --discard-seeds k > 0, every
discarded commit is run with the first k of those seeds too (flat keep's lost improvements).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-base", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--discard-seeds", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=300)
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    repo = os.path.join(out, "repo")
    python = find_python()
    os.environ.setdefault("DIGITS_CACHE_DIR", os.path.join(out, "cache"))
    with open(os.path.join(out, "results.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f.readlines()[1:] if l.strip()]
    plan = [(r[0], a.seeds) for r in rows if r[3] == "keep"]
    if a.discard_seeds > 0:
        plan += [(r[0], min(a.discard_seeds, a.seeds)) for r in rows if r[3] == "discard"]
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
    tasks = []
    for commit, k in plan:
        have = values.setdefault(commit, [])
        if len(have) >= k:
            continue
        wt = os.path.join(wt_root, commit)
        if not os.path.exists(wt):
            git(repo, "worktree", "add", "-q", "--detach", wt, commit)
        for i in range(len(have), k):
            tasks.append((commit, i, wt))
    print("evaluate: %d commits, %d runs to do (%d workers, python %s)" % (len(plan), len(tasks), a.jobs, python), flush=True)

    lock = threading.Lock()
    pending = {c: {} for c, _, _ in tasks}
    done = [0]
    t0 = time.time()

    def work(task):
        commit, i, wt = task
        v = run_one(python, wt, a.seed_base + i, a.timeout)
        with lock:
            pending[commit][i] = v
            have = values[commit]
            while len(have) in pending[commit]:  # keep each list in seed order
                have.append(pending[commit].pop(len(have)))
            done[0] += 1
            if done[0] % 50 == 0 or done[0] == len(tasks):
                with open(truth_path + ".tmp", "w") as f:
                    json.dump(truth, f)
                os.replace(truth_path + ".tmp", truth_path)
                el = time.time() - t0
                print("evaluate: %d/%d runs, %.0f s, ~%.0f s left" % (done[0], len(tasks), el, el / done[0] * (len(tasks) - done[0])), flush=True)

    with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(work, tasks))
    with open(truth_path + ".tmp", "w") as f:
        json.dump(truth, f)
    os.replace(truth_path + ".tmp", truth_path)
    git(repo, "worktree", "prune")
    for commit, _k in plan:
        wt = os.path.join(wt_root, commit)
        if os.path.exists(wt):
            git(repo, "worktree", "remove", "--force", wt)
    print("evaluate: done in %.0f s -> %s" % (time.time() - t0, truth_path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
