"""Image reading and writing with OpenCV. Arrays are RGB; writes are lossless-only and atomic."""

from __future__ import annotations

import os
import pathlib
import tempfile

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
# Extensions OpenCV writes without loss for 8-bit RGB.
LOSSLESS_IMAGE_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".ppm")
LOSSY_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".webp", ".jp2", ".avif", ".heic")


def list_images(folders) -> list[pathlib.Path]:
    """Sorted image files found (recursively) in one folder or a list of folders.

    Raises:
        ValueError: if a folder does not exist or no image is found.
    """
    if isinstance(folders, (str, os.PathLike)):
        folders = [folders]
    files = []
    for folder in folders:
        folder = pathlib.Path(folder)
        if not folder.is_dir():
            raise ValueError(f"image folder not found: {folder}")
        files.extend(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found in {', '.join(map(str, folders))}")
    return sorted(files)


def read_image(path) -> np.ndarray:
    """Reads an image file as an RGB uint8 array (H, W, 3).

    Raises:
        ValueError: if the file is missing or cannot be decoded.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"image not found: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"cannot decode image (corrupt or unsupported format): {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def check_lossless_image_path(path) -> pathlib.Path:
    """Refuses output paths whose format would destroy a hidden secret.

    Raises:
        ValueError: for a lossy or unknown extension.
    """
    path = pathlib.Path(path)
    extension = path.suffix.lower()
    if extension in LOSSY_IMAGE_EXTENSIONS:
        raise ValueError(
            f"{path.name}: {extension} is a lossy format and would destroy the hidden secret; "
            f"write one of {', '.join(LOSSLESS_IMAGE_EXTENSIONS)} (PNG recommended)"
        )
    if extension not in LOSSLESS_IMAGE_EXTENSIONS:
        raise ValueError(f"{path.name}: unknown image extension {extension!r}; use one of {', '.join(LOSSLESS_IMAGE_EXTENSIONS)}")
    return path


def check_output_path(path, force: bool = False) -> pathlib.Path:
    """Checks that ``path`` may be written: not existing unless ``force``, folder writable.

    Raises:
        ValueError: with a one-line explanation.
    """
    path = pathlib.Path(path)
    if path.exists() and not force:
        raise ValueError(f"{path} already exists; pass --force to overwrite it")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    parent = path.parent if str(path.parent) else pathlib.Path(".")
    if not parent.is_dir():
        raise ValueError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"output folder is not writable: {parent}")
    return path


def temporary_sibling(path) -> pathlib.Path:
    """A new, unused temporary file name in the folder of ``path`` with the same extension."""
    path = pathlib.Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent or ".")
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs get the usual permissions
    return pathlib.Path(name)


def write_image(path, image: np.ndarray, force: bool = False) -> pathlib.Path:
    """Writes an RGB uint8 image losslessly and atomically (temporary file, then rename).

    Raises:
        ValueError: for a lossy extension, an existing file without ``force``, or a write failure.
    """
    return _encode_and_write(check_lossless_image_path(check_output_path(path, force)), image, [])


def write_jpeg(path, image: np.ndarray, quality: int = 90, force: bool = False) -> pathlib.Path:
    """Writes an RGB uint8 image as JPEG (lossy: for compact copies of training photos only, never
    for containers), atomically.

    Raises:
        ValueError: for another extension, a quality outside 1-100, an existing file without
            ``force``, or a write failure.
    """
    path = check_output_path(path, force)
    if path.suffix.lower() not in (".jpg", ".jpeg"):
        raise ValueError(f"write_jpeg writes .jpg files, not {path.name}")
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1-100, got {quality}")
    return _encode_and_write(path, image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])


def _encode_and_write(path: pathlib.Path, image: np.ndarray, parameters: list) -> pathlib.Path:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"images are written from RGB uint8 (H, W, 3) arrays, got {image.dtype} {image.shape}")
    ok, encoded = cv2.imencode(path.suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), parameters)
    if not ok:
        raise ValueError(f"cannot encode {path}")
    return write_through_temporary(path, lambda handle: encoded.tofile(handle))


def write_through_temporary(path, write) -> pathlib.Path:
    """Calls ``write(binary file handle)`` on a temporary sibling of ``path``, then renames it to
    ``path``: a failure half-way leaves whatever was at ``path`` untouched.

    Raises:
        ValueError: if the file cannot be written.
    """
    path = pathlib.Path(path)
    temporary = temporary_sibling(path)
    try:
        with open(temporary, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ValueError(f"cannot write {path}: {error.strerror}") from None
    return path


def write_text_atomic(path, text: str) -> pathlib.Path:
    """Writes UTF-8 ``text`` to ``path`` through a temporary file and a rename."""
    return write_through_temporary(path, lambda handle: handle.write(text.encode("utf-8")))


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resizes an RGB image to (height, width): area interpolation down, cubic up."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def atomic_save_npy(path, array: np.ndarray) -> pathlib.Path:
    """Saves a NumPy array to ``path`` (.npy) through a temporary file and a rename."""
    return write_through_temporary(path, lambda handle: np.save(handle, array, allow_pickle=False))
