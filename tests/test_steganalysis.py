"""Steganalysis detectors, lossy channels and adversarial training: tiny settings, real photos."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

import train
from deepsteg import channels, evaluation, imageio, samples, steganalysis
from tests.conftest import run_failing


@pytest.fixture(scope="module")
def photo_sets(tmp_path_factory):
    """scikit-image photos split into two folders: one to train detectors on, one to test them."""
    folders = {name: tmp_path_factory.mktemp(name) for name in ("train", "test")}
    for index, path in enumerate(samples.skimage_photos()):
        shutil.copy(path, folders["train" if index % 2 == 0 else "test"] / path.name)
    return folders


def test_detector_filters_are_the_rich_model_residuals():
    """The CNN's fixed front end computes the same residuals as the features do, per channel."""
    from models.detector import ResidualFilters, srm_kernels

    image = imageio.read_image(samples.skimage_photos()[0])[:64, :64]
    residuals = np.asarray(ResidualFilters(threshold=1000.0)(image[None].astype(np.float32) / 255.0))[0]
    kernels = list(srm_kernels().values())
    for channel in range(3):
        for index, kernel in enumerate(kernels):
            expected = cv2.filter2D(image[..., channel].astype(np.float32), -1, kernel)[2:-2, 2:-2]
            np.testing.assert_allclose(residuals[2:-2, 2:-2, channel * len(kernels) + index], expected, atol=1e-3)
    clipped = np.asarray(ResidualFilters(threshold=3.0)(image[None].astype(np.float32) / 255.0))
    assert clipped.max() <= 3.0 and clipped.min() >= -3.0


def test_detector_saves_and_loads(tmp_path):
    import keras

    from models import build_detector

    detector = build_detector(4)
    images = np.random.default_rng(0).random((2, 48, 40, 3)).astype(np.float32)
    detector.save(tmp_path / "detector.keras")
    loaded = keras.saving.load_model(tmp_path / "detector.keras")
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch(images)), np.asarray(detector.predict_on_batch(images)), atol=1e-6)
    assert detector.output_shape == (None, 1) and len(loaded.get_layer("residuals").trainable_weights) == 0


def test_rich_model_features_see_lsb_embedding():
    rng = np.random.default_rng(0)
    cover = imageio.read_image(samples.skimage_photos()[1])[:96, :96]
    features = steganalysis.rich_model_features(cover)
    assert features.shape == (steganalysis.feature_count(),)
    histograms = features.reshape(-1, (2 * steganalysis.TRUNCATION + 1) ** 3)
    np.testing.assert_allclose(histograms.sum(axis=1), 1.0, atol=1e-5)
    container = evaluation.lsb_hide(rng.integers(0, 256, cover.shape, dtype=np.uint8), cover)
    assert np.abs(steganalysis.rich_model_features(container) - features).sum() > 1.0


def test_chi_square_finds_lsb_replacement():
    """Westfeld's statistic is near 1 once the lowest bit is random, far above it in a photo."""
    rng = np.random.default_rng(0)
    cover = imageio.read_image(samples.skimage_photos()[0])
    replaced = (cover & 0xFE) | rng.integers(0, 2, cover.shape, dtype=np.uint8)
    assert steganalysis.chi_square_statistics(replaced).max() < 2.0
    assert steganalysis.chi_square_statistics(cover).min() > 5.0


def test_tiles_cover_a_centred_grid():
    image = np.arange(10 * 7 * 3, dtype=np.uint8).reshape(10, 7, 3)
    found = steganalysis.tiles(image, 3, 10)
    assert len(found) == 3 * 2 and all(tile.shape == (3, 3, 3) for tile in found)
    np.testing.assert_array_equal(found[0], image[0:3, 0:3])  # 10 rows: 3 tiles from row 0; 7 columns: 2 from column 0
    assert steganalysis.tiles(image, 11, 4) == [] and len(steganalysis.tiles(image, 3, 2)) == 2


@pytest.mark.parametrize("channel", channels.CHANNELS)
def test_lossy_channels_return_a_changed_image_of_the_same_size(channel):
    image = imageio.read_image(samples.skimage_photos()[2])[:64, :96]
    received = channels.apply(channel, image)
    assert received.shape == image.shape and received.dtype == np.uint8
    assert 0 < np.abs(received.astype(int) - image).mean() < 20


def test_unknown_channel():
    with pytest.raises(ValueError, match="unknown channel"):
        channels.apply("gif", np.zeros((8, 8, 3), np.uint8))


def test_steganalysis_benchmark_small(tmp_path, photo_sets, capsys):
    """The benchmark end to end on a small setting: the LSB-4 sanity check must find LSB-4."""
    from benchmarks import steganalysis as benchmark

    output, roc = tmp_path / "steganalysis.json", tmp_path / "roc.png"
    benchmark.main(["--models", "fast", "--train-dir", str(photo_sets["train"]), "--test-sets", f"other={photo_sets['test']}",
                    "--train-pairs", "48", "--heldout-pairs", "16", "--size", "96", "--tiles-per-photo", "16",
                    "--cnn-minutes", "0.01", "--json", str(output), "--roc", str(roc)])
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("summary: fast containers detected at")
    data = json.loads(output.read_text())
    assert data["pairs"]["train"] == 48 and data["pairs"]["heldout"] == 16 and data["pairs"]["other"] >= 32
    assert data["lsb4_detector_accuracy"] >= 0.9
    assert 0 <= data["detector_accuracy"] <= 1 and 0 <= data["detector_auc"] <= 1
    assert set(data["results"]) == {"fast", "lsb4"} and set(data["results"]["fast"]["detectors"]) == {"srm", "cnn", "chi2"}
    assert data["results"]["lsb4"]["cover_psnr"]["heldout"] < data["results"]["fast"]["cover_psnr"]["heldout"]
    assert roc.stat().st_size > 10_000
    assert "--force" in run_failing(capsys, benchmark.main, ["--json", str(output), "--train-dir", str(photo_sets["train"])])
    assert "unknown detector" in run_failing(capsys, benchmark.main, ["--detectors", "svm"])


def test_lossy_channels_benchmark_small(tmp_path, photo_sets, capsys):
    from benchmarks import lossy_channels

    output = tmp_path / "lossy.json"
    lossy_channels.main(["--images", str(photo_sets["test"]), "--models", "fast", "--channels", "jpeg95", "resize0.9",
                         "--max-pairs", "2", "--json", str(output)])
    data = json.loads(output.read_text())
    assert data["pairs"] == 2
    for method in ("fast", "lsb4"):
        results = data["results"][method]
        assert set(results) == {"lossless", "jpeg95", "resize0.9"}
        assert results["lossless"]["secret_psnr"] > results["jpeg95"]["secret_psnr"]
    assert data["results"]["lsb4"]["lossless"]["secret_psnr"] > 25  # 4 bits of each secret pixel
    assert "summary:" in capsys.readouterr().out


def test_adversarial_training_trains_the_detector_against_the_containers(tmp_path, photo_folder, capsys):
    """--adversarial-weight: the model carries the detector's loss, a detector is retrained between
    steps and its weights reach the model's frozen copy (saved with it); the weight cannot change
    on --resume; a model fine-tuned with it still splits into hide and reveal networks."""
    from deepsteg import training
    from models import split_steg_model

    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny-invertible", "--image-size", "32",
                 "--batch-size", "2", "--steps-per-epoch", "3", "--val-steps", "1", "--verbose", "0"]
    plain = tmp_path / "plain"
    train.main(arguments + ["--epochs", "1", "--checkpoint-dir", str(plain)])
    run = tmp_path / "adversarial"
    train.main(arguments + ["--epochs", "1", "--checkpoint-dir", str(run), "--adversarial-weight", "0.5", "--init-from", str(plain / "last.keras")])
    header = (run / "logs" / "training.csv").read_text().splitlines()[0].split(",")
    assert "detector_accuracy" in header and "detector_loss" in header
    model = training.load_model(run / "last.keras")
    penalty = training.detector_penalty(model)
    assert penalty is not None and penalty.weight == 0.5
    assert not penalty.detector.trainable_weights and all(not weight.trainable for weight in penalty.detector.weights)
    fresh = training.new_model("tiny-invertible", 0.5, 0.0, True, 1e-3, adversarial_weight=0.5)
    trained, untrained = penalty.detector.get_layer("conv1").get_weights()[0], training.detector_penalty(fresh).detector.get_layer("conv1").get_weights()[0]
    assert trained.shape == untrained.shape and not np.allclose(trained, untrained)  # it was trained, not left at its initialisation
    # The penalty adds to the training loss only: with a detector that always says "container",
    # the training loss grows by weight * -log(1e-6); evaluation does not see it.
    assert "cannot change on --resume" in run_failing(capsys, train.main, ["--checkpoint-dir", str(run), "--resume", "--epochs", "2",
                                                                           "--adversarial-weight", "1"])
    train.main(["--checkpoint-dir", str(run), "--resume", "--epochs", "2", "--verbose", "0"])
    assert (run / "logs" / "training.csv").read_text().count("\n") == 3
    hide_network, reveal_network = split_steg_model(training.load_model(run / "last.keras", compile=False))
    assert len(hide_network.inputs) == 2 and len(reveal_network.inputs) == 1


def test_experimental_recipes_are_valid_train_commands():
    """Every unshipped recipe's stages parse as train.py / split_model.py commands; the adversarial
    one fine-tunes the shipped fast model with the detector's loss."""
    import shlex

    import split_model
    from deepsteg import zoo

    for name, (description, commands) in zoo.EXPERIMENTAL_RECIPES.items():
        assert description and zoo.recipe(name) == commands
        for command in commands:
            script, *options = shlex.split(command)
            if script == "train.py":
                args = train.parse_args(options)
                assert args.adversarial_weight > 0 and args.init_from == zoo.get("fast").path("joint").relative_to(zoo.CHECKPOINTS.parent)
            else:
                assert script == "split_model.py" and split_model.parse_args(options)
    with pytest.raises(ValueError, match="no recipe called"):
        zoo.recipe("nonexistent")
