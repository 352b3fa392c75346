"""Video reading and lossless writing with PyAV (FFmpeg), streamed frame by frame.

Frames are RGB uint8 arrays (H, W, 3). Writers use only codecs that store 8-bit RGB exactly and
prove it before the temporary file is renamed into place: every encoded packet is decoded as it is
written and compared with the frame's digest, and the finished file is read back and its packets
compared with those (or, for MP4, whose muxer rewrites H.264 packets, every frame decoded from the
file again). Frame counts are always counted by decoding, never taken from headers.
"""

from __future__ import annotations

import dataclasses
import fractions
import hashlib
import pathlib
import re

import av
import numpy as np

from deepsteg import record as records
from deepsteg.files import CommitOnExit, check_output_path, place, sync_file, temporary_sibling

# Codec per output extension: (encoder, pixel format, options). All store 8-bit RGB bit-exactly.
LOSSLESS_CODECS = {
    "ffv1": ("ffv1", "bgr0", {"level": "3", "g": "1"}),
    "x264rgb": ("libx264rgb", "rgb24", {"qp": "0", "preset": "veryfast"}),
    "huffyuv": ("huffyuv", "rgb24", {}),
    "png": ("png", "rgb24", {}),
}
CODEC_FOR_EXTENSION = {".mkv": "ffv1", ".avi": "huffyuv", ".mp4": "x264rgb", ".mov": "png"}
# Codecs whose packets the muxers store unchanged: their files are checked packet by packet against
# the packets decoded while writing. The others (H.264 in MP4 is rewritten from Annex B to AVCC)
# are checked by decoding the finished file again.
PACKETS_STORED_VERBATIM = ("ffv1", "huffyuv", "png")
# Decoders and pixel formats that can hold a container exactly (RGB, no chroma subsampling).
LOSSLESS_DECODERS = {"ffv1", "huffyuv", "ffvhuff", "png", "rawvideo", "utvideo", "magicyuv", "h264", "qtrle", "zlib", "apng"}
RGB_PIXEL_FORMATS = ("rgb", "bgr", "gbr", "0rgb", "0bgr", "argb", "abgr", "rgba", "bgra", "pal8")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m")


@dataclasses.dataclass
class VideoInfo:
    """What the first video stream of a file says about itself (frame count is not trusted)."""

    path: pathlib.Path
    width: int
    height: int
    fps: fractions.Fraction
    codec: str
    pixel_format: str
    has_audio: bool
    tags: dict = dataclasses.field(default_factory=dict)
    x264_rate_control: str | None = None  # e.g. "qp=0" or "crf=23.0", from x264's settings in the stream

    @property
    def lossless_rgb(self) -> bool:
        """Whether the stream can carry an 8-bit RGB container exactly (as far as its header tells).

        H.264 is lossless only at qp 0: an x264 stream that says it was made with a CRF or
        another quantiser is not.
        """
        if self.codec == "h264" and self.x264_rate_control is not None and self.x264_rate_control != "qp=0":
            return False
        return self.codec in LOSSLESS_DECODERS and self.pixel_format.startswith(RGB_PIXEL_FORMATS)

    @property
    def record(self) -> "records.Record | None":
        """The container record of the hide script (:mod:`deepsteg.record`), if the file has one.

        Raises:
            ValueError: if the record is damaged.
        """
        for key in records.READ_TAGS:
            found = records.Record.from_json(self.tags.get(key))
            if found is not None:
                return found
        return None


def _open(path) -> av.container.InputContainer:
    from deepsteg.imageio import IMAGE_EXTENSIONS

    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"video not found: {path}")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise ValueError(f"{path} is an image, not a video (image_hide.py and image_reveal.py take images)")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot open {path} as a video: {error}") from None
    if not container.streams.video:
        container.close()
        raise ValueError(f"{path} has no video stream")
    return container


def probe(path) -> VideoInfo:
    """Reads a video's stream header.

    Raises:
        ValueError: for a missing, unreadable or video-less file.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        fps = stream.average_rate or stream.guessed_rate or fractions.Fraction(25)
        pixel_format = context.format.name if context.format is not None else (context.pix_fmt or "")
        tags = {**dict(stream.metadata or {}), **dict(container.metadata or {})}
        rate_control = _x264_rate_control(container, stream) if context.name == "h264" else None
        return VideoInfo(pathlib.Path(path), context.width, context.height, fractions.Fraction(fps), context.name,
                         pixel_format, bool(container.streams.audio), tags, rate_control)


_X264_RATE_CONTROL = re.compile(rb"x264 - core[^\x00]*?options:[^\x00]*? (qp=[0-9.]+|crf=[0-9.]+|bitrate=[0-9.]+)")


def _x264_rate_control(container, stream) -> str | None:
    """The rate control x264 recorded in its settings message (first packet), e.g. ``qp=0``; None if absent."""
    try:
        for packet in container.demux(stream):
            if packet.size:
                match = _X264_RATE_CONTROL.search(bytes(packet))
                return match.group(1).decode() if match else None
    except av.FFmpegError:
        return None
    return None


def read_frames(path, max_frames: int | None = None):
    """Yields the RGB uint8 frames of a video, one at a time (constant memory).

    Raises:
        ValueError: if the file cannot be opened or decoding fails part-way.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        try:
            for frame in container.decode(stream):
                if max_frames is not None and count >= max_frames:
                    return
                yield frame.to_ndarray(format="rgb24")
                count += 1
        except av.FFmpegError as error:
            raise ValueError(f"{path}: decoding failed after {count} frames: {error}") from None
    if count == 0:
        raise ValueError(f"{path}: no frame could be decoded")


def list_videos(folder) -> list[pathlib.Path]:
    """Video files under ``folder`` (recursive), sorted; ``ValueError`` if there are none."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"not a folder: {folder}")
    files = sorted(path for path in folder.rglob("*") if path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file())
    if not files:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) found in {folder}")
    return files


def sample_frames(path, count: int, step: int) -> list[np.ndarray]:
    """Frames 0, step, 2*step, ... of a video, at most ``count`` of them (fewer for short clips)."""
    return [frame for index, frame in enumerate(read_frames(path, count * step)) if index % step == 0]


def count_frames(path) -> int:
    """Counts frames by decoding them (headers are wrong for some files)."""
    return sum(1 for _ in read_frames(path))


def frame_at(path, index: int) -> np.ndarray:
    """The frame number ``index`` (0-based), found by decoding up to it."""
    for position, frame in enumerate(read_frames(path, index + 1)):
        if position == index:
            return frame
    raise ValueError(f"{path} has fewer than {index + 1} frames")


def batched(frames, size: int):
    """Groups an iterator of frames into lists of at most ``size``."""
    batch = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def codec_for_path(path, codec: str | None = None) -> str:
    """The lossless codec for an output file: ``codec`` if given, else chosen by extension.

    Raises:
        ValueError: for an unknown codec or an extension with no lossless codec here.
    """
    if codec is not None:
        if codec not in LOSSLESS_CODECS:
            raise ValueError(f"unknown codec {codec!r}; lossless codecs: {', '.join(LOSSLESS_CODECS)}")
        return codec
    extension = pathlib.Path(path).suffix.lower()
    if extension not in CODEC_FOR_EXTENSION:
        raise ValueError(f"{pathlib.Path(path).name}: no lossless video codec for {extension or 'no extension'!r}; use "
                         + ", ".join(f"{ext} ({name})" for ext, name in CODEC_FOR_EXTENSION.items()))
    return CODEC_FOR_EXTENSION[extension]


def _packet_digest(packet) -> str:
    """16 hexadecimal digits (BLAKE2b) of an encoded packet's bytes."""
    return hashlib.blake2b(bytes(packet), digest_size=8).hexdigest()


class LosslessVideoWriter(CommitOnExit):
    """Writes RGB frames with a lossless codec into a temporary file; :meth:`close` reads the file
    back, checks every frame is bit-exact, flushes it to disk and only then gives it the name
    ``path`` (:func:`deepsteg.files.place`: never replacing a file without ``force``).

    Use as a context manager: on an exception, in the ``with`` block or in :meth:`close`, every
    temporary file is removed and ``path`` is left untouched.

    Args:
        path: output file (.mkv FFV1, .mp4 libx264rgb qp 0, .avi HuffYUV, .mov PNG).
        fps: frame rate (a ``Fraction`` keeps NTSC rates exact).
        codec: override the codec chosen from the extension.
        force: overwrite an existing ``path``.
        audio_from: optional video whose first audio stream is copied (packets, no re-encoding).
        verify: read back and compare before renaming (on by default).
        record: a :class:`deepsteg.record.Record` to store in the file's metadata, completed
            with the digest of every frame written (the file is then remuxed once at the end).
    """

    def __init__(self, path, fps, codec: str | None = None, force: bool = False, audio_from=None, verify: bool = True,
                 record: "records.Record | None" = None):
        self.path = check_output_path(path, force)
        self.codec = codec_for_path(self.path, codec)
        self.fps = fractions.Fraction(fps).limit_denominator(100000)
        self.audio_from, self.verify, self.force, self.record = audio_from, verify, force, record
        self.temporary = temporary_sibling(self.path)
        self._temporaries = [self.temporary]
        self.digests: list[str] = []
        self._check_packets = verify and self.codec in PACKETS_STORED_VERBATIM
        self._packet_digests: list[str] = []
        self._decoder = None
        self._decoded = 0
        self._output = None
        self._stream = None
        self._audio = None
        self.shape = None

    def _start(self, frame: np.ndarray):
        encoder, pixel_format, options = LOSSLESS_CODECS[self.codec]
        height, width = frame.shape[:2]
        if encoder == "libx264rgb" and (height % 2 or width % 2):
            raise ValueError(f"libx264rgb needs even frame sizes, got {width}x{height}; use .mkv (FFV1)")
        self._output = av.open(str(self.temporary), "w", format="matroska" if self.temporary.suffix == ".mkv" else None)
        self._stream = self._output.add_stream(encoder, rate=self.fps, options=dict(options))
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, pixel_format
        self._add_audio_stream()
        self.shape = frame.shape

    def write(self, frame: np.ndarray):
        """Encodes one RGB uint8 frame (all frames must have the first frame's size)."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be RGB uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        if self._output is None:
            self._start(frame)
        elif frame.shape != self.shape:
            raise ValueError(f"frame size changed from {self.shape} to {frame.shape}")
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        video_frame.pts = len(self.digests)
        video_frame.time_base = 1 / self.fps
        self.digests.append(records.frame_digest(frame) if self.verify or self.record is not None else "")
        for packet in self._stream.encode(video_frame):
            self._mux_video(packet)

    def _mux_video(self, packet):
        """Muxes one encoded packet; when verifying packet by packet, decodes it first and checks
        the frames it gives against their digests, and keeps a digest of its bytes."""
        if self._check_packets:
            if packet.size:
                self._packet_digests.append(_packet_digest(packet))
            if self._decoder is None:
                encoder = self._stream.codec_context
                self._decoder = av.CodecContext.create(encoder.name, "r")
                self._decoder.width, self._decoder.height, self._decoder.pix_fmt = encoder.width, encoder.height, encoder.pix_fmt
                if encoder.extradata:
                    self._decoder.extradata = encoder.extradata
            self._check_decoded(self._decoder.decode(packet))
        self._output.mux(packet)

    def _check_decoded(self, frames):
        """Checks frames decoded from the packets written so far, in order."""
        for decoded in frames:
            self._check_frame(self._decoded, decoded.to_ndarray(format="rgb24"))
            self._decoded += 1

    def _check_frame(self, index: int, frame: np.ndarray) -> None:
        """Raises ``ValueError`` unless ``frame`` is frame ``index`` as written."""
        if index >= len(self.digests) or records.frame_digest(frame) != self.digests[index]:
            raise ValueError(f"{self.codec} did not store frame {index} bit-exactly; nothing was written to {self.path}")

    def _add_audio_stream(self):
        """Adds the audio stream of ``audio_from`` (must happen before the first packet)."""
        self._audio = None
        if self.audio_from is None:
            return
        try:
            source = av.open(str(self.audio_from))
        except av.FFmpegError as error:
            print(f"note: audio not copied from {self.audio_from}: {error}")
            return
        if not source.streams.audio:
            source.close()
            return
        self._audio = (source, source.streams.audio[0], self._output.add_stream_from_template(source.streams.audio[0]))

    def _copy_audio(self):
        """Copies audio packets (no re-encoding) up to the end of the written video."""
        if self._audio is None:
            return
        source, source_audio, output_audio = self._audio
        duration = len(self.digests) / self.fps
        try:
            for packet in source.demux(source_audio):
                if packet.dts is None:
                    continue
                if packet.pts is not None and packet.pts * source_audio.time_base >= duration:
                    break
                packet.stream = output_audio
                self._output.mux(packet)
        except av.FFmpegError as error:
            print(f"note: audio copy from {self.audio_from} stopped early: {error}")
        finally:
            source.close()
            self._audio = None

    def close(self):
        """Finishes the file, stores the record, verifies it bit-exactly and puts it in place.

        Raises:
            ValueError: if encoding, writing (a full disk), verifying or placing fails; nothing is
                left behind then.
        """
        try:
            if self._output is None:
                raise ValueError("no frame was written")
            for packet in self._stream.encode(None):
                self._mux_video(packet)
            if self._decoder is not None:
                self._check_decoded(self._decoder.decode(None))
            if self._check_packets and self._decoded != len(self.digests):
                raise ValueError(f"{self.codec} gave back {self._decoded} of {len(self.digests)} frames; nothing was written to {self.path}")
            self._copy_audio()
            self._output.close()
            self._output = None
            final = self.temporary
            if self.record is not None:
                self.record.digests = list(self.digests)
                final = self._remux_with_record()
            if self.verify:
                self._verify(final)
            sync_file(final)
        except BaseException as error:
            self.abort()
            if isinstance(error, (av.FFmpegError, OSError)):
                raise ValueError(f"cannot write {self.path}: {error}") from None
            raise
        for temporary in self._temporaries:
            if temporary != final:
                temporary.unlink(missing_ok=True)
        return place(final, self.path, self.force)

    def _remux_with_record(self) -> pathlib.Path:
        """Copies the finished streams (no re-encoding) into a new temporary file whose metadata
        holds the record; the digests are only known once every frame is written."""
        target = temporary_sibling(self.path)
        self._temporaries.append(target)
        key = records.VIDEO_TAG_FALLBACK if target.suffix.lower() == ".avi" else records.VIDEO_TAG
        options = {"movflags": "use_metadata_tags"} if target.suffix.lower() in (".mp4", ".mov", ".m4v") else {}
        with av.open(str(self.temporary)) as source, \
                av.open(str(target), "w", format="matroska" if target.suffix == ".mkv" else None, options=options) as output:
            output.metadata[key] = self.record.to_json()
            streams = {stream.index: output.add_stream_from_template(stream) for stream in source.streams
                       if stream.type in ("video", "audio")}
            for stream in source.streams.video:  # keep the exact frame rate (short files would get an estimate)
                streams[stream.index].codec_context.framerate = self.fps
            for packet in source.demux(*[stream for stream in source.streams if stream.index in streams]):
                if packet.dts is None:
                    continue
                packet.stream = streams[packet.stream.index]
                output.mux(packet)
        self.temporary.unlink(missing_ok=True)
        return target

    def _verify(self, path):
        """Reads ``path`` back: its video packets must be those checked while writing (codecs in
        :data:`PACKETS_STORED_VERBATIM`), or else every frame decoded from it must match its digest."""
        if self._check_packets:
            with av.open(str(path)) as container:
                stored = [_packet_digest(packet) for packet in container.demux(container.streams.video[0]) if packet.size]
            if stored != self._packet_digests:
                index = next((i for i, (a, b) in enumerate(zip(stored, self._packet_digests)) if a != b), min(len(stored), len(self._packet_digests)))
                raise ValueError(f"{self.codec} did not store frame {index} bit-exactly (read back {len(stored)} of "
                                 f"{len(self._packet_digests)} packets); nothing was written to {self.path}")
            return
        count = 0
        for index, frame in enumerate(read_frames(path)):
            self._check_frame(index, frame)
            count += 1
        if count != len(self.digests):
            raise ValueError(f"read back {count} of {len(self.digests)} frames; nothing was written to {self.path}")

    def abort(self):
        """Drops the temporary file; ``path`` is left as it was."""
        if self._audio is not None:
            self._audio[0].close()
            self._audio = None
        if self._output is not None:
            try:
                self._output.close()
            except Exception:  # closing a broken muxer must not hide the original error
                pass
            self._output = None
        for temporary in self._temporaries:
            temporary.unlink(missing_ok=True)

