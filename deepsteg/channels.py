"""Lossy channels a container may pass through on its way to the receiver: JPEG, WebP, H.264 and
resizing, each applied to a uint8 RGB image in memory and decoded back to uint8 RGB.

The hide and reveal scripts refuse lossy containers (the secret does not survive them); these
functions measure how much is lost (``benchmarks/lossy_channels.py``).
"""

from __future__ import annotations

import io

import numpy as np

CHANNELS = ("jpeg95", "jpeg90", "jpeg75", "webp90", "h264-crf18", "h264-crf23", "x264rgb-crf18", "resize0.9")


def _through_pillow(image: np.ndarray, format_name: str, quality: int) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format_name, quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"))


def _through_h264(image: np.ndarray, crf: int, rgb: bool) -> np.ndarray:
    """One frame through libx264 (yuv420p, or libx264rgb in RGB), as a keyframe of a video."""
    import av

    height, width = image.shape[:2]
    if not rgb and (height % 2 or width % 2):
        raise ValueError(f"yuv420p H.264 needs even sides, got {width}x{height}")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as container:
        stream = container.add_stream("libx264rgb" if rgb else "libx264", rate=25)
        stream.width, stream.height = width, height
        stream.pix_fmt = "bgr24" if rgb else "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium"}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        for packet in stream.encode(frame.reformat(format=stream.pix_fmt)):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer, mode="r") as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb24")
    raise ValueError("the H.264 encoder returned no frame")


def _through_resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Resized by ``scale`` (area filter), then back to the original size (bicubic) for the receiver."""
    import cv2

    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def apply(channel: str, image: np.ndarray) -> np.ndarray:
    """``image`` (uint8 RGB) after passing through ``channel`` (one of :data:`CHANNELS`).

    Raises:
        ValueError: for an unknown channel or an image it cannot carry.
    """
    image = np.asarray(image, dtype=np.uint8)
    if channel.startswith("jpeg"):
        return _through_pillow(image, "JPEG", int(channel[4:]))
    if channel.startswith("webp"):
        return _through_pillow(image, "WEBP", int(channel[4:]))
    if channel.startswith("h264-crf"):
        return _through_h264(image, int(channel.removeprefix("h264-crf")), rgb=False)
    if channel.startswith("x264rgb-crf"):
        return _through_h264(image, int(channel.removeprefix("x264rgb-crf")), rgb=True)
    if channel.startswith("resize"):
        return _through_resize(image, float(channel[6:]))
    raise ValueError(f"unknown channel {channel!r}; choose from {', '.join(CHANNELS)}")
