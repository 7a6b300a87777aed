#!/usr/bin/env bash
# Train the recognizer on one CUDA GPU in a fixed time, from a bare machine, and bring back its weights.
#
# For a lent machine that has PyTorch, CUDA and a C++ compiler but none of this machine's fonts or
# data. Prepare its inputs here, from the repository root (INPUTS, default .devrun, ignored by git):
#   mkdir -p .devrun/data/svhn-annotations && cp "$SVHNX_DATA/svhn-annotations/boxes.csv.gz" .devrun/data/svhn-annotations/
#   python -m svhnx.synth atlas .devrun/atlas.npz          # this machine's fonts and handwriting, 7 MB
#   python -m benchmarks.scripts.mine_negatives .devrun/negatives.npz --photos 6000 --only candidate
# then run it there, from the repository root, with INPUTS carried along:
#   OUT=results-folder bash benchmarks/scripts/gpu_recognizer.sh
# It builds svhnx into /tmp/site, trains `synth --model svhn-resnet --width 2` for as many steps as
# fit in DEADLINE seconds from its start (benchmarks.scripts.train_in_budget measures the speed
# first), and writes to OUT: train.log, the run's metrics.csv, budget.json, config.json and
# curves.png, the probe's metrics, the GPU's utilisation every 20 s, and recognizer-gpu.pt (the
# run's last averaged weights in the shipped format, 12 MB). DEVICE, WORKERS, PROBE and EXTRA (more
# train flags, last wins) let it be tried on a CPU first with small numbers.
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
# shellcheck disable=SC2086  # EXTRA is a list of flags
timeout $(( BUDGET + 20 )) python3 -m benchmarks.scripts.train_in_budget $BUDGET --out /tmp/rec-gpu --evals 8 --margin 40 \
  --probe-steps "${PROBE:-400}" -- \
  synth --model svhn-resnet --width 2 --dense 512 --batch-size 256 --lr 2e-3 --warmup 0.03 --weight-decay 0.01 --ema 0.999 \
  --atlas "$INPUTS/atlas.npz" --negatives "$INPUTS/negatives.npz" --negative-share 0.03 --workers "${WORKERS:-14}" --threads 2 \
  --seed 61 --device "${DEVICE:-cuda}" ${EXTRA:-} >>"$LOG" 2>&1
rc=$?
echo "train rc $rc after $((SECONDS - T0)) s" | tee -a "$LOG"
for f in metrics.csv budget.json config.json curves.png; do cp "/tmp/rec-gpu/$f" "$OUT/" 2>/dev/null; done
cp /tmp/rec-gpu-probe/metrics.csv "$OUT/probe_metrics.csv" 2>/dev/null
python3 -m benchmarks.scripts.ship_weights /tmp/rec-gpu recognizer --to "$OUT/recognizer-gpu.pt" >>"$LOG" 2>&1 || echo "SHIP FAILED"
uptime >>"$LOG"; echo "done after $((SECONDS - T0)) s" | tee -a "$LOG"
tail -30 "$LOG"
exit $rc
