"""The record a container carries: which model made it, how, and a digest of every frame.

``image_hide.py`` and ``video_hide.py`` write it into the container's metadata (a PNG text chunk;
a Matroska/MP4/QuickTime tag, or the AVI comment) as one line of JSON::

    {"format": "deepsteg-container", "version": 1, "model": "3f2a...", "block_size": 32,
     "keyed": true, "width": 451, "height": 300, "frames": 120, "digests": "9c1e...": ...}

``model`` is the fingerprint of the hide network (:func:`models.model_fingerprint`), ``keyed``
whether a key scrambled the secret (the key itself is never stored), ``width`` and ``height`` the
size of the secret the receiver gets back (containers have even sides, see
:func:`deepsteg.inference.container_size`), and ``digests`` 16 hexadecimal digits per frame, a
BLAKE2b digest of each frame exactly as written. The reveal scripts check the decoded frames
against the digests (any re-encoding or edit of the pixels is found, and the first frame that
differs named) and the fingerprint against their reveal network, before they write anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

FORMAT = "deepsteg-container"
VERSION = 1
DIGEST_DIGITS = 16
# Metadata keys the record is written under (video tags) and looked for, in that order.
VIDEO_TAG = "DEEPSTEG"
VIDEO_TAG_FALLBACK = "comment"  # the AVI muxer keeps only the standard RIFF INFO keys
READ_TAGS = (VIDEO_TAG, VIDEO_TAG.lower(), VIDEO_TAG_FALLBACK, VIDEO_TAG_FALLBACK.upper())
SKIP_HINT = "pass --skip-checks to reveal anyway"


def frame_digest(frame: np.ndarray) -> str:
    """16 hexadecimal digits identifying an RGB uint8 frame's exact pixels (and its size)."""
    frame = np.ascontiguousarray(frame)
    digest = hashlib.blake2b(str(frame.shape).encode(), digest_size=DIGEST_DIGITS // 2)
    digest.update(frame.tobytes())
    return digest.hexdigest()


@dataclasses.dataclass
class Record:
    """What a container says about itself (see the module docstring).

    Attributes:
        model: fingerprint of the hide network, or None if it could not be told.
        block_size: block size of the scrambling (meaningful when ``keyed``).
        keyed: whether the secret was scrambled with a key.
        width, height: size of the hidden secret, which may be smaller than the container.
        digests: one :func:`frame_digest` per frame written.
    """

    model: str | None
    block_size: int
    keyed: bool
    width: int
    height: int
    digests: list = dataclasses.field(default_factory=list)
    version: int = VERSION

    @property
    def frames(self) -> int:
        return len(self.digests)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": self.version, "model": self.model, "block_size": self.block_size,
                           "keyed": self.keyed, "width": self.width, "height": self.height, "frames": self.frames,
                           "digests": "".join(self.digests)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> "Record | None":
        """The record in ``text``, or None if ``text`` is not one (another program's comment).

        Raises:
            ValueError: for a record of this format that is damaged or of a newer version.
        """
        if not text:
            return None
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        try:
            version = int(data["version"])
            if version > VERSION:
                raise ValueError(f"the container's record is of version {version}, newer than this program's ({VERSION}); "
                                 f"update it, or {SKIP_HINT}")
            digests = str(data["digests"])
            if len(digests) % DIGEST_DIGITS or len(digests) // DIGEST_DIGITS != int(data["frames"]):
                raise KeyError("digests")
            model = data.get("model")
            return cls(model=str(model) if model else None, block_size=int(data["block_size"]), keyed=bool(data["keyed"]),
                       width=int(data["width"]), height=int(data["height"]), version=version,
                       digests=[digests[start:start + DIGEST_DIGITS] for start in range(0, len(digests), DIGEST_DIGITS)])
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ValueError) and "version" in str(error):
                raise
            raise ValueError(f"the container's record is damaged ({type(error).__name__}); {SKIP_HINT}") from None


def check_reveal_settings(record: Record | None, fingerprint: str | None, key, block_size: int | None,
                          default_block_size: int) -> int:
    """Checks a reveal's model, key and block size against the container's record.

    Args:
        record: the container's record, or None for a container without one.
        fingerprint: :func:`models.model_fingerprint` of the reveal network.
        key: the receiver's key (None or empty: none).
        block_size: the receiver's ``--block-size``, or None when not given.
        default_block_size: what to use when neither the receiver nor a record says.

    Returns:
        the block size to unscramble with (the record's when the receiver gave none).

    Raises:
        ValueError: a container made with another model, with a key when none is given (or
            without one when one is), or with another block size than the one given.
    """
    if record is None:
        return block_size or default_block_size
    if record.model and fingerprint and record.model != fingerprint:
        raise ValueError(f"made with another model: the container's record names model {record.model}, this reveal network "
                         f"is {fingerprint}; reveal with the network that matches the hide network used ({SKIP_HINT})")
    if record.keyed and not key:
        raise ValueError("the container was made with a key: pass the same --key")
    if not record.keyed and key:
        raise ValueError("the container was made without a key: leave out --key")
    if record.keyed and block_size is not None and block_size != record.block_size:
        raise ValueError(f"the container was made with --block-size {record.block_size}, not {block_size}; "
                         f"leave out --block-size to use the container's")
    return record.block_size if record.keyed else (block_size or default_block_size)


class FrameChecker:
    """Compares decoded container frames, in order, with the digests of a record.

    Args:
        record: the container's record (None: nothing to check).
        name: the container's file name, for messages.
    """

    def __init__(self, record: Record | None, name: str):
        self.record, self.name, self.count = record, name, 0

    def check(self, frame: np.ndarray) -> None:
        """Raises ``ValueError`` if ``frame`` is not the next frame the record describes."""
        if self.record is None:
            return
        index = self.count
        if index >= self.record.frames:
            raise ValueError(f"{self.name} has more frames than the {self.record.frames} its record lists: it was edited after "
                             f"it was written ({SKIP_HINT})")
        if frame_digest(frame) != self.record.digests[index]:
            raise ValueError(f"{self.name} was changed after it was written (re-encoded or edited): frame {index} is not what "
                             f"was hidden, and lossy compression destroys the secret; use the file the hide script wrote "
                             f"({SKIP_HINT})")
        self.count += 1

    def finish(self, limit: int | None = None) -> None:
        """Raises ``ValueError`` if fewer frames were checked than the record lists (up to ``limit``)."""
        if self.record is None:
            return
        expected = self.record.frames if limit is None else min(limit, self.record.frames)
        if self.count < expected:
            raise ValueError(f"{self.name} has {self.count} frames, its record lists {self.record.frames}: it was cut after it "
                             f"was written ({SKIP_HINT})")
