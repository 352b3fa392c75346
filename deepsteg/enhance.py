"""Enhancement of revealed secrets: non-local-means denoising, then an optional unsharp mask.

Denoising is OpenCV's non-local means (Buades et al. 2005), which works in CIELAB with separate
luminance and colour strengths: ``fastNlMeansDenoisingColored`` on a still image, and on a video
``fastNlMeansDenoisingColoredMulti`` over ``temporal_window`` consecutive frames (the reveal
network's error changes from frame to frame while the picture mostly does not, so neighbouring
frames find more matching patches). The unsharp mask adds back ``amount`` times the difference
between the image and its Gaussian blur, only where that difference exceeds ``threshold``.

The defaults were measured with ``benchmarks/enhance_sweep.py`` on what the shipped models
reveal from real videos and photos (``docs/experiments.md``): videos get a temporal denoising
over 5 frames whose strength follows the frames' own white-noise estimate
(:func:`white_noise_estimate`, :func:`strength_for_noise`); still images nothing (every strength
lowered the PSNR of the revealed eval/ photos); no sharpening (it lowered the PSNR in every case
measured: the revealed secret is noisy, not blurred). A fixed strength (h = 1.5) gained up to
1 dB on some real reveals and lost up to 0.8 dB on others: their error is mostly of low and
middle frequencies, which non-local means cannot tell from the picture, so the strength rises
only with the white, pixel-to-pixel noise it can remove (none in what the shipped models reveal
from lossless containers).
"""

from __future__ import annotations

import dataclasses
import itertools

import cv2
import numpy as np

NOISE_SAMPLE_FRAMES = 8
"""Frames (from the first) whose white-noise estimate sets an adaptive strength."""
NOISE_POINTS = (1.5, 2.0, 4.0, 8.0)
STRENGTH_POINTS = (0.0, 1.0, 2.25, 4.5)
""":func:`strength_for_noise` interpolates between these (white-noise standard deviation on
0-255, NLM ``h``; constant beyond the ends): near the best strengths measured on clips and on a
revealed secret with white noise of standard deviation 2, 4 and 8 added (1-1.5, 1.5-2.25, 4-6),
and none below 1.5, where a clean, detailed clip with noise 2 lost PSNR at every strength (what
the shipped models reveal from lossless containers measures 0-0.5)."""


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
        adaptive: choose both denoising strengths from the frames' white-noise estimate
            (:func:`adapted`); the two strengths given are then not used.
    """

    denoise_strength: float = 1.5
    denoise_color_strength: float = 1.5
    template_window: int = 7
    search_window: int = 21
    temporal_window: int = 5
    sharpen_amount: float = 0.0
    sharpen_sigma: float = 1.0
    sharpen_threshold: float = 2.0
    adaptive: bool = False

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
        """Whether these settings may denoise (adaptive ones do when the frames are noisy)."""
        return self.adaptive or self.denoise_strength > 0 or self.denoise_color_strength > 0

    def for_noise(self, noise: float) -> "EnhanceSettings":
        """These settings, no longer adaptive, with both denoising strengths
        :func:`strength_for_noise` gives for white noise of this standard deviation (0-255)."""
        strength = strength_for_noise(noise)
        return dataclasses.replace(self, denoise_strength=strength, denoise_color_strength=strength, adaptive=False)

    @property
    def changes_nothing(self) -> bool:
        """Whether these settings neither denoise nor sharpen (enhancement returns its input)."""
        return not self.denoises and self.sharpen_amount == 0


VIDEO_SETTINGS = EnhanceSettings(adaptive=True)
"""Defaults for videos: temporal denoising over 5 frames at the strength the frames' noise calls for."""
STILL_IMAGE_SETTINGS = EnhanceSettings(denoise_strength=0.0, denoise_color_strength=0.0)
"""Defaults for still images: no denoising, no sharpening (see the module docstring)."""


def white_noise_estimate(frames) -> float:
    """Standard deviation (0-255) of the white, pixel-to-pixel noise in RGB uint8 frames.

    ``skimage.restoration.estimate_sigma`` (the median absolute deviation of the finest wavelet
    coefficients, Donoho and Johnstone 1994) sees fine detail as well as noise. Averaging 2x2
    blocks halves white noise but leaves most detail, so with ``n`` the noise and ``d`` the
    detail, ``full**2 = n**2 + d**2`` and ``half**2 = n**2 / 4 + d**2``: the noise is
    ``sqrt((full**2 - half**2) / 0.75)``, and 0 where the half-size estimate is the larger.
    The mean over the frames is returned.
    """
    from skimage.restoration import estimate_sigma

    estimates = []
    for frame in frames:
        _check_frame(frame)
        height, width = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
        if height < 4 or width < 4:
            raise ValueError(f"a {frame.shape[1]}x{frame.shape[0]} frame is too small for a noise estimate")
        half = cv2.resize(frame[:height, :width], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        full_sigma = estimate_sigma(frame, channel_axis=-1, average_sigmas=True)
        half_sigma = estimate_sigma(half, channel_axis=-1, average_sigmas=True)
        estimates.append(np.sqrt(max(full_sigma ** 2 - half_sigma ** 2, 0.0) / 0.75))
    if not estimates:
        raise ValueError("no frames to estimate the noise of")
    return float(np.mean(estimates))


def strength_for_noise(noise: float) -> float:
    """The NLM strength ``h`` for frames whose white noise has this standard deviation (0-255)."""
    return float(np.interp(noise, NOISE_POINTS, STRENGTH_POINTS))


def adapted(settings: EnhanceSettings, frames) -> EnhanceSettings:
    """``settings`` with the denoising strengths chosen for ``frames`` (their first
    :data:`NOISE_SAMPLE_FRAMES`) when they are adaptive; otherwise ``settings`` unchanged."""
    if not settings.adaptive:
        return settings
    return settings.for_noise(white_noise_estimate(itertools.islice(frames, NOISE_SAMPLE_FRAMES)))


def denoise(image: np.ndarray, settings: EnhanceSettings) -> np.ndarray:
    """Non-local-means denoising of an RGB uint8 image on its own."""
    settings = adapted(settings, [image])
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


def enhance_frames(frames, settings: EnhanceSettings = VIDEO_SETTINGS):
    """Enhances a sequence of RGB uint8 frames, yielding each enhanced frame in order.

    Denoising uses up to ``settings.temporal_window`` frames centred on each frame; only that
    many frames are held in memory (and, for adaptive settings, the first
    :data:`NOISE_SAMPLE_FRAMES`, which choose the strength), so any length of video streams through.
    """
    if settings.adaptive:
        frames = iter(frames)
        sample = list(itertools.islice(frames, NOISE_SAMPLE_FRAMES))
        if not sample:
            return
        settings = adapted(settings, sample)
        frames = itertools.chain(sample, frames)
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
