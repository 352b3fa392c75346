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
