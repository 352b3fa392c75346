"""Custom Keras layers for deep steganography (backend-agnostic: only ``keras.ops``)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="deepsteg")
class QuantizeToLevels(keras.layers.Layer):
    """Rounds values in [0, 1] to ``levels`` + 1 steps with a straight-through gradient.

    Makes the reveal network train on what is actually stored: an 8-bit container (levels=255),
    clipped to [0, 1]. The forward pass rounds; the backward pass is the identity (Bengio et al.
    2013, straight-through estimator). Active in training only, like ``GaussianNoise``, so that at
    inference the joint model equals the split hide and reveal networks.

    Args:
        levels: number of quantisation steps over [0, 1] (255 for 8-bit images).
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    def __init__(self, levels: int = 255, **kwargs):
        super().__init__(**kwargs)
        if levels < 1:
            raise ValueError(f"levels must be at least 1, got {levels}")
        self.levels = int(levels)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training:
            return inputs
        quantized = ops.round(ops.clip(inputs, 0.0, 1.0) * self.levels) / self.levels
        return inputs + ops.stop_gradient(quantized - inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"levels": self.levels})
        return config


def space_to_depth(inputs, size: int):
    """(B, H, W, C) -> (B, H/size, W/size, size*size*C); channel (dy*size + dx)*C + c holds pixel (dy, dx).

    ``keras.ops.nn.space_to_depth`` (TensorFlow's layout; ``tests/test_models.py`` pins it).
    """
    return ops.nn.space_to_depth(inputs, size)


def depth_to_space(inputs, size: int):
    """The inverse of :func:`space_to_depth`: (B, H, W, size*size*C) -> (B, H*size, W*size, C)."""
    return ops.nn.depth_to_space(inputs, size)


class _BlockLayer(keras.layers.Layer):
    """Base of the space-to-depth layers: holds and serialises ``block_size``."""

    def __init__(self, block_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        if block_size < 1:
            raise ValueError(f"block_size must be at least 1, got {block_size}")
        self.block_size = int(block_size)

    def get_config(self):
        config = super().get_config()
        config.update({"block_size": self.block_size})
        return config


@keras.saving.register_keras_serializable(package="deepsteg")
class SpaceToDepth(_BlockLayer):
    """Moves each ``block_size`` x ``block_size`` patch into channels: (H, W, C) -> (H/b, W/b, b*b*C).

    The "pixel unshuffle" of Shi et al. 2016 (ESPCN). Lossless and cheap: the networks that use it
    run their convolutions at 1/b of the resolution with b*b times the channels, which is how
    learned image codecs and HiNet (Jing et al. 2021, a Haar transform is this plus a fixed
    linear map) keep deep networks affordable. Height and width must be multiples of
    ``block_size`` (:func:`models.size_multiple` tells callers what to pad to).

    Args:
        block_size: side of the patch moved into channels.
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    def call(self, inputs):
        return space_to_depth(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        size = self.block_size
        return (batch, None if height is None else height // size, None if width is None else width // size,
                channels * size * size)


@keras.saving.register_keras_serializable(package="deepsteg")
class DepthToSpace(_BlockLayer):
    """The inverse of :class:`SpaceToDepth` ("pixel shuffle"): (H, W, b*b*C) -> (H*b, W*b, C).

    Args:
        block_size: side of the patch taken out of channels.
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    def call(self, inputs):
        return depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        size = self.block_size
        if channels % (size * size):
            raise ValueError(f"channels ({channels}) must be a multiple of block_size**2 ({size * size})")
        return (batch, None if height is None else height * size, None if width is None else width * size,
                channels // (size * size))
