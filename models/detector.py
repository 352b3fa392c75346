"""A steganalysis CNN: fixed high-pass residual filters in front, then a small XuNet-style trunk.

The filters are kernels of the spatial rich model (SRM; Fridrich and Kodovsky, "Rich Models for
Steganalysis of Digital Images", IEEE TIFS 2012), applied to each colour channel; their
residuals are truncated (the TLU of Ye et al. 2017) and fed to a trunk like Xu, Wu and Shi's
("Structural Design of Convolutional Neural Networks for Steganalysis", IEEE SPL 2016): an
absolute-value layer after the first convolution, batch normalisation, tanh in the first groups,
average pooling, global pooling and one sigmoid output, the probability that the input holds a
hidden secret. Inputs are RGB in [0, 1] of any size (at least 32 x 32).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def srm_kernels() -> dict[str, np.ndarray]:
    """The residual kernels (5 x 5, zero-padded) of the spatial rich model used here, by name.

    First-, second- and third-order horizontal predictors with their vertical transposes, and
    the 3 x 3 and 5 x 5 "square" kernels (KB and KV), each scaled so that its residual of a
    smooth image is small and its response to a one-level change is about one.
    """
    def padded(kernel):
        kernel = np.asarray(kernel, dtype=np.float32)
        out = np.zeros((5, 5), np.float32)
        top, left = (5 - kernel.shape[0]) // 2, (5 - kernel.shape[1]) // 2
        out[top:top + kernel.shape[0], left:left + kernel.shape[1]] = kernel
        return out

    horizontal = {
        "first": padded([[0, -1, 1]]),
        "second": padded([[1, -2, 1]]) / 2,
        "third": padded([[1, -3, 3, -1, 0]]) / 3,
    }
    kernels = {}
    for name, kernel in horizontal.items():
        kernels[f"{name}_h"] = kernel
        kernels[f"{name}_v"] = kernel.T.copy()
    kernels["square3"] = padded([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]]) / 4
    kernels["square5"] = padded([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2],
                                 [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]]) / 12
    return kernels


@keras.saving.register_keras_serializable(package="deepsteg")
class ResidualFilters(keras.layers.Layer):
    """Fixed (untrained) SRM high-pass filters applied to every channel, then truncated.

    Input in [0, 1]; residuals are computed on the 0-255 scale and clipped to
    ``[-threshold, threshold]`` (the truncation linear unit of Ye, Ni and Yi 2017).

    Args:
        threshold: truncation of the residuals, in 8-bit levels.
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    def __init__(self, threshold: float = 3.0, **kwargs):
        super().__init__(**kwargs)
        if threshold <= 0:
            raise ValueError(f"threshold must be positive, got {threshold}")
        self.threshold = float(threshold)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        stacked = np.stack(list(srm_kernels().values()), axis=-1)  # (5, 5, K)
        depthwise = np.repeat(stacked[:, :, None, :], channels, axis=2)  # (5, 5, C, K)
        self.kernel = self.add_weight(name="kernel", shape=depthwise.shape, trainable=False,
                                      initializer=keras.initializers.Constant(depthwise))

    def call(self, inputs):
        residuals = ops.depthwise_conv(inputs * 255.0, ops.cast(self.kernel, inputs.dtype), padding="same")
        return ops.clip(residuals, -self.threshold, self.threshold)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] * len(srm_kernels()))

    def get_config(self):
        config = super().get_config()
        config.update({"threshold": self.threshold})
        return config


@keras.saving.register_keras_serializable(package="deepsteg")
class Absolute(keras.layers.Layer):
    """``|x|``: XuNet's first-group activation (the sign of a residual carries no information)."""

    def call(self, inputs):
        return ops.abs(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


def build_detector(width: int = 8, name: str = "detector") -> keras.Model:
    """The steganalysis CNN (see the module docstring): ~``width`` ... 16 x ``width`` channels.

    Args:
        width: channels of the first trainable convolution; the later groups double it.
        name: the model's name.

    Returns:
        A ``keras.Model`` from (None, None, 3) images in [0, 1] to (None, 1) probabilities.
    """
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    images = keras.Input((None, None, 3), name="image")
    x = ResidualFilters(name="residuals")(images)
    for group in range(5):
        filters = width * 2 ** group
        x = keras.layers.Conv2D(filters, 5 if group == 0 else 3, padding="same", use_bias=False, name=f"conv{group + 1}")(x)
        if group == 0:
            x = Absolute(name="absolute")(x)
        x = keras.layers.BatchNormalization(name=f"norm{group + 1}")(x)
        x = keras.layers.Activation("tanh" if group < 2 else "relu", name=f"act{group + 1}")(x)
        if group < 4:
            x = keras.layers.AveragePooling2D(5 if group else 3, strides=2, padding="same", name=f"pool{group + 1}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    probability = keras.layers.Dense(1, activation="sigmoid", name="stego", dtype="float32")(x)
    return keras.Model(images, probability, name=name)


@keras.saving.register_keras_serializable(package="deepsteg")
class DetectorPenalty(keras.layers.Layer):
    """Passes the container through and, in training, adds ``weight * -log(1 - D(container))``
    to the model's losses: the hide network is pushed to make containers that the detector ``D``
    (:func:`build_detector`) takes for covers (the generator's non-saturating GAN loss; Goodfellow
    et al. 2014; for steganography, Hayes and Danezis 2017, Tang et al. 2017).

    ``D`` is frozen here (its weights are not trained by the model's optimiser and its batch
    normalisation runs in inference mode); :class:`deepsteg.training.AdversaryTraining` trains a
    copy of it against the current containers between steps and copies its weights in.

    Args:
        detector: the detector model (or its serialised config).
        weight: weight of the term in the loss.
        **kwargs: forwarded to ``keras.layers.Layer``.
    """

    def __init__(self, detector, weight: float = 0.01, **kwargs):
        super().__init__(**kwargs)
        if weight <= 0:
            raise ValueError(f"weight must be positive, got {weight}")
        if isinstance(detector, dict):
            detector = keras.saving.deserialize_keras_object(detector)
        self.detector = detector
        self.detector.trainable = False
        self.weight = float(weight)

    def build(self, input_shape):
        if not self.detector.built:
            self.detector.build(input_shape)

    def call(self, inputs, training=None):
        if training:
            probability = ops.cast(self.detector(ops.cast(ops.clip(inputs, 0.0, 1.0), "float32"), training=False), "float32")
            self.add_loss(self.weight * ops.mean(-ops.log(1.0 - probability + 1e-6)))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"detector": keras.saving.serialize_keras_object(self.detector), "weight": self.weight})
        return config
