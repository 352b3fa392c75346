"""Data-parallel training (train.py --distribute data-parallel) on CPU devices.

JAX gets two virtual CPU devices from XLA_FLAGS=--xla_force_host_platform_device_count=2,
TensorFlow two logical CPU devices; each run is a new process, as users start them.
"""

import csv
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPOSITORY
from deepsteg.data import PairDataset

LOSS_TOLERANCE = 1e-4  # relative: the same steps, only the order of floating-point sums differs
TENSORFLOW_DRIFT = 1e-3
needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")


def train(tmp_path, name, arguments, backend="jax", devices=1, expect_failure=False):
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
                   "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    program = ["train.py"]
    if backend == "tensorflow" and devices > 1:  # logical CPU devices must be made before TensorFlow starts
        program = ["-c", "import sys, tensorflow as tf\n"
                         "cpu = tf.config.list_physical_devices('CPU')[0]\n"
                         f"tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * {devices})\n"
                         "import train\ntrain.main(sys.argv[1:])\n"]
    result = subprocess.run([sys.executable, *program, *arguments, "--checkpoint-dir", str(tmp_path / name), "--verbose", "0"],
                            cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=900)
    if expect_failure:
        assert result.returncode == 1, result.stdout[-1000:] + result.stderr[-1000:]
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and "error:" in lines[-1] and "Traceback" not in result.stderr, result.stderr[-2000:]
        return lines[-1]
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def losses(tmp_path, name):
    with open(tmp_path / name / "logs" / "training.csv") as handle:
        return [(float(row["loss"]), float(row["val_loss"])) for row in csv.DictReader(handle)]


@pytest.fixture
def common(photo_folder):
    """A two-epoch tiny run at a global batch of 4."""
    return ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny", "--image-size", "16",
            "--batch-size", "4", "--steps-per-epoch", "3", "--val-steps", "1", "--ssim-weight", "0.01", "--epochs", "2"]


@needs_jax
def test_jax_two_devices_take_the_steps_of_one(tmp_path, common):
    one = train(tmp_path, "one", common + ["--distribute", "data-parallel"])
    two = train(tmp_path, "two", common + ["--distribute", "data-parallel"], devices=2)
    assert "engine jax, data-parallel over 1 device" in one
    assert "engine jax, data-parallel over 2 devices; global batch 4, 2 per device" in two
    train(tmp_path, "plain", common)
    for run in ("two", "plain"):
        np.testing.assert_allclose(losses(tmp_path, run), losses(tmp_path, "one"), rtol=LOSS_TOLERANCE)


@needs_jax
def test_a_two_device_checkpoint_resumes_on_one(tmp_path, common):
    first_epoch = common[:-1] + ["1"]
    train(tmp_path, "run", first_epoch + ["--distribute", "data-parallel"], devices=2)
    resumed = train(tmp_path, "run", common + ["--resume"])
    assert "resuming from" in resumed and len(losses(tmp_path, "run")) == 2
    # ... and a one-device checkpoint resumes on two.
    train(tmp_path, "back", first_epoch)
    assert "data-parallel over 2 devices" in train(tmp_path, "back", common + ["--resume", "--distribute", "data-parallel"], devices=2)
    assert len(losses(tmp_path, "back")) == 2


def test_tensorflow_mirrored_over_two_cpu_devices(tmp_path, common):
    two = train(tmp_path, "two", common + ["--distribute", "data-parallel"], backend="tensorflow", devices=2)
    assert "engine tensorflow, data-parallel over 2 devices" in two
    train(tmp_path, "one", common, backend="tensorflow")
    two, one = losses(tmp_path, "two"), losses(tmp_path, "one")
    np.testing.assert_allclose(two[0], one[0], rtol=LOSS_TOLERANCE)  # the first epoch's steps
    # TensorFlow's CPU kernels sum in another order on two devices, and Adam carries the
    # difference on: 1.4e-4 after six steps (measured).
    np.testing.assert_allclose(two, one, rtol=TENSORFLOW_DRIFT)


@needs_jax
def test_bad_combinations_are_clear_errors(tmp_path, common):
    odd_batch = [argument if argument != "4" else "5" for argument in common]  # --batch-size 5
    assert "does not split evenly over 2 devices" in train(tmp_path, "odd", odd_batch + ["--distribute", "data-parallel"], devices=2,
                                                           expect_failure=True)
    assert "need --distribute data-parallel" in train(tmp_path, "alone", common + ["--coordinator", "127.0.0.1:1234"],
                                                      expect_failure=True)
    assert "need all of --coordinator" in train(tmp_path, "partial", common + ["--distribute", "data-parallel", "--num-processes", "2"],
                                                expect_failure=True)
    assert "runs on JAX" in train(tmp_path, "tf", common + ["--distribute", "data-parallel", "--coordinator", "127.0.0.1:1234",
                                                            "--num-processes", "2", "--process-id", "0"],
                                  backend="tensorflow", expect_failure=True)
    assert "not numpy" in train(tmp_path, "numpy", common + ["--distribute", "data-parallel"], backend="numpy", expect_failure=True)


def test_each_process_loads_its_own_share(photo_folder):
    whole = PairDataset(photo_folder, 16, 4, 2, seed=3)
    shards = [PairDataset(photo_folder, 16, 4, 2, seed=3, shard=(index, 2)) for index in range(2)]
    (secrets, covers), _ = whole[0]
    assert secrets.shape == (4, 16, 16, 3)
    parts = [shard[0][0][0] for shard in shards]
    assert all(part.shape == (2, 16, 16, 3) for part in parts)
    assert not np.array_equal(parts[0], parts[1]), "two processes must not train on the same pairs"
    assert np.array_equal(PairDataset(photo_folder, 16, 4, 2, seed=3, shard=(0, 1))[0][0][0], secrets)
    with pytest.raises(ValueError, match="does not split"):
        PairDataset(photo_folder, 16, 5, 2, shard=(0, 2))


def test_input_pipeline_benchmark_measures_every_setting(capsys):
    from benchmarks import input_pipeline

    results = input_pipeline.main(["--batches", "2", "--workers", "1", "2", "--image-size", "16", "--batch-size", "2"])
    assert set(results) == {(1, False), (2, False), (1, True), (2, True)} and all(rate > 0 for rate in results.values())
    assert "summary:" in capsys.readouterr().out
