"""Hiding a secret image in a cover image and revealing it: what ``image_hide.py``,
``image_reveal.py`` and the web app run, so that they write the same files for the same inputs.

The container is written losslessly; as a PNG it carries a record (:mod:`deepsteg.record`): the
model's fingerprint, whether a key was used, the block size, the secret's size and a digest of its
pixels, which the reveal checks before it writes anything.
"""

from __future__ import annotations

import pathlib

from deepsteg import cipher, imageio, inference, metrics
from deepsteg.record import SKIP_HINT, Record, check_reveal_settings, frame_digest


def hide_image(hide_network, secret_path, cover_path, output, key=None, block_size: int = cipher.DEFAULT_BLOCK_SIZE,
               force: bool = False) -> dict:
    """Hides the image ``secret_path`` in ``cover_path`` and writes the container to ``output``.

    The secret is resized to the cover's size and, with a ``key``, block-scrambled first.

    Returns:
        dict with ``path``, ``container`` and ``cover`` (uint8 arrays of the same size: the
        cover mirror-padded like the container where a side is odd), ``cover_psnr``,
        ``cover_ssim`` and ``notes`` (lines for the user).

    Raises:
        ValueError: for unreadable images, a cover too small to measure, or an output that
            cannot be written.
    """
    secret, cover = imageio.read_image(secret_path), imageio.read_image(cover_path)
    metrics.check_ssim_size(*cover.shape[:2], f"the cover {pathlib.Path(cover_path).name}")
    notes = []
    if secret.shape != cover.shape:
        notes.append(f"secret is {secret.shape[1]}x{secret.shape[0]}, cover is {cover.shape[1]}x{cover.shape[0]}; "
                     f"resizing the secret to the cover's size")
        secret = imageio.resize_to(secret, *cover.shape[:2])
    to_hide = cipher.BlockScrambler(key, block_size).scramble(secret) if key else secret
    container = inference.hide(hide_network, to_hide[None], cover[None])[0]
    expected = inference.padded_cover(hide_network, cover[None])[0]
    record = Record(model=inference.fingerprint(hide_network), block_size=int(block_size), keyed=bool(key),
                    width=cover.shape[1], height=cover.shape[0], digests=[frame_digest(container)])
    is_png = pathlib.Path(output).suffix.lower() == ".png"
    path = imageio.write_image(output, container, force=force, text=record.to_json() if is_png else None)
    if container.shape != cover.shape:
        notes.append(f"the cover has an odd side: the container is {container.shape[1]}x{container.shape[0]}, one mirrored "
                     f"row or column more, and reveals a {cover.shape[1]}x{cover.shape[0]} secret")
    if not is_png:
        notes.append(f"only PNG containers carry the record that lets image_reveal.py check them; {pathlib.Path(output).suffix} does not")
    return {"path": path, "container": container, "cover": expected, **metrics.quality(expected, container, "cover"), "notes": notes}


def reveal_image(reveal_network, container_path, output, key=None, block_size: int | None = None, original=None,
                 checks: bool = True, force: bool = False) -> dict:
    """Reveals the secret of the container image ``container_path`` into ``output``.

    Args:
        block_size: the scrambling's block size; None: the record's (or the default).
        original: optional path of the original secret, for the revealed secret's PSNR/SSIM.
        checks: refuse a lossy, edited or foreign container and a wrong or missing key; False
            reveals whatever is there.

    Returns:
        dict with ``path``, ``revealed`` (uint8 array), ``secret_psnr`` and ``secret_ssim`` (when
        ``original`` is given) and ``notes``.

    Raises:
        ValueError: for a lossy or changed container, one made with another model, a wrong or
            missing key (see ``checks``), or unreadable files.
    """
    container_path = pathlib.Path(container_path)
    if container_path.suffix.lower() in imageio.LOSSY_IMAGE_EXTENSIONS:
        raise ValueError(f"{container_path.name} is a lossy {container_path.suffix} file: lossy compression destroys the hidden "
                         "secret; the container must stay in the PNG written by image_hide.py")
    container = imageio.read_image(container_path)
    try:
        record = Record.from_json(imageio.read_png_text(container_path))
    except ValueError:
        if checks:
            raise
        record = None
    fits = record is not None and record.height <= container.shape[0] and record.width <= container.shape[1]
    size = (record.height, record.width) if fits else None
    reference = None
    if original is not None:
        reference = imageio.read_image(original)
        metrics.check_ssim_size(*(size or container.shape[:2]), "the revealed secret")
    notes = []
    if not checks:
        block_size = block_size or (record.block_size if record is not None else cipher.DEFAULT_BLOCK_SIZE)
    else:
        block_size = check_reveal_settings(record, inference.fingerprint(reveal_network), key, block_size, cipher.DEFAULT_BLOCK_SIZE)
        if record is not None and (record.frames != 1 or frame_digest(container) != record.digests[0]):
            raise ValueError(f"{container_path.name} was changed after image_hide.py wrote it (re-saved, edited or compressed): "
                             f"its pixels are not the ones it recorded, and the secret does not survive that; use the PNG "
                             f"image_hide.py wrote ({SKIP_HINT})")
        if record is None:
            notes.append(f"{container_path.name} has no container record (not a PNG written by image_hide.py, or made by an "
                         f"older version): its pixels and model cannot be checked")
    revealed = inference.reveal(reveal_network, container[None], size=size)[0]
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    if checks:
        cipher.check_unscrambled(revealed, scrambler, block_size)
    if scrambler is not None:
        revealed = scrambler.unscramble(revealed)
    result = {"revealed": revealed, "notes": notes}
    if reference is not None:
        reference = imageio.resize_to(reference, *revealed.shape[:2])
        result.update(metrics.quality(reference, revealed, "secret"))
    result["path"] = imageio.write_image(output, revealed, force=force)
    return result
