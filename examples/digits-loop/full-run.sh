#!/usr/bin/env bash
# The validation runs of docs/validation.md.
#   shadow (default): three loops of N experiments (proposer seeds 1, 2, 3, fixed in advance), each
#     gated by ECV with two runners while keeping flat keep/discard, then the many-seed truth of
#     every keep (20 seeds) and every discard (10 seeds), then the per-loop and pooled analysis.
#   obey (-m obey): the same proposer seeds as loops that obey the gate as program.md says
#     (BASE/obey-sS), next to flat keep on the same seeds (BASE/flat-sS: shadow-mode loops, whose
#     chain is flat keep's; or FLAT_BASE=DIR reuses DIR/loop-sS of an earlier shadow run), the
#     20-seed truth of every gated keep and of flat keep's keeps, and the comparison table
#     BASE/obey-vs-flat.md (.json): true accuracy of the head each loop ends on, contamination
#     among accepted keeps, >= 1 sigma keeps accepted, reproductions per experiment, wall time.
#
# usage: full-run.sh [-m shadow|obey] BASE [N]      (BASE must not exist; N default 200)
# Meant for the background:  nohup examples/digits-loop/full-run.sh -m obey /tmp/digits-obey > /tmp/digits-obey.log 2>&1 &
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=shadow
while getopts "m:" opt; do
  case $opt in m) MODE=$OPTARG ;; *) echo "usage: full-run.sh [-m shadow|obey] BASE [N]" >&2; exit 2 ;; esac
done
shift $((OPTIND - 1))
[[ "$MODE" =~ ^(shadow|obey)$ ]] || { echo "full-run: -m shadow|obey" >&2; exit 2; }
BASE="${1:?usage: full-run.sh [-m shadow|obey] BASE [N]}"
N="${2:-200}"
SEEDS="${SEEDS:-1 2 3}"
[ ! -e "$BASE" ] || { echo "full-run: $BASE exists" >&2; exit 2; }
mkdir -p "$BASE"
PY="${PYTHON:-/usr/bin/python3}"
T0=$(date +%s)
stage() { echo "== $(date +%T) (+$(($(date +%s) - T0)) s) $*" | tee -a "$BASE/stages.log"; }

if [ "$MODE" = shadow ]; then
  for s in $SEEDS; do
    stage "loop with proposer seed $s"
    bash "$HERE/run-loop.sh" -n "$N" -r 2 -s "$s" -o "$BASE/loop-s$s"
  done
  for s in $SEEDS; do
    stage "many-seed truth, loop $s"
    "$PY" "$HERE/evaluate.py" "$BASE/loop-s$s" --seeds 20 --discard-seeds 10 --jobs 2
  done
  stage "analysis"
  "$PY" "$HERE/analyze.py" $(for s in $SEEDS; do echo "$BASE/loop-s$s"; done) --pool "$BASE/pooled.md"
  stage "done"
  exit 0
fi

OBEY=() FLAT=()
for s in $SEEDS; do
  stage "obey-mode loop with proposer seed $s"
  bash "$HERE/run-loop.sh" -n "$N" -r 2 -s "$s" -m obey -o "$BASE/obey-s$s"
  OBEY+=("$BASE/obey-s$s")
done
for s in $SEEDS; do
  if [ -n "${FLAT_BASE:-}" ]; then
    FLAT+=("$FLAT_BASE/loop-s$s")
  else
    stage "flat keep (shadow-mode loop) with proposer seed $s"
    bash "$HERE/run-loop.sh" -n "$N" -r 2 -s "$s" -m shadow -o "$BASE/flat-s$s"
    FLAT+=("$BASE/flat-s$s")
  fi
done
for d in "${OBEY[@]}" "${FLAT[@]}"; do
  stage "20-seed truth of the keeps of $d"
  "$PY" "$HERE/evaluate.py" "$d" --seeds 20 --discard-seeds 0 --jobs 2
done
stage "analysis"
for d in "${OBEY[@]}" "${FLAT[@]}"; do "$PY" "$HERE/analyze.py" "$d" >/dev/null; done
"$PY" "$HERE/analyze.py" --versus "$BASE/obey-vs-flat.md" "$(IFS=,; echo "${OBEY[*]}")" "$(IFS=,; echo "${FLAT[*]}")"
stage "done"
