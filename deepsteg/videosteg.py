"""Hiding a secret video in a cover video and revealing it, streamed in batches of frames.

Memory stays constant with video length: frames are decoded, processed and encoded one batch at
a time. Every frame is kept (the last partial batch included); the container has the cover's
resolution and frame rate and is written with a lossless codec proven bit-exact by reading back.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm import tqdm

from deepsteg import cipher, inference, metrics, videoio
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


def summary_of(rows, prefix):
    values = {key: [row[key] for row in rows] for key in rows[0] if key.startswith(prefix)}
    return {**{f"{key}_mean": float(np.mean(v)) for key, v in values.items()}, **{f"{key}_min": float(np.min(v)) for key, v in values.items()}}


def hide_video(hide_network, secret_path, cover_path, output, key=None, block_size=cipher.DEFAULT_BLOCK_SIZE, batch_size=8, max_frames=None,
               codec=None, force=False, copy_audio=True, measure=True):
    """Hides every frame of ``secret_path`` in the matching frame of ``cover_path``.

    Returns:
        dict with ``frames``, ``rows`` (per-frame cover PSNR/SSIM), ``ended`` (which input ran out
        first), ``seconds`` and the cover and secret sizes.
    """
    cover_info = videoio.probe(cover_path)
    secret_info = videoio.probe(secret_path)
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    rows = []
    start = time.perf_counter()
    pairs, state = _paired(videoio.read_frames(secret_path, max_frames), videoio.read_frames(cover_path, max_frames))
    with videoio.LosslessVideoWriter(output, cover_info.fps, codec=codec, force=force,
                                     audio_from=cover_path if copy_audio else None) as writer, \
            _progress("hiding", max_frames) as progress:
        for batch in videoio.batched(pairs, batch_size):
            first = len(rows)
            secrets = np.stack([resize_to(secret, cover_info.height, cover_info.width) for secret, _ in batch])
            covers = np.stack([cover for _, cover in batch])
            if scrambler is not None:
                secrets = np.stack([scrambler.scramble(frame, first + offset) for offset, frame in enumerate(secrets)])
            containers = inference.hide(hide_network, secrets, covers)
            for offset, (cover, container) in enumerate(zip(covers, containers)):
                writer.write(container)
                row = {"frame": first + offset}
                if measure:
                    row.update(cover_psnr=metrics.psnr(cover, container), cover_ssim=metrics.ssim(cover, container))
                rows.append(row)
            progress.update(len(batch))
    return {"frames": len(rows), "rows": rows, "ended": state["ended"], "seconds": time.perf_counter() - start,
            "cover": cover_info, "secret": secret_info}


def reveal_video(reveal_network, stego_path, output, key=None, block_size=cipher.DEFAULT_BLOCK_SIZE, batch_size=8, max_frames=None, codec=None,
                 force=False, original=None, key_check=True):
    """Reveals the secret of every frame of a lossless container video.

    Args:
        original: optional path of the original secret video, for per-frame secret PSNR/SSIM
            (resized to the container's size, as the sender did).
        key_check: refuse to write when the first frames still look scrambled (wrong/missing key).

    Raises:
        ValueError: for a lossy container, or a wrong or missing key (see ``key_check``).
    """
    info = videoio.probe(stego_path)
    if not info.lossless_rgb:
        raise ValueError(f"{stego_path} is stored as {info.codec} {info.pixel_format}, a lossy format: the hidden secret did not "
                         "survive; reveal from the lossless file video_hide.py wrote (FFV1 .mkv, x264rgb .mp4, HuffYUV .avi, PNG .mov)")
    scrambler = cipher.BlockScrambler(key, block_size) if key else None
    original_frames = videoio.read_frames(original, max_frames) if original is not None else None
    rows = []
    start = time.perf_counter()
    with videoio.LosslessVideoWriter(output, info.fps, codec=codec, force=force) as writer, \
            _progress("revealing", max_frames) as progress:
        for batch in videoio.batched(videoio.read_frames(stego_path, max_frames), batch_size):
            first = len(rows)
            revealed = inference.reveal(reveal_network, np.stack(batch))
            if first == 0 and key_check:
                cipher.check_unscrambled(revealed, scrambler, block_size)
            if scrambler is not None:
                revealed = np.stack([scrambler.unscramble(frame, first + offset) for offset, frame in enumerate(revealed)])
            for offset, frame in enumerate(revealed):
                writer.write(frame)
                row = {"frame": first + offset}
                reference = next(original_frames, None) if original_frames is not None else None
                if reference is not None:
                    reference = resize_to(reference, info.height, info.width)
                    row.update(secret_psnr=metrics.psnr(reference, frame), secret_ssim=metrics.ssim(reference, frame))
                rows.append(row)
            progress.update(len(batch))
    return {"frames": len(rows), "rows": rows, "seconds": time.perf_counter() - start, "stego": info}


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
            reference = next(originals, None) if originals is not None else None
            if reference is not None:
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
        stats = summary_of(rows, prefix)
        line += (f"; {prefix} PSNR mean {stats[f'{prefix}_psnr_mean']:.2f} dB (min {stats[f'{prefix}_psnr_min']:.2f}), "
                 f"SSIM mean {stats[f'{prefix}_ssim_mean']:.4f} (min {stats[f'{prefix}_ssim_min']:.4f})")
    return line
