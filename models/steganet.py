"""Baluja's deep steganography networks (Hiding Images in Plain Sight, NIPS 2017).

Three fully convolutional networks, each a stack of "aggregated" layers: parallel 3x3, 4x4 and
5x5 convolutions with ReLU, concatenated (the layout used by the public reimplementations of the
paper). All inputs are ``(None, None, 3)`` floats in [0, 1], so every network runs at any size.

* ``prep`` (2 layers) turns the secret into features.
* ``hide`` (5 layers + a linear 3-channel convolution) merges them with the cover into the
  container. With ``residual=True`` the container is ``cover + r`` where ``r`` comes from a
  zero-initialised linear layer, so training starts from a perfect cover.
* ``reveal`` (5 layers + a linear 3-channel convolution) recovers the secret from the container.

The ``unshuffled`` architecture keeps the same three roles and the same joint training but builds
each network from 3x3 residual blocks (He et al. 2016) run on a 2x2 space-to-depth view of the
images (Shi et al. 2016), as learned image codecs and HiNet (Jing et al. 2021) do: deeper and
wider at half the cost per pixel. Its sides must be even; :mod:`deepsteg.inference` pads.

The joint training model adds Gaussian noise (and optionally 8-bit rounding with a straight-through
gradient) between hide and reveal, in training only, so that the secret is not carried by the
least significant bits.

The ``invertible`` architecture (HiNet, Jing et al. 2021; :mod:`models.invertible`) replaces the
three networks by one set of affine coupling blocks on Haar wavelet sub-bands, run forwards to
hide and backwards to reveal; its joint model holds that one layer (``invertible``) instead of
``prep``, ``hide`` and ``reveal``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import keras
import numpy as np
from keras import layers

from models.detector import DetectorPenalty
from models.invertible import InvertibleHiding
from models.layers import DepthToSpace, QuantizeToLevels, SpaceToDepth


@dataclasses.dataclass(frozen=True)
class Preset:
    """A network configuration.

    Attributes:
        filters: filters of the (3x3, 4x4, 5x5) branches of every aggregated layer.
        prep_layers: aggregated layers in the prep network.
        hide_layers: aggregated layers in the hide network.
        reveal_layers: aggregated layers in the reveal network.
        residual: whether the hide network outputs ``cover + residual`` (zero-initialised).
        architecture: ``aggregated`` (the paper's parallel 3x3/4x4/5x5 layers at full resolution),
            ``unshuffled`` (3x3 residual blocks of ``width`` channels run on a
            space-to-depth view at 1/``block_size`` of the resolution; the ``*_layers`` fields
            then count residual blocks) or ``invertible`` (HiNet: ``hide_layers`` coupling
            blocks whose dense blocks grow by ``width`` channels per convolution; one network
            hides and, run backwards, reveals, so ``prep_layers`` and ``reveal_layers`` are unused).
        width: channels of the ``unshuffled`` networks; growth of the ``invertible`` dense blocks.
        block_size: space-to-depth factor of the ``unshuffled`` networks; inputs must have sides
            that are multiples of it (see :func:`size_multiple`).
    """

    filters: tuple = (50, 10, 5)
    prep_layers: int = 2
    hide_layers: int = 5
    reveal_layers: int = 5
    residual: bool = False
    architecture: str = "aggregated"
    width: int = 64
    block_size: int = 2


PRESETS = {
    # Baluja / deep-steg-keras: 65 channels per layer.
    "paper": Preset(),
    # The reference Keras repository: 150 channels per layer.
    "wide": Preset(filters=(50, 50, 50)),
    # The paper's widths with a residual, zero-initialised hide output (converges faster).
    "residual": Preset(residual=True),
    # Residual 3x3 blocks on a 2x2 space-to-depth view, residual hide output: deeper (receptive
    # field about 60 px instead of about 25), 0.24 M multiply-adds per pixel against the paper's
    # 0.49 M, and 4.4x its training throughput on the project's CPU (benchmarks/speed.py).
    "unshuffled": Preset(residual=True, architecture="unshuffled", width=64, prep_layers=2, hide_layers=4,
                         reveal_layers=6, block_size=2),
    # HiNet-style invertible network (Jing et al. 2021) at half its depth: 8 affine coupling blocks
    # on Haar sub-bands, dense blocks growing by 32 channels; 2.0 M parameters shared by hiding
    # and revealing, 0.50 M multiply-adds per pixel each way.
    "invertible": Preset(architecture="invertible", hide_layers=8, width=32, residual=True),
    # Smaller layouts of the same family (blocks x growth), for the compute-budget comparison:
    # 0.47x and 0.17x the multiply-adds per pixel of "invertible".
    "invertible-6x24": Preset(architecture="invertible", hide_layers=6, width=24, residual=True),
    "invertible-4x16": Preset(architecture="invertible", hide_layers=4, width=16, residual=True),
    # Tiny configurations for shape and serialisation tests.
    "tiny": Preset(filters=(4, 2, 2), prep_layers=1, hide_layers=2, reveal_layers=2),
    "tiny-unshuffled": Preset(residual=True, architecture="unshuffled", width=8, prep_layers=1, hide_layers=1,
                              reveal_layers=1, block_size=2),
    "tiny-invertible": Preset(architecture="invertible", hide_layers=1, width=4, residual=True),
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


def residual_block(inputs, width, name):
    """Two 3x3 convolutions with a ReLU between them, added to the input (He et al. 2016)."""
    features = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_conv1")(inputs)
    features = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(features)
    return layers.Add(name=f"{name}_add")([inputs, features])


def unshuffled_trunk(inputs, preset: Preset, blocks: int, name: str):
    """A 3x3 convolution to ``preset.width`` channels followed by ``blocks`` residual blocks."""
    features = layers.Conv2D(preset.width, 3, padding="same", activation="relu", name=f"{name}_in")(inputs)
    for index in range(blocks):
        features = residual_block(features, preset.width, f"{name}_block{index + 1}")
    return features


def prepared_channels(preset: Preset) -> int:
    """Channels of the prep network's output."""
    return preset.width if preset.architecture == "unshuffled" else sum(preset.filters)


def size_multiple(model) -> int:
    """What image sides must be multiples of for ``model`` (1 for the paper's networks)."""
    multiple = 1
    for layer in model.layers:
        if isinstance(layer, SpaceToDepth):
            multiple = max(multiple, layer.block_size)
        elif isinstance(layer, InvertibleHiding):
            multiple = max(multiple, layer.size_multiple)
        elif isinstance(layer, keras.Model):
            multiple = max(multiple, size_multiple(layer))
    return multiple


def _convolutions(layer):
    """Every ``Conv2D`` inside ``layer`` (sub-models and the invertible layer's dense blocks included)."""
    if isinstance(layer, layers.Conv2D):
        yield layer
    elif isinstance(layer, InvertibleHiding):
        for block in layer.couplings:
            for network in block:
                yield from network.convolutions
    elif isinstance(layer, keras.Model):
        for inner in layer.layers:
            yield from _convolutions(inner)


def flops_per_pixel(network: keras.Model) -> float:
    """Floating-point operations (2 per multiply-add) per image pixel of one call of ``network``.

    Convolutions of the ``unshuffled`` and ``invertible`` layouts run at 1/``size_multiple`` of the
    resolution in each direction; the paper's layout at full resolution.
    """
    multiply_adds = sum(float(np.prod(convolution.kernel.shape)) for convolution in _convolutions(network))
    return 2.0 * multiply_adds / size_multiple(network) ** 2


def build_prep(preset: Preset, name: str = "prep") -> keras.Model:
    """Builds the preparation network: secret (H, W, 3) -> features (H, W, sum(filters)).

    The ``unshuffled`` architecture returns ``width`` features at 1/``block_size`` resolution.
    """
    secret = keras.Input((None, None, 3), name="secret")
    if preset.architecture == "unshuffled":
        unshuffled = SpaceToDepth(preset.block_size, name=f"{name}_unshuffle")(secret)
        return keras.Model(secret, unshuffled_trunk(unshuffled, preset, preset.prep_layers, name), name=name)
    features = secret
    for index in range(preset.prep_layers):
        features = aggregated_layer(features, preset.filters, f"{name}{index + 1}")
    return keras.Model(secret, features, name=name)


def build_hide(preset: Preset, name: str = "hide") -> keras.Model:
    """Builds the hiding network: (prepared secret features, cover) -> container (H, W, 3)."""
    prepared = keras.Input((None, None, prepared_channels(preset)), name="prepared_secret")
    cover = keras.Input((None, None, 3), name="cover")
    if preset.architecture == "unshuffled":
        unshuffled = SpaceToDepth(preset.block_size, name=f"{name}_unshuffle")(cover)
        features = layers.Concatenate(name=f"{name}_input")([prepared, unshuffled])
        features = unshuffled_trunk(features, preset, preset.hide_layers, name)
        residual = layers.Conv2D(3 * preset.block_size ** 2, 3, padding="same", kernel_initializer="zeros",
                                 name=f"{name}_residual_unshuffled")(features)
        residual = DepthToSpace(preset.block_size, name=f"{name}_residual")(residual)
        container = layers.Add(name="container")([cover, residual])
        return keras.Model([prepared, cover], container, name=name)
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
    if preset.architecture == "unshuffled":
        unshuffled = SpaceToDepth(preset.block_size, name=f"{name}_unshuffle")(container)
        features = unshuffled_trunk(unshuffled, preset, preset.reveal_layers, name)
        revealed = layers.Conv2D(3 * preset.block_size ** 2, 3, padding="same", name=f"{name}_out")(features)
        revealed = DepthToSpace(preset.block_size, name="revealed")(revealed)
        return keras.Model(container, revealed, name=name)
    features = container
    for index in range(preset.reveal_layers):
        features = aggregated_layer(features, preset.filters, f"{name}{index + 1}")
    revealed = layers.Conv2D(3, 3, padding="same", name="revealed")(features)
    return keras.Model(container, revealed, name=name)


def build_steg_model(preset: Preset | str = "paper", noise_stddev: float = 0.01, quantize: bool = True, adversary=None,
                     adversarial_weight: float = 0.0) -> keras.Model:
    """Builds the joint training model: (secret, cover) -> (container, revealed secret).

    Loss (Baluja 2017, eq. 1): ``||c - c'||^2 + beta * ||s - s'||^2``. Because the container output
    depends only on prep and hide, the cover term trains prep+hide and the secret term all three.

    Args:
        preset: a :class:`Preset` or the name of one in :data:`PRESETS`.
        noise_stddev: standard deviation of the Gaussian noise added to the container before the
            reveal network, in training only (on the [0, 1] scale). 0 disables it.
        quantize: whether to round the container to 8-bit steps in training (straight-through).
        adversary: optional steganalysis detector (:func:`models.detector.build_detector`); with
            ``adversarial_weight`` > 0 the container passes through a
            :class:`models.detector.DetectorPenalty`, which adds the detector's loss in training.

    Returns:
        A ``keras.Model`` named ``steganography`` with sub-models ``prep``, ``hide``, ``reveal``
        (or, for the ``invertible`` architecture, one ``invertible`` layer called twice).
    """
    if isinstance(preset, str):
        preset = get_preset(preset)
    if noise_stddev < 0:
        raise ValueError(f"noise_stddev must be >= 0, got {noise_stddev}")
    secret = keras.Input((None, None, 3), name="secret")
    cover = keras.Input((None, None, 3), name="cover")
    if preset.architecture == "invertible":
        network = InvertibleHiding(preset.hide_layers, preset.width, name="invertible")
        container = network([secret, cover])

        def reveal(channel):  # the same weights, run backwards
            return network(channel, reverse=True)
    else:
        prep, hide, reveal = build_prep(preset), build_hide(preset), build_reveal(preset)
        container = hide([prep(secret), cover])
    if adversary is not None and adversarial_weight > 0:
        container = DetectorPenalty(adversary, adversarial_weight, name="detector_penalty", dtype="float32")(container)
    channel = container
    if quantize:
        channel = QuantizeToLevels(255, name="quantize")(channel)
    if noise_stddev > 0:
        channel = layers.GaussianNoise(noise_stddev, name="noise")(channel)
    revealed = reveal(channel)
    # Identity layers give the two outputs stable names for losses, metrics and logs.
    # float32 even under a mixed-precision policy: the losses and metrics are computed in float32.
    container_out = layers.Identity(name="container", dtype="float32")(container)
    revealed_out = layers.Identity(name="revealed", dtype="float32")(revealed)
    return keras.Model([secret, cover], [container_out, revealed_out], name="steganography")


def split_steg_model(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """Splits a joint model into the sender's hide network and the receiver's reveal network.

    The hide network is ``(secret, cover) -> container`` (prep + hide, no noise); the reveal
    network is the trained ``reveal`` sub-model. Weights are shared with ``model``.

    For the ``invertible`` architecture both networks use the joint model's one ``invertible``
    layer, forwards and backwards.

    Raises:
        ValueError: if ``model`` is not a joint model (outputs ``container`` and ``revealed``)
            with ``prep``, ``hide`` and ``reveal`` sub-models or an ``invertible`` layer: a hide
            or reveal network that is already split, for example.
    """
    if sorted(getattr(model, "output_names", None) or []) != ["container", "revealed"]:
        raise ValueError(f"not a joint steganography model: {model.name} has {len(model.inputs)} input(s) and "
                         f"{len(model.outputs)} output(s), a joint model (secret, cover) -> container, revealed")
    secret = keras.Input((None, None, 3), name="secret")
    cover = keras.Input((None, None, 3), name="cover")
    container = keras.Input((None, None, 3), name="container")
    fingerprint = weights_fingerprint(model.weights)
    invertible = [layer for layer in model.layers if isinstance(layer, InvertibleHiding)]
    if invertible:
        network = invertible[0]
        return (keras.Model([secret, cover], network([secret, cover]), name=f"hide_network_{fingerprint}"),
                keras.Model(container, network(container, reverse=True), name=f"reveal_network_{fingerprint}"))
    try:
        prep, hide, reveal = (model.get_layer(name) for name in ("prep", "hide", "reveal"))
    except ValueError as error:
        raise ValueError(f"not a steganography model (needs sub-models prep, hide, reveal): {error}") from None
    hide_network = keras.Model([secret, cover], hide([prep(secret), cover]), name=f"hide_network_{fingerprint}")
    reveal_network = keras.Model(container, reveal(container), name=f"reveal_network_{fingerprint}")
    return hide_network, reveal_network


_FINGERPRINT_NAME = re.compile(r"^(?:hide|reveal)_network_([0-9a-f]{16})$")


def weights_fingerprint(weights) -> str:
    """A 16-hex-digit digest (BLAKE2b) of a list of weights: their shapes and float32 values, in order."""
    digest = hashlib.blake2b(digest_size=8)
    for weight in weights:
        values = np.ascontiguousarray(keras.ops.convert_to_numpy(weight), dtype=np.float32)
        digest.update(str(values.shape).encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def model_fingerprint(network: keras.Model) -> str | None:
    """Which trained model a hide or reveal network belongs to (the same for both halves of a pair).

    :func:`split_steg_model` names both networks after the joint model's
    :func:`weights_fingerprint`; an unnamed network with the invertible layer has it from that
    layer's weights (which both halves share). None when it cannot be told (a split network of the
    other architectures saved without the name).
    """
    match = _FINGERPRINT_NAME.match(network.name)
    if match:
        return match.group(1)
    invertible = [layer for layer in network.layers if isinstance(layer, InvertibleHiding)]
    return weights_fingerprint(invertible[0].weights) if invertible else None
