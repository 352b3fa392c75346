"""Every script's main() on tiny real data, and its handling of bad input."""

import json
import re

import keras
import numpy as np
import pytest

import demo
import enhance
import image_hide
import image_reveal
import split_model
import train
import video_hide
import video_reveal
from conftest import run_failing
from deepsteg import eval_command as eval_script
from deepsteg import test_command as test_script
from deepsteg import imageio, videoio


@pytest.fixture(scope="module")
def stego_video(tmp_path_factory, tiny_models, clip_paths):
    folder = tmp_path_factory.mktemp("stego")
    path = folder / "stego.mkv"
    video_hide.main([str(clip_paths["bikes.mp4"]), str(clip_paths["carphone_pristine.mp4"]), "-o", str(path),
                     "--model", str(tiny_models["hide"]), "--max-frames", "5", "--batch-size", "2",
                     "--csv", str(folder / "hide.csv"), "--plot", str(folder / "hide.png")])
    return path


def test_train_and_resume(tmp_path, photo_folder, capsys):
    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "2", "--val-steps", "1", "--checkpoint-dir", str(tmp_path), "--verbose", "0"]
    train.main(arguments + ["--epochs", "1"])
    assert (tmp_path / "last.keras").is_file()
    assert len(list(tmp_path.glob("steg_model-01-*.keras"))) == 1
    assert (tmp_path / "logs" / "training.csv").read_text().count("\n") == 2
    assert (tmp_path / "logs" / "images" / "epoch_001.png").is_file()
    assert (tmp_path / "logs" / "training_curves.png").is_file()
    train.main(arguments + ["--epochs", "2", "--resume"])
    assert "resuming" in capsys.readouterr().out
    assert (tmp_path / "logs" / "training.csv").read_text().count("\n") == 3
    finetune = tmp_path / "finetune"
    finetune_arguments = arguments[:-4] + ["--checkpoint-dir", str(finetune), "--verbose", "0", "--scramble-fraction", "0.5", "--ssim-weight", "0.01",
                                           "--workers", "2", "--cache-images"]
    train.main(finetune_arguments + ["--epochs", "1", "--init-from", str(tmp_path / "last.keras")])
    assert "initialised from" in capsys.readouterr().out and (finetune / "last.keras").is_file()
    assert "val_container_ssim" in (finetune / "logs" / "training.csv").read_text().splitlines()[0]
    # The SSIM loss term is saved with the model, so a resumed run trains on the same loss.
    train.main(finetune_arguments + ["--epochs", "2", "--resume"])
    from deepsteg import losses, training

    resumed = training.load_model(finetune / "last.keras")
    assert isinstance(resumed.loss["container"], losses.MseSsimLoss) and resumed.loss["container"].ssim_weight == 0.01
    # The two runs' logs on one timeline, the fine-tune after its parent (the ablation plot of
    # checkpoints/README.md); SSIM panels appear because the fine-tune logged SSIM.
    from benchmarks import compare_runs

    plot = tmp_path / "compare.png"
    logs = [f"resumed={tmp_path / 'logs' / 'training.csv'}", f"finetuned={finetune / 'logs' / 'training.csv'}"]
    compare_runs.main(logs + ["--after", "finetuned=resumed", "-o", str(plot)])
    assert imageio.read_image(plot).shape[0] > imageio.read_image(plot).shape[1] * 0.5  # two rows of panels
    assert "CHILD=PARENT" in run_failing(capsys, compare_runs.main, logs + ["--after", "finetuned=nothing", "-o", str(tmp_path / "y.png")])
    assert "cycle" in run_failing(capsys, compare_runs.main, logs + ["--after", "finetuned=resumed", "--after", "resumed=finetuned",
                                                                    "-o", str(tmp_path / "z.png")])
    assert "--force" in run_failing(capsys, compare_runs.main, [f"a={finetune / 'logs' / 'training.csv'}", "-o", str(plot)])
    assert "LABEL=PATH" in run_failing(capsys, compare_runs.main, [str(finetune / "logs" / "training.csv"), "-o", str(tmp_path / "x.png")])


def test_train_time_limit_then_resume(tmp_path, photo_folder, capsys, monkeypatch):
    """A run cut by --time-limit leaves its checkpoint and continues with --resume on the same settings
    and on the training batches of the epoch it resumes at."""
    from deepsteg.data import PairDataset

    started_at = []
    original_start = PairDataset.start_at_epoch
    monkeypatch.setattr(PairDataset, "start_at_epoch", lambda self, epoch: (started_at.append(epoch), original_start(self, epoch)))
    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "2", "--val-steps", "1", "--checkpoint-dir", str(tmp_path),
                 "--verbose", "0", "--epochs", "3", "--scramble-fraction", "0.75", "--beta", "1.5"]
    train.main(arguments + ["--time-limit", "0.0001"])  # 6 ms: the first epoch already uses it up
    output = capsys.readouterr().out
    assert "stopped at the time limit after epoch 1 of 3" in output and "done: 1 epochs" in output
    assert (tmp_path / "last.keras").is_file()
    assert (tmp_path / "logs" / "training.csv").read_text().count("\n") == 2
    # Resuming with nothing but the checkpoint folder trains on the run's own data, crops, epochs
    # and scrambled secrets (they are not in the checkpoint), and records them.
    train.main(["--checkpoint-dir", str(tmp_path), "--resume", "--verbose", "0", "--time-limit", "60"])
    output = capsys.readouterr().out
    assert "time limit" not in output and "done: 2 epochs" in output and started_at == [1]
    assert "--scramble-fraction 0.75" in output and "--epochs 3" in output and "--image-size 16" in output
    assert (tmp_path / "logs" / "training.csv").read_text().count("\n") == 4
    runs = json.loads((tmp_path / "logs" / "run_config.json").read_text())
    assert [run["scramble_fraction"] for run in runs] == [0.75, 0.75] and runs[1]["beta"] == 1.5 and runs[1]["resume"] == "last"
    # What the checkpoint holds (network, loss, schedule) cannot change on --resume.
    assert "--init-from" in run_failing(capsys, train.main, ["--checkpoint-dir", str(tmp_path), "--resume", "--epochs", "4", "--beta", "2"])
    from deepsteg import training

    with pytest.raises(ValueError, match="positive"):
        training.TimeLimit(0)


def test_train_invertible_preset_and_init_from(tmp_path, photo_folder, capsys):
    """The HiNet-style preset trains, checkpoints and initialises a fine-tune; presets cannot be mixed."""
    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--image-size", "16", "--batch-size", "2",
                 "--steps-per-epoch", "2", "--val-steps", "1", "--verbose", "0", "--epochs", "1"]
    train.main(arguments + ["--preset", "tiny-invertible", "--checkpoint-dir", str(tmp_path / "first")])
    from deepsteg import training

    first = training.load_model(tmp_path / "first" / "last.keras")
    assert not np.allclose(keras.ops.convert_to_numpy(first.get_layer("invertible").couplings[0][0].convolutions[-1].kernel), 0)
    train.main(arguments + ["--preset", "tiny-invertible", "--checkpoint-dir", str(tmp_path / "second"),
                            "--init-from", str(tmp_path / "first" / "last.keras"), "--lr", "1e-9"])
    assert "initialised from" in capsys.readouterr().out
    second = training.load_model(tmp_path / "second" / "last.keras")
    for a, b in zip(first.get_layer("invertible").get_weights(), second.get_layer("invertible").get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)  # a learning rate of 1e-9 barely moves them
    assert "another --preset" in run_failing(capsys, train.main, arguments + ["--preset", "tiny", "--checkpoint-dir", str(tmp_path / "third"),
                                                                             "--init-from", str(tmp_path / "first" / "last.keras")])


def all_layers(model):
    """Every layer of ``model``, nested sub-models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)


def test_train_mixed_bfloat16_resumes_in_bf16_and_splits_to_float32(tmp_path, photo_folder, capsys):
    """``--dtype-policy mixed_bfloat16`` trains in bf16, keeps that policy on --resume, and the split
    networks (what the inference scripts load) compute in float32 with the trained weights."""
    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny-unshuffled", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "2", "--val-steps", "1", "--checkpoint-dir", str(tmp_path), "--verbose", "0"]
    train.main(arguments + ["--epochs", "1", "--dtype-policy", "mixed_bfloat16"])
    assert "mixed_bfloat16" in capsys.readouterr().out
    train.main(["--checkpoint-dir", str(tmp_path), "--resume", "--epochs", "2", "--verbose", "0"])
    assert "--dtype-policy mixed_bfloat16" in capsys.readouterr().out
    assert "--init-from" in run_failing(capsys, train.main, ["--checkpoint-dir", str(tmp_path), "--resume", "--epochs", "3",
                                                            "--dtype-policy", "float32"])
    from deepsteg import training

    resumed = training.load_model(tmp_path / "last.keras", compile=True)
    assert resumed.get_layer("hide").get_layer("hide_in").dtype_policy.name == "mixed_bfloat16"
    split_model.main([str(tmp_path / "last.keras"), "--out-dir", str(tmp_path)])
    import zipfile

    def holds_optimizer(path):
        with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as weights:
            return b"optimizer" in weights.read()

    assert holds_optimizer(tmp_path / "last.keras") and not holds_optimizer(tmp_path / "steg_model.keras")
    hide_network = keras.saving.load_model(tmp_path / "hide.keras")
    assert {layer.dtype_policy.name for layer in all_layers(hide_network)} == {"float32"}
    # The same weights in a network built in float32 give exactly the same container.
    reference = training.new_model("tiny-unshuffled", 0.75, 0.01, True, 1e-3)
    reference.set_weights(resumed.get_weights())
    rng = np.random.default_rng(0)
    secrets, covers = (rng.random((2, 16, 16, 3), dtype=np.float32) for _ in range(2))
    expected = keras.ops.convert_to_numpy(reference([secrets, covers], training=False)[0])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(hide_network([secrets, covers])), expected)
    bf16_container = keras.ops.convert_to_numpy(resumed([secrets, covers], training=False)[0])
    assert np.abs(bf16_container - expected).max() > 1e-4  # the checkpoint itself did compute in bf16


def test_invertible_mixed_bfloat16_run_resumes(tmp_path, photo_folder, capsys):
    """The invertible layer's dense blocks are saved with its bf16 policy, so the run resumes in bf16."""
    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny-invertible", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "2", "--val-steps", "1", "--checkpoint-dir", str(tmp_path), "--verbose", "0"]
    train.main(arguments + ["--epochs", "1", "--dtype-policy", "mixed_bfloat16"])
    train.main(["--checkpoint-dir", str(tmp_path), "--resume", "--epochs", "2", "--verbose", "0"])
    assert "done: 1 epochs" in capsys.readouterr().out
    from deepsteg import training

    resumed = training.load_model(tmp_path / "last.keras")
    block = resumed.get_layer("invertible").couplings[0][0]
    assert {layer.dtype_policy.name for layer in [block, *block.convolutions]} == {"mixed_bfloat16"}


def test_train_clip_norm_bounds_the_updates_and_can_be_set_on_resume(tmp_path, photo_folder, capsys):
    """--clip-norm reaches Adam (from the start and when set on --resume) and is kept in checkpoints.

    Gradients clipped to a global norm of 1e-12 fall far below Adam's epsilon (1e-7), so its steps
    shrink to almost nothing: the weights stay put where an unclipped epoch moves them.
    """
    from deepsteg import training

    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "3", "--val-steps", "1", "--verbose", "0", "--lr", "1e-2",
                 "--lr-schedule", "constant"]

    def weights(path):
        return np.concatenate([np.ravel(w) for w in training.load_model(path, compile=False).get_weights()])

    keras.utils.set_random_seed(1)  # the initial weights of train.py's --seed 1
    initial = np.concatenate([np.ravel(w) for w in training.new_model("tiny", 0.75, 0.01, True, 1e-2).get_weights()])
    # train.py clips at 0.5 by default; a bound of 1e6 is one no gradient here reaches.
    train.main(arguments + ["--epochs", "1", "--checkpoint-dir", str(tmp_path / "free"), "--clip-norm", "1e6"])
    moved = np.abs(weights(tmp_path / "free" / "last.keras") - initial).max()
    train.main(arguments + ["--epochs", "1", "--checkpoint-dir", str(tmp_path / "clipped"), "--clip-norm", "1e-12"])
    assert np.abs(weights(tmp_path / "clipped" / "last.keras") - initial).max() < moved / 100
    assert training.load_model(tmp_path / "clipped" / "last.keras").optimizer.global_clipnorm == pytest.approx(1e-12)
    # A free run resumed with clipping (the rescue of a run about to diverge): Adam's momentum keeps
    # moving the weights, but gets no new gradient, so each of the 3 steps only decays it by beta_1.
    def momenta(path):
        optimizer = training.load_model(path).optimizer
        return np.concatenate([np.ravel(keras.ops.convert_to_numpy(v)) for v in optimizer.variables if v.path.endswith("_momentum")])

    before = momenta(tmp_path / "free" / "last.keras")
    train.main(["--checkpoint-dir", str(tmp_path / "free"), "--resume", "--epochs", "2", "--clip-norm", "1e-12", "--verbose", "0"])
    np.testing.assert_allclose(momenta(tmp_path / "free" / "last.keras"), before * 0.9 ** 3, rtol=1e-4, atol=1e-12)
    assert training.load_model(tmp_path / "free" / "last.keras").optimizer.global_clipnorm == pytest.approx(1e-12)
    runs = json.loads((tmp_path / "free" / "logs" / "run_config.json").read_text())
    assert [run["clip_norm"] for run in runs] == [1e6, 1e-12]
    assert "--clip-norm" in run_failing(capsys, train.main, arguments + ["--checkpoint-dir", str(tmp_path / "bad"), "--clip-norm", "0"])


def test_train_divergence_keeps_the_last_finite_checkpoint(tmp_path, photo_folder, capsys):
    """A run that blows up stops with a one-line error and never overwrites a checkpoint with NaNs."""
    message = run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny",
                                                "--image-size", "16", "--batch-size", "2", "--steps-per-epoch", "4", "--val-steps", "1",
                                                "--epochs", "2", "--lr", "1e12", "--warmup-steps", "0", "--verbose", "0",
                                                "--checkpoint-dir", str(tmp_path / "run")])
    assert "diverged" in message and "lower --lr" in message
    assert not list((tmp_path / "run").glob("*.keras"))
    from deepsteg import training

    model = training.new_model("tiny", beta=0.75, noise_stddev=0.01, quantize=True, schedule=1e-3)
    save_last = training.SaveLast(tmp_path / "last.keras")
    best = training.FiniteModelCheckpoint(str(tmp_path / "best-{epoch:02d}.keras"), monitor="val_loss", save_best_only=True)
    for callback in (save_last, best):
        callback.set_model(model)
        callback.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.4})
    saved = (tmp_path / "last.keras").read_bytes()
    for callback in (save_last, best):
        callback.on_epoch_end(1, {"loss": float("nan"), "val_loss": float("nan")})
    assert (tmp_path / "last.keras").read_bytes() == saved and [path.name for path in tmp_path.glob("best-*")] == ["best-01.keras"]


def test_resumed_run_keeps_its_best_val_loss(tmp_path, photo_folder):
    """After --resume, a "best" checkpoint is written only for an epoch better than every logged one."""
    from deepsteg import training
    from deepsteg.data import PairDataset

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "training.csv").write_text("epoch,loss,val_loss\n0,0.5,0.30\n1,0.4,0.20\n2,nan,nan\n")
    assert training.best_logged(logs / "training.csv", "val_loss") == 0.20
    assert training.best_logged(logs / "missing.csv", "val_loss") is None
    validation = PairDataset(photo_folder, 16, 2, 1, augment=False, seed=0)
    model = training.new_model("tiny", beta=0.75, noise_stddev=0.01, quantize=True, schedule=1e-3)
    for resuming, expected in ((True, ["steg_model-05-0.1000.keras"]), (False, ["steg_model-04-0.2500.keras", "steg_model-05-0.1000.keras"])):
        checkpoints = tmp_path / f"resuming_{resuming}"
        callbacks = training.callbacks_for(checkpoints, logs, validation, 2, 1, resuming=resuming)
        best = next(callback for callback in callbacks if isinstance(callback, training.FiniteModelCheckpoint))
        best.set_model(model)
        best.on_epoch_end(3, {"loss": 0.3, "val_loss": 0.25})  # worse than the logged 0.20
        best.on_epoch_end(4, {"loss": 0.1, "val_loss": 0.10})
        assert sorted(path.name for path in checkpoints.glob("steg_model-*.keras")) == expected


def test_train_bad_input(tmp_path, photo_folder, capsys):
    assert "not found" in run_failing(capsys, train.main, ["--train-dirs", str(tmp_path / "nope"), "--val-dirs", str(photo_folder)])
    assert "nothing to resume" in run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder),
                                                                    "--checkpoint-dir", str(tmp_path), "--resume"])
    assert "unknown preset" in run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "x"])
    assert "fraction" in run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder),
                                                          "--checkpoint-dir", str(tmp_path), "--scramble-fraction", "2"])
    assert "--ssim-weight" in run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder),
                                                               "--checkpoint-dir", str(tmp_path), "--ssim-weight", "-1"])
    assert "at least 16" in run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder),
                                                             "--checkpoint-dir", str(tmp_path), "--image-size", "8"])
    assert "--time-limit" in run_failing(capsys, train.main, ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder),
                                                              "--checkpoint-dir", str(tmp_path), "--time-limit", "0"])


@pytest.mark.parametrize("script", [demo, enhance, eval_script, image_hide, image_reveal, split_model, test_script, train,
                                    video_hide, video_reveal])
def test_help_shows_each_default_once(script, capsys):
    with pytest.raises(SystemExit) as raised:
        script.main(["--help"])
    assert raised.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default:" in text and not re.search(r"\(default:[^()]*\) \(default:", text), text


def test_train_help_names_every_preset():
    from models import PRESETS

    # argparse may wrap a line after a hyphen ("tiny-" / "invertible"); join such words back.
    parser_help = " ".join(train.build_parser().format_help().split()).replace("- ", "-")
    missing = [name for name in PRESETS if name not in parser_help]
    assert not missing, f"--preset help omits {missing}"


def test_split_model(tmp_path, tiny_models, capsys):
    """The hide and reveal networks and the joint model's weights (a shipped model's three files);
    nothing is overwritten without --force."""
    from deepsteg import training

    split_model.main([str(tiny_models["joint"]), "--out-dir", str(tmp_path)])
    assert (tmp_path / "hide.keras").is_file() and (tmp_path / "reveal.keras").is_file()
    joint = training.load_model(tmp_path / "steg_model.keras", compile=False)
    original = training.load_model(tiny_models["joint"], compile=False)
    assert all(np.array_equal(a, b) for a, b in zip(joint.get_weights(), original.get_weights(), strict=True))
    before = (tmp_path / "hide.keras").read_bytes()
    assert "--force" in run_failing(capsys, split_model.main, [str(tiny_models["joint"]), "--out-dir", str(tmp_path)])
    assert (tmp_path / "hide.keras").read_bytes() == before


def test_split_model_bad_input(tmp_path, corrupt_file, tiny_models, capsys):
    assert "not found" in run_failing(capsys, split_model.main, [str(tmp_path / "missing.keras"), "--out-dir", str(tmp_path)])
    assert "cannot load" in run_failing(capsys, split_model.main, [str(corrupt_file("bad.keras")), "--out-dir", str(tmp_path)])
    # A network that is already split (its invertible layer would split again) is refused, not re-split.
    out = tmp_path / "split"
    assert "not a joint steganography model" in run_failing(capsys, split_model.main, [str(tiny_models["hide"]), "--out-dir", str(out)])
    assert not out.exists()


def test_image_hide_and_reveal(tmp_path, tiny_models, photo_paths, capsys):
    container = tmp_path / "container.png"
    image_hide.main([str(photo_paths[0]), str(photo_paths[1]), "-o", str(container), "--model", str(tiny_models["hide"])])
    output = capsys.readouterr().out
    assert "resizing the secret" in output
    cover = imageio.read_image(photo_paths[1])
    assert imageio.read_image(container).shape == cover.shape
    revealed = tmp_path / "revealed.png"
    image_reveal.main([str(container), "-o", str(revealed), "--model", str(tiny_models["reveal"]), "--original", str(photo_paths[0])])
    assert imageio.read_image(revealed).shape == cover.shape
    assert "secret PSNR" in capsys.readouterr().out


def test_image_scripts_bad_input(tmp_path, tiny_models, photo_paths, corrupt_file, capsys):
    hide = ["--model", str(tiny_models["hide"])]
    assert "lossy" in run_failing(capsys, image_hide.main, [str(photo_paths[0]), str(photo_paths[1]), "-o", str(tmp_path / "c.jpg")] + hide)
    assert "not found" in run_failing(capsys, image_hide.main, [str(tmp_path / "none.png"), str(photo_paths[1]), "-o", str(tmp_path / "c.png")] + hide)
    assert "cannot decode" in run_failing(capsys, image_hide.main, [str(corrupt_file("x.png")), str(photo_paths[1]), "-o", str(tmp_path / "c.png")] + hide)
    assert "does not exist" in run_failing(capsys, image_hide.main, [str(photo_paths[0]), str(photo_paths[1]), "-o", str(tmp_path / "no" / "c.png")] + hide)
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"mine")
    assert "--force" in run_failing(capsys, image_hide.main, [str(photo_paths[0]), str(photo_paths[1]), "-o", str(existing)] + hide)
    assert existing.read_bytes() == b"mine"
    assert "lossy" in run_failing(capsys, image_reveal.main, [str(photo_paths[3]), "-o", str(tmp_path / "r.png"), "--model", str(tiny_models["reveal"])])
    assert "not a reveal network" in run_failing(capsys, image_reveal.main, [str(photo_paths[0]), "-o", str(tmp_path / "r.png"), "--model", str(tiny_models["hide"])])


@pytest.mark.slow
def test_video_hide_writes_lossless_every_frame(stego_video, clip_paths):
    frames = list(videoio.read_frames(stego_video))
    assert len(frames) == 5
    info = videoio.probe(stego_video)
    assert (info.width, info.height) == (176, 144) and info.fps == videoio.probe(clip_paths["carphone_pristine.mp4"]).fps
    rows = (stego_video.parent / "hide.csv").read_text().splitlines()
    assert rows[0] == "frame,cover_psnr,cover_ssim" and len(rows) == 6
    assert (stego_video.parent / "hide.png").stat().st_size > 1000


@pytest.mark.slow
def test_video_reveal_and_enhance(tmp_path, stego_video, tiny_models, clip_paths, capsys):
    revealed = tmp_path / "revealed.mkv"
    video_reveal.main([str(stego_video), "-o", str(revealed), "--model", str(tiny_models["reveal"]), "--batch-size", "3",
                       "--original", str(clip_paths["bikes.mp4"]), "--csv", str(tmp_path / "r.csv"), "--skip-key-check"])
    assert videoio.count_frames(revealed) == 5  # a last partial batch is kept
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "frame,secret_psnr,secret_ssim"
    enhanced = tmp_path / "enhanced.mkv"
    enhance.main([str(revealed), "-o", str(enhanced), "--original", str(clip_paths["bikes.mp4"])])
    assert videoio.count_frames(enhanced) == 5
    assert "PSNR" in capsys.readouterr().out


@pytest.mark.slow
def test_video_scripts_bad_input(tmp_path, stego_video, tiny_models, clip_paths, corrupt_file, capsys):
    hide = ["--model", str(tiny_models["hide"])]
    secret, cover = str(clip_paths["bikes.mp4"]), str(clip_paths["carphone_pristine.mp4"])
    assert "lossless" in run_failing(capsys, video_hide.main, [secret, cover, "-o", str(tmp_path / "s.webm")] + hide)
    assert "not found" in run_failing(capsys, video_hide.main, [str(tmp_path / "none.mp4"), cover, "-o", str(tmp_path / "s.mkv")] + hide)
    assert "cannot open" in run_failing(capsys, video_hide.main, [str(corrupt_file("bad.mp4")), cover, "-o", str(tmp_path / "s.mkv")] + hide)
    assert not (tmp_path / "s.mkv").exists()
    before = stego_video.read_bytes()
    assert "--force" in run_failing(capsys, video_hide.main, [secret, cover, "-o", str(stego_video)] + hide)
    assert stego_video.read_bytes() == before
    reveal = ["--model", str(tiny_models["reveal"])]
    assert "lossy" in run_failing(capsys, video_reveal.main, [cover, "-o", str(tmp_path / "r.mkv")] + reveal)
    assert "need --original" in run_failing(capsys, video_reveal.main, [str(stego_video), "-o", str(tmp_path / "r.mkv"), "--csv", str(tmp_path / "r.csv")] + reveal)
    assert "positive" in run_failing(capsys, video_reveal.main, [str(stego_video), "-o", str(tmp_path / "r.mkv"), "--batch-size", "0"] + reveal)
    assert not (tmp_path / "r.mkv").exists()


def test_enhance_image_improves_a_noisy_photo(tmp_path, photo_paths, capsys):
    clean = imageio.read_image(photo_paths[2])
    noisy = np.clip(clean.astype(int) + np.random.default_rng(0).normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    imageio.write_image(tmp_path / "noisy.png", noisy)
    result = enhance.main([str(tmp_path / "noisy.png"), "-o", str(tmp_path / "clean.png"), "--original", str(photo_paths[2]),
                           "--denoise-strength", "10", "--denoise-color-strength", "10", "--sharpen-amount", "0"])
    row = result["rows"][0]
    assert row["after_psnr"] > row["before_psnr"] + 2
    assert row["after_ssim"] > row["before_ssim"]


def test_enhance_frames_denoises_over_a_centred_temporal_window(clip_paths):
    import cv2

    from deepsteg import metrics
    from deepsteg.enhance import EnhanceSettings, denoise, enhance_frames

    clean = [frame[40:104, 40:120] for frame in videoio.read_frames(clip_paths["bikes.mp4"], 7)]
    rng = np.random.default_rng(0)
    noisy = [np.clip(frame + rng.normal(0, 10, frame.shape), 0, 255).astype(np.uint8) for frame in clean]
    settings = EnhanceSettings(denoise_strength=10, denoise_color_strength=10, temporal_window=5)
    enhanced = list(enhance_frames(iter(noisy), settings))  # a generator: frames stream through
    assert len(enhanced) == 7

    def opencv(first, last, index):
        return cv2.fastNlMeansDenoisingColoredMulti(noisy[first:last], index, last - first, None, 10, 10, 7, 21)

    assert np.array_equal(enhanced[3], opencv(1, 6, 2))  # a full window centred on the frame
    assert np.array_equal(enhanced[1], opencv(0, 3, 1)) and np.array_equal(enhanced[5], opencv(4, 7, 1))
    assert np.array_equal(enhanced[0], denoise(noisy[0], settings)) and np.array_equal(enhanced[6], denoise(noisy[6], settings))
    alone = list(enhance_frames(noisy, EnhanceSettings(denoise_strength=10, denoise_color_strength=10, temporal_window=1)))
    def mean_psnr(frames):
        return np.mean([metrics.psnr(reference, frame) for reference, frame in zip(clean[2:5], frames[2:5])])
    assert mean_psnr(enhanced) > mean_psnr(alone) > mean_psnr(noisy)
    assert len(list(enhance_frames(noisy[:2], settings))) == 2  # fewer frames than the window


def test_enhance_defaults_depend_on_the_input_kind():
    from deepsteg.enhance import STILL_IMAGE_SETTINGS, VIDEO_SETTINGS

    args = enhance.parse_args(["revealed.mkv", "-o", "enhanced.mkv"])
    assert enhance.settings_for(args, is_video=True) == VIDEO_SETTINGS
    assert VIDEO_SETTINGS.adaptive and VIDEO_SETTINGS.temporal_window > 1
    assert enhance.settings_for(args, is_video=False) == STILL_IMAGE_SETTINGS
    args = enhance.parse_args(["revealed.png", "-o", "enhanced.png", "--denoise-strength", "3", "--template-window", "5"])
    settings = enhance.settings_for(args, is_video=False)
    assert (settings.denoise_strength, settings.denoise_color_strength, settings.template_window) == (3, 3, 5)
    assert not enhance.settings_for(enhance.parse_args(["r.mkv", "-o", "e.mkv", "--denoise-strength", "2"]), is_video=True).adaptive
    assert enhance.settings_for(enhance.parse_args(["r.png", "-o", "e.png", "--denoise-strength", "auto"]), is_video=False).adaptive


def noisy_copy(image, sigma, seed=0):
    return np.clip(np.rint(image + np.random.default_rng(seed).normal(0, sigma, image.shape)), 0, 255).astype(np.uint8)


def test_white_noise_estimate_finds_added_noise_and_not_the_picture(clip_paths):
    from deepsteg.enhance import strength_for_noise, white_noise_estimate

    frames = list(videoio.read_frames(clip_paths["carphone_pristine.mp4"], 4))
    clean = white_noise_estimate(frames)
    assert clean < 0.75 and strength_for_noise(clean) == 0  # a clean clip is left alone
    for sigma in (2, 4, 8):
        estimate = white_noise_estimate([noisy_copy(frame, sigma, seed) for seed, frame in enumerate(frames)])
        # Detail that grows at half size (carphone's) makes it err low, the safe side: 1.57 for 2.
        assert 0.7 * sigma < estimate < 1.1 * sigma, (sigma, estimate)
    strengths = [strength_for_noise(noise) for noise in (0, 0.75, 1.5, 2, 4, 10)]
    assert strengths == sorted(strengths) and strengths[0] == strengths[2] == 0 and strengths[-1] > 4
    with pytest.raises(ValueError, match="no frames"):
        white_noise_estimate([])


def test_adaptive_enhancement_leaves_clean_frames_and_denoises_noisy_ones(clip_paths):
    from deepsteg import metrics
    from deepsteg.enhance import VIDEO_SETTINGS, enhance_frames

    clean = list(videoio.read_frames(clip_paths["carphone_pristine.mp4"], 9))
    assert all(np.array_equal(a, b) for a, b in zip(enhance_frames(iter(clean)), clean))  # the defaults: adaptive
    noisy = [noisy_copy(frame, 8, seed) for seed, frame in enumerate(clean)]
    enhanced = list(enhance_frames(iter(noisy), VIDEO_SETTINGS))
    assert len(enhanced) == 9
    def mean_psnr(frames):
        return np.mean([metrics.psnr(reference, frame) for reference, frame in zip(clean, frames)])
    assert mean_psnr(enhanced) > mean_psnr(noisy) + 1.5  # measured +2.4 to +3.0 dB near h 4.4
    assert list(enhance_frames(iter([]))) == []


def test_enhance_video_says_which_strength_it_chose(tmp_path, clip_paths, capsys):
    noisy = [noisy_copy(frame, 4, seed) for seed, frame in enumerate(videoio.read_frames(clip_paths["carphone_pristine.mp4"], 6))]
    with videoio.LosslessVideoWriter(tmp_path / "noisy.mkv", 25) as writer:
        for frame in noisy:
            writer.write(frame)
    enhance.main([str(tmp_path / "noisy.mkv"), "-o", str(tmp_path / "enhanced.mkv"), "--original", str(clip_paths["carphone_pristine.mp4"])])
    output = capsys.readouterr().out
    assert "white-noise estimate" in output and "denoising strength 2." in output, output


def test_enhance_image_with_the_defaults_says_it_copies(tmp_path, photo_paths, capsys):
    enhance.main([str(photo_paths[0]), "-o", str(tmp_path / "copy.png")])
    assert "nothing to do" in capsys.readouterr().out
    assert np.array_equal(imageio.read_image(tmp_path / "copy.png"), imageio.read_image(photo_paths[0]))


def test_unsharp_mask_restores_detail_of_a_blurred_photo(photo_paths):
    import cv2

    from deepsteg.enhance import unsharp_mask

    clean = imageio.read_image(photo_paths[0]).astype(np.float32)
    blurred = np.clip(np.rint(cv2.GaussianBlur(clean, (0, 0), 1.0)), 0, 255).astype(np.uint8)
    sharpened = unsharp_mask(blurred, amount=1.0, sigma=1.0)
    def detail(image):
        return np.abs(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F)).mean()
    assert detail(sharpened) > 1.3 * detail(blurred)
    from deepsteg import metrics
    assert metrics.psnr(clean.astype(np.uint8), sharpened) > metrics.psnr(clean.astype(np.uint8), blurred)


def test_enhance_bad_input(tmp_path, photo_paths, capsys):
    assert "odd" in run_failing(capsys, enhance.main, [str(photo_paths[0]), "-o", str(tmp_path / "e.png"), "--search-window", "4"])
    assert "odd" in run_failing(capsys, enhance.main, [str(photo_paths[0]), "-o", str(tmp_path / "e.png"), "--temporal-window", "2"])
    assert "lossy" in run_failing(capsys, enhance.main, [str(photo_paths[0]), "-o", str(tmp_path / "e.jpg")])


def test_eval_and_test_scripts(tmp_path, photo_folder, tiny_models, capsys):
    summary_path = tmp_path / "eval.json"
    eval_script.main([str(photo_folder), str(tiny_models["joint"]), "--json", str(summary_path), "--out", str(tmp_path / "plots"),
                      "--csv", str(tmp_path / "pairs.csv")])
    summary = json.loads(summary_path.read_text())
    for key in ("cover_psnr", "cover_ssim", "cover_mse", "cover_mae", "secret_psnr", "secret_ssim", "secret_mse", "secret_mae", "pairs"):
        assert key in summary
    assert summary["pairs"] == len(list(photo_folder.iterdir()))
    assert summary["lsb4"]["cover_psnr"] > 30  # the LSB-4 baseline is computed for real
    assert (tmp_path / "plots" / "result_grid.png").is_file() and (tmp_path / "plots" / "error_histograms.png").is_file()
    data = tmp_path / "pairs.npy"
    test_script.main([str(data), "--make-from", str(photo_folder), "--size", "32"])
    assert np.load(data).shape == (summary["pairs"], 2, 32, 32, 3)
    test_script.main([str(data), str(tiny_models["hide"]), "--reveal", str(tiny_models["reveal"]), "--json", str(tmp_path / "t.json")])
    assert json.loads((tmp_path / "t.json").read_text())["pairs"] == summary["pairs"]


@pytest.mark.slow
def test_eval_on_a_folder_of_videos_reports_each_clip(tmp_path, tiny_models, clip_paths):
    import shutil

    folder = tmp_path / "videos"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(clip_paths["bikes.mp4"], folder / "sub")
    shutil.copy(clip_paths["carphone_pristine.mp4"], folder)
    summary_path = tmp_path / "videos.json"
    eval_script.main([str(folder), str(tiny_models["joint"]), "--frames-per-clip", "2", "--frame-step", "5", "--json", str(summary_path)])
    summary = json.loads(summary_path.read_text())
    assert summary["pairs"] == 4 and set(summary["clips"]) == {"carphone_pristine.mp4", "sub/bikes.mp4"}
    for clip in summary["clips"].values():
        assert clip["pairs"] == 2
        assert clip["cover_psnr_min"] <= clip["cover_psnr"] and clip["secret_ssim_min"] <= clip["secret_ssim"]


def test_quality_pairs_chain_each_photo_and_frame_to_the_next(photo_paths, clip_paths):
    from deepsteg import evaluation

    pairs = list(evaluation.pairs_from_photos(photo_paths, limit=200))
    assert len(pairs) == len(photo_paths)
    for index, (secret, cover, secret_name, cover_name) in enumerate(pairs):
        assert cover_name == photo_paths[index].name and secret_name == photo_paths[(index + 1) % len(photo_paths)].name
        assert secret.shape == cover.shape and max(cover.shape[:2]) <= 200 and secret.dtype == np.uint8
    clips = [clip_paths["bikes.mp4"], clip_paths["carphone_pristine.mp4"]]
    frames = list(evaluation.pairs_from_frames(clips, frame_index=3))
    assert [(secret_name, cover_name) for _, _, secret_name, cover_name in frames] == [
        ("carphone_pristine.mp4@3", "bikes.mp4@3"), ("bikes.mp4@3", "carphone_pristine.mp4@3")]
    assert np.array_equal(frames[1][1], videoio.frame_at(clips[1], 3)) and frames[0][0].shape == frames[0][1].shape
    with pytest.raises(ValueError, match="at least two"):
        next(evaluation.pairs_from_photos(photo_paths[:1]))
    with pytest.raises(ValueError, match="no frames"):
        evaluation.mean_quality([], [])
    with pytest.raises(ValueError, match="2 frames to compare with 1 references"):
        evaluation.mean_quality(frames[0][:1], frames[0][:2])


def test_quality_report_benchmark(tmp_path, tiny_models, capsys):
    """benchmarks/quality_report.py on the untrained tiny model: every section measured for real."""
    from benchmarks import quality_report

    model_dir = tiny_models["hide"].parent
    report_path = tmp_path / "report.json"
    quality_report.main(["--model-dir", str(model_dir), "--videos", str(tmp_path / "no videos"), "--json", str(report_path)])
    output = capsys.readouterr().out
    assert "frame 10 of four real clips: skipped" in output and output.strip().splitlines()[-1].startswith("summary:")
    report = json.loads(report_path.read_text())
    assert {"scikit-image photos (<= 384 px), key, 32 px", "damage_tolerance", "keyed_demo_reveal"} <= set(report)
    assert set(report["damage_tolerance"]) == {"as_written", "lowest_bit_zeroed", "jpeg_q75"}
    revealed_psnr, revealed_ssim = report["keyed_demo_reveal"]["revealed"]
    # An untrained network reveals noise: the numbers only have to be real measurements (PSNR of uint8 images is >= 0).
    assert 0 <= revealed_psnr < 60 and -1 <= revealed_ssim <= 1
    assert "--force" in run_failing(capsys, quality_report.main, ["--model-dir", str(model_dir), "--json", str(report_path)])
    assert "not found" in run_failing(capsys, quality_report.main, ["--model-dir", str(tmp_path / "none")])


def test_eval_and_test_bad_input(tmp_path, photo_folder, tiny_models, corrupt_file, capsys):
    assert "not found" in run_failing(capsys, eval_script.main, [str(tmp_path / "none"), str(tiny_models["joint"])])
    assert "cannot read" in run_failing(capsys, test_script.main, [str(corrupt_file("x.npy")), str(tiny_models["joint"])])
    np.save(tmp_path / "wrong.npy", np.zeros((3, 16, 16, 3), np.uint8))
    assert "expected uint8 pairs" in run_failing(capsys, test_script.main, [str(tmp_path / "wrong.npy"), str(tiny_models["joint"])])


def test_demo_bad_input(tmp_path, capsys):
    assert "not found" in run_failing(capsys, demo.main, ["--out-dir", str(tmp_path), "--hide-model", str(tmp_path / "none.keras")])


def test_build_dataset_writes_a_compact_jpeg_copy(tmp_path, photo_folder, capsys):
    from dataset import build_dataset

    arguments = [str(photo_folder), "--out", str(tmp_path), "--size", "64", "--shrink-only", "--jpeg-quality", "90", "--val-fraction", "0.3"]
    counts = build_dataset.main(arguments)
    train, val = sorted((tmp_path / "train_data" / "train").iterdir()), sorted((tmp_path / "val_data" / "validation").iterdir())
    assert (len(train), len(val)) == (counts["train"], counts["val"]) and counts["val"] == 2
    assert all(path.suffix == ".jpg" for path in train + val)
    assert all(min(imageio.read_image(path).shape[:2]) == 64 for path in train + val)
    assert "--force" in run_failing(capsys, build_dataset.main, arguments)
    assert "quality" in run_failing(capsys, build_dataset.main, arguments + ["--jpeg-quality", "0"])


def test_train_defaults_are_the_first_stage_of_the_default_recipe():
    import shlex

    from deepsteg import zoo

    script, *options = shlex.split(zoo.get("default").recipe[0])
    stage, defaults = train.parse_args(options), train.parse_args([])
    assert script == "train.py"
    for name in ("preset", "image_size", "batch_size", "epochs", "steps_per_epoch", "val_steps", "beta", "ssim_weight",
                 "edge_weight", "noise", "scramble_fraction", "lr", "clip_norm", "lr_schedule", "warmup_steps", "dtype_policy"):
        assert getattr(defaults, name) == getattr(stage, name), name


def test_recipe_runs_each_stage_once_and_resumes_a_cut_one(tmp_path, photo_folder, capfd, monkeypatch):
    """``train.py --recipe`` runs the stages in order with nothing to stop by hand (--stop-after ends
    a stage inside its schedule), skips finished stages and splits the result."""
    from deepsteg import zoo

    common = (f"--train-dirs {photo_folder} --val-dirs {photo_folder} --preset tiny-invertible --image-size 16 --batch-size 2 "
              "--steps-per-epoch 2 --val-steps 1 --verbose 0")
    entry = zoo.ShippedModel(name="tiny", description="for tests", preset="tiny-invertible", parameters=1, flops_per_pixel=1.0,
                             quality={}, recipe=(f"train.py {common} --epochs 3 --stop-after 1 --checkpoint-dir {tmp_path / '1'}",
                                                 f"train.py {common} --epochs 1 --init-from {tmp_path / '1' / 'last.keras'} "
                                                 f"--checkpoint-dir {tmp_path / '2'}",
                                                 f"split_model.py {tmp_path / '2' / 'last.keras'} --out-dir {tmp_path / 'out'} --force"))
    monkeypatch.setitem(zoo.SHIPPED, "tiny", entry)
    train.main(["--recipe", "tiny"])
    output = capfd.readouterr().out
    assert "stage 1/3" in output and "stage 3/3" in output and "summary: recipe 'tiny' done" in output
    assert (tmp_path / "1" / "logs" / "training.csv").read_text().count("\n") == 2  # stopped after epoch 1 of 3
    assert (tmp_path / "out" / "hide.keras").is_file() and (tmp_path / "out" / "reveal.keras").is_file()
    train.main(["--recipe", "tiny"])
    output = capfd.readouterr().out
    assert "stage 1/3 already done" in output and "stage 2/3 already done" in output
    with pytest.raises(SystemExit):
        train.main(["--recipe", "tiny", "--lr", "1"])
    assert "takes no other options" in capfd.readouterr().err


def test_quality_against_flops_plots_the_shipped_models(tmp_path, capsys):
    """benchmarks/quality_vs_flops.py counts each network's FLOPs and plots its eval.json."""
    from benchmarks import quality_vs_flops
    from deepsteg import zoo

    plot = tmp_path / "flops.png"
    quality_vs_flops.main([f"{name}={zoo.get(name).folder}" for name in zoo.names()] + ["-o", str(plot)])
    output = capsys.readouterr().out
    assert imageio.read_image(plot).shape[1] > 500
    for name in zoo.names():
        assert f"{name}, {zoo.get(name).flops_per_pixel / 1e6:.3f}, {zoo.get(name).quality['eval']['cover_psnr']:.4g}" in output
    assert "LABEL=FOLDER" in run_failing(capsys, quality_vs_flops.main, [str(zoo.get("fast").folder), "-o", str(tmp_path / "x.png")])
    assert "hide.keras not found" in run_failing(capsys, quality_vs_flops.main, [f"empty={tmp_path}", "-o", str(tmp_path / "y.png")])
