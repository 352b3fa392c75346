"""Networks of Baluja's deep steganography (prep, hide, reveal) and their custom layers."""

from models.detector import DetectorPenalty, build_detector
from models.invertible import DenseBlock, InvertibleHiding
from models.layers import DepthToSpace, QuantizeToLevels, SpaceToDepth
from models.steganet import (PRESETS, Preset, build_hide, build_prep, build_reveal, build_steg_model, flops_per_pixel, get_preset,
                             model_fingerprint, size_multiple, split_steg_model, weights_fingerprint)

__all__ = [
    "PRESETS", "DenseBlock", "DetectorPenalty", "DepthToSpace", "InvertibleHiding", "Preset", "QuantizeToLevels", "SpaceToDepth", "build_detector", "build_hide", "build_prep",
    "build_reveal", "build_steg_model", "flops_per_pixel", "get_preset", "model_fingerprint", "size_multiple", "split_steg_model", "weights_fingerprint",
]
