"""Nothing lost, nothing wrong: borders, container records, safe writes, clean errors, training.

Each test is one class of defect: it fails when the defect is there and passes when it is gone.
"""

import errno
import os
import pathlib
import signal
import subprocess
import sys
import time

import av
import numpy as np
import pytest

import image_hide
import image_reveal
import enhance
import split_model
import train
import video_hide
import video_reveal
from conftest import REPOSITORY, run_failing
from deepsteg import eval_command as eval_script
from deepsteg import files, imageio, metrics, reports, videoio
from deepsteg.record import Record, frame_digest


def leftovers(folder):
    """Temporary files a run left in ``folder``."""
    return sorted(path.name for path in pathlib.Path(folder).iterdir() if ".partial" in path.name)


@pytest.fixture(scope="module")
def invertible_pair(tmp_path_factory):
    """Two different tiny invertible models (A and B), split; A's weights randomised so it hides something."""
    from deepsteg.training import new_model
    from models import split_steg_model

    folder = tmp_path_factory.mktemp("invertible")
    paths = {}
    for name, seed in (("a", 3), ("b", 4)):
        model = new_model("tiny-invertible", beta=0.75, noise_stddev=0.0, quantize=True, schedule=1e-3)
        rng = np.random.default_rng(seed)
        for weight in model.weights:
            weight.assign(rng.normal(0.0, 0.02, weight.shape).astype(np.float32))
        hide_network, reveal_network = split_steg_model(model)
        for role, network in (("hide", hide_network), ("reveal", reveal_network)):
            paths[f"{name}_{role}"] = folder / f"{name}_{role}.keras"
            network.save(paths[f"{name}_{role}"])
    return paths


@pytest.fixture(scope="module")
def odd_photos(tmp_path_factory, photo_paths):
    """A 45x31 cover and a secret cut from real photos (both sides odd)."""
    folder = tmp_path_factory.mktemp("odd")
    cover = imageio.resize_to(imageio.read_image(photo_paths[1]), 31, 45)
    secret = imageio.resize_to(imageio.read_image(photo_paths[0]), 31, 45)
    imageio.write_image(folder / "cover.png", cover)
    imageio.write_image(folder / "secret.png", secret)
    return folder / "secret.png", folder / "cover.png"


# --- The revealed secret's borders --------------------------------------------------------------

BORDER_PHOTOS = ("chelsea.png", "motorcycle_left.png", "rocket.jpg", "coffee.png", "astronaut.png")


@pytest.mark.parametrize("cover_name", BORDER_PHOTOS)
@pytest.mark.slow
def test_no_edge_row_or_column_of_the_revealed_secret_is_much_worse(tmp_path, shipped_models, cover_name, capsys):
    """Real photos of odd (451x300, 741x500, 640x427) and even sizes through the scripts and PNG
    files: every edge row and column of the revealed secret has at most 3x the image's mean
    squared error. (Before the container kept its padded row or column, the odd ones had 30-110x.)"""
    from deepsteg import samples

    paths = {path.name: path for path in samples.skimage_photos(BORDER_PHOTOS)}
    cover_path = paths[cover_name]
    secret_path = paths[BORDER_PHOTOS[(BORDER_PHOTOS.index(cover_name) + 1) % len(BORDER_PHOTOS)]]
    image_hide.main([str(secret_path), str(cover_path), "-o", str(tmp_path / "c.png"), "--model", str(shipped_models["hide"])])
    image_reveal.main([str(tmp_path / "c.png"), "-o", str(tmp_path / "s.png"), "--model", str(shipped_models["reveal"])])
    cover = imageio.read_image(cover_path)
    revealed = imageio.read_image(tmp_path / "s.png")
    assert revealed.shape == cover.shape
    secret = imageio.resize_to(imageio.read_image(secret_path), *cover.shape[:2])
    error = ((secret.astype(float) - revealed.astype(float)) ** 2).mean(axis=2)
    edges = {"top": error[0], "bottom": error[-1], "left": error[:, 0], "right": error[:, -1]}
    ratios = {name: float(values.mean() / error.mean()) for name, values in edges.items()}
    assert max(ratios.values()) <= 3.0, ratios


# --- Containers that say what they are -----------------------------------------------------------

def test_image_container_record_names_model_key_size_and_pixels(tmp_path, invertible_pair, odd_photos, capsys):
    secret, cover = odd_photos
    image_hide.main([str(secret), str(cover), "-o", str(tmp_path / "c.png"), "--model", str(invertible_pair["a_hide"]),
                     "--key", "zebra quartz", "--block-size", "8"])
    assert "45x31 secret" in capsys.readouterr().out
    record = Record.from_json(imageio.read_png_text(tmp_path / "c.png"))
    container = imageio.read_image(tmp_path / "c.png")
    assert container.shape == (32, 46, 3)
    assert (record.width, record.height, record.keyed, record.block_size, record.frames) == (45, 31, True, 8, 1)
    assert record.digests == [frame_digest(container)]
    assert "zebra" not in record.to_json()  # the key itself is never stored
    # The block size comes from the record; the secret comes back at its own odd size.
    image_reveal.main([str(tmp_path / "c.png"), "-o", str(tmp_path / "s.png"), "--model", str(invertible_pair["a_reveal"]),
                       "--key", "zebra quartz", "--skip-checks"])
    assert imageio.read_image(tmp_path / "s.png").shape == (31, 45, 3)
    assert "with a key" in run_failing(capsys, image_reveal.main, [str(tmp_path / "c.png"), "-o", str(tmp_path / "x.png"),
                                                                  "--model", str(invertible_pair["a_reveal"])])
    assert "--block-size 8" in run_failing(capsys, image_reveal.main, [str(tmp_path / "c.png"), "-o", str(tmp_path / "x.png"), "--key", "zebra quartz",
                                                                      "--block-size", "16", "--model", str(invertible_pair["a_reveal"])])
    assert "another model" in run_failing(capsys, image_reveal.main, [str(tmp_path / "c.png"), "-o", str(tmp_path / "x.png"), "--key", "zebra quartz",
                                                                     "--model", str(invertible_pair["b_reveal"])])
    # One pixel edited, the record kept: named as a changed container.
    from PIL import Image, PngImagePlugin

    edited = container.copy()
    edited[5, 5, 0] ^= 1
    info = PngImagePlugin.PngInfo()
    info.add_text("deepsteg", record.to_json())
    Image.fromarray(edited).save(tmp_path / "edited.png", pnginfo=info)
    assert "changed after" in run_failing(capsys, image_reveal.main, [str(tmp_path / "edited.png"), "-o", str(tmp_path / "x.png"),
                                                                     "--key", "zebra quartz", "--model", str(invertible_pair["a_reveal"])])
    assert not (tmp_path / "x.png").exists()
    # Without the record (re-saved by another program) it still reveals, with a note.
    Image.fromarray(container).save(tmp_path / "plain.png")
    image_reveal.main([str(tmp_path / "plain.png"), "-o", str(tmp_path / "p.png"), "--key", "zebra quartz", "--block-size", "8",
                       "--model", str(invertible_pair["a_reveal"]), "--skip-checks"])
    image_reveal.main([str(tmp_path / "plain.png"), "-o", str(tmp_path / "q.png"), "--model", str(invertible_pair["b_reveal"]),
                       "--key", "zebra quartz", "--skip-checks"])
    assert imageio.read_image(tmp_path / "p.png").shape == (32, 46, 3)


def test_record_of_a_newer_version_or_damaged_is_refused():
    record = Record("0123456789abcdef", 32, False, 10, 10, ["00" * 8])
    assert Record.from_json(record.to_json()) == record
    assert Record.from_json("a comment of another program") is None
    assert Record.from_json('{"format": "other"}') is None
    with pytest.raises(ValueError, match="newer"):
        Record.from_json(record.to_json().replace('"version":1', '"version":9'))
    with pytest.raises(ValueError, match="damaged"):
        Record.from_json(record.to_json().replace('"frames":1', '"frames":2'))


def reencode(source, target, encoder, options, edit=None, keep=None):
    """Re-encodes a video with ffmpeg's defaults for metadata (the global tags are copied)."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        out.metadata.update(inp.metadata)
        stream = out.add_stream(encoder, rate=25, options=options)
        first = True
        for index, frame in enumerate(inp.decode(video=0)):
            if keep is not None and index >= keep:
                break
            pixels = frame.to_ndarray(format="rgb24")
            if first:
                stream.width, stream.height = pixels.shape[1], pixels.shape[0]
                stream.pix_fmt = "rgb24" if encoder in ("libx264rgb", "huffyuv") else "bgr0"
                first = False
            if edit is not None and index == edit:
                pixels = pixels.copy()
                pixels[0, 0] ^= 1
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.fixture(scope="module")
def odd_stego(tmp_path_factory, invertible_pair, clip_paths):
    """A 5-frame container of a 175x143 cover (cropped from a real clip), keyed, 16 px blocks."""
    folder = tmp_path_factory.mktemp("odd_stego")
    cover = folder / "cover.mkv"
    with videoio.LosslessVideoWriter(cover, 25) as writer:
        for frame in videoio.read_frames(clip_paths["carphone_pristine.mp4"], 5):
            writer.write(np.ascontiguousarray(frame[:143, :175]))
    stego = folder / "stego.mkv"
    video_hide.main([str(clip_paths["bikes.mp4"]), str(cover), "-o", str(stego), "--model", str(invertible_pair["a_hide"]),
                     "--key", "video key", "--block-size", "16"])
    return stego


@pytest.mark.slow
def test_video_record_checks_frames_model_and_key(tmp_path, odd_stego, invertible_pair, clip_paths, capsys):
    info = videoio.probe(odd_stego)
    assert (info.width, info.height) == (176, 144)
    record = info.record
    assert (record.width, record.height, record.frames, record.block_size, record.keyed) == (175, 143, 5, 16, True)
    assert record.digests == [frame_digest(frame) for frame in videoio.read_frames(odd_stego)]
    reveal = ["--model", str(invertible_pair["a_reveal"]), "--key", "video key"]
    video_reveal.main([str(odd_stego), "-o", str(tmp_path / "r.mkv"), *reveal, "--skip-checks"])
    assert videoio.probe(tmp_path / "r.mkv").width == 175 and videoio.count_frames(tmp_path / "r.mkv") == 5
    # A lossy x264 re-encode (its header alone looks lossless), a lossless re-encode with one edited
    # frame, a cut file: each is named, and nothing is written.
    reencode(odd_stego, tmp_path / "crf.mp4", "libx264rgb", {"crf": "23"})
    assert "crf=23" in run_failing(capsys, video_reveal.main, [str(tmp_path / "crf.mp4"), "-o", str(tmp_path / "x.mkv"), *reveal])
    reencode(odd_stego, tmp_path / "edited.mkv", "ffv1", {}, edit=3)
    message = run_failing(capsys, video_reveal.main, [str(tmp_path / "edited.mkv"), "-o", str(tmp_path / "x.mkv"), *reveal])
    assert "frame 3" in message and "changed after" in message
    reencode(odd_stego, tmp_path / "cut.mkv", "ffv1", {}, keep=3)
    assert "has 3 frames" in run_failing(capsys, video_reveal.main, [str(tmp_path / "cut.mkv"), "-o", str(tmp_path / "x.mkv"), *reveal])
    # A lossless re-encode of the same pixels is still the same container.
    reencode(odd_stego, tmp_path / "same.avi", "huffyuv", {})
    video_reveal.main([str(tmp_path / "same.avi"), "-o", str(tmp_path / "same.mkv"), *reveal, "--skip-checks"])
    assert videoio.count_frames(tmp_path / "same.mkv") == 5
    assert "another model" in run_failing(capsys, video_reveal.main, [str(odd_stego), "-o", str(tmp_path / "x.mkv"), "--key", "video key",
                                                                     "--model", str(invertible_pair["b_reveal"])])
    assert "--block-size 16" in run_failing(capsys, video_reveal.main, [str(odd_stego), "-o", str(tmp_path / "x.mkv"), *reveal,
                                                                       "--block-size", "32"])
    assert "without a key" not in run_failing(capsys, video_reveal.main, [str(odd_stego), "-o", str(tmp_path / "x.mkv"),
                                                                         "--model", str(invertible_pair["a_reveal"])])
    assert not (tmp_path / "x.mkv").exists() and not leftovers(tmp_path)


def test_video_without_record_reveals_with_a_note(tmp_path, tiny_models, clip_paths, capsys):
    with videoio.LosslessVideoWriter(tmp_path / "plain.mkv", 25) as writer:
        for frame in videoio.read_frames(clip_paths["carphone_pristine.mp4"], 3):
            writer.write(frame)
    video_reveal.main([str(tmp_path / "plain.mkv"), "-o", str(tmp_path / "r.mkv"), "--model", str(tiny_models["reveal"])])
    assert "no container record" in capsys.readouterr().out
    assert videoio.count_frames(tmp_path / "r.mkv") == 3


@pytest.mark.parametrize("extension", [".mkv", ".mp4", ".avi", ".mov"])
def test_every_container_format_carries_the_record(tmp_path, extension):
    record = Record("0123456789abcdef", 32, False, 16, 16)
    frames = [np.full((16, 16, 3), value, np.uint8) for value in (0, 100, 200)]
    with videoio.LosslessVideoWriter(tmp_path / f"v{extension}", 25, record=record) as writer:
        for frame in frames:
            writer.write(frame)
    read = videoio.probe(tmp_path / f"v{extension}").record
    assert read.digests == [frame_digest(frame) for frame in frames] and read.model == "0123456789abcdef"
    assert not leftovers(tmp_path)


def test_fingerprint_is_the_same_for_both_halves_and_a_joint_model(tiny_models):
    from deepsteg import inference
    from deepsteg.training import load_model
    from models import model_fingerprint, split_steg_model, weights_fingerprint

    joint = load_model(tiny_models["joint"], compile=False)
    fingerprints = {model_fingerprint(inference.load_network(tiny_models[name], role))
                    for name, role in (("hide", "hide"), ("reveal", "reveal"), ("joint", "hide"), ("joint", "reveal"))}
    assert fingerprints == {weights_fingerprint(joint.weights)}
    hide_network, _ = split_steg_model(joint)
    assert model_fingerprint(hide_network) == weights_fingerprint(joint.weights)


# --- Nothing overwritten, nothing half-written, no false success -----------------------------------

def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("force", [False, True])
def test_full_disk_leaves_the_previous_file_and_no_temporary(tmp_path, tiny_models, photo_paths, capsys, monkeypatch, force):
    output = tmp_path / "c.png"
    if force:
        output.write_bytes(b"the good container")
    monkeypatch.setattr(files.os, "fsync", full_disk)
    arguments = [str(photo_paths[0]), str(photo_paths[1]), "-o", str(output), "--model", str(tiny_models["hide"])]
    message = run_failing(capsys, image_hide.main, arguments + (["--force"] if force else []))
    assert "No space left" in message and "wrote" not in capsys.readouterr().out
    assert (output.read_bytes() == b"the good container") if force else not output.exists()
    assert not leftovers(tmp_path)


def test_full_disk_while_closing_a_video_leaves_nothing(tmp_path, tiny_models, clip_paths, capsys, monkeypatch):
    monkeypatch.setattr(videoio, "sync_file", full_disk)
    run_failing(capsys, video_hide.main, [str(clip_paths["bikes.mp4"]), str(clip_paths["carphone_pristine.mp4"]), "-o",
                                          str(tmp_path / "s.mkv"), "--model", str(tiny_models["hide"]), "--max-frames", "2"])
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_appears_meanwhile_is_never_replaced(tmp_path, real_frames=None):
    """Two runs writing the same name: the one that finishes second fails, the first one's file stays."""
    target = tmp_path / "same.txt"

    def slow_writer(handle):
        target.write_text("the other run's file")  # the other run finished while this one wrote
        handle.write(b"mine")

    with pytest.raises(ValueError, match="already exists"):
        files.write_through_temporary(target, slow_writer)
    assert target.read_text() == "the other run's file" and not leftovers(tmp_path)
    with pytest.raises(ValueError, match="already exists"):
        with videoio.LosslessVideoWriter(tmp_path / "v.mkv", 25) as writer:
            writer.write(np.zeros((16, 16, 3), np.uint8))
            (tmp_path / "v.mkv").write_text("the other run's video")
    assert (tmp_path / "v.mkv").read_text() == "the other run's video" and not leftovers(tmp_path)


def test_two_video_hides_to_one_name_at_once_keep_one_file(tmp_path, tiny_models, clip_paths):
    command = [sys.executable, str(REPOSITORY / "video_hide.py"), str(clip_paths["bikes.mp4"]), str(clip_paths["carphone_pristine.mp4"]),
               "-o", str(tmp_path / "same.mkv"), "--model", str(tiny_models["hide"]), "--max-frames", "3"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert sorted(code == 0 for code, _ in results) == [False, True], results
    assert "already exists" in [error for code, error in results if code][0]
    assert videoio.count_frames(tmp_path / "same.mkv") == 3 and not leftovers(tmp_path)


def test_a_later_failure_removes_what_the_run_wrote(tmp_path, stego_for_reveal, tiny_models, clip_paths, capsys, monkeypatch):
    def broken_csv(*args, **kwargs):
        raise ValueError("cannot write the CSV")

    monkeypatch.setattr(reports, "write_csv", broken_csv)
    run_failing(capsys, video_reveal.main, [str(stego_for_reveal), "-o", str(tmp_path / "r.mkv"), "--model", str(tiny_models["reveal"]),
                                            "--original", str(clip_paths["bikes.mp4"]), "--csv", str(tmp_path / "r.csv")])
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def stego_for_reveal(tmp_path_factory, tiny_models, clip_paths):
    path = tmp_path_factory.mktemp("reveal") / "stego.mkv"
    video_hide.main([str(clip_paths["bikes.mp4"]), str(clip_paths["carphone_pristine.mp4"]), "-o", str(path),
                     "--model", str(tiny_models["hide"]), "--max-frames", "4"])
    return path


def test_inputs_are_checked_before_anything_is_written(tmp_path, stego_for_reveal, tiny_models, clip_paths, photo_paths, corrupt_file, capsys):
    reveal = [str(stego_for_reveal), "-o", str(tmp_path / "r.mkv"), "--model", str(tiny_models["reveal"])]
    # An unreadable --original, a --csv equal to -o, a --csv in a folder that does not exist.
    run_failing(capsys, video_reveal.main, reveal + ["--original", str(corrupt_file("bad.mp4")), "--csv", str(tmp_path / "r.csv")])
    assert "two different outputs" in run_failing(capsys, video_reveal.main, reveal + ["--original", str(clip_paths["bikes.mp4"]),
                                                                                      "--csv", str(tmp_path / "r.mkv")])
    run_failing(capsys, video_reveal.main, reveal + ["--original", str(clip_paths["bikes.mp4"]), "--csv", str(tmp_path / "no" / "r.csv")])
    assert not (tmp_path / "r.mkv").exists()
    # Images too small for the reported SSIM are refused before anything is written.
    for shape in ((1, 1, 3), (2, 3, 3), (9, 10, 3)):
        imageio.write_image(tmp_path / "tiny.png", np.full(shape, 128, np.uint8), force=True)
        assert "too small" in run_failing(capsys, image_hide.main, [str(tmp_path / "tiny.png"), str(tmp_path / "tiny.png"), "-o",
                                                                     str(tmp_path / "c.png"), "--model", str(tiny_models["hide"])])
        assert not (tmp_path / "c.png").exists()
    # An enhance whose --original cannot be read leaves no output.
    image = imageio.resize_to(imageio.read_image(photo_paths[0]), 64, 64)
    imageio.write_image(tmp_path / "in.png", image)
    run_failing(capsys, enhance.main, [str(tmp_path / "in.png"), "-o", str(tmp_path / "e.png"), "--original", str(corrupt_file("o.png")),
                                       "--denoise-strength", "3"])
    assert not (tmp_path / "e.png").exists()


def test_same_path_traps(tmp_path, tiny_models, photo_paths, photo_folder, capsys):
    assert "two different outputs" in run_failing(capsys, split_model.main, [str(tiny_models["joint"]), "--out-dir", str(tmp_path),
                                                                            "--hide-name", "x.keras", "--reveal-name", "x.keras"])
    assert list(tmp_path.iterdir()) == []
    # -o equal to an input, even with --force, would destroy the input.
    copy = tmp_path / "cover.png"
    copy.write_bytes(photo_paths[1].read_bytes()) if photo_paths[1].suffix == ".png" else imageio.write_image(copy, imageio.read_image(photo_paths[1]))
    before = copy.read_bytes()
    assert "also an input" in run_failing(capsys, image_hide.main, [str(photo_paths[0]), str(copy), "-o", str(copy), "--force",
                                                                   "--model", str(tiny_models["hide"])])
    assert copy.read_bytes() == before
    evaluation = [str(photo_folder), str(tiny_models["joint"])]
    assert "two different outputs" in run_failing(capsys, eval_script.main, evaluation + ["--json", str(tmp_path / "r"), "--csv", str(tmp_path / "r")])
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "error_histograms.png").write_bytes(b"an earlier plot")
    assert "--force" in run_failing(capsys, eval_script.main, evaluation + ["--out", str(plots)])
    assert (plots / "error_histograms.png").read_bytes() == b"an earlier plot"
    run = tmp_path / "run"
    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "1", "--val-steps", "1", "--checkpoint-dir", str(run), "--verbose", "0", "--epochs", "1"]
    train.main(arguments)
    before = (run / "last.keras").read_bytes()
    assert "--resume" in run_failing(capsys, train.main, arguments)
    assert (run / "last.keras").read_bytes() == before
    train.main(arguments + ["--force"])


def test_split_model_writes_both_networks_or_neither(tmp_path, tiny_models, capsys, monkeypatch):
    import keras

    original_save = keras.Model.save
    calls = []

    def second_save_fails(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original_save(self, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", second_save_fails)
    run_failing(capsys, split_model.main, [str(tiny_models["joint"]), "--out-dir", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_a_failing_plot_leaves_no_temporary(tmp_path, monkeypatch):
    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    with pytest.raises(ValueError, match="No space"):
        reports.plot_per_frame(tmp_path / "p.png", [{"frame": 0, "cover_psnr": 40.0, "cover_ssim": 0.9}], "t")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_cleans_up_like_ctrl_c(tmp_path, tiny_models, clip_paths):
    command = [sys.executable, str(REPOSITORY / "video_hide.py"), str(clip_paths["bikes.mp4"]), str(clip_paths["carphone_pristine.mp4"]),
               "-o", str(tmp_path / "s.mkv"), "--model", str(tiny_models["hide"]), "--batch-size", "1"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not leftovers(tmp_path) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert leftovers(tmp_path), "the run never started writing"
    run.send_signal(signal.SIGTERM)
    code = run.wait(timeout=120)
    assert code == 143, run.stderr.read()
    assert list(tmp_path.iterdir()) == []
    assert run.stderr.read().strip().splitlines() == ["video_hide.py: terminated"]


# --- Clean one-line errors ---------------------------------------------------------------------------

def test_a_png_declaring_an_enormous_size_is_a_clean_error(tmp_path, tiny_models, photo_paths, capsys):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                                        + chunk(b"IEND", b""))
    assert "huge.png" in run_failing(capsys, image_hide.main, [str(tmp_path / "huge.png"), str(photo_paths[0]), "-o",
                                                              str(tmp_path / "c.png"), "--model", str(tiny_models["hide"])])
    assert "huge.png" in run_failing(capsys, image_reveal.main, [str(tmp_path / "huge.png"), "-o", str(tmp_path / "s.png"),
                                                                "--model", str(tiny_models["reveal"])])


def test_an_original_shorter_than_the_video_is_a_clean_error(tmp_path, stego_for_reveal, tiny_models, clip_paths, capsys):
    short = tmp_path / "short.mkv"
    with videoio.LosslessVideoWriter(short, 25) as writer:
        for frame in videoio.read_frames(clip_paths["bikes.mp4"], 2):
            writer.write(frame)
    assert "only 2 frames" in run_failing(capsys, video_reveal.main, [str(stego_for_reveal), "-o", str(tmp_path / "r.mkv"),
                                                                     "--model", str(tiny_models["reveal"]), "--original", str(short)])
    assert "only 2 frames" in run_failing(capsys, video_reveal.main, [str(stego_for_reveal), "-o", str(tmp_path / "r.mkv"), "--skip-checks",
                                                                     "--model", str(tiny_models["reveal"]), "--original", str(short)])
    assert "only 2 frames" in run_failing(capsys, enhance.main, [str(stego_for_reveal), "-o", str(tmp_path / "e.mkv"), "--original", str(short)])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["short.mkv"]


def test_any_exception_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    from deepsteg import cli

    @cli.run_main
    def broken(argv):
        raise KeyError("nothing like this")

    with pytest.raises(SystemExit) as raised:
        broken([])
    assert raised.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "internal error (KeyError" in error
    monkeypatch.setenv("DEEPSTEG_DEBUG", "1")
    with pytest.raises(KeyError):
        broken([])


def test_tensorflow_start_up_lines_do_not_reach_the_terminal(tmp_path, corrupt_file):
    """A failure after TensorFlow has started prints exactly one line on stderr."""
    (tmp_path / "bad.keras").write_bytes(b"not a model")
    imageio.write_image(tmp_path / "p.png", np.full((32, 32, 3), 100, np.uint8))
    done = subprocess.run([sys.executable, str(REPOSITORY / "image_hide.py"), str(tmp_path / "p.png"), str(tmp_path / "p.png"), "-o",
                           str(tmp_path / "c.png"), "--model", str(tmp_path / "bad.keras")], capture_output=True, text=True, timeout=300,
                          env={key: value for key, value in os.environ.items() if not key.startswith(("TF_CPP", "DEEPSTEG"))})
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "cannot load model" in done.stderr, done.stderr


def test_an_empty_key_is_refused(tmp_path, tiny_models, photo_paths, capsys):
    assert "--key" in run_failing(capsys, image_hide.main, [str(photo_paths[0]), str(photo_paths[1]), "-o", str(tmp_path / "c.png"),
                                                           "--key", "", "--model", str(tiny_models["hide"])])
    assert not (tmp_path / "c.png").exists()


# --- The key check is deterministic and its hints true ---------------------------------------------

def test_key_check_is_deterministic_and_never_hints_falsely(photo_paths):
    from deepsteg.cipher import BlockScrambler, check_unscrambled

    photo = imageio.resize_to(imageio.read_image(photo_paths[0]), 96, 128)
    scrambled = BlockScrambler("the sender's key", 32).scramble(photo)
    rng = np.random.default_rng(0)
    revealed = np.clip(scrambled.astype(int) + rng.integers(-3, 4, scrambled.shape), 0, 255).astype(np.uint8)
    answers = set()
    for _ in range(3):
        try:
            check_unscrambled(revealed, "the sender's key", 32)
            answers.add("ok")
        except ValueError as error:
            answers.add(str(error))
    assert answers == {"ok"}
    hints = 0
    for number in range(20):
        with pytest.raises(ValueError) as raised:
            check_unscrambled(revealed, f"wrong key {number}", 32)
        hints += "fits --block-size" in str(raised.value)
    assert hints == 0
    with pytest.raises(ValueError, match="fits --block-size 32"):
        check_unscrambled(revealed, "the sender's key", 16)


# --- Training correctness ----------------------------------------------------------------------------

def test_resume_with_more_epochs_stretches_the_schedule(tmp_path, photo_folder, capsys):
    from deepsteg import training

    arguments = ["--train-dirs", str(photo_folder), "--val-dirs", str(photo_folder), "--preset", "tiny", "--image-size", "16",
                 "--batch-size", "2", "--steps-per-epoch", "2", "--val-steps", "1", "--checkpoint-dir", str(tmp_path), "--verbose", "0",
                 "--warmup-steps", "1", "--lr", "1e-3"]
    train.main(arguments + ["--epochs", "1"])
    train.main(["--checkpoint-dir", str(tmp_path), "--resume", "--epochs", "4", "--verbose", "0"])
    assert "runs over 8 steps" in capsys.readouterr().out
    optimizer = training.load_model(tmp_path / "last.keras").optimizer
    assert training.schedule_length(optimizer._learning_rate) == 8
    # At step 2 of 8 the rate is far above the 1% floor the old 2-step schedule had reached.
    assert float(optimizer._learning_rate(2)) > 0.5e-3


def test_scrambled_training_secrets_follow_the_seed(photo_paths):
    from deepsteg.data import RandomScrambling

    photo = imageio.resize_to(imageio.read_image(photo_paths[0]), 64, 64)
    first, again, other = RandomScrambling(1.0, 16, seed=1), RandomScrambling(1.0, 16, seed=1), RandomScrambling(1.0, 16, seed=2)
    assert np.array_equal(first(photo, 5), again(photo, 5))
    assert not np.array_equal(first(photo, 5), other(photo, 5))


@pytest.mark.parametrize("side", [1, 3, 7, 10])
def test_ssim_refuses_images_too_small_for_its_window(side):
    image = np.full((side, 20, 3), 100, np.uint8)
    with pytest.raises(ValueError, match="too small"):
        metrics.ssim(image, image)
    assert metrics.ssim(np.full((11, 11, 3), 100, np.uint8), np.full((11, 11, 3), 100, np.uint8)) == pytest.approx(1.0)


def test_a_failed_run_removes_the_folders_it_made_and_keeps_those_it_found(tmp_path):
    with pytest.raises(RuntimeError):
        with files.new_folder(tmp_path / "made" / "inner") as folder:
            (folder / "partial.png").write_bytes(b"x")
            raise RuntimeError("the run failed")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "found").mkdir()
    with pytest.raises(RuntimeError):
        with files.new_folder(tmp_path / "found" / "inner"):
            raise RuntimeError("the run failed")
    assert [path.name for path in tmp_path.iterdir()] == ["found"] and not any((tmp_path / "found").iterdir())
    with files.new_folder(tmp_path / "kept") as folder:
        pass
    assert folder.is_dir()
    with pytest.raises(OSError, match="cannot make the folder"):
        with files.new_folder(tmp_path / "kept", exist_ok=False):
            pass
    assert folder.is_dir()
