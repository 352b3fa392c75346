"""Evaluate a model on an array of secret/cover pairs (.npy), or make such an array from a folder.

Examples:
    python test.py testdata.npy --make-from ../shared/data/images/eval --size 224
    python test.py testdata.npy default
The array has shape (N, 2, H, W, 3), uint8 RGB: [:, 0] secrets, [:, 1] covers.
"""

import sys

# The code lives in the library (tests import it from there; a module named "eval" or "test"
# would shadow Python's own).
from deepsteg.test_command import main, parse_args  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
