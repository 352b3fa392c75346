"""Inference engines: the choice rules, and OpenVINO giving Keras's containers and quality."""

import pathlib

import numpy as np
import pytest

from deepsteg import engines, imageio, inference, metrics, samples


def test_engine_choice_rules(monkeypatch):
    monkeypatch.setattr(engines, "openvino_available", lambda: True)
    monkeypatch.setattr(engines, "cpu_has_bf16", lambda: True)
    assert engines.resolve("auto", "auto") == ("openvino", "bf16")
    monkeypatch.setattr(engines, "cpu_has_bf16", lambda: False)
    assert engines.resolve("auto", "auto") == ("openvino", "f32")
    assert engines.resolve("keras", "auto") == ("keras", "f32")
    with pytest.raises(ValueError, match="bf16 runs on --engine openvino"):
        engines.resolve("keras", "bf16")
    monkeypatch.setattr(engines, "openvino_available", lambda: False)
    assert engines.resolve("auto", "auto") == ("keras", "f32")
    with pytest.raises(ValueError, match="needs the openvino package"):
        engines.resolve("openvino", "f32")
    with pytest.raises(ValueError, match="unknown engine"):
        engines.resolve("tensorrt")


@pytest.fixture(scope="module")
def photo_pairs():
    photos = [imageio.resize_to(imageio.read_image(path), 191, 255) for path in samples.skimage_photos()[:5]]
    return np.stack(photos[:4]), np.stack(photos[1:5])


@pytest.mark.parametrize("precision", ["f32", "bf16"])
@pytest.mark.slow
def test_openvino_gives_the_same_containers_and_quality(shipped_models, photo_pairs, precision, tmp_path, monkeypatch):
    """Containers within one level of Keras's, the revealed secret's mean PSNR within 0.1 dB."""
    if not engines.openvino_available():
        pytest.skip("OpenVINO is not installed (or the backend is not TensorFlow)")
    if precision == "bf16" and not engines.cpu_has_bf16():
        pytest.skip("this CPU has no bf16 units")
    secrets, covers = photo_pairs
    keras_networks = [inference.load_network(shipped_models[role], role) for role in ("hide", "reveal")]
    openvino_networks = [inference.load_network(shipped_models[role], role, "openvino", precision) for role in ("hide", "reveal")]
    assert engines.describe(openvino_networks[0]) == f"openvino {precision}"
    expected = inference.hide(keras_networks[0], secrets, covers)
    containers = inference.hide(openvino_networks[0], secrets, covers)
    assert np.abs(containers.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("precision", ["f32", "bf16"])
@pytest.mark.slow
def test_openvino_gives_the_same_eval_quality(shipped_models, precision):
    """On eval/ (86 pairs, through 8-bit images) cover and secret PSNR within 0.1 dB of Keras's."""
    from conftest import SHARED_DATA, shared_available
    from deepsteg import evaluation

    if not engines.openvino_available() or not shared_available():
        pytest.skip("needs OpenVINO and ../shared/data")
    if precision == "bf16" and not engines.cpu_has_bf16():
        pytest.skip("this CPU has no bf16 units")
    summaries = []
    for engine in ("keras", "openvino"):
        networks = [inference.load_network(shipped_models[role], role, engine, precision if engine == "openvino" else "auto")
                    for role in ("hide", "reveal")]
        rows, _, _ = evaluation.evaluate(*networks, evaluation.pairs_from_folder(SHARED_DATA / "images" / "eval"), batch_size=8)
        summaries.append(metrics.summarize(rows))
    for key in ("cover_psnr", "secret_psnr"):
        assert summaries[1][key] == pytest.approx(summaries[0][key], abs=0.1), (key, summaries)


def test_converted_networks_are_cached(tiny_models, tmp_path, monkeypatch):
    if not engines.openvino_available():
        pytest.skip("OpenVINO is not installed (or the backend is not TensorFlow)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "deepsteg" / "openvino"
    first = inference.load_network(tiny_models["reveal"], "reveal", "openvino", "f32")
    assert first.network is not None  # converted from the Keras model
    cached = sorted(path.suffix for path in folder.iterdir())
    assert cached == [".bin", ".json", ".xml"]
    stamp = next(folder.glob("*.xml")).stat().st_mtime_ns
    network = inference.load_network(tiny_models["reveal"], "reveal", "openvino", "f32")
    assert network.network is None, "the second load should come from the cache alone"
    assert next(folder.glob("*.xml")).stat().st_mtime_ns == stamp
    assert (network.fingerprint, network.size_multiple, network.name) == (first.fingerprint, first.size_multiple, first.name)
    assert inference.fingerprint(network) == inference.fingerprint(inference.load_network(tiny_models["reveal"], "reveal"))
    frames = np.random.default_rng(1).integers(0, 256, (2, 20, 30, 3), dtype=np.uint8)
    reference = inference.reveal(inference.load_network(tiny_models["reveal"], "reveal"), frames)
    assert np.abs(inference.reveal(network, frames).astype(int) - reference).max() <= 1
    # A damaged entry is ignored (converted again), never an error.
    next(folder.glob("*.json")).write_text("{not json")
    assert inference.load_network(tiny_models["reveal"], "reveal", "openvino", "f32").network is not None


def test_a_cached_network_starts_without_tensorflow(tiny_models, tmp_path):
    """image_hide.py on the OpenVINO engine, once converted, imports neither TensorFlow nor Keras."""
    import subprocess
    import sys

    if not engines.openvino_available():
        pytest.skip("OpenVINO is not installed (or the backend is not TensorFlow)")
    photos = samples.skimage_photos()[:2]
    environment = {**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    program = ("import sys, runpy\n"
               "sys.argv = ['image_hide.py', sys.argv[1], sys.argv[2], '-o', sys.argv[3], '--model', sys.argv[4], '--engine', 'openvino']\n"
               "try:\n    runpy.run_path('image_hide.py', run_name='__main__')\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
               "print('imported:', 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    outputs = []
    for attempt in ("converts", "cached"):
        output = tmp_path / f"{attempt}.png"
        result = subprocess.run([sys.executable, "-c", program, str(photos[0]), str(photos[1]), str(output), str(tiny_models["hide"])],
                                capture_output=True, text=True, env=environment, cwd=pathlib.Path(__file__).resolve().parent.parent)
        assert result.returncode == 0, result.stderr[-2000:]
        outputs.append((result.stdout.strip().splitlines()[-1], output.read_bytes()))
    assert outputs[0][0] == "imported: True True" and outputs[1][0] == "imported: False False"
    assert outputs[0][1] == outputs[1][1], "the cached network must write the same container"


def test_speed_benchmark_counts_the_work_of_every_engine(tiny_models, capsys):
    """benchmarks/inference_speed.py measures each engine that runs here and reports the GFLOP/s
    it achieved from the Keras network's FLOPs (an OpenVINO network has no Keras layers to count)."""
    from benchmarks import inference_speed

    rows = inference_speed.main(["--models", str(tiny_models["hide"].parent), "--sizes", "48x32", "--repeats", "1",
                                 "--engines", "keras", "openvino:f32"])
    expected = 2 if engines.openvino_available() else 1
    assert len(rows) == expected and all(row[4] > 0 and row[5] > 0 and row[6] > 0 for row in rows), rows
    assert "summary:" in capsys.readouterr().out


@pytest.mark.slow
def test_video_speed_benchmark_measures_the_scripts_as_users_run_them(tiny_models, tmp_path, capsys):
    """benchmarks/video_speed.py: model-only rates on every engine here, the video scripts run in
    new processes (their frames/s, start-up and peak memory), the long run and the plot."""
    from benchmarks import video_speed

    report = video_speed.main(["--models", str(tiny_models["joint"]), "--sizes", "64x48", "--frames", "6", "--long-frames", "120",
                               "--long-size", "32x32", "--repeats", "1", "--json", str(tmp_path / "speed.json"),
                               "--plot", str(tmp_path / "speed.png")])
    (row,) = report["rows"]
    assert set(row["model_only"]) == {f"{engine} {precision}" for engine, precision in video_speed.engine_choices()}
    for name in ("hide", "reveal"):
        assert row[name]["frames"] == 6 and row[name]["fps"] > 0 and row[name]["startup_s"] > 0
        # The script's own memory, not this test's (which has TensorFlow and the networks loaded).
        assert 20 < row[name]["peak_mb"] < 4000, row[name]
        assert 0 < row[name]["share_of_model_only"]
    (long,) = report["long"]
    assert set(long) >= {"100", "120"} and long["120"]["hide_peak_mb"] > 0
    assert report["matmul_peak_gflops"]["f32"] > 1
    assert (tmp_path / "speed.json").is_file() and (tmp_path / "speed.png").read_bytes()[:4] == b"\x89PNG"
    assert "summary:" in capsys.readouterr().out
