"""Block-shuffle scrambling of the secret with a shared key (scrambling, NOT encryption).

The secret image is cut into ``block_size`` x ``block_size`` blocks that are permuted before
hiding and put back after revealing. The permutation comes from the key through scrypt (a real,
memory-hard key-derivation function, RFC 7914), and a different permutation is derived for every
frame index with HMAC-SHA256, so identical frames do not scramble identically. The strips at the
right and bottom edges that do not fill a whole block are cut into smaller square tiles (as wide as
the strip) that are permuted among themselves, so images of any size are covered, the inverse is
exact, and no part of the secret becomes pixel noise (which the hide network carries badly).

This hides the picture's layout from someone who extracts it without the key; it does not hide
colours, textures or block contents, and it is no substitute for encryption.
"""

from __future__ import annotations

import hashlib
import functools
import hmac

import numpy as np

_SALT = b"deepsteg/block-shuffle/v1"
# scrypt cost (16 MiB, tens of milliseconds): slows key guessing, run once per key.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

# Default side of the scrambled blocks (``--block-size``). Every block edge is a sharp step the
# hide network must carry, so smaller blocks cost the revealed secret more: on the shipped model
# and the model card's eval/ photos 32 px costs 0.54 dB, 16 px 1.13 dB (checkpoints/README.md).
# Larger blocks hide less of the layout; sender and receiver must use the same size.
DEFAULT_BLOCK_SIZE = 32


def _tile_groups(height: int, width: int, block_size: int) -> list:
    """Cuts an image into groups of equal square tiles, ``(top, left, rows, columns, size)`` each.

    The first group is the grid of ``block_size`` blocks from the top-left corner. The strips left
    at the right and bottom edges are cut into tiles as wide as the strip is thick, and what those
    leave likewise, so every pixel is in exactly one tile. Tiles are permuted within their group.
    """
    groups = []

    def cover(top, left, height, width, size):
        if height <= 0 or width <= 0:
            return
        size = min(size, height, width)
        rows, columns = height // size, width // size
        groups.append((top, left, rows, columns, size))
        right, bottom = width - columns * size, height - rows * size
        cover(top, left + columns * size, rows * size, right, right)
        cover(top + rows * size, left, bottom, columns * size, bottom)
        cover(top + rows * size, left + columns * size, bottom, right, min(bottom, right))

    cover(0, 0, height, width, block_size)
    return groups


def _checked_block_size(block_size: int) -> int:
    if block_size < 1:
        raise ValueError(f"block size must be at least 1, got {block_size}")
    return int(block_size)


class BlockScrambler:
    """Key-derived, per-frame block permutation and its exact inverse.

    Args:
        key: the shared secret (a non-empty string).
        block_size: side of the square blocks in pixels (>= 1).

    Raises:
        ValueError: for an empty key or a block size below 1.
    """

    def __init__(self, key: str, block_size: int = DEFAULT_BLOCK_SIZE):
        if not key:
            raise ValueError("the scrambling key must not be empty")
        self.block_size = _checked_block_size(block_size)
        self._master = hashlib.scrypt(key.encode("utf-8"), salt=_SALT, maxmem=64 * 2**20, **_SCRYPT)
        self._cache: dict = {}

    def with_block_size(self, block_size: int) -> "BlockScrambler":
        """The same key with another block size (without deriving the key again)."""
        other = object.__new__(BlockScrambler)
        other.block_size, other._master, other._cache = _checked_block_size(block_size), self._master, {}
        return other

    def _generator(self, index: int, purpose: bytes) -> np.random.Generator:
        digest = hmac.new(self._master, purpose + index.to_bytes(8, "little", signed=False), hashlib.sha256).digest()
        return np.random.default_rng(np.frombuffer(digest, dtype=np.uint64))

    def _permutations(self, index: int, height: int, width: int):
        cache_key = (index, height, width)
        if cache_key not in self._cache:
            groups = _tile_groups(height, width, self.block_size)
            # The main grid's permutation is the one of the first format (b"blocks"), so images whose
            # sides are multiples of the block size scramble as they always did.
            permutations = [self._generator(index, b"blocks" if number == 0 else b"tiles" + number.to_bytes(2, "little"))
                            .permutation(rows * columns) for number, (_, _, rows, columns, _) in enumerate(groups)]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[cache_key] = list(zip(groups, permutations))
        return self._cache[cache_key]

    def _apply(self, image: np.ndarray, index: int, inverse: bool) -> np.ndarray:
        if image.ndim not in (2, 3):
            raise ValueError(f"scrambling takes an (H, W) or (H, W, C) image, got shape {image.shape}")
        if index < 0:
            raise ValueError(f"frame index must be >= 0, got {index}")
        height, width = image.shape[:2]
        channels = image.shape[2:]
        output = image.copy()
        for (top, left, rows, columns, size), permutation in self._permutations(int(index), height, width):
            region = image[top: top + rows * size, left: left + columns * size]
            tiles = region.reshape(rows, size, columns, size, *channels).swapaxes(1, 2).reshape(rows * columns, size, size, *channels)
            if inverse:
                shuffled = np.empty_like(tiles)
                shuffled[permutation] = tiles
            else:
                shuffled = tiles[permutation]
            output[top: top + rows * size, left: left + columns * size] = (
                shuffled.reshape(rows, columns, size, size, *channels).swapaxes(1, 2).reshape(region.shape))
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


# Block sizes tried when the receiver's does not fit, to say which one the sender used.
_LIKELY_BLOCK_SIZES = (8, 16, 24, 32, 48, 64)


def _median_blockiness(images, block_size):
    return float(np.median([blockiness(image, block_size) for image in images]))


def _unscrambled_blockiness(images, indices, scrambler):
    return _median_blockiness([scrambler.unscramble(image, index) for image, index in zip(images, indices)], scrambler.block_size)


@functools.lru_cache(maxsize=1)
def _reference_scrambler() -> "BlockScrambler":
    """The fixed unrelated key the wrong-key check compares with (derived once per process), so
    that the same input always gets the same answer."""
    return BlockScrambler("deepsteg reference key: not a user's key", DEFAULT_BLOCK_SIZE)


def _fits(images, indices, scrambler, reference) -> bool:
    """Whether unscrambling with ``scrambler`` looks right: clearly less blocky than unscrambling
    with ``reference``, an unrelated key, at the same block size (see :func:`check_unscrambled`)."""
    other = _unscrambled_blockiness(images, indices, reference.with_block_size(scrambler.block_size))
    if other < SCRAMBLED_BLOCKINESS:
        return True  # too flat to tell
    return _unscrambled_blockiness(images, indices, scrambler) <= WRONG_KEY_RATIO * other


def _clean_with(images, indices, candidate, reference, block_size) -> bool:
    """Whether unscrambling with ``candidate`` verifiably gives a clean picture: one that, with
    an unrelated key, would show a block grid, and with ``candidate`` shows none, neither on
    ``candidate``'s grid nor on the receiver's ``block_size`` grid."""
    other = _unscrambled_blockiness(images, indices, reference.with_block_size(candidate.block_size))
    if other < SCRAMBLED_BLOCKINESS:
        return False  # too flat to tell: no hint
    unscrambled = [candidate.unscramble(image, index) for image, index in zip(images, indices)]
    own = _median_blockiness(unscrambled, candidate.block_size)
    return (own <= WRONG_KEY_RATIO * other and own < SCRAMBLED_BLOCKINESS
            and _median_blockiness(unscrambled, block_size) < SCRAMBLED_BLOCKINESS)


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
    unrelated key would (a fixed one, so the answer is the same on every run); the message names
    another common block size only if unscrambling with it was checked to give a clean picture
    (no block grid left). Pictures too flat to tell pass.
    """
    images = [revealed] if np.asarray(revealed).ndim == 3 else list(revealed)
    indices = list(range(len(images))) if indices is None else list(indices)
    if not key:
        if _median_blockiness(images, block_size) > SCRAMBLED_BLOCKINESS:
            raise ValueError("the revealed secret looks block-scrambled: the sender used --key; pass the same --key and --block-size "
                             "(or --skip-checks to write it anyway)")
        return
    scrambler = key if isinstance(key, BlockScrambler) else BlockScrambler(key, block_size)
    scrambler = scrambler.with_block_size(block_size) if scrambler.block_size != block_size else scrambler
    reference = _reference_scrambler()
    if _fits(images, indices, scrambler, reference):
        return
    hint = ""
    for size in _LIKELY_BLOCK_SIZES:
        if size != block_size and _clean_with(images, indices, scrambler.with_block_size(size), reference, block_size):
            hint = f"; this key fits --block-size {size}"
            break
    raise ValueError(f"the revealed secret still looks block-scrambled: wrong --key or --block-size (used {block_size}{hint}) "
                     "(pass --skip-checks to write it anyway)")
