"""Evaluate a trained model on a folder of real photos or videos, through 8-bit images, against LSB-4.

A folder of videos is evaluated on full-resolution frames, each clip hiding another clip's frames,
with per-clip means and minima.

Examples:
    python eval.py ../shared/data/images/eval default --json eval.json --out results/
    python eval.py ../shared/data/videos default --frames-per-clip 6 --json eval_videos.json
"""

import sys

# The code lives in the library (tests import it from there; a module named "eval" or "test"
# would shadow Python's own).
from deepsteg.eval_command import main, parse_args  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
