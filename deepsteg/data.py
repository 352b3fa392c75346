"""Training data: pairs of a random secret and a different random cover, from image folders."""

from __future__ import annotations

import cv2
import keras
import numpy as np

from deepsteg.cipher import DEFAULT_BLOCK_SIZE, BlockScrambler
from deepsteg.imageio import list_images, read_image


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``size`` x ``size`` crop; images smaller than that are first scaled up."""
    height, width = image.shape[:2]
    if min(height, width) < size:
        scale = size / min(height, width)
        image = cv2.resize(image, (max(size, round(width * scale)), max(size, round(height * scale))), interpolation=cv2.INTER_CUBIC)
        height, width = image.shape[:2]
    top = int(rng.integers(0, height - size + 1))
    left = int(rng.integers(0, width - size + 1))
    return image[top : top + size, left : left + size]


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size`` x ``size`` crop (scaled up first if needed)."""
    height, width = image.shape[:2]
    if min(height, width) < size:
        scale = size / min(height, width)
        image = cv2.resize(image, (max(size, round(width * scale)), max(size, round(height * scale))), interpolation=cv2.INTER_CUBIC)
        height, width = image.shape[:2]
    top, left = (height - size) // 2, (width - size) // 2
    return image[top : top + size, left : left + size]


class PairDataset(keras.utils.PyDataset):
    """Two-input, two-output batches for the joint model: ``((secret, cover), (cover, secret))``.

    Each item pairs a random secret with a random *different* cover image. In training mode crops
    are random and flipped; in validation mode (``augment=False``) pairs and centre crops are fixed
    by ``seed``, so every validation pass sees the same data. Values are float32 in [0, 1].

    Args:
        folders: image folder or list of folders (searched recursively).
        image_size: side of the square crops.
        batch_size: pairs per batch.
        steps: batches per epoch.
        augment: random crops and flips (training) or fixed centre crops (validation).
        seed: random seed.
        scrambler: optional callable ``(image, index) -> image`` applied to secrets (block shuffle).
        cache: keep every decoded photo in memory after its first use (about 0.5 GB for
            ``../shared/data/images/train``), so that a fast accelerator is not kept waiting on
            JPEG decoding; batches are the same either way.
        shard: ``(index, count)``: this process's share of a run over ``count`` processes
            (:mod:`deepsteg.distribute`): ``batch_size`` is then the global batch, and this
            dataset gives its own ``batch_size / count`` pairs of each step, drawn from a stream
            of its own. ``(0, 1)``: the whole batch.
        **kwargs: forwarded to ``keras.utils.PyDataset`` (workers, use_multiprocessing).
    """

    def __init__(self, folders, image_size=64, batch_size=8, steps=100, augment=True, seed=0, scrambler=None, cache=False,
                 shard=(0, 1), **kwargs):
        super().__init__(**kwargs)
        shard_index, shard_count = shard
        if shard_count < 1 or not 0 <= shard_index < shard_count or batch_size % shard_count:
            raise ValueError(f"shard {shard_index} of {shard_count} does not split a batch of {batch_size}")
        self.shard = (int(shard_index), int(shard_count))
        self.files = list_images(folders)
        if len(self.files) < 2:
            raise ValueError("need at least two images to make secret/cover pairs")
        if image_size < 8 or batch_size < 1 or steps < 1:
            raise ValueError("image_size must be >= 8, batch_size and steps >= 1")
        self.image_size, self.batch_size, self.steps = image_size, batch_size // shard_count, steps
        self.augment, self.seed, self.scrambler = augment, seed, scrambler
        self.epoch = 0
        self.cache = {} if cache else None

    def __len__(self):
        return self.steps

    def on_epoch_end(self):
        self.epoch += 1

    def start_at_epoch(self, epoch: int) -> None:
        """Makes the next epoch's batches those of epoch ``epoch`` (0-based) of an uninterrupted run.

        Batches are drawn from ``(seed, epoch, index)``, so a resumed run that calls this goes on
        with new crops and pairs instead of replaying the ones of its first epochs.
        """
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def _read(self, index):
        if self.cache is None:
            return read_image(self.files[index])
        image = self.cache.get(index)
        if image is None:  # worker threads may both decode a photo once; either copy is the same
            image = self.cache[index] = read_image(self.files[index])
        return image

    def _load(self, index, rng):
        image = self._read(index)
        if not self.augment:
            return center_crop(image, self.image_size)
        image = random_crop(image, self.image_size, rng)
        if rng.random() < 0.5:
            image = image[:, ::-1]
        return image

    def __getitem__(self, index):
        if index >= self.steps:
            raise IndexError(index)
        epoch = self.epoch if self.augment else 0
        stream = [self.seed, epoch, index] + ([self.shard[0]] if self.shard[1] > 1 else [])
        rng = np.random.default_rng(stream)
        count = len(self.files)
        secrets, covers = [], []
        for item in range(self.batch_size):
            secret_index = int(rng.integers(count))
            cover_index = (secret_index + 1 + int(rng.integers(count - 1))) % count
            secret = self._load(secret_index, rng)
            if self.scrambler is not None:
                secret = self.scrambler(secret, int(rng.integers(2**31)))
            secrets.append(secret)
            covers.append(self._load(cover_index, rng))
        secrets = np.stack(secrets).astype(np.float32) / 255.0
        covers = np.stack(covers).astype(np.float32) / 255.0
        return (secrets, covers), (covers, secrets)


class RandomScrambling:
    """Block-scrambles a random fraction of training secrets, as ``video_hide.py --key`` would.

    A model trained only on natural secrets loses quality on scrambled ones (block edges are
    high-frequency content it never learnt to carry): 2 dB for the first ``unshuffled`` model.
    Pass an instance as :class:`PairDataset`'s ``scrambler``; it holds a few keys (made once,
    since deriving one runs scrypt) and the frame index varies, so the model sees the block
    permutations of many keys. The keys come from ``seed``, and which secret is scrambled how from
    the index the dataset passes (itself drawn from the dataset's seed, epoch and batch), so a run
    and its resumption see the same scrambled secrets.

    Args:
        fraction: share of secrets to scramble, in [0, 1].
        block_size: the block size of the scrambling (``--block-size`` of the scripts).
        keys: how many keys to draw from.
        seed: the run's random seed, from which the keys are derived.
    """

    def __init__(self, fraction: float, block_size: int = DEFAULT_BLOCK_SIZE, keys: int = 4, seed: int = 0):
        if not 0 <= fraction <= 1:
            raise ValueError(f"the scrambled fraction must be in [0, 1], got {fraction}")
        self.fraction = fraction
        self.scramblers = ([BlockScrambler(f"training key {seed}/{number}", block_size) for number in range(keys)]
                           if fraction > 0 else [])

    def __call__(self, image: np.ndarray, index: int) -> np.ndarray:
        rng = np.random.default_rng(index)
        if not self.scramblers or rng.random() >= self.fraction:
            return image
        return self.scramblers[int(rng.integers(len(self.scramblers)))].scramble(image, int(rng.integers(2**31)))
