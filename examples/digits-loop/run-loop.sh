#!/usr/bin/env bash
# Runs the digits research loop end to end on this machine:
#   a fresh experiment repository (branch autoresearch/digits) from template/, `ecv init`,
#   the ECV service (`ecv serve`, embedded PGlite under OUT/ecv-data) on a free port,
#   RUNNERS `ecv runner` processes reproducing the re-anchoring jobs of that repository,
#   loop.py for N experiments (shadow: ingest + gate after every keep, flat keep/discard; obey: the
#   program.md protocol, see loop.py), then collect.py (waits for the
#   scheduled reproductions, dumps final.json) and `ecv check` on the branch head (check.md,
#   check-junit.xml, its exit code in meta.json). Everything stops on exit.
#
# usage: run-loop.sh [-n N] [-o OUT] [-r RUNNERS] [-m shadow|obey] [-s PROPOSER_SEED] [-t THRESHOLD]
#                    [-T TRAIN_SCRIPT] [-R "RUNNER OPTIONS"] [-x TAMPER]
#   N        experiments including the baseline (default 200)
#   OUT      output directory (default: a new /tmp/digits-loop.XXXXXX); must not exist or be empty
#   RUNNERS  ecv runner processes (default 2)
#   TRAIN_SCRIPT  becomes train.py in the repository (default template/train.py; the GPU variant
#            is gpu/train_torch.py, same knobs and output contract)
#   RUNNER OPTIONS  extra `ecv runner` options, e.g. "--gpus 0 --labels gpu=H100"
#   TAMPER   comma-separated experiment indices that edit the protected prepare.py to inflate the
#            metric instead of a hyperparameter (a cheating agent; in obey mode the gate rejects
#            it and the loop reverts it: the reject path of the protocol)
# env: PYTHON   a python3 with numpy and scikit-learn (default: the first of python3,
#               /usr/bin/python3 that imports sklearn; Debian's python3-sklearn lives in
#               /usr/lib/python3/dist-packages, which a pyenv python3 on PATH does not see)
#      ECV      the ecv command (default: node <this checkout>/bin/ecv.js)
# exit: 0 done; 1 the loop or the collection failed; 2 usage or set-up error.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
usage() { sed -n '2,/^set -e/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; }
N=200 OUT="" RUNNERS=2 MODE=shadow PSEED=1 THRESHOLD="" TRAIN="" RUNNER_OPTS="--labels cpu=1" TAMPER=""
while getopts "n:o:r:m:s:t:T:R:x:h" opt; do
  case $opt in
    n) N=$OPTARG ;; o) OUT=$OPTARG ;; r) RUNNERS=$OPTARG ;; m) MODE=$OPTARG ;; s) PSEED=$OPTARG ;; t) THRESHOLD=$OPTARG ;;
    T) TRAIN=$OPTARG ;; R) RUNNER_OPTS=$OPTARG ;; x) TAMPER=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ "$N" =~ ^[1-9][0-9]*$ && "$RUNNERS" =~ ^[1-9][0-9]?$ && "$PSEED" =~ ^[0-9]+$ && "$MODE" =~ ^(shadow|obey)$ && "$TAMPER" =~ ^[0-9,]*$ ]] ||
  { echo "run-loop: bad option value (-n $N -r $RUNNERS -s $PSEED -m $MODE)" >&2; usage >&2; exit 2; }

find_python() {
  local c
  for c in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import numpy, sklearn' >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  return 1
}
PYTHON="$(find_python)" || { echo "run-loop: no python3 with numpy and scikit-learn (apt-get install -y python3-sklearn)" >&2; exit 2; }
export PYTHON
ECV="${ECV:-node $ROOT/bin/ecv.js}"

OUT="${OUT:-$(mktemp -d /tmp/digits-loop.XXXXXX)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
[ -z "$(ls -A "$OUT")" ] || { echo "run-loop: $OUT is not empty" >&2; exit 2; }
REPO="$OUT/repo"
export DIGITS_CACHE_DIR="$OUT/cache"
# Keep every numeric library on one thread: the loop, the runners and the service share the CPUs.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
log() { printf '%s run-loop: %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$OUT/driver.log"; }

PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "out=$OUT n=$N runners=$RUNNERS mode=$MODE python=$PYTHON"

# 1. The service on a free port (it boots while the repository is set up).
PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
PORT=$PORT HOST=127.0.0.1 ECV_DATA_DIR="$OUT/ecv-data" ECV_AUTH=off LOG_LEVEL=warn \
  $ECV serve >"$OUT/service.log" 2>&1 &
PIDS+=($!)
# 2. The experiment repository.
mkdir -p "$REPO"
cp "$HERE/template/prepare.py" "$HERE/template/program.md" "$HERE/template/.gitignore" "$REPO/"
cp "${TRAIN:-$HERE/template/train.py}" "$REPO/train.py"
git -C "$REPO" init -q -b autoresearch/digits
git -C "$REPO" config user.email loop@ecv.local
git -C "$REPO" config user.name "digits loop"
(cd "$REPO" && $ECV init --project digits --metric val_accuracy --direction maximize \
  --command '${PYTHON:-python3} train.py' --replicates 3 --time-budget 120 --protect prepare.py \
  ${THRESHOLD:+--threshold "$THRESHOLD"}) >>"$OUT/driver.log"
# Two commits, as in a real project: the fixed harness first, then the baseline the loop starts
# from. (A baseline commit that itself adds prepare.py would be hard-gated `protected_path`.)
mv "$REPO/train.py" "$OUT/train.py.baseline"
git -C "$REPO" add -A
git -C "$REPO" commit -q -m "project: fixed split and evaluation (prepare.py), program.md, ecv.json"
mv "$OUT/train.py.baseline" "$REPO/train.py"
git -C "$REPO" add train.py
git -C "$REPO" commit -q -m "baseline: MLP 32 tanh, sgd momentum, 8 epochs"
(cd "$REPO" && "$PYTHON" prepare.py) 2>>"$OUT/driver.log"   # the data cache, once

# 3. Wait until the service is ready.
DEADLINE=$((SECONDS + 300))
until "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$URL/readyz', timeout=5)" 2>/dev/null; do
  kill -0 "${PIDS[0]}" 2>/dev/null || { echo "run-loop: the service died:" >&2; tail -20 "$OUT/service.log" >&2; exit 2; }
  [ $SECONDS -lt $DEADLINE ] || { echo "run-loop: the service did not get ready at $URL" >&2; exit 2; }
  sleep 0.5
done
log "service ready at $URL"

# 4. Runners reproducing this repository's re-anchoring jobs.
for r in $(seq 1 "$RUNNERS"); do
  # The job's command is `$PYTHON train.py` with the data cache above: named, since a job sees
  # only the runner's allow-listed variables.
  $ECV runner --url "$URL" --repo "$REPO" --name "digits-runner-$r" --work-dir "$OUT/worktrees-$r" \
    --pass-env PYTHON,DIGITS_CACHE_DIR $RUNNER_OPTS --wait 10 >"$OUT/runner-$r.log" 2>&1 &
  PIDS+=($!)
done
log "$RUNNERS runner(s) started"

# 5. The loop.
T0=$(date +%s)
if ! "$PYTHON" "$HERE/loop.py" --repo "$REPO" --n "$N" --ecv "$ECV" --url "$URL" --python "$PYTHON" \
  --seed "$PSEED" --mode "$MODE" --tamper "$TAMPER" --log-dir "$OUT" | tee "$OUT/loop.log"; then
  log "loop.py failed"; exit 1
fi
T1=$(date +%s)
log "loop done in $((T1 - T0)) s"

# 6. Wait for the reproductions, dump what ECV knows.
touch "$OUT/gates.jsonl"
COLLECT_RC=0
"$PYTHON" "$HERE/collect.py" --url "$URL" --project digits --gates "$OUT/gates.jsonl" --out "$OUT/final.json" || COLLECT_RC=$?
T2=$(date +%s)
# 7. What CI on the experiment branch would say next: `ecv check` gates the head keep.
CHECK_RC=0
(cd "$REPO" && $ECV check --url "$URL" --junit "$OUT/check-junit.xml") >"$OUT/check.md" 2>&1 || CHECK_RC=$?
log "ecv check on the branch head: exit $CHECK_RC"
cp "$REPO/results.tsv" "$OUT/results.tsv"
cat >"$OUT/meta.json" <<EOF
{"n": $N, "runners": $RUNNERS, "mode": "$MODE", "proposerSeed": $PSEED, "url": "$URL",
 "python": "$PYTHON", "loopSeconds": $((T1 - T0)), "drainSeconds": $((T2 - T1)), "checkExit": $CHECK_RC,
 "repo": "$REPO", "branch": "autoresearch/digits", "head": "$(git -C "$REPO" rev-parse --short=7 HEAD)", "host": "$(hostname)", "cpus": $(getconf _NPROCESSORS_ONLN)}
EOF
log "collected in $((T2 - T1)) s (exit $COLLECT_RC); results in $OUT"
[ "$COLLECT_RC" = 0 ] || exit 1
