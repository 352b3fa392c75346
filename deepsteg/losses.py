"""Training losses and logged metrics on float tensors (Keras, backend-agnostic).

The loss of Baluja (NIPS 2017, eq. 1), ``||c - c'||^2 + beta ||s - s'||^2``, optionally with an SSIM
term and extra weight on the secret's edges, and the PSNR and SSIM that training logs. Logged
numbers are indicative only: reported quality always comes from :mod:`deepsteg.metrics` on uint8
images. The registered names (``deepsteg>psnr``, ``deepsteg>ssim``, ``deepsteg>MseSsimLoss``) are
what saved models refer to.
"""

from __future__ import annotations

import keras
from keras import ops


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
