"""Steganalysis: can an observer tell containers from ordinary photos?

Three detectors, as an adversary without the model would build them:

- ``srm``: co-occurrences of truncated high-pass residuals (a reduced spatial rich model with
  colour co-occurrences; Fridrich and Kodovsky, IEEE TIFS 2012; Goljan et al., WIFS 2014) and a
  logistic-regression classifier (scikit-learn);
- ``cnn``: :func:`models.detector.build_detector`, an XuNet-style CNN with fixed SRM filters in
  front, trained on cover/container pairs;
- ``chi2``: Westfeld and Pfitzmann's chi-square attack on pairs of values (1999), which needs no
  training and finds LSB replacement.

Scores are the probability of "container"; accuracy is at 0.5, with the AUC beside it.
"""

from __future__ import annotations

import time

import numpy as np

DETECTORS = ("srm", "cnn", "chi2")
TRUNCATION = 2  # residuals truncated to [-T, T] before the co-occurrences
QUANTISATION_STEPS = (1.0, 2.0)


def tiles(image: np.ndarray, size: int, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` non-overlapping ``size`` x ``size`` tiles of a grid centred on the image
    (none if it is smaller)."""
    height, width = image.shape[:2]
    rows, columns = height // size, width // size
    top, left = (height - rows * size) // 2, (width - columns * size) // 2
    found = [image[top + row * size:top + (row + 1) * size, left + column * size:left + (column + 1) * size]
             for row in range(rows) for column in range(columns)]
    return found[:limit]


def photo_tiles(paths, size: int, limit: int, count: int | None = None) -> np.ndarray:
    """Tiles (:func:`tiles`) of the photos ``paths`` in order, at most ``count`` in all (uint8, N x size x size x 3)."""
    from deepsteg.imageio import read_image

    found = []
    for path in paths:
        found.extend(tiles(read_image(path), size, limit))
        if count is not None and len(found) >= count:
            break
    if not found:
        raise ValueError(f"no photo is at least {size}x{size}")
    return np.stack(found[:count])


def _residual_codes(image: np.ndarray, kernel: np.ndarray, step: float) -> np.ndarray:
    """The image's residuals (H-4, W-4, 3) for ``kernel``, quantised by ``step`` and truncated,
    as integers 0 .. 2T."""
    import cv2

    residual = cv2.filter2D(image.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)[2:-2, 2:-2]
    return (np.clip(np.rint(residual / step), -TRUNCATION, TRUNCATION) + TRUNCATION).astype(np.int64)


def feature_count() -> int:
    """Length of :func:`rich_model_features` vectors."""
    from models.detector import srm_kernels

    return len(srm_kernels()) * len(QUANTISATION_STEPS) * 3 * (2 * TRUNCATION + 1) ** 3


def rich_model_features(image: np.ndarray) -> np.ndarray:
    """Co-occurrence features of one uint8 RGB image (:func:`feature_count` floats).

    For every SRM kernel and quantisation step: normalised histograms of horizontal and of
    vertical triples of neighbouring residuals (pooled over the channels), and of the
    (red, green, blue) residual triple at each pixel, which sees noise the channels share.
    """
    from models.detector import srm_kernels

    base = 2 * TRUNCATION + 1
    bins = base ** 3
    parts = []
    for kernel in srm_kernels().values():
        for step in QUANTISATION_STEPS:
            codes = _residual_codes(image, kernel, step)
            horizontal = codes[:, :-2] * base * base + codes[:, 1:-1] * base + codes[:, 2:]
            vertical = codes[:-2] * base * base + codes[1:-1] * base + codes[2:]
            colour = codes[..., 0] * base * base + codes[..., 1] * base + codes[..., 2]
            for triples in (horizontal, vertical, colour):
                histogram = np.bincount(triples.ravel(), minlength=bins).astype(np.float64)
                parts.append(histogram / histogram.sum())
    return np.concatenate(parts).astype(np.float32)


def chi_square_statistics(image: np.ndarray) -> np.ndarray:
    """Westfeld and Pfitzmann's chi-square statistic of the pairs of values (2k, 2k+1) in each
    colour channel, divided by its degrees of freedom: about 1 where LSB replacement with random
    bits has made each pair's counts equal, larger in natural images (and different again where
    the low bits carry another picture's high bits, as in LSB-4)."""
    values = []
    for channel in np.moveaxis(np.asarray(image, dtype=np.uint8), -1, 0):
        histogram = np.bincount(channel.ravel(), minlength=256).astype(np.float64)
        even, odd = histogram[0::2], histogram[1::2]
        expected = (even + odd) / 2
        kept = expected > 4
        statistic = (((even - expected) ** 2)[kept] / expected[kept]).sum() if kept.sum() > 1 else 0.0
        values.append(statistic / max(1, kept.sum() - 1))
    return np.array(values)


def scores_summary(cover_scores: np.ndarray, container_scores: np.ndarray) -> dict:
    """Accuracy (threshold 0.5), AUC and the ROC curve of detector scores on covers (label 0)
    and containers (label 1)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.r_[np.zeros(len(cover_scores)), np.ones(len(container_scores))]
    scores = np.r_[cover_scores, container_scores].astype(np.float64)
    false_positive, true_positive, _ = roc_curve(labels, scores)
    return {"accuracy": float(((scores >= 0.5) == labels.astype(bool)).mean()), "auc": float(roc_auc_score(labels, scores)),
            "roc": [[round(float(a), 4), round(float(b), 4)] for a, b in zip(false_positive, true_positive)],
            "pairs": len(cover_scores)}


def _logistic_regression(seed: int, regularisations=(1e-4, 1e-3, 1e-2, 1e-1, 1.0)):
    """Standardised features into L2-regularised logistic regression, its strength chosen by 3-fold CV."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, random_state=seed))
    return GridSearchCV(pipeline, {"logisticregression__C": list(regularisations)}, cv=3)


class _FeatureDetector:
    """A detector made of per-image features and :func:`_logistic_regression`."""

    def fit(self, covers: np.ndarray, containers: np.ndarray, seed: int = 0) -> "_FeatureDetector":
        features = self.features(np.concatenate([covers, containers]))
        labels = np.r_[np.zeros(len(covers)), np.ones(len(containers))]
        self.classifier = _logistic_regression(seed).fit(features, labels)
        return self

    def scores(self, images: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(self.features(images))[:, 1]


class RichModelDetector(_FeatureDetector):
    """SRM co-occurrence features (:func:`rich_model_features`) with logistic regression."""

    name = "srm"

    @staticmethod
    def features(images: np.ndarray) -> np.ndarray:
        return np.stack([rich_model_features(image) for image in images])


class ChiSquareDetector(_FeatureDetector):
    """The chi-square attack (:func:`chi_square_statistics`, log-scaled, per channel) with a
    threshold learned from the training pairs."""

    name = "chi2"

    @staticmethod
    def features(images: np.ndarray) -> np.ndarray:
        return np.log1p(np.stack([chi_square_statistics(image) for image in images]))


def pair_batches(covers: np.ndarray, containers: np.ndarray, pairs_per_batch: int, rng: np.random.Generator):
    """One epoch of training batches that hold each cover with its own container (the pair
    constraint that makes weak signals learnable), flipped and rotated alike; float32 in [0, 1]."""
    order = rng.permutation(len(covers))
    for start in range(0, len(order) - pairs_per_batch + 1, pairs_per_batch):
        chosen = order[start:start + pairs_per_batch]
        images, labels = [], []
        for index in chosen:
            turns, flip = rng.integers(4), rng.integers(2)
            for image, label in ((covers[index], 0.0), (containers[index], 1.0)):
                image = np.rot90(image, turns)
                images.append(image[:, ::-1] if flip else image)
                labels.append(label)
        yield np.stack(images).astype(np.float32) / 255.0, np.array(labels, np.float32)[:, None]


class CnnDetector:
    """:func:`models.detector.build_detector` trained with Adam on cover/container pairs for a
    fixed wall-clock budget (whole epochs; at least one)."""

    name = "cnn"

    def __init__(self, minutes: float = 6.0, width: int = 8, pairs_per_batch: int = 8, learning_rate: float = 1e-3):
        self.minutes, self.width, self.pairs_per_batch, self.learning_rate = minutes, width, pairs_per_batch, learning_rate
        self.epochs = 0

    def fit(self, covers: np.ndarray, containers: np.ndarray, seed: int = 0) -> "CnnDetector":
        import keras

        from models.detector import build_detector

        keras.utils.set_random_seed(seed)
        self.model = build_detector(self.width)
        self.model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        rng = np.random.default_rng(seed)
        deadline = time.perf_counter() + self.minutes * 60
        while self.epochs == 0 or time.perf_counter() < deadline:
            for images, labels in pair_batches(covers, containers, min(self.pairs_per_batch, len(covers)), rng):
                self.model.train_on_batch(images, labels)
            self.epochs += 1
        return self

    def scores(self, images: np.ndarray, batch_size: int = 16) -> np.ndarray:
        outputs = [np.asarray(self.model.predict_on_batch(images[start:start + batch_size].astype(np.float32) / 255.0))
                   for start in range(0, len(images), batch_size)]
        return np.concatenate(outputs)[:, 0].astype(np.float64)


def make_detector(name: str, cnn_minutes: float = 6.0):
    """A fresh detector by name (:data:`DETECTORS`)."""
    if name == "srm":
        return RichModelDetector()
    if name == "cnn":
        return CnnDetector(cnn_minutes)
    if name == "chi2":
        return ChiSquareDetector()
    raise ValueError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")


def keys_for(count: int, keyed_share: float, seed: int) -> list[str | None]:
    """A key for every other pair (``keyed_share`` of them, at random), each one different."""
    rng = np.random.default_rng(seed)
    return [f"k{seed}-{index}-{rng.integers(1 << 62)}" if rng.random() < keyed_share else None for index in range(count)]


def hide_all(hide_network, secrets: np.ndarray, covers: np.ndarray, keys, block_size: int, batch_size: int = 8,
             progress=None) -> np.ndarray:
    """Containers of every (secret, cover) pair, each secret scrambled with its key (if any)."""
    from deepsteg import cipher, inference

    prepared = np.stack([cipher.BlockScrambler(key, block_size).scramble(secret) if key else secret for secret, key in zip(secrets, keys)])
    out = []
    for start in range(0, len(covers), batch_size):
        out.append(inference.hide(hide_network, prepared[start:start + batch_size], covers[start:start + batch_size]))
        if progress is not None:
            progress.update(len(out[-1]))
    return np.concatenate(out)

