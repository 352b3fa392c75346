"""Image-quality metrics, the single source used by training, eval, tests and the video scripts.

All reported numbers are computed on uint8 images on the 0-255 scale (what is written to disk),
following the project rule that quality is measured after rounding, never on float tensors.
SSIM is scikit-image's ``structural_similarity`` (Wang et al. 2004, Gaussian window, sigma 1.5),
computed per colour channel and averaged.
"""

from __future__ import annotations

import numpy as np

MAX_VALUE = 255.0
# PSNR reported for identical images (MSE 0); finite so that means and CSV files stay numeric.
PSNR_IDENTICAL = 100.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Converts a float image in [0, 1] to uint8 exactly as it is written to disk (round, clip).

    Args:
        image: float array with values nominally in [0, 1].

    Returns:
        uint8 array of the same shape.
    """
    return np.clip(np.rint(np.asarray(image, dtype=np.float64) * MAX_VALUE), 0, 255).astype(np.uint8)


def _check_pair(reference: np.ndarray, test: np.ndarray) -> None:
    if reference.shape != test.shape:
        raise ValueError(f"images differ in shape: {reference.shape} vs {test.shape}")
    if reference.dtype != np.uint8 or test.dtype != np.uint8:
        raise ValueError("metrics take uint8 images (0-255), as written to disk")


def mse(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean squared error on the 0-255 scale."""
    _check_pair(reference, test)
    difference = reference.astype(np.float64) - test.astype(np.float64)
    return float(np.mean(difference**2))


def mae(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean absolute error on the 0-255 scale."""
    _check_pair(reference, test)
    return float(np.mean(np.abs(reference.astype(np.float64) - test.astype(np.float64))))


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB on the 0-255 scale (100 dB for identical images)."""
    error = mse(reference, test)
    if error == 0:
        return PSNR_IDENTICAL
    return float(10.0 * np.log10(MAX_VALUE**2 / error))


# The Gaussian window of the reported SSIM is 11x11 (sigma 1.5, scikit-image's truncation at 3.5 sigma).
MIN_SSIM_SIDE = 11


def check_ssim_size(height: int, width: int, what: str = "the images") -> None:
    """Raises ``ValueError`` for images too small for the reported SSIM (sides under 11 pixels)."""
    if min(height, width) < MIN_SSIM_SIDE:
        raise ValueError(f"{what} is {width}x{height}: too small to measure SSIM, which needs at least "
                         f"{MIN_SSIM_SIDE}x{MIN_SSIM_SIDE} pixels")


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity of two uint8 images (H, W) or (H, W, C), averaged over channels.

    The Gaussian-weighted variant of Wang et al. (2004): an 11x11 window with sigma 1.5 and
    population covariances, one definition for every size.

    Raises:
        ValueError: for images with a side under :data:`MIN_SSIM_SIDE` pixels.
    """
    from skimage.metrics import structural_similarity  # imported here: the scripts start faster

    _check_pair(reference, test)
    check_ssim_size(reference.shape[0], reference.shape[1])
    channel_axis = -1 if reference.ndim == 3 else None
    return float(
        structural_similarity(
            reference, test, data_range=MAX_VALUE, channel_axis=channel_axis,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        )
    )


def difference_image(reference: np.ndarray, test: np.ndarray, gain: float = 10.0) -> np.ndarray:
    """``|test - reference| * gain`` as a uint8 image (the paper's magnified residual)."""
    _check_pair(reference, test)
    return np.clip(np.abs(test.astype(np.int16) - reference.astype(np.int16)) * gain, 0, MAX_VALUE).astype(np.uint8)


def quality(reference: np.ndarray, test: np.ndarray, prefix: str, with_ssim: bool = True) -> dict:
    """``{"<prefix>_psnr": ..., "<prefix>_ssim": ...}`` of ``test`` against ``reference`` (SSIM only
    if ``with_ssim``): the per-frame and per-image columns of the scripts, the app and their reports."""
    values = {f"{prefix}_psnr": psnr(reference, test)}
    if with_ssim:
        values[f"{prefix}_ssim"] = ssim(reference, test)
    return values


def all_metrics(reference: np.ndarray, test: np.ndarray) -> dict:
    """Returns ``{"psnr", "ssim", "mse", "mae"}`` for a pair of uint8 images."""
    return {
        "psnr": psnr(reference, test),
        "ssim": ssim(reference, test),
        "mse": mse(reference, test),
        "mae": mae(reference, test),
    }


def summarize(rows: list[dict], prefix: str | None = None) -> dict:
    """Means over ``rows`` of every numeric column, the minima of the PSNR and SSIM columns (as
    ``<column>_min``) and ``pairs``, the number of rows: the one summary of per-pair or per-frame
    measurements (eval.py, the video scripts, the demo, the benchmarks).

    Args:
        rows: one dict a pair or frame, all with the same keys.
        prefix: when given, only the columns whose names start with it.

    Raises:
        ValueError: for no rows.
    """
    if not rows:
        raise ValueError("no measurements to summarize")
    summary = {"pairs": len(rows)}
    for key in rows[0]:
        if key in ("pair", "frame") or (prefix is not None and not key.startswith(prefix)):
            continue
        values = [row[key] for row in rows if isinstance(row[key], (int, float)) and not isinstance(row[key], bool)]
        if values:
            summary[key] = float(np.mean(values))
            if key.endswith(("psnr", "ssim")):
                summary[f"{key}_min"] = float(np.min(values))
    return summary
