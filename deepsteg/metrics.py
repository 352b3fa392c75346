"""Image-quality metrics, the single source used by training, eval, tests and the video scripts.

All reported numbers are computed on uint8 images on the 0-255 scale (what is written to disk),
following the project rule that quality is measured after rounding, never on float tensors.
SSIM is scikit-image's ``structural_similarity`` (Wang et al. 2004, Gaussian window, sigma 1.5),
computed per colour channel and averaged.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from skimage.metrics import structural_similarity

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
    _check_pair(reference, test)
    check_ssim_size(reference.shape[0], reference.shape[1])
    channel_axis = -1 if reference.ndim == 3 else None
    return float(
        structural_similarity(
            reference, test, data_range=MAX_VALUE, channel_axis=channel_axis,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        )
    )


def all_metrics(reference: np.ndarray, test: np.ndarray) -> dict:
    """Returns ``{"psnr", "ssim", "mse", "mae"}`` for a pair of uint8 images."""
    return {
        "psnr": psnr(reference, test),
        "ssim": ssim(reference, test),
        "mse": mse(reference, test),
        "mae": mae(reference, test),
    }


@keras.saving.register_keras_serializable(package="deepsteg", name="psnr")
def psnr_tensor(y_true, y_pred):
    """PSNR in dB of float tensors in [0, 1], for Keras training logs only (backend-agnostic).

    Training logs are indicative; reported numbers come from :func:`psnr` on uint8 images. Not
    ``keras.ops.psnr``, which is infinite for identical images, as the untrained invertible
    network's container and cover are.
    """
    y_pred = ops.clip(y_pred, 0.0, 1.0)
    error = ops.mean(ops.square(y_true - y_pred))
    return 10.0 * ops.log(1.0 / ops.maximum(error, 1e-10)) / ops.log(10.0)


SSIM_SIGMA = 1.5
SSIM_WINDOW = 11  # scikit-image's Gaussian window for sigma 1.5: radius int(3.5 * sigma + 0.5) = 5


@keras.saving.register_keras_serializable(package="deepsteg", name="ssim")
def ssim_tensor(y_true, y_pred):
    """Per-image SSIM of float tensors (N, H, W, C) in [0, 1], differentiable (backend-agnostic).

    ``keras.ops.image.ssim``: the same definition as :func:`ssim` (Wang et al. 2004: 11x11
    Gaussian window with sigma 1.5, K1 = 0.01 and K2 = 0.03, border of 5 pixels left out, mean
    over pixels and channels; ``tests/test_metrics.py`` checks that they agree), so that it can be
    part of a loss. Images must be at least 11x11.

    Returns:
        A tensor of shape (N,) with one SSIM per image.

    Raises:
        ValueError: if the images are known to be smaller than the 11x11 window.
    """
    y_true = ops.convert_to_tensor(y_true, "float32")
    y_pred = ops.convert_to_tensor(y_pred, "float32")
    if any(side is not None and side < SSIM_WINDOW for side in y_true.shape[1:3]):
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {tuple(y_true.shape[1:3])}")
    return ops.image.ssim(y_true, y_pred, max_val=1.0, filter_size=SSIM_WINDOW, filter_sigma=SSIM_SIGMA)


def edge_weights(height, width, edge_weight: float, edge_width: int):
    """A (height, width) map: 1 inside, ``1 + edge_weight`` on the outer ``edge_width`` rows and columns."""
    rows, columns = ops.arange(height), ops.arange(width)
    on_row = ops.logical_or(rows < edge_width, rows >= height - edge_width)
    on_column = ops.logical_or(columns < edge_width, columns >= width - edge_width)
    edge = ops.logical_or(ops.expand_dims(on_row, 1), ops.expand_dims(on_column, 0))
    return 1.0 + edge_weight * ops.cast(edge, "float32")


@keras.saving.register_keras_serializable(package="deepsteg")
class MseSsimLoss(keras.losses.Loss):
    """``MSE + ssim_weight * (1 - SSIM)`` per image, on float tensors in [0, 1].

    The original project's to-do list proposed an SSIM term: MSE alone lets the hide network
    spread a fine noise-like residual over flat areas, which costs little PSNR but much SSIM.
    With ``ssim_weight`` 0 this is plain MSE (Baluja 2017, eq. 1).

    Args:
        ssim_weight: weight of ``1 - SSIM`` (:func:`ssim_tensor`); must be >= 0.
        edge_weight: extra weight of the squared errors on the outer ``edge_width`` rows and
            columns (the MSE becomes a weighted mean). Convolutions see zeros beyond the image
            there, and without it a network leaves the edges of what it reveals several times
            worse than the rest.
        edge_width: how many rows and columns count as the edge.
    """

    def __init__(self, ssim_weight: float = 0.0, edge_weight: float = 0.0, edge_width: int = 2, name: str = "mse_ssim", **kwargs):
        super().__init__(name=name, **kwargs)
        if ssim_weight < 0 or edge_weight < 0 or edge_width < 1:
            raise ValueError(f"ssim_weight and edge_weight must be >= 0 and edge_width >= 1, got {ssim_weight}, {edge_weight}, {edge_width}")
        self.ssim_weight, self.edge_weight, self.edge_width = float(ssim_weight), float(edge_weight), int(edge_width)

    def call(self, y_true, y_pred):
        squared = ops.square(y_true - y_pred)
        if self.edge_weight:
            shape = ops.shape(y_true)
            weights = ops.expand_dims(edge_weights(shape[1], shape[2], self.edge_weight, self.edge_width), -1)
            loss = ops.mean(squared * weights, axis=(1, 2, 3)) / ops.mean(weights)
        else:
            loss = ops.mean(squared, axis=(1, 2, 3))
        if self.ssim_weight:
            loss = loss + self.ssim_weight * (1.0 - ssim_tensor(y_true, y_pred))
        return loss

    def get_config(self):
        return {**super().get_config(), "ssim_weight": self.ssim_weight, "edge_weight": self.edge_weight, "edge_width": self.edge_width}


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
