"""Enhancement of revealed secrets: non-local-means denoising, then an optional unsharp mask.

Denoising is OpenCV's non-local means (Buades et al. 2005), which works in CIELAB with separate
luminance and colour strengths: ``fastNlMeansDenoisingColored`` on a still image, and on a video
``fastNlMeansDenoisingColoredMulti`` over ``temporal_window`` consecutive frames (the reveal
network's error changes from frame to frame while the picture mostly does not, so neighbouring
frames find more matching patches). The unsharp mask adds back ``amount`` times the difference
between the image and its Gaussian blur, only where that difference exceeds ``threshold``.

The defaults were measured with ``benchmarks/enhance_sweep.py`` on what the shipped model
reveals from real videos and photos (README, "Enhancement"): a light temporal denoising (h = 1.5
over 5 frames) for videos, nothing for still images (every strength lowered the PSNR of the
revealed eval/ photos), and no sharpening (it lowered the PSNR in every case measured: the
revealed secret is noisy, not blurred).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np


@dataclasses.dataclass(frozen=True)
class EnhanceSettings:
    """Parameters of :func:`enhance`.

    Attributes:
        denoise_strength: NLM filter strength for luminance (``h``); 0 disables denoising.
        denoise_color_strength: NLM filter strength for colour (``hColor``).
        template_window: NLM template patch side (odd).
        search_window: NLM search window side (odd).
        temporal_window: videos: frames denoised together, centred on the frame (odd; 1 denoises
            each frame alone). Frames near either end use the widest centred window they have.
        sharpen_amount: unsharp-mask gain; 0 disables sharpening.
        sharpen_sigma: Gaussian blur sigma of the unsharp mask, in pixels.
        sharpen_threshold: smallest |image - blur| (0-255) that is sharpened.
    """

    denoise_strength: float = 1.5
    denoise_color_strength: float = 1.5
    template_window: int = 7
    search_window: int = 21
    temporal_window: int = 5
    sharpen_amount: float = 0.0
    sharpen_sigma: float = 1.0
    sharpen_threshold: float = 2.0

    def __post_init__(self):
        for name in ("denoise_strength", "denoise_color_strength", "sharpen_amount", "sharpen_threshold"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        for name in ("template_window", "search_window", "temporal_window"):
            value = getattr(self, name)
            if value < 1 or value % 2 == 0:
                raise ValueError(f"{name.replace('_', '-')} must be a positive odd number, got {value}")
        if self.sharpen_sigma <= 0:
            raise ValueError(f"sharpen-sigma must be positive, got {self.sharpen_sigma}")

    @property
    def denoises(self) -> bool:
        """Whether either non-local-means strength is positive."""
        return self.denoise_strength > 0 or self.denoise_color_strength > 0

    @property
    def changes_nothing(self) -> bool:
        """Whether these settings neither denoise nor sharpen (enhancement returns its input)."""
        return not self.denoises and self.sharpen_amount == 0


STILL_IMAGE_SETTINGS = EnhanceSettings(denoise_strength=0.0, denoise_color_strength=0.0)
"""Defaults for still images: no denoising, no sharpening (see the module docstring)."""


def denoise(image: np.ndarray, settings: EnhanceSettings) -> np.ndarray:
    """Non-local-means denoising of an RGB uint8 image on its own."""
    if not settings.denoises:
        return image
    return cv2.fastNlMeansDenoisingColored(image, None, settings.denoise_strength, settings.denoise_color_strength,
                                           settings.template_window, settings.search_window)


def _denoise_in_window(frames: list, index: int, settings: EnhanceSettings) -> np.ndarray:
    """Denoises ``frames[index]`` with the widest centred window of at most ``temporal_window`` frames."""
    half = min(settings.temporal_window // 2, index, len(frames) - 1 - index)
    if half == 0:
        return denoise(frames[index], settings)
    window = frames[index - half:index + half + 1]
    return cv2.fastNlMeansDenoisingColoredMulti(window, half, 2 * half + 1, None, settings.denoise_strength,
                                                settings.denoise_color_strength, settings.template_window,
                                                settings.search_window)


def unsharp_mask(image: np.ndarray, amount: float, sigma: float, threshold: float = 0.0) -> np.ndarray:
    """``image + amount * (image - gaussian_blur(image, sigma))`` where |image - blur| > threshold."""
    if amount == 0:
        return image
    original = image.astype(np.float32)
    blurred = cv2.GaussianBlur(original, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    detail = original - blurred
    if threshold > 0:
        detail = np.where(np.abs(detail) > threshold, detail, 0.0)
    return np.clip(np.rint(original + amount * detail), 0, 255).astype(np.uint8)


def _check_frame(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"enhance takes RGB uint8 images, got {image.dtype} {image.shape}")


def _sharpen(image: np.ndarray, settings: EnhanceSettings) -> np.ndarray:
    return unsharp_mask(image, settings.sharpen_amount, settings.sharpen_sigma, settings.sharpen_threshold)


def enhance(image: np.ndarray, settings: EnhanceSettings = STILL_IMAGE_SETTINGS) -> np.ndarray:
    """Denoises, then sharpens, one RGB uint8 image (no temporal window)."""
    _check_frame(image)
    return _sharpen(denoise(image, settings), settings)


def enhance_frames(frames, settings: EnhanceSettings = EnhanceSettings()):
    """Enhances a sequence of RGB uint8 frames, yielding each enhanced frame in order.

    Denoising uses up to ``settings.temporal_window`` frames centred on each frame; only that
    many frames are held in memory, so any length of video streams through.
    """
    half = settings.temporal_window // 2 if settings.denoises else 0
    held, first_index, next_index = [], 0, 0  # held[i] is frame first_index + i
    for frame in frames:
        _check_frame(frame)
        if held and frame.shape != held[0].shape:
            raise ValueError(f"frame {first_index + len(held)} is {frame.shape[1]}x{frame.shape[0]}, the first "
                             f"{held[0].shape[1]}x{held[0].shape[0]}")
        held.append(frame)
        while next_index + half < first_index + len(held):
            yield _sharpen(_denoise_in_window(held, next_index - first_index, settings), settings)
            next_index += 1
            drop = max(0, next_index - half - first_index)
            del held[:drop]
            first_index += drop
    while next_index < first_index + len(held):
        yield _sharpen(_denoise_in_window(held, next_index - first_index, settings), settings)
        next_index += 1


def enhance_image_file(input_path, output, settings: EnhanceSettings = STILL_IMAGE_SETTINGS, original=None, force: bool = False) -> list:
    """Enhances an image file into a lossless image file (``enhance.py`` and the web app).

    Args:
        original: optional original secret; the row then holds ``before_*`` and ``after_*``
            PSNR/SSIM against it (resized to the image's size).

    Returns:
        one row (a list, like :func:`deepsteg.videosteg.enhance_video`'s).
    """
    from deepsteg import imageio, metrics

    imageio.check_lossless_image_path(output)
    image = imageio.read_image(input_path)
    reference = None
    if original is not None:
        reference = imageio.resize_to(imageio.read_image(original), *image.shape[:2])
        metrics.check_ssim_size(*image.shape[:2], f"the image {input_path}")
    enhanced = enhance(image, settings)
    row = {"frame": 0}
    if reference is not None:
        row.update(metrics.quality(reference, image, "before"), **metrics.quality(reference, enhanced, "after"))
    imageio.write_image(output, enhanced, force=force)
    return [row]
