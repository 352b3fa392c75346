"""Hiding a secret video in a cover video and revealing it, streamed in batches of frames.

Memory stays constant with video length: frames are decoded, processed and encoded one batch at
a time. Every frame is kept (the last partial batch included); the container has the cover's
resolution and frame rate and is written with a lossless codec proven bit-exact by reading back.
"""

from __future__ import annotations

import pathlib
import time

import numpy as np
from tqdm import tqdm

from deepsteg import cipher, inference, metrics, videoio
from deepsteg import record as records
from deepsteg.imageio import resize_to


def _progress(description, max_frames):
    return tqdm(total=max_frames, unit="frame", desc=description, disable=None, dynamic_ncols=True)


def _paired(secret_frames, cover_frames):
    """Yields (secret, cover) until either ends; records which one ended in ``state``."""
    state = {"ended": None}

    def generator():
        while True:
            cover = next(cover_frames, None)
            secret = next(secret_frames, None)
            if cover is None or secret is None:
                state["ended"] = "cover" if cover is None else "secret"
                if cover is None and secret is None:
                    state["ended"] = "both"
                return
            yield secret, cover

    return generator(), state


def hide_video(hide_network, secret_path, cover_path, output, key=None, block_size=cipher.DEFAULT_BLOCK_SIZE, batch_size=8, max_frames=None,
               codec=None, force=False, copy_audio=True, measure=True):
    """Hides every frame of ``secret_path`` in the matching frame of ``cover_path``.

    The container has the cover's frame rate and size (one mirrored row or column more where a
    side is odd, :func:`deepsteg.inference.container_size`) and carries a record
    (:mod:`deepsteg.record`): the model's fingerprint, whether a key was used, the block size,
    the secret's size and a digest of every frame.

    Returns:
        dict with ``frames``, ``rows`` (per-frame cover PSNR/SSIM), ``ended`` (which input ran out
        first), ``seconds``, the cover and secret sizes and the ``container_size`` (width, height).
    """
    cover_info = videoio.probe(cover_path)
    secret_info = videoio.probe(secret_path)
    if measure:
        metrics.check_ssim_size(cover_info.height, cover_info.width, f"the cover {cover_path}")
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    from models import model_fingerprint

    record = records.Record(model=model_fingerprint(hide_network), block_size=int(block_size), keyed=bool(key),
                            width=cover_info.width, height=cover_info.height)
    rows = []
    start = time.perf_counter()
    pairs, state = _paired(videoio.read_frames(secret_path, max_frames), videoio.read_frames(cover_path, max_frames))
    with videoio.LosslessVideoWriter(output, cover_info.fps, codec=codec, force=force,
                                     audio_from=cover_path if copy_audio else None, record=record) as writer, \
            _progress("hiding", max_frames) as progress:
        for batch in videoio.batched(pairs, batch_size):
            first = len(rows)
            secrets = np.stack([resize_to(secret, cover_info.height, cover_info.width) for secret, _ in batch])
            covers = np.stack([cover for _, cover in batch])
            if scrambler is not None:
                secrets = np.stack([scrambler.scramble(frame, first + offset) for offset, frame in enumerate(secrets)])
            containers = inference.hide(hide_network, secrets, covers)
            for offset, (cover, container) in enumerate(zip(inference.padded_cover(hide_network, covers), containers)):
                writer.write(container)
                row = {"frame": first + offset}
                if measure:
                    row.update(cover_psnr=metrics.psnr(cover, container), cover_ssim=metrics.ssim(cover, container))
                rows.append(row)
            progress.update(len(batch))
    return {"frames": len(rows), "rows": rows, "ended": state["ended"], "seconds": time.perf_counter() - start,
            "cover": cover_info, "secret": secret_info, "container_size": (writer.shape[1], writer.shape[0])}


def _original_too_short(original, count):
    return ValueError(f"--original {original} has only {count} frames, fewer than the container: give the secret video "
                      f"the container was made from")


def reveal_video(reveal_network, stego_path, output, key=None, block_size=None, batch_size=8, max_frames=None, codec=None,
                 force=False, original=None, checks=True):
    """Reveals the secret of every frame of a lossless container video.

    Before anything is written, the container's record (:mod:`deepsteg.record`) is checked
    against the reveal network, the key and the block size, and every decoded frame against its
    digest; the revealed frames are cropped to the secret's size the record gives.

    Args:
        block_size: the block size of the scrambling; None: the record's (or the default).
        original: optional path of the original secret video, for per-frame secret PSNR/SSIM
            (resized to the secret's size, as the sender did); it must be as long as the reveal.
        checks: refuse a lossy, edited or foreign container, and refuse to write when the first
            frames still look scrambled (wrong or missing key). False reveals whatever is there.

    Returns:
        dict with ``frames``, ``rows``, ``seconds``, ``stego`` (the container's
        :class:`deepsteg.videoio.VideoInfo`) and ``record`` (None if it has none).

    Raises:
        ValueError: for a lossy, edited or foreign container, a wrong or missing key, or an
            ``original`` shorter than the reveal (see ``checks``).
    """
    from models import model_fingerprint

    info = videoio.probe(stego_path)
    if checks and not info.lossless_rgb:
        kind = f"{info.codec} {info.pixel_format}" + (f" ({info.x264_rate_control})" if info.x264_rate_control else "")
        raise ValueError(f"{stego_path} is stored as {kind}, a lossy format: the hidden secret did not survive; reveal from the "
                         f"lossless file video_hide.py wrote (FFV1 .mkv, x264rgb .mp4 at qp 0, HuffYUV .avi, PNG .mov)")
    record = None
    try:
        record = info.record
    except ValueError:
        if checks:
            raise
    if checks:
        block_size = records.check_reveal_settings(record, model_fingerprint(reveal_network), key, block_size, cipher.DEFAULT_BLOCK_SIZE)
    else:
        block_size = block_size or (record.block_size if record is not None else cipher.DEFAULT_BLOCK_SIZE)
    size = (record.height, record.width) if record is not None and record.width <= info.width and record.height <= info.height else None
    height, width = size or (info.height, info.width)
    checker = records.FrameChecker(record if checks else None, pathlib.Path(stego_path).name)
    if original is not None:
        metrics.check_ssim_size(height, width, "the revealed secret")
        if checks and record is not None:
            needed = record.frames if max_frames is None else min(max_frames, record.frames)
            available = sum(1 for _ in videoio.read_frames(original, needed))
            if available < needed:
                raise _original_too_short(original, available)
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    original_frames = videoio.read_frames(original, max_frames) if original is not None else None
    rows = []
    start = time.perf_counter()
    with videoio.LosslessVideoWriter(output, info.fps, codec=codec, force=force) as writer, \
            _progress("revealing", max_frames) as progress:
        for batch in videoio.batched(videoio.read_frames(stego_path, max_frames), batch_size):
            for frame in batch:
                checker.check(frame)
            first = len(rows)
            revealed = inference.reveal(reveal_network, np.stack(batch), size=size)
            if first == 0 and checks:
                cipher.check_unscrambled(revealed, scrambler, block_size)
            if scrambler is not None:
                revealed = np.stack([scrambler.unscramble(frame, first + offset) for offset, frame in enumerate(revealed)])
            for offset, frame in enumerate(revealed):
                writer.write(frame)
                row = {"frame": first + offset}
                if original_frames is not None:
                    reference = next(original_frames, None)
                    if reference is None:
                        raise _original_too_short(original, first + offset)
                    reference = resize_to(reference, height, width)
                    row.update(secret_psnr=metrics.psnr(reference, frame), secret_ssim=metrics.ssim(reference, frame))
                rows.append(row)
            progress.update(len(batch))
        checker.finish(max_frames)
    return {"frames": len(rows), "rows": rows, "seconds": time.perf_counter() - start, "stego": info, "record": record}


def enhance_video(input_path, output, settings=None, original=None, max_frames=None, force=False):
    """Enhances every frame of a (revealed) video into a lossless video.

    Args:
        settings: :class:`deepsteg.enhance.EnhanceSettings` (the video defaults if None: temporal
            non-local means over 5 frames, no sharpening).
        original: optional original secret video; rows then hold ``before_*`` and ``after_*``
            PSNR/SSIM against it (resized to the frames' size).

    Returns:
        per-frame rows.
    """
    from deepsteg.enhance import EnhanceSettings, enhance_frames

    settings = settings or EnhanceSettings()
    info = videoio.probe(input_path)
    if original is not None:
        videoio.probe(original)
        metrics.check_ssim_size(info.height, info.width, f"the frames of {input_path}")
    originals = videoio.read_frames(original, max_frames) if original is not None else None
    rows = []
    inputs = []  # the frames enhance_frames has taken but not yet given back (at most half its window)

    def taken():
        for frame in videoio.read_frames(input_path, max_frames):
            inputs.append(frame)
            yield frame

    with videoio.LosslessVideoWriter(output, info.fps, force=force) as writer, _progress("enhancing", max_frames) as progress:
        for index, enhanced in enumerate(enhance_frames(taken(), settings)):
            frame = inputs.pop(0)
            writer.write(enhanced)
            row = {"frame": index}
            if originals is not None:
                reference = next(originals, None)
                if reference is None:
                    raise ValueError(f"--original {original} has only {index} frames, fewer than {input_path}: give the "
                                     f"secret video it was revealed from")
                reference = resize_to(reference, *frame.shape[:2])
                row.update(before_psnr=metrics.psnr(reference, frame), before_ssim=metrics.ssim(reference, frame),
                           after_psnr=metrics.psnr(reference, enhanced), after_ssim=metrics.ssim(reference, enhanced))
            rows.append(row)
            progress.update(1)
    return rows


def format_summary(result, prefix):
    """One line: frames, speed, and mean/min of the per-frame metrics with ``prefix``."""
    rows = result["rows"]
    line = f"{result['frames']} frames in {result['seconds']:.1f} s ({result['frames'] / max(result['seconds'], 1e-9):.2f} frames/s)"
    if rows and f"{prefix}_psnr" in rows[0]:
        stats = metrics.summarize(rows, prefix)
        line += (f"; {prefix} PSNR mean {stats[f'{prefix}_psnr']:.2f} dB (min {stats[f'{prefix}_psnr_min']:.2f}), "
                 f"SSIM mean {stats[f'{prefix}_ssim']:.4f} (min {stats[f'{prefix}_ssim_min']:.4f})")
    return line
