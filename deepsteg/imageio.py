"""Image reading and writing with OpenCV. Arrays are RGB; writes are lossless-only and atomic."""

from __future__ import annotations

import io
import os
import pathlib

import cv2
import numpy as np

from deepsteg.files import check_output_path, write_bytes, write_through_temporary

# The PNG text chunk (tEXt) that holds a container's record (deepsteg.record).
PNG_RECORD_KEY = "deepsteg"

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
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as error:  # e.g. a header declaring more pixels than OpenCV accepts
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "OpenCV refused it"
        raise ValueError(f"cannot decode image {path}: {reason}") from None
    if image is None:
        raise ValueError(f"cannot decode image (corrupt or unsupported format): {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_png_text(path, key: str = PNG_RECORD_KEY) -> str | None:
    """The text chunk ``key`` of a PNG file (written before its image data), or None."""
    path = pathlib.Path(path)
    if path.suffix.lower() != ".png":
        return None
    from PIL import Image

    try:
        with Image.open(path) as image:
            value = image.info.get(key)
    except Exception:  # Pillow raises many types for damaged files; the pixels were read by OpenCV
        return None
    return value if isinstance(value, str) else None


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


def write_image(path, image: np.ndarray, force: bool = False, text: str | None = None) -> pathlib.Path:
    """Writes an RGB uint8 image losslessly through a checked temporary file (:mod:`deepsteg.files`).

    Args:
        text: for PNG files, a text chunk to store under :data:`PNG_RECORD_KEY` (a container's
            record); other formats cannot hold one.

    Raises:
        ValueError: for a lossy extension, an existing file without ``force``, ``text`` for a
            format other than PNG, or a write failure.
    """
    path = check_lossless_image_path(check_output_path(path, force))
    if text is None:
        return _encode_and_write(path, image, [], force)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path.name}: only PNG files can carry the container record")
    _check_rgb(image)
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(PNG_RECORD_KEY, text)
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG", pnginfo=info, compress_level=6)
    return write_bytes(path, buffer.getvalue(), force)


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
    return _encode_and_write(path, image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)], force)


def _check_rgb(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"images are written from RGB uint8 (H, W, 3) arrays, got {image.dtype} {image.shape}")


def _encode_and_write(path: pathlib.Path, image: np.ndarray, parameters: list, force: bool) -> pathlib.Path:
    _check_rgb(image)
    ok, encoded = cv2.imencode(path.suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), parameters)
    if not ok:
        raise ValueError(f"cannot encode {path}")
    return write_bytes(path, encoded.tobytes(), force)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resizes an RGB image to (height, width): area interpolation down, cubic up."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def atomic_save_npy(path, array: np.ndarray, force: bool = False) -> pathlib.Path:
    """Saves a NumPy array to ``path`` (.npy) through a checked temporary file."""
    return write_through_temporary(path, lambda handle: np.save(handle, array, allow_pickle=False), force)
