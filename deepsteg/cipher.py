"""Block-shuffle scrambling of the secret with a shared key (scrambling, NOT encryption).

The secret image is cut into ``block_size`` x ``block_size`` blocks that are permuted before
hiding and put back after revealing. The permutation comes from the key through scrypt (a real,
memory-hard key-derivation function, RFC 7914), and a different permutation is derived for every
frame index with HMAC-SHA256, so identical frames do not scramble identically. Pixels in the
right and bottom strips that do not fill a whole block are permuted among themselves, so images of
any size are covered and the inverse is exact.

This hides the picture's layout from someone who extracts it without the key; it does not hide
colours, textures or block contents, and it is no substitute for encryption.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np

_SALT = b"deepsteg/block-shuffle/v1"
# scrypt cost (16 MiB, tens of milliseconds): slows key guessing, run once per key.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class BlockScrambler:
    """Key-derived, per-frame block permutation and its exact inverse.

    Args:
        key: the shared secret (a non-empty string).
        block_size: side of the square blocks in pixels (>= 1).

    Raises:
        ValueError: for an empty key or a block size below 1.
    """

    def __init__(self, key: str, block_size: int = 16):
        if not key:
            raise ValueError("the scrambling key must not be empty")
        if block_size < 1:
            raise ValueError(f"block size must be at least 1, got {block_size}")
        self.block_size = int(block_size)
        self._master = hashlib.scrypt(key.encode("utf-8"), salt=_SALT, maxmem=64 * 2**20, **_SCRYPT)
        self._cache: dict = {}

    def _generator(self, index: int, purpose: bytes) -> np.random.Generator:
        digest = hmac.new(self._master, purpose + index.to_bytes(8, "little", signed=False), hashlib.sha256).digest()
        return np.random.default_rng(np.frombuffer(digest, dtype=np.uint64))

    def _permutations(self, index: int, height: int, width: int):
        cache_key = (index, height, width)
        if cache_key not in self._cache:
            rows, columns = height // self.block_size, width // self.block_size
            blocks = self._generator(index, b"blocks").permutation(rows * columns)
            remainder_mask = np.ones((height, width), dtype=bool)
            remainder_mask[: rows * self.block_size, : columns * self.block_size] = False
            remainder = np.flatnonzero(remainder_mask)
            pixels = remainder[self._generator(index, b"pixels").permutation(remainder.size)]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[cache_key] = (blocks, remainder, pixels)
        return self._cache[cache_key]

    def _apply(self, image: np.ndarray, index: int, inverse: bool) -> np.ndarray:
        if image.ndim not in (2, 3):
            raise ValueError(f"scrambling takes an (H, W) or (H, W, C) image, got shape {image.shape}")
        if index < 0:
            raise ValueError(f"frame index must be >= 0, got {index}")
        height, width = image.shape[:2]
        size = self.block_size
        rows, columns = height // size, width // size
        blocks, remainder, pixels = self._permutations(int(index), height, width)
        output = image.copy()
        if rows and columns:
            grid = image[: rows * size, : columns * size]
            tiles = grid.reshape(rows, size, columns, size, *image.shape[2:]).swapaxes(1, 2).reshape(rows * columns, size, size, *image.shape[2:])
            shuffled = np.empty_like(tiles)
            if inverse:
                shuffled[blocks] = tiles
            else:
                shuffled = tiles[blocks]
            output[: rows * size, : columns * size] = shuffled.reshape(rows, columns, size, size, *image.shape[2:]).swapaxes(1, 2).reshape(grid.shape)
        if remainder.size:
            flat_in = image.reshape(height * width, *image.shape[2:])
            flat_out = output.reshape(height * width, *image.shape[2:])
            if inverse:
                flat_out[pixels] = flat_in[remainder]
            else:
                flat_out[remainder] = flat_in[pixels]
        return output

    def scramble(self, image: np.ndarray, index: int = 0) -> np.ndarray:
        """Returns the image with its blocks permuted for frame ``index``."""
        return self._apply(image, index, inverse=False)

    def unscramble(self, image: np.ndarray, index: int = 0) -> np.ndarray:
        """Exactly inverts :meth:`scramble` for the same key, block size and frame index."""
        return self._apply(image, index, inverse=True)


def blockiness(image: np.ndarray, block_size: int) -> float:
    """How much stronger edges are on the block grid than inside blocks (about 1 for a natural
    image, well above 1 for one still scrambled or unscrambled with the wrong key).

    Returns the ratio of the mean absolute luminance step across block boundaries to the mean
    step between other neighbouring pixels; 1.0 when the image has fewer than two blocks.
    """
    gray = np.asarray(image, dtype=np.float64)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    height, width = gray.shape
    size = block_size
    if size < 2 or (height // size) * (width // size) < 2:
        return 1.0
    horizontal = np.abs(np.diff(gray[:, : (width // size) * size], axis=1))
    vertical = np.abs(np.diff(gray[: (height // size) * size], axis=0))
    on_grid_h = (np.arange(horizontal.shape[1]) % size) == size - 1
    on_grid_v = (np.arange(vertical.shape[0]) % size) == size - 1
    boundary = np.concatenate([horizontal[:, on_grid_h].ravel(), vertical[on_grid_v].ravel()])
    inside = np.concatenate([horizontal[:, ~on_grid_h].ravel(), vertical[~on_grid_v].ravel()])
    if boundary.size == 0 or inside.size == 0:
        return 1.0
    return float(boundary.mean() / max(inside.mean(), 1e-6))


# Above this blockiness a picture shows a block grid (measured: natural photos and video frames
# 0.5-1.3; a scrambled photo 5-9; the output of a weak reveal network, unscrambled with the right
# key, up to about 4.5, since its errors differ from block to block).
SCRAMBLED_BLOCKINESS = 2.5
# With the right key the unscrambled secret is far less blocky than the same output unscrambled
# with an unrelated key (measured ratio 0.07-0.5); with a wrong key the two are alike (0.9-1.1).
WRONG_KEY_RATIO = 0.75


def _median_blockiness(images, block_size):
    return float(np.median([blockiness(image, block_size) for image in images]))


def check_unscrambled(revealed, key, block_size: int, indices=None) -> None:
    """Raises ``ValueError`` when revealed images show that the key is wrong or missing.

    Args:
        revealed: the reveal network's raw output (still scrambled if the sender used a key), one
            image (H, W, 3) or a sequence of them.
        key: the receiver's key, a :class:`BlockScrambler` already made from it (saves deriving
            it again), or None.
        block_size: the receiver's block size.
        indices: frame indices of ``revealed`` (default 0, 1, ...).

    Without a key: an error if the output shows a block grid (the sender used a key). With a key:
    an error if unscrambling with it leaves the picture about as blocky as unscrambling with an
    unrelated random key would. Pictures too flat to tell pass.
    """
    images = [revealed] if np.asarray(revealed).ndim == 3 else list(revealed)
    indices = list(range(len(images))) if indices is None else list(indices)
    if not key:
        if _median_blockiness(images, block_size) > SCRAMBLED_BLOCKINESS:
            raise ValueError("the revealed secret looks block-scrambled: the sender used --key; pass the same --key and --block-size "
                             "(or --skip-key-check to write it anyway)")
        return
    import secrets

    reference = BlockScrambler(secrets.token_hex(16), block_size)
    other = _median_blockiness([reference.unscramble(image, index) for image, index in zip(images, indices)], block_size)
    if other < SCRAMBLED_BLOCKINESS:
        return
    scrambler = key if isinstance(key, BlockScrambler) else BlockScrambler(key, block_size)
    right = _median_blockiness([scrambler.unscramble(image, index) for image, index in zip(images, indices)], block_size)
    if right > WRONG_KEY_RATIO * other:
        raise ValueError(f"the revealed secret still looks block-scrambled: wrong --key or --block-size (used {block_size}) "
                         "(pass --skip-key-check to write it anyway)")
