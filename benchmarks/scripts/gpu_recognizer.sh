#!/usr/bin/env bash
# Train the recognizer (and, with LOCALIZER=1, a wider localizer beside it) on one CUDA GPU in a
# fixed time, from a bare machine, and bring back the weights.
#
# For a lent machine that has PyTorch, CUDA and a C++ compiler but none of this machine's fonts or
# data. Prepare its inputs here, from the repository root (INPUTS, default .devrun, ignored by git):
#   mkdir -p .devrun/data/svhn-annotations && cp "$SVHNX_DATA/svhn-annotations/boxes.csv.gz" .devrun/data/svhn-annotations/
#   python -m svhnx.synth atlas .devrun/atlas.npz          # this machine's fonts and handwriting, 7 MB
#   python -m benchmarks.scripts.mine_negatives .devrun/negatives.npz --photos 6000 --only candidate
# then run it there, from the repository root, with INPUTS carried along:
#   OUT=results-folder bash benchmarks/scripts/gpu_recognizer.sh
# It builds svhnx into /tmp/site, then trains for as many steps as fit in DEADLINE seconds from its
# start (benchmarks.scripts.train_in_budget measures each run's speed first):
# - `synth --model svhn-resnet --width 2` (6.3 M parameters, 12 MB in float16) with RECOGNIZER_WORKERS
#   loader processes (default 14, or 10 beside the localizer);
# - with LOCALIZER=1, at the same time, `unet --widths 24,36,48,72,96` (594 k parameters, 2.2x the
#   shipped one's) with LOCALIZER_WORKERS (default 4), on scenes and photos drawn from the same atlas.
# It writes to OUT (8 files at most come back from a lent machine): train.log, the GPU's utilisation
# every 20 s, and per model its metrics.csv, budget.json and weights in the shipped format
# (recognizer-gpu.pt, localizer-gpu.pt). DEVICE, PROBE, MARGIN and EXTRA (more flags for both runs,
# last wins) let it be tried on a CPU first with small numbers; there, two runs sharing 2 cores ran
# past their budget and were stopped, and the weights of their last evaluation came back.
set -o pipefail
export PYTHONUNBUFFERED=1
INPUTS=${INPUTS:-.devrun}
OUT=${OUT:?set OUT to the folder for the results}
T0=$SECONDS
LOG=$OUT/train.log
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; python3 -V
  python3 -c "import torch, cv2, numpy; print('torch', torch.__version__, 'cv2', cv2.__version__, 'numpy', numpy.__version__)"; } >"$LOG" 2>&1
python3 -m pip install --no-build-isolation --no-deps --no-compile --target /tmp/site . >>"$LOG" 2>&1 || { echo INSTALL FAILED; tail -60 "$LOG"; exit 1; }
echo "installed after $((SECONDS - T0)) s" | tee -a "$LOG"
export PYTHONPATH=/tmp/site:$PWD SVHNX_DATA=$PWD/$INPUTS/data SVHNX_CACHE=/tmp/svhnx-cache OMP_NUM_THREADS=1
python3 -c "import svhnx._core, svhnx; print(svhnx.__file__)" >>"$LOG" 2>&1 || { echo IMPORT FAILED; tail -30 "$LOG"; exit 1; }
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 20 >"$OUT/gpu_util.csv" 2>/dev/null &
BUDGET=$(( ${DEADLINE:-555} - SECONDS ))
# Seconds kept for start-up, evaluations and saving; more when two runs share the CPUs, whose probes
# may each have measured its speed while the other was still starting.
MARGIN=${MARGIN:-$([ "${LOCALIZER:-0}" = 1 ] && echo 75 || echo 40)}

budgeted() {  # NAME TASK [flags]: one time-budgeted run in /tmp/NAME-gpu, its output in train.log
  local name=$1; shift
  # shellcheck disable=SC2086  # EXTRA is a list of flags
  timeout $(( BUDGET + 20 )) python3 -m benchmarks.scripts.train_in_budget $BUDGET --out "/tmp/$name-gpu" --evals 8 --margin "$MARGIN" \
    --probe-steps "${PROBE:-400}" -- "$@" --atlas "$INPUTS/atlas.npz" --threads 2 --device "${DEVICE:-cuda}" ${EXTRA:-} 2>&1 \
    | sed -u "s/^/[$name] /" >>"$LOG"
}

if [ "${LOCALIZER:-0}" = 1 ]; then
  budgeted localizer unet --widths 24,36,48,72,96 --batch-size 64 --lr 3e-3 --warmup 0.03 --ema 0.998 --val-size 1024 \
    --val-photos 128 --workers "${LOCALIZER_WORKERS:-4}" --seed 71 &
fi
budgeted recognizer synth --model svhn-resnet --width 2 --dense 512 --batch-size 256 --lr 2e-3 --warmup 0.03 --weight-decay 0.01 \
  --ema 0.999 --negatives "$INPUTS/negatives.npz" --negative-share 0.03 --seed 61 \
  --workers "${RECOGNIZER_WORKERS:-$([ "${LOCALIZER:-0}" = 1 ] && echo 10 || echo 14)}"
rc=$?
wait
echo "training done (rc $rc) after $((SECONDS - T0)) s" | tee -a "$LOG"
for name in recognizer localizer; do
  [ -d "/tmp/$name-gpu" ] || continue
  for f in metrics.csv budget.json; do cp "/tmp/$name-gpu/$f" "$OUT/$name-$f" 2>/dev/null; done
  python3 -m benchmarks.scripts.ship_weights "/tmp/$name-gpu" "$name" --to "$OUT/$name-gpu.pt" >>"$LOG" 2>&1 || echo "SHIP $name FAILED"
done
uptime >>"$LOG"; echo "done after $((SECONDS - T0)) s" | tee -a "$LOG"
tail -30 "$LOG"
exit $rc
