import numpy as np
import pytest

from deepsteg import videoio


@pytest.fixture(scope="module")
def real_frames(clip_paths):
    return list(videoio.read_frames(clip_paths["carphone_pristine.mp4"], 12))


@pytest.mark.parametrize("extension", [".mkv", ".mp4", ".avi", ".mov"])
@pytest.mark.slow
def test_lossless_round_trip_is_bit_exact(tmp_path, real_frames, extension):
    path = tmp_path / f"out{extension}"
    with videoio.LosslessVideoWriter(path, 30) as writer:
        for frame in real_frames:
            writer.write(frame)
    back = list(videoio.read_frames(path))
    assert len(back) == len(real_frames)
    assert all(np.array_equal(a, b) for a, b in zip(real_frames, back))
    info = videoio.probe(path)
    assert info.lossless_rgb and (info.width, info.height) == (176, 144)
    assert not list(tmp_path.glob(".*partial*")), "temporary file left behind"


def test_frame_rate_is_kept_exactly(tmp_path, real_frames, clip_paths):
    fps = videoio.probe(clip_paths["carphone_pristine.mp4"]).fps
    path = tmp_path / "rate.mkv"
    with videoio.LosslessVideoWriter(path, fps) as writer:
        writer.write(real_frames[0])
    assert videoio.probe(path).fps == fps


def test_source_clips_are_not_lossless(clip_paths):
    assert not videoio.probe(clip_paths["bikes.mp4"]).lossless_rgb


def test_existing_output_is_kept_without_force(tmp_path, real_frames):
    path = tmp_path / "keep.mkv"
    path.write_bytes(b"precious")
    with pytest.raises(ValueError, match="--force"):
        videoio.LosslessVideoWriter(path, 25)
    assert path.read_bytes() == b"precious"


def test_failure_half_way_leaves_nothing(tmp_path, real_frames):
    path = tmp_path / "half.mkv"
    with pytest.raises(ValueError, match="size changed"):
        with videoio.LosslessVideoWriter(path, 25) as writer:
            writer.write(real_frames[0])
            writer.write(real_frames[1][:100])
    assert not path.exists() and not list(tmp_path.iterdir())


@pytest.mark.slow
def test_audio_is_copied_from_cover(tmp_path):
    import av

    source = tmp_path / "with_audio.mkv"
    with av.open(str(source), "w") as output:
        video = output.add_stream("ffv1", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "bgr0"
        audio = output.add_stream("flac", rate=8000)
        audio.layout = "mono"
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = index
            for packet in video.encode(frame):
                output.mux(packet)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 3200), np.int16), format="s16", layout="mono")
        samples.sample_rate, samples.pts = 8000, 0
        for packet in audio.encode(samples):
            output.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                output.mux(packet)
    target = tmp_path / "copy.mkv"
    with videoio.LosslessVideoWriter(target, 25, audio_from=source) as writer:
        for _ in range(10):
            writer.write(np.full((32, 32, 3), 7, np.uint8))
    assert videoio.probe(target).has_audio
    assert videoio.count_frames(target) == 10


def test_bad_inputs(tmp_path, corrupt_file):
    with pytest.raises(ValueError, match="not found"):
        videoio.probe(tmp_path / "missing.mkv")
    with pytest.raises(ValueError, match="cannot open"):
        videoio.probe(corrupt_file("broken.mkv"))
    with pytest.raises(ValueError, match="lossless"):
        videoio.codec_for_path(tmp_path / "out.webm")


def test_a_codec_that_changes_frames_is_refused_while_writing(tmp_path, real_frames, monkeypatch):
    # A lossy codec standing in for a broken lossless one: the packets decoded as they are written
    # differ from the frames, and nothing is left behind.
    monkeypatch.setitem(videoio.LOSSLESS_CODECS, "ffv1", ("mpeg4", "yuv420p", {}))
    path = tmp_path / "lossy.mkv"
    with pytest.raises(ValueError, match="did not store frame 0 bit-exactly"):
        with videoio.LosslessVideoWriter(path, 25) as writer:
            for frame in real_frames[:3]:
                writer.write(frame)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("extension", [".mkv", ".mp4"])
def test_a_file_changed_before_it_is_placed_is_refused(tmp_path, real_frames, monkeypatch, extension):
    # The file read back is not the one whose packets were checked (packet comparison for FFV1,
    # decoding again for x264rgb in MP4): refused, and the output path stays free.
    original_remux = videoio.LosslessVideoWriter._remux_with_record

    def remux_then_replace(writer):
        final = original_remux(writer)
        other = tmp_path / f"other{extension}"
        with videoio.LosslessVideoWriter(other, 25) as replacement:
            for frame in real_frames[:3][::-1]:
                replacement.write(frame)
        other.replace(final)
        return final

    monkeypatch.setattr(videoio.LosslessVideoWriter, "_remux_with_record", remux_then_replace)
    from deepsteg import record as records

    path = tmp_path / f"changed{extension}"
    with pytest.raises(ValueError, match="did not store frame 0 bit-exactly"):
        with videoio.LosslessVideoWriter(path, 25, record=records.Record("m", 32, False, 176, 144)) as writer:
            for frame in real_frames[:3]:
                writer.write(frame)
    assert not path.exists() and not list(tmp_path.iterdir())
