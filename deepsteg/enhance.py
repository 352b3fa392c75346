"""Enhancement of revealed secrets: non-local-means denoising, then a real unsharp mask.

Denoising is OpenCV's ``fastNlMeansDenoisingColored`` (Buades et al. 2005), which works in CIELAB
with separate luminance and colour strengths. The unsharp mask adds back ``amount`` times the
difference between the image and its Gaussian blur, only where that difference exceeds
``threshold`` (so flat, noisy areas are not sharpened).
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
        sharpen_amount: unsharp-mask gain; 0 disables sharpening.
        sharpen_sigma: Gaussian blur sigma of the unsharp mask, in pixels.
        sharpen_threshold: smallest |image - blur| (0-255) that is sharpened.
    """

    denoise_strength: float = 5.0
    denoise_color_strength: float = 5.0
    template_window: int = 7
    search_window: int = 21
    sharpen_amount: float = 0.6
    sharpen_sigma: float = 1.0
    sharpen_threshold: float = 2.0

    def __post_init__(self):
        for name in ("denoise_strength", "denoise_color_strength", "sharpen_amount", "sharpen_threshold"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        for name in ("template_window", "search_window"):
            value = getattr(self, name)
            if value < 1 or value % 2 == 0:
                raise ValueError(f"{name.replace('_', '-')} must be a positive odd number, got {value}")
        if self.sharpen_sigma <= 0:
            raise ValueError(f"sharpen-sigma must be positive, got {self.sharpen_sigma}")


def denoise(image: np.ndarray, settings: EnhanceSettings) -> np.ndarray:
    """Non-local-means denoising of an RGB uint8 image."""
    if settings.denoise_strength == 0 and settings.denoise_color_strength == 0:
        return image
    return cv2.fastNlMeansDenoisingColored(image, None, settings.denoise_strength, settings.denoise_color_strength,
                                           settings.template_window, settings.search_window)


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


def enhance(image: np.ndarray, settings: EnhanceSettings = EnhanceSettings()) -> np.ndarray:
    """Denoises, then sharpens, an RGB uint8 image."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"enhance takes an RGB uint8 image, got {image.dtype} {image.shape}")
    return unsharp_mask(denoise(image, settings), settings.sharpen_amount, settings.sharpen_sigma, settings.sharpen_threshold)
