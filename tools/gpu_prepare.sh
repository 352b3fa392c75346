#!/usr/bin/env bash
# Prepares, on this machine, what a call of the lent GPU machine carries (DEVELOPERS.md, "The GPU"),
# in one command, before the first GPU call:
#   .whl/                Keras wheels the GPU machine lacks (../shared/tools/gpu-wheels.sh)
#   .gpu_data/train      the ImageNet training photos shrunk to at most SIZE px, JPEG q85 (~25 MB)
#   .gpu_data/val        the validation photos, the same way (~2.6 MB)
# All three are git-ignored, so a new checkout does not have them. Existing ones are kept.
# Then it prints the carry size (the working tree travels only up to 64 MiB in all).
#
# usage (from the repository root): bash tools/gpu_prepare.sh [SIZE]    (default 288)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
size=${1:-288}
data=../shared/data/images
if ! ls .whl/*.whl > /dev/null 2>&1; then
  mkdir -p "$(git rev-parse --git-path info)"  # gpu-wheels.sh appends to .git/info/exclude, absent in some checkouts
  bash ../shared/tools/gpu-wheels.sh > /dev/null
fi
for part in train val; do
  source=$data/$part
  [ "$part" = train ] && source=$data/train/imagenet  # the 64x64 Tiny ImageNet photos are smaller than the GPU crops
  if [ ! -d ".gpu_data/$part" ]; then
    python3 dataset/build_dataset.py "$source" --out ".gpu_data/$part" --size "$size" --shrink-only --jpeg-quality 85 \
      --val-fraction 0
  fi
done
echo "carry: .whl .gpu_data (add .gpu_data/init or .gpu_data/carry/NAME when they exist)"
du -sh .whl .gpu_data/* 2>/dev/null
du -sh .gpu_data
echo "working tree without ignored files: $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1)"
