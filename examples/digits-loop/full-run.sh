#!/usr/bin/env bash
# The validation run of docs/validation.md: three loops of N experiments (proposer seeds 1, 2, 3,
# fixed in advance), each gated by ECV with two runners, then the many-seed truth of every
# keep (20 seeds) and every discard (10 seeds), then the per-loop and pooled analysis.
#
# usage: full-run.sh BASE [N]      (BASE must not exist; N default 200)
# Meant for the background:  nohup examples/digits-loop/full-run.sh /tmp/digits-validation > /tmp/digits-validation.log 2>&1 &
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE="${1:?usage: full-run.sh BASE [N]}"
N="${2:-200}"
SEEDS="${SEEDS:-1 2 3}"
[ ! -e "$BASE" ] || { echo "full-run: $BASE exists" >&2; exit 2; }
mkdir -p "$BASE"
PY="${PYTHON:-/usr/bin/python3}"
for s in $SEEDS; do
  echo "== $(date +%T) loop with proposer seed $s"
  bash "$HERE/run-loop.sh" -n "$N" -r 2 -s "$s" -o "$BASE/loop-s$s"
done
for s in $SEEDS; do
  echo "== $(date +%T) many-seed truth, loop $s"
  "$PY" "$HERE/evaluate.py" "$BASE/loop-s$s" --seeds 20 --discard-seeds 10 --jobs 2
done
echo "== $(date +%T) analysis"
"$PY" "$HERE/analyze.py" $(for s in $SEEDS; do echo "$BASE/loop-s$s"; done) --pool "$BASE/pooled.md"
echo "== $(date +%T) done"
