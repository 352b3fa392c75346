"""Running the split networks: the sender's hide network and the receiver's reveal network."""

from __future__ import annotations

import pathlib

import numpy as np

from deepsteg.metrics import to_uint8


def load_network(path, role: str, engine: str = "keras", precision: str = "auto"):
    """Loads a split network and checks it has the right inputs for ``role`` ('hide' or 'reveal').

    ``path`` may name a shipped model (``default``, ``fast``: :mod:`deepsteg.zoo`). A joint
    training model is accepted too: the wanted half is split out of it. ``engine`` and
    ``precision`` choose what runs it (:func:`deepsteg.engines.compile_network`; the scripts'
    ``--engine auto`` picks OpenVINO where it can).

    An OpenVINO network converted before is loaded from the cache alone, without TensorFlow or
    Keras (:func:`deepsteg.engines.load_cached`): a script then starts in about a second.

    Raises:
        ValueError: for a missing or unreadable file, or a model of the wrong kind.
    """
    from deepsteg import engines, zoo

    path = zoo.resolve(path, role)
    chosen, chosen_precision = engines.resolve(engine, precision)
    if chosen == "openvino" and pathlib.Path(path).is_file():
        cached = engines.load_cached(path, role, chosen_precision)
        if cached is not None:
            return cached
    from deepsteg.training import load_model
    from models import split_steg_model

    model = load_model(path, compile=False)
    if model.name == "steganography" or len(model.outputs) == 2:
        hide_network, reveal_network = split_steg_model(model)
        model = hide_network if role == "hide" else reveal_network
    expected_inputs = 2 if role == "hide" else 1
    if len(model.inputs) != expected_inputs or len(model.outputs) != 1:
        raise ValueError(f"{path} is not a {role} network ({len(model.inputs)} inputs, {len(model.outputs)} outputs; "
                         f"a {role} network has {expected_inputs} input(s) and 1 output)")
    return engines.compile_network(model, engine, precision, source=path, role=role)


def fingerprint(network) -> str | None:
    """Which trained model ``network`` belongs to (:func:`models.model_fingerprint`); an OpenVINO
    network knows it without its Keras model."""
    from deepsteg.engines import OpenVinoNetwork

    if isinstance(network, OpenVinoNetwork):
        return network.fingerprint
    from models import model_fingerprint

    return model_fingerprint(network)


def _as_float(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected a batch of RGB uint8 images (N, H, W, 3), got {images.dtype} {images.shape}")
    return images.astype(np.float32) / 255.0


def container_size(network, height: int, width: int) -> tuple[int, int]:
    """The (height, width) of the container that ``network`` makes for a cover of this size.

    Networks that work on 2x2 blocks (the invertible and unshuffled ones) need even sides: a cover
    with an odd side gets one mirrored row or column more. The container keeps it, so that the
    receiver sees exactly what the network wrote; cropping it away would leave the receiver to
    guess that row, and the revealed secret's last row or column would be wrong (tens of times
    the error of the rest). The receiver crops the revealed secret back (the container's record
    says to what size).
    """
    from deepsteg.engines import OpenVinoNetwork

    if isinstance(network, OpenVinoNetwork):
        multiple = network.size_multiple
    else:
        from models import size_multiple

        multiple = size_multiple(network)
    return height + (-height % multiple), width + (-width % multiple)


def pad_to(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Mirror-pads the bottom and right of a batch (N, H, W, C) to ``height`` x ``width``."""
    extra_rows, extra_columns = height - images.shape[1], width - images.shape[2]
    if extra_rows < 0 or extra_columns < 0:
        raise ValueError(f"cannot pad {images.shape[2]}x{images.shape[1]} images to {width}x{height}")
    if not extra_rows and not extra_columns:
        return images
    return np.pad(images, ((0, 0), (0, extra_rows), (0, extra_columns), (0, 0)), mode="symmetric")


def _run(network, batches):
    """Runs ``network`` on float batches padded to the sides it needs; returns uint8 at that size."""
    size = container_size(network, *batches[0].shape[1:3])
    inputs = [pad_to(batch, *size) for batch in batches]
    output = network.predict_on_batch(inputs if len(inputs) > 1 else inputs[0])
    return to_uint8(np.asarray(output))


def hide(hide_network, secrets: np.ndarray, covers: np.ndarray) -> np.ndarray:
    """Hides uint8 secrets (N, H, W, 3) in same-size uint8 covers; returns uint8 containers.

    The containers have the size :func:`container_size` gives: the covers' own, or one mirrored
    row or column more where a side is odd and the network needs even sides.
    """
    if secrets.shape != covers.shape:
        raise ValueError(f"secret and cover batches differ in shape: {secrets.shape} vs {covers.shape}")
    return _run(hide_network, [_as_float(secrets), _as_float(covers)])


def padded_cover(hide_network, covers: np.ndarray) -> np.ndarray:
    """The covers as the containers of :func:`hide` should look: mirror-padded to the same size."""
    return pad_to(np.asarray(covers), *container_size(hide_network, *covers.shape[1:3]))


def reveal(reveal_network, containers: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Reveals uint8 secrets from uint8 containers (N, H, W, 3) of any size.

    Args:
        size: (height, width) of the hidden secret, if smaller than the containers (the record
            of a container made from a cover with odd sides); the revealed secrets are cropped
            to it.
    """
    height, width = containers.shape[1:3]
    revealed = _run(reveal_network, [_as_float(containers)])[:, :height, :width]
    if size is not None:
        if size[0] > height or size[1] > width:
            raise ValueError(f"the secret's size {size[1]}x{size[0]} is larger than the container's {width}x{height}")
        revealed = revealed[:, :size[0], :size[1]]
    return revealed
