"""Networks of Baluja's deep steganography (prep, hide, reveal) and their custom layers."""

from models.layers import QuantizeToLevels
from models.steganet import PRESETS, Preset, build_hide, build_prep, build_reveal, build_steg_model, get_preset, split_steg_model

__all__ = [
    "PRESETS", "Preset", "QuantizeToLevels", "build_hide", "build_prep", "build_reveal",
    "build_steg_model", "get_preset", "split_steg_model",
]
