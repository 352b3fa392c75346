"""Running the split networks: the sender's hide network and the receiver's reveal network."""

from __future__ import annotations

import numpy as np

from deepsteg.metrics import to_uint8


def load_network(path, role: str):
    """Loads a split network and checks it has the right inputs for ``role`` ('hide' or 'reveal').

    A joint training model is accepted too: the wanted half is split out of it.

    Raises:
        ValueError: for a missing or unreadable file, or a model of the wrong kind.
    """
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
    return model


def _as_float(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected a batch of RGB uint8 images (N, H, W, 3), got {images.dtype} {images.shape}")
    return images.astype(np.float32) / 255.0


def _padded(images: np.ndarray, multiple: int) -> np.ndarray:
    """Mirror-pads the bottom and right of a batch so height and width are multiples of ``multiple``."""
    height, width = images.shape[1:3]
    extra_rows, extra_columns = -height % multiple, -width % multiple
    if not extra_rows and not extra_columns:
        return images
    return np.pad(images, ((0, 0), (0, extra_rows), (0, extra_columns), (0, 0)), mode="symmetric")


def _run(network, batches):
    """Runs ``network`` on float batches padded to the sides it needs; crops the output back."""
    from models import size_multiple

    height, width = batches[0].shape[1:3]
    multiple = size_multiple(network)
    inputs = [_padded(batch, multiple) for batch in batches]
    output = network.predict_on_batch(inputs if len(inputs) > 1 else inputs[0])
    return to_uint8(np.asarray(output)[:, :height, :width])


def hide(hide_network, secrets: np.ndarray, covers: np.ndarray) -> np.ndarray:
    """Hides uint8 secrets (N, H, W, 3) in same-size uint8 covers; returns uint8 containers.

    Any size works: networks that need sides in multiples of a block size get mirror-padded
    inputs and their output is cropped back.
    """
    if secrets.shape != covers.shape:
        raise ValueError(f"secret and cover batches differ in shape: {secrets.shape} vs {covers.shape}")
    return _run(hide_network, [_as_float(secrets), _as_float(covers)])


def reveal(reveal_network, containers: np.ndarray) -> np.ndarray:
    """Reveals uint8 secrets from uint8 containers (N, H, W, 3) of any size."""
    return _run(reveal_network, [_as_float(containers)])
