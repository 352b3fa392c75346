"""Hiding a secret video in a cover video and revealing it, streamed in batches of frames.

Memory stays constant with video length: frames are decoded, processed and encoded a few batches
at a time, the three stages overlapping (:mod:`deepsteg.pipeline`). Every frame is kept (the last
partial batch included); the container has the cover's resolution and frame rate and is written
with a lossless codec proven bit-exact by reading back.
"""

from __future__ import annotations

import contextlib
import pathlib
import time

import numpy as np
from tqdm import tqdm

from deepsteg import cipher, inference, metrics, pipeline, videoio
from deepsteg import record as records
from deepsteg.imageio import resize_to


def _progress(description, max_frames):
    return tqdm(total=max_frames, unit="frame", desc=description, disable=None, dynamic_ncols=True)


PIXELS_PER_BATCH = 640 * 360 * 4  # frames per network call at most this many pixels together (memory)
QUEUE_BATCHES = 2  # batches decoded ahead of the network, and waiting for the encoder


def batch_size_for(height: int, width: int, requested: int | None = None) -> int:
    """Frames per network call: ``requested``, or as many as fit in :data:`PIXELS_PER_BATCH`
    (at most 8; one for frames of 1280x720 and more), which bounds memory at every frame size."""
    if requested is not None:
        return int(requested)
    return max(1, min(8, PIXELS_PER_BATCH // max(1, height * width)))


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


def hide_video(hide_network, secret_path, cover_path, output, key=None, block_size=cipher.DEFAULT_BLOCK_SIZE, batch_size=None,
               max_frames=None, codec=None, force=False, copy_audio=True, measure=True, ssim=False, on_progress=None):
    """Hides every frame of ``secret_path`` in the matching frame of ``cover_path``.

    The container has the cover's frame rate and size (one mirrored row or column more where a
    side is odd, :func:`deepsteg.inference.container_size`) and carries a record
    (:mod:`deepsteg.record`): the model's fingerprint, whether a key was used, the block size,
    the secret's size and a digest of every frame. Decoding, the network and encoding run at the
    same time (:mod:`deepsteg.pipeline`).

    Args:
        batch_size: frames per network call (None: :func:`batch_size_for` the cover's size).
        measure: per-frame cover PSNR in the rows.
        ssim: per-frame cover SSIM as well (costs about a third of a small network's time).
        on_progress: called with the number of frames handed to the network so far, after each
            batch; an exception it raises stops the job (nothing is written).

    Returns:
        dict with ``frames``, ``rows`` (per-frame cover PSNR, and SSIM if asked), ``ended`` (which
        input ran out first), ``seconds``, the cover and secret sizes and the ``container_size``
        (width, height).
    """
    cover_info = videoio.probe(cover_path)
    secret_info = videoio.probe(secret_path)
    if measure and ssim:
        metrics.check_ssim_size(cover_info.height, cover_info.width, f"the cover {cover_path}")
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    batch_size = batch_size_for(cover_info.height, cover_info.width, batch_size)
    record = records.Record(model=inference.fingerprint(hide_network), block_size=int(block_size), keyed=bool(key),
                            width=cover_info.width, height=cover_info.height)
    rows = []
    pairs, state = _paired(videoio.read_frames(secret_path, max_frames), videoio.read_frames(cover_path, max_frames))

    def prepared():  # in the decoding thread
        first = 0
        for batch in videoio.batched(pairs, batch_size):
            secrets = np.stack([resize_to(secret, cover_info.height, cover_info.width) for secret, _ in batch])
            if scrambler is not None:
                secrets = np.stack([scrambler.scramble(frame, first + offset) for offset, frame in enumerate(secrets)])
            yield secrets, np.stack([cover for _, cover in batch])
            first += len(batch)

    def encode(item):  # in the encoding thread
        covers, containers = item
        for cover, container in zip(covers, containers):
            writer.write(container)
            row = {"frame": len(rows)}
            if measure:
                row.update(metrics.quality(cover, container, "cover", ssim))
            rows.append(row)
        progress.update(len(containers))

    start = time.perf_counter()
    with videoio.LosslessVideoWriter(output, cover_info.fps, codec=codec, force=force,
                                     audio_from=cover_path if copy_audio else None, record=record) as writer, \
            _progress("hiding", max_frames) as progress, \
            pipeline.Prefetch(prepared(), QUEUE_BATCHES, "decode") as batches, \
            pipeline.Worker(encode, QUEUE_BATCHES, "encode") as encoder:
        done = 0
        for secrets, covers in batches:
            containers = inference.hide(hide_network, secrets, covers)
            encoder.submit((inference.padded_cover(hide_network, covers), containers))
            done += len(containers)
            if on_progress is not None:
                on_progress(done)
    return {"frames": len(rows), "rows": rows, "ended": state["ended"], "seconds": time.perf_counter() - start,
            "cover": cover_info, "secret": secret_info, "container_size": (writer.shape[1], writer.shape[0])}


def _original_too_short(original, count):
    return ValueError(f"--original {original} has only {count} frames, fewer than the container: give the secret video "
                      f"the container was made from")


def reveal_video(reveal_network, stego_path, output, key=None, block_size=None, batch_size=None, max_frames=None, codec=None,
                 force=False, original=None, checks=True, ssim=True, on_progress=None):
    """Reveals the secret of every frame of a lossless container video.

    Before anything is written, the container's record (:mod:`deepsteg.record`) is checked
    against the reveal network, the key and the block size, and every decoded frame against its
    digest; the revealed frames are cropped to the secret's size the record gives. Decoding, the
    network and encoding run at the same time (:mod:`deepsteg.pipeline`).

    Args:
        block_size: the block size of the scrambling; None: the record's (or the default).
        batch_size: frames per network call (None: :func:`batch_size_for` the container's size).
        original: optional path of the original secret video, for per-frame secret PSNR (and
            SSIM, see ``ssim``), resized to the secret's size as the sender did; it must be as
            long as the reveal.
        checks: refuse a lossy, edited or foreign container, and refuse to write when the first
            frames still look scrambled (wrong or missing key). False reveals whatever is there.
        ssim: per-frame SSIM as well as PSNR when ``original`` is given.
        on_progress: as for :func:`hide_video`.

    Returns:
        dict with ``frames``, ``rows``, ``seconds``, ``stego`` (the container's
        :class:`deepsteg.videoio.VideoInfo`) and ``record`` (None if it has none).

    Raises:
        ValueError: for a lossy, edited or foreign container, a wrong or missing key, or an
            ``original`` shorter than the reveal (see ``checks``).
    """
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
        block_size = records.check_reveal_settings(record, inference.fingerprint(reveal_network), key, block_size, cipher.DEFAULT_BLOCK_SIZE)
    else:
        block_size = block_size or (record.block_size if record is not None else cipher.DEFAULT_BLOCK_SIZE)
    size = (record.height, record.width) if record is not None and record.width <= info.width and record.height <= info.height else None
    height, width = size or (info.height, info.width)
    checker = records.FrameChecker(record if checks else None, pathlib.Path(stego_path).name)
    if original is not None:
        if ssim:
            metrics.check_ssim_size(height, width, "the revealed secret")
        if checks and record is not None:
            needed = record.frames if max_frames is None else min(max_frames, record.frames)
            available = sum(1 for _ in videoio.read_frames(original, needed))
            if available < needed:
                raise _original_too_short(original, available)
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    batch_size = batch_size_for(info.height, info.width, batch_size)
    rows = []

    def checked():  # in the decoding thread
        for batch in videoio.batched(videoio.read_frames(stego_path, max_frames), batch_size):
            for frame in batch:
                checker.check(frame)
            yield np.stack(batch)

    def originals():  # in a thread of its own
        for frame in videoio.read_frames(original, max_frames):
            yield resize_to(frame, height, width)

    def encode(item):  # in the encoding thread
        first, revealed = item
        if scrambler is not None:
            revealed = [scrambler.unscramble(frame, first + offset) for offset, frame in enumerate(revealed)]
        for frame in revealed:
            writer.write(frame)
            row = {"frame": len(rows)}
            if references is not None:
                reference = next(references, None)
                if reference is None:
                    raise _original_too_short(original, len(rows))
                row.update(metrics.quality(reference, frame, "secret", ssim))
            rows.append(row)
        progress.update(len(revealed))

    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(videoio.LosslessVideoWriter(output, info.fps, codec=codec, force=force))
        progress = stack.enter_context(_progress("revealing", max_frames))
        batches = stack.enter_context(pipeline.Prefetch(checked(), QUEUE_BATCHES, "decode"))
        references = iter(stack.enter_context(pipeline.Prefetch(originals(), QUEUE_BATCHES * batch_size, "original"))) \
            if original is not None else None
        encoder = stack.enter_context(pipeline.Worker(encode, QUEUE_BATCHES, "encode"))
        first = 0
        for containers in batches:
            revealed = inference.reveal(reveal_network, containers, size=size)
            if first == 0 and checks:
                cipher.check_unscrambled(revealed, scrambler, block_size)
            encoder.submit((first, revealed))
            first += len(revealed)
            if on_progress is not None:
                on_progress(first)
        encoder.close()
        checker.finish(max_frames)
    return {"frames": len(rows), "rows": rows, "seconds": time.perf_counter() - start, "stego": info, "record": record}


def enhance_video(input_path, output, settings=None, original=None, max_frames=None, force=False, on_progress=None):
    """Enhances every frame of a (revealed) video into a lossless video.

    Args:
        settings: :class:`deepsteg.enhance.EnhanceSettings` (the video defaults if None: temporal
            non-local means over 5 frames at the strength the frames' noise calls for, no sharpening).
        original: optional original secret video; rows then hold ``before_*`` and ``after_*``
            PSNR/SSIM against it (resized to the frames' size).
        on_progress: called with the number of frames written so far; an exception it raises
            stops the job (nothing is written).

    Returns:
        per-frame rows.
    """
    from deepsteg.enhance import VIDEO_SETTINGS, enhance_frames

    settings = settings or VIDEO_SETTINGS
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
                row.update(metrics.quality(reference, frame, "before"), **metrics.quality(reference, enhanced, "after"))
            rows.append(row)
            progress.update(1)
            if on_progress is not None:
                on_progress(index + 1)
    return rows


def format_summary(result, prefix):
    """One line: frames, speed, and mean/min of the per-frame metrics with ``prefix``."""
    rows = result["rows"]
    line = f"{result['frames']} frames in {result['seconds']:.1f} s ({result['frames'] / max(result['seconds'], 1e-9):.2f} frames/s)"
    if rows and f"{prefix}_psnr" in rows[0]:
        stats = metrics.summarize(rows, prefix)
        line += f"; {prefix} PSNR mean {stats[f'{prefix}_psnr']:.2f} dB (min {stats[f'{prefix}_psnr_min']:.2f})"
        if f"{prefix}_ssim" in stats:
            line += f", SSIM mean {stats[f'{prefix}_ssim']:.4f} (min {stats[f'{prefix}_ssim_min']:.4f})"
    return line
