"""An invertible hiding network in the style of HiNet (Jing et al., ICCV 2021).

Baluja (NIPS 2017) trains two separate networks: one hides, another learns to undo it. HiNet makes
hiding and revealing the same network run forwards and backwards: both images go through a Haar
wavelet transform, then through affine coupling blocks (Dinh et al. 2017, RealNVP)::

    y_cover  = x_cover + phi(x_secret)
    y_secret = x_secret * exp(clamp * tanh(rho(y_cover) / 2)) + eta(y_cover)

The container is the inverse wavelet transform of the cover branch; the secret branch (the "lost"
part) is thrown away. The receiver runs the blocks backwards from the container's wavelet
transform with zeros in place of the lost part::

    x_secret = (y_secret - eta(y_cover)) * exp(-clamp * tanh(rho(y_cover) / 2))
    x_cover  = y_cover - phi(x_secret)

``phi``, ``rho`` and ``eta`` are five-convolution dense blocks (Huang et al. 2017) whose last
convolution starts at zero, so an untrained network returns the cover as the container. Because
one set of weights does both jobs, the hide and reveal networks of a split model each carry all
of them. Everything runs at half resolution on 4x the channels, so image sides must be even.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from models.layers import depth_to_space, space_to_depth


def haar_forward(images):
    """Orthonormal 2-D Haar transform: (B, H, W, C) -> (B, H/2, W/2, 4C), sub-bands LL, LH, HL, HH.

    Each sub-band takes ``C`` channels, in that order: the 2x2 space-to-depth view followed by a
    fixed 4x4 linear map. Height and width must be even.
    """
    channels = images.shape[-1]
    pixels = space_to_depth(images, 2)
    top_left, top_right, bottom_left, bottom_right = (pixels[..., index * channels:(index + 1) * channels] for index in range(4))
    return 0.5 * ops.concatenate([
        top_left + top_right + bottom_left + bottom_right,
        -top_left + top_right - bottom_left + bottom_right,
        -top_left - top_right + bottom_left + bottom_right,
        top_left - top_right - bottom_left + bottom_right,
    ], axis=-1)


def haar_inverse(bands):
    """The inverse of :func:`haar_forward`: (B, H/2, W/2, 4C) -> (B, H, W, C)."""
    channels = bands.shape[-1] // 4
    low, horizontal, vertical, diagonal = (bands[..., index * channels:(index + 1) * channels] for index in range(4))
    return depth_to_space(0.5 * ops.concatenate([
        low - horizontal - vertical + diagonal,
        low + horizontal - vertical - diagonal,
        low - horizontal + vertical - diagonal,
        low + horizontal + vertical + diagonal,
    ], axis=-1), 2)


@keras.saving.register_keras_serializable(package="deepsteg")
class DenseBlock(layers.Layer):
    """Five 3x3 convolutions, each fed all earlier outputs (Huang et al. 2017), as in HiNet.

    The first four have ``growth`` channels and a leaky ReLU with Keras's slope of 0.2 (HiNet's
    dense blocks use 0.01; the shipped models were trained with 0.2); the last, linear, maps to
    ``out_channels`` and starts at zero.

    Args:
        out_channels: channels of the output.
        growth: channels added by each of the first four convolutions.
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    def __init__(self, out_channels: int, growth: int = 32, **kwargs):
        super().__init__(**kwargs)
        if out_channels < 1 or growth < 1:
            raise ValueError(f"out_channels and growth must be at least 1, got {out_channels} and {growth}")
        self.out_channels = int(out_channels)
        self.growth = int(growth)
        self.convolutions = [
            layers.Conv2D(self.growth, 3, padding="same", activation="leaky_relu", name=f"conv{index + 1}", dtype=self.dtype_policy)
            for index in range(4)
        ]
        self.convolutions.append(layers.Conv2D(self.out_channels, 3, padding="same", kernel_initializer="zeros", dtype=self.dtype_policy,
                                               name="conv5"))

    def build(self, input_shape):
        channels = input_shape[-1]
        for convolution in self.convolutions:
            convolution.build((None, None, None, channels))
            channels += self.growth

    def call(self, inputs):
        features = inputs
        for convolution in self.convolutions[:-1]:
            features = ops.concatenate([features, convolution(features)], axis=-1)
        return self.convolutions[-1](features)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.out_channels)

    def get_config(self):
        config = super().get_config()
        config.update({"out_channels": self.out_channels, "growth": self.growth})
        return config


@keras.saving.register_keras_serializable(package="deepsteg")
class InvertibleHiding(layers.Layer):
    """HiNet-style hiding and revealing with one set of weights (see the module docstring).

    Called on ``[secret, cover]`` (two RGB batches in [0, 1]) it returns the container; called on a
    container with ``reverse=True`` it returns the revealed secret.

    Args:
        blocks: affine coupling blocks (HiNet uses 16).
        growth: channels added by each convolution of the dense blocks (HiNet: 32).
        clamp: bound of the log-scale of the affine couplings (HiNet: 2).
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    size_multiple = 2
    branch_channels = 12  # 3 colour channels x 4 Haar sub-bands

    def __init__(self, blocks: int = 8, growth: int = 32, clamp: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        if blocks < 1 or growth < 1 or clamp <= 0:
            raise ValueError(f"blocks and growth must be at least 1 and clamp positive, got {blocks}, {growth}, {clamp}")
        self.blocks, self.growth, self.clamp = int(blocks), int(growth), float(clamp)
        self.couplings = [
            # Sub-layers take this layer's precision: a model saved under mixed_bfloat16 loads as it was trained.
            [DenseBlock(self.branch_channels, self.growth, name=f"block{index + 1}_{role}", dtype=self.dtype_policy)
             for role in ("phi", "rho", "eta")]
            for index in range(self.blocks)
        ]

    def build(self, input_shape):
        for block in self.couplings:
            for network in block:
                network.build((None, None, None, self.branch_channels))

    def _log_scale(self, features):
        return self.clamp * ops.tanh(0.5 * features)

    def couple(self, secret_bands, cover_bands):
        """Runs the coupling blocks forwards on Haar sub-bands; returns (lost part, container bands)."""
        for phi, rho, eta in self.couplings:
            cover_bands = cover_bands + phi(secret_bands)
            secret_bands = secret_bands * ops.exp(self._log_scale(rho(cover_bands))) + eta(cover_bands)
        return secret_bands, cover_bands

    def uncouple(self, secret_bands, cover_bands):
        """The exact inverse of :meth:`couple`: (lost part, container bands) -> (secret, cover) bands."""
        for phi, rho, eta in reversed(self.couplings):
            secret_bands = (secret_bands - eta(cover_bands)) * ops.exp(-self._log_scale(rho(cover_bands)))
            cover_bands = cover_bands - phi(secret_bands)
        return secret_bands, cover_bands

    def call(self, inputs, reverse=False):
        if reverse:
            container_bands = haar_forward(inputs)
            secret_bands, _ = self.uncouple(ops.zeros_like(container_bands), container_bands)
            return haar_inverse(secret_bands)
        secret, cover = inputs
        _, container_bands = self.couple(haar_forward(secret), haar_forward(cover))
        return haar_inverse(container_bands)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            return tuple(input_shape[1])
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"blocks": self.blocks, "growth": self.growth, "clamp": self.clamp})
        return config
