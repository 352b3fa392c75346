"""Benchmark: model-only hide and reveal frames/s of shipped models on each engine and precision.

For every model, engine (Keras; OpenVINO f32 and, where the CPU has bf16 units, bf16) and frame
size, times ``--repeats`` calls on one batch of real video frames after a warm-up call, and prints
frames/s and the achieved GFLOP/s (``models.flops_per_pixel``). Ends with a one-line summary.

Example:
    python benchmarks/inference_speed.py --models default fast --sizes 640x360 1280x720
"""

from __future__ import annotations

import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "fast"], help="shipped model names or folders with hide.keras/reveal.keras")
    parser.add_argument("--sizes", nargs="+", default=["640x360"], help="WIDTHxHEIGHT frame sizes")
    parser.add_argument("--batch-size", type=int, default=1, help="frames per call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--engines", nargs="+", default=["keras", "openvino:f32", "openvino:bf16"],
                        help="engine[:precision] to measure (those that cannot run here are skipped)")
    return parser.parse_args(argv)


def _frames(width, height, count):
    import numpy as np

    from deepsteg import imageio, samples

    photos = [imageio.resize_to(imageio.read_image(path), height, width) for path in samples.skimage_photos()[:2]]
    return np.stack([photos[0]] * count), np.stack([photos[1]] * count)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("batch_size", args.batch_size)
    cli.positive("repeats", args.repeats)
    import pathlib

    from deepsteg import engines, inference
    from models import flops_per_pixel

    sizes = []
    for size in args.sizes:
        try:
            width, height = (int(value) for value in size.lower().split("x"))
        except ValueError:
            raise cli.CliError(f"--sizes takes WIDTHxHEIGHT, got {size!r}") from None
        sizes.append((width, height))
    rows = []
    print(f"{'model':<10}{'engine':<16}{'size':>10}{'hide fps':>10}{'reveal fps':>12}{'GFLOP/s':>9}")
    for model in args.models:
        folder = pathlib.Path(model)
        hide_source = folder / "hide.keras" if folder.is_dir() else model
        reveal_source = folder / "reveal.keras" if folder.is_dir() else model
        flops = flops_per_pixel(inference.load_network(hide_source, "hide", "keras"))  # counted on the Keras layers
        for choice in args.engines:
            engine, _, precision = choice.partition(":")
            precision = precision or "auto"
            if precision == "bf16" and not engines.cpu_has_bf16():
                continue
            if engine == "openvino" and not engines.openvino_available():
                continue
            hide_network = inference.load_network(hide_source, "hide", engine, precision)
            reveal_network = inference.load_network(reveal_source, "reveal", engine, precision)
            for width, height in sizes:
                hide_rate, reveal_rate = engines.time_networks(hide_network, reveal_network, *_frames(width, height, args.batch_size),
                                                               repeats=args.repeats)
                gflops = hide_rate * flops * width * height / 1e9
                label = engines.describe(hide_network).replace("keras (tensorflow) float32", "keras f32").replace(" (jax)", "")
                rows.append((model, label, width, height, hide_rate, reveal_rate, gflops))
                print(f"{model:<10}{label:<16}{f'{width}x{height}':>10}{hide_rate:>10.2f}{reveal_rate:>12.2f}{gflops:>9.0f}", flush=True)
    best = max(rows, key=lambda row: row[4])
    print(f"summary: {len(rows)} measurements; fastest hide {best[4]:.2f} frames/s ({best[0]}, {best[1]}, {best[2]}x{best[3]})")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
