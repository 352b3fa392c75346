"""The same code runs on JAX (the GPU machine's backend): train, resume, split, hide, reveal."""

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import REPOSITORY

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")


def run(arguments, tmp_path):
    environment = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, *arguments], cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("preset, dtype_policy", [("tiny", "float32"), ("tiny-unshuffled", "float32"), ("tiny-invertible", "float32"),
                                                  ("tiny-invertible", "mixed_bfloat16")])
def test_jax_train_resume_split_and_round_trip(tmp_path, photo_folder, photo_paths, preset, dtype_policy):
    common = ["train.py", "--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", preset, "--image-size", "16",
              "--batch-size", "2", "--steps-per-epoch", "2", "--val-steps", "1", "--checkpoint-dir", str(tmp_path / "run"), "--verbose", "0",
              "--ssim-weight", "0.004", "--workers", "2", "--cache-images"]
    assert "backend jax" in run(common + ["--epochs", "1", "--dtype-policy", dtype_policy], tmp_path)
    assert "resuming" in run(common + ["--epochs", "2", "--resume"], tmp_path)
    run(["split_model.py", str(tmp_path / "run" / "last.keras"), "--out-dir", str(tmp_path)], tmp_path)
    # photo_paths[1] (chelsea, 300x451) has an odd width: padded for the unshuffled and invertible networks.
    run(["image_hide.py", str(photo_paths[0]), str(photo_paths[1]), "-o", str(tmp_path / "c.png"), "--model", str(tmp_path / "hide.keras")], tmp_path)
    run(["image_reveal.py", str(tmp_path / "c.png"), "-o", str(tmp_path / "s.png"), "--model", str(tmp_path / "reveal.keras")], tmp_path)
    assert (tmp_path / "s.png").is_file()
