#!/usr/bin/env bash
# One call of the device machine (DEVELOPERS.md, "The GPU"): train or resume a run for at most
# SECONDS and send its checkpoint and logs back under $OUT/NAME.
#
# usage (from the repository root, on the device machine):
#   bash tools/gpu_train.sh NAME SECONDS [train.py options ...]
#
# * Installs the Keras wheels that ../shared/tools/gpu-wheels.sh put in .whl/ (carry ".whl")
#   and trains with KERAS_BACKEND=jax.
# * The run lives in /tmp/runs/NAME. If the machine has no checkpoint of it (a fresh machine),
#   it is restored from .gpu_data/carry/NAME/ (last.keras, logs/training.csv, logs/run_config.json)
#   when that exists: copy the previous call's $OUT/NAME files there and carry ".gpu_data".
# * With a checkpoint the run resumes: the options are passed with --resume, and train.py takes
#   the ones not given from the run's run_config.json (and refuses to change what the checkpoint
#   holds); without one they start the run.
# * train.py --time-limit stops after the last epoch that fits, leaving about a minute for the
#   copies and the transfer back.
#
# Example, three 10-minute calls of one run:
#   bash tools/gpu_train.sh inv 590 --train-dirs .gpu_data/train --val-dirs .gpu_data/val \
#       --preset invertible --image-size 128 --batch-size 32 --steps-per-epoch 500 --epochs 60 ...
#   bash tools/gpu_train.sh inv 590      # twice more, after copying $OUT/inv to .gpu_data/carry/inv
#   bash tools/gpu_train.sh inv 590 --epochs 90    # a longer schedule for the same run
set -o pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash tools/gpu_train.sh NAME SECONDS [train.py options ...]" >&2
  exit 2
fi
started=$(date +%s)
name=$1
seconds=$2
shift 2
output=${OUT:?OUT must name the folder whose files come back}/$name
run=/tmp/runs/$name
carried=.gpu_data/carry/$name
mkdir -p "$output"

if ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit
  export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>/dev/null

if [ ! -f "$run/last.keras" ] && [ -f "$carried/last.keras" ]; then
  echo "fresh machine: restoring $name from $carried"
  mkdir -p "$run/logs"
  cp "$carried/last.keras" "$run/" && cp "$carried"/logs/training.csv "$carried"/logs/run_config.json "$run/logs/" || exit
fi
if [ -f "$run/last.keras" ]; then
  options=(--checkpoint-dir "$run" --resume "$@")
else
  options=(--checkpoint-dir "$run" "$@")
fi
minutes=$(python3 -c "print(round(($seconds - ($(date +%s) - $started) - 60) / 60, 2))")
echo "training $name for at most $minutes min: train.py ${options[*]}"
python3 train.py "${options[@]}" --verbose 2 --time-limit "$minutes" 2>&1 | grep -v "^$" | tee "$output/train_$(date +%s).log" | tail -40
status=$?

if [ -f "$run/last.keras" ]; then
  mkdir -p "$output/logs"
  cp "$run/last.keras" "$output/" && cp "$run"/logs/training.csv "$run"/logs/run_config.json "$output/logs/"
  latest_grid=$(ls "$run"/logs/images/*.png 2>/dev/null | tail -1)
  [ -n "$latest_grid" ] && cp "$latest_grid" "$output/last_grid.png"
fi
echo "call took $(( $(date +%s) - started )) s; train.py exit status $status"
exit $status
