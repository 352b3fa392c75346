"""Baluja's deep steganography networks (Hiding Images in Plain Sight, NIPS 2017).

Three fully convolutional networks, each a stack of "aggregated" layers: parallel 3x3, 4x4 and
5x5 convolutions with ReLU, concatenated (the layout used by the public reimplementations of the
paper). All inputs are ``(None, None, 3)`` floats in [0, 1], so every network runs at any size.

* ``prep`` (2 layers) turns the secret into features.
* ``hide`` (5 layers + a linear 3-channel convolution) merges them with the cover into the
  container. With ``residual=True`` the container is ``cover + r`` where ``r`` comes from a
  zero-initialised linear layer, so training starts from a perfect cover.
* ``reveal`` (5 layers + a linear 3-channel convolution) recovers the secret from the container.

The joint training model adds Gaussian noise (and optionally 8-bit rounding with a straight-through
gradient) between hide and reveal, in training only, so that the secret is not carried by the
least significant bits.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers

from models.layers import QuantizeToLevels


@dataclasses.dataclass(frozen=True)
class Preset:
    """A network configuration.

    Attributes:
        filters: filters of the (3x3, 4x4, 5x5) branches of every aggregated layer.
        prep_layers: aggregated layers in the prep network.
        hide_layers: aggregated layers in the hide network.
        reveal_layers: aggregated layers in the reveal network.
        residual: whether the hide network outputs ``cover + residual`` (zero-initialised).
    """

    filters: tuple = (50, 10, 5)
    prep_layers: int = 2
    hide_layers: int = 5
    reveal_layers: int = 5
    residual: bool = False


PRESETS = {
    # Baluja / deep-steg-keras: 65 channels per layer.
    "paper": Preset(),
    # The reference Keras repository: 150 channels per layer.
    "wide": Preset(filters=(50, 50, 50)),
    # The paper's widths with a residual, zero-initialised hide output (converges faster).
    "residual": Preset(residual=True),
    # Tiny configuration for shape and serialisation tests.
    "tiny": Preset(filters=(4, 2, 2), prep_layers=1, hide_layers=2, reveal_layers=2),
}


def get_preset(name: str) -> Preset:
    """Returns the preset called ``name``; raises ``ValueError`` listing the valid names."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


def aggregated_layer(inputs, filters, name):
    """Parallel 3x3, 4x4 and 5x5 ReLU convolutions, concatenated along channels."""
    branches = [
        layers.Conv2D(count, size, padding="same", activation="relu", name=f"{name}_conv{size}x{size}")(inputs)
        for count, size in zip(filters, (3, 4, 5))
        if count > 0
    ]
    if len(branches) == 1:
        return branches[0]
    return layers.Concatenate(name=f"{name}_concat")(branches)


def build_prep(preset: Preset, name: str = "prep") -> keras.Model:
    """Builds the preparation network: secret (H, W, 3) -> features (H, W, sum(filters))."""
    secret = keras.Input((None, None, 3), name="secret")
    features = secret
    for index in range(preset.prep_layers):
        features = aggregated_layer(features, preset.filters, f"{name}{index + 1}")
    return keras.Model(secret, features, name=name)


def build_hide(preset: Preset, name: str = "hide") -> keras.Model:
    """Builds the hiding network: (prepared secret features, cover) -> container (H, W, 3)."""
    prepared = keras.Input((None, None, sum(preset.filters)), name="prepared_secret")
    cover = keras.Input((None, None, 3), name="cover")
    features = layers.Concatenate(name=f"{name}_input")([prepared, cover])
    for index in range(preset.hide_layers):
        features = aggregated_layer(features, preset.filters, f"{name}{index + 1}")
    if preset.residual:
        residual = layers.Conv2D(3, 3, padding="same", kernel_initializer="zeros", name=f"{name}_residual")(features)
        container = layers.Add(name="container")([cover, residual])
    else:
        container = layers.Conv2D(3, 3, padding="same", name="container")(features)
    return keras.Model([prepared, cover], container, name=name)


def build_reveal(preset: Preset, name: str = "reveal") -> keras.Model:
    """Builds the reveal network: container (H, W, 3) -> revealed secret (H, W, 3)."""
    container = keras.Input((None, None, 3), name="container")
    features = container
    for index in range(preset.reveal_layers):
        features = aggregated_layer(features, preset.filters, f"{name}{index + 1}")
    revealed = layers.Conv2D(3, 3, padding="same", name="revealed")(features)
    return keras.Model(container, revealed, name=name)


def build_steg_model(preset: Preset | str = "paper", noise_stddev: float = 0.01, quantize: bool = True) -> keras.Model:
    """Builds the joint training model: (secret, cover) -> (container, revealed secret).

    Loss (Baluja 2017, eq. 1): ``||c - c'||^2 + beta * ||s - s'||^2``. Because the container output
    depends only on prep and hide, the cover term trains prep+hide and the secret term all three.

    Args:
        preset: a :class:`Preset` or the name of one in :data:`PRESETS`.
        noise_stddev: standard deviation of the Gaussian noise added to the container before the
            reveal network, in training only (on the [0, 1] scale). 0 disables it.
        quantize: whether to round the container to 8-bit steps in training (straight-through).

    Returns:
        A ``keras.Model`` named ``steganography`` with sub-models ``prep``, ``hide``, ``reveal``.
    """
    if isinstance(preset, str):
        preset = get_preset(preset)
    if noise_stddev < 0:
        raise ValueError(f"noise_stddev must be >= 0, got {noise_stddev}")
    prep, hide, reveal = build_prep(preset), build_hide(preset), build_reveal(preset)
    secret = keras.Input((None, None, 3), name="secret")
    cover = keras.Input((None, None, 3), name="cover")
    container = hide([prep(secret), cover])
    channel = container
    if quantize:
        channel = QuantizeToLevels(255, name="quantize")(channel)
    if noise_stddev > 0:
        channel = layers.GaussianNoise(noise_stddev, name="noise")(channel)
    revealed = reveal(channel)
    # Identity layers give the two outputs stable names for losses, metrics and logs.
    container_out = layers.Identity(name="container")(container)
    revealed_out = layers.Identity(name="revealed")(revealed)
    return keras.Model([secret, cover], [container_out, revealed_out], name="steganography")


def split_steg_model(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """Splits a joint model into the sender's hide network and the receiver's reveal network.

    The hide network is ``(secret, cover) -> container`` (prep + hide, no noise); the reveal
    network is the trained ``reveal`` sub-model. Weights are shared with ``model``.

    Raises:
        ValueError: if ``model`` has no ``prep``, ``hide`` and ``reveal`` sub-models.
    """
    try:
        prep, hide, reveal = (model.get_layer(name) for name in ("prep", "hide", "reveal"))
    except ValueError as error:
        raise ValueError(f"not a steganography model (needs sub-models prep, hide, reveal): {error}") from None
    secret = keras.Input((None, None, 3), name="secret")
    cover = keras.Input((None, None, 3), name="cover")
    hide_network = keras.Model([secret, cover], hide([prep(secret), cover]), name="hide_network")
    container = keras.Input((None, None, 3), name="container")
    reveal_network = keras.Model(container, reveal(container), name="reveal_network")
    return hide_network, reveal_network
