"""Benchmark: what is left of the secret after the container passes through a lossy channel.

Each photo of a folder (full resolution) hides the next one; the container (uint8, as the
scripts write it) is saved as JPEG (quality 95, 90, 75), WebP (90), H.264 (libx264 yuv420p CRF
18 and 23, libx264rgb CRF 18; one keyframe) or resized by 0.9x and back, then revealed. Prints
the revealed secret's mean PSNR/SSIM (0-255) for every model and for 4-bit LSB substitution,
with the lossless container and a flat image of each secret's mean colour as references, and a
one-line summary; ``--json`` keeps every number.

Example:
    python benchmarks/lossy_channels.py --json docs/lossy_channels.json
    python benchmarks/lossy_channels.py --images my_photos/ --models fast --channels jpeg95 resize0.9
"""

from __future__ import annotations

import json
import pathlib
import sys

from deepsteg import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_IMAGES = ROOT.parent / "shared" / "data" / "images" / "eval"


def parse_args(argv):
    from deepsteg.channels import CHANNELS

    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--images", type=pathlib.Path, default=DEFAULT_IMAGES, help="folder of photos (each hides the next)")
    parser.add_argument("--models", nargs="+", default=["default", "fast"], help="shipped model names or model paths")
    parser.add_argument("--channels", nargs="+", default=list(CHANNELS), choices=CHANNELS, help="lossy channels to measure")
    parser.add_argument("--max-pairs", type=int, default=None, help="use only the first pairs")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write every number here")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def pairs_from(folder, max_pairs):
    """(secret, cover) uint8 pairs: every photo as a cover, hiding the next photo resized to it."""
    from deepsteg.imageio import list_images, read_image, resize_to

    if not folder.is_dir():
        raise cli.CliError(f"no folder {folder} (pass --images)")
    paths = list_images([folder])[:None if max_pairs is None else max_pairs + 1]
    if len(paths) < 2:
        raise cli.CliError(f"{folder} needs at least two photos")
    images = [read_image(path) for path in paths]
    covers = images[:-1] if max_pairs is not None and len(images) > max_pairs else images
    pairs = []
    for index, cover in enumerate(covers):
        cover = cover[:cover.shape[0] // 2 * 2, :cover.shape[1] // 2 * 2]  # even sides, as yuv420p H.264 needs
        pairs.append((resize_to(images[(index + 1) % len(images)], *cover.shape[:2]), cover))
    return pairs


def measure(hide, reveal, pairs, channel_names, progress):
    """Mean secret PSNR/SSIM of one method through every channel (plus 'lossless')."""
    import numpy as np

    from deepsteg import channels, metrics

    rows = {channel: [] for channel in ["lossless", *channel_names]}
    for secret, cover in pairs:
        container = hide(secret, cover)
        for channel in rows:
            received = container if channel == "lossless" else channels.apply(channel, container)
            rows[channel].append(metrics.quality(secret, reveal(received)[:secret.shape[0], :secret.shape[1]], "secret"))
        rows["lossless"][-1].update(metrics.quality(cover, container[:cover.shape[0], :cover.shape[1]], "cover"))
        progress.update(1)
    return {channel: {key: float(np.mean([row[key] for row in values])) for key in values[0]} for channel, values in rows.items()}


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("max_pairs", args.max_pairs)
    if args.json is not None:
        cli.check_output(args.json, args.force)
    import numpy as np
    from tqdm import tqdm

    from deepsteg import evaluation, inference, metrics

    pairs = pairs_from(args.images, args.max_pairs)
    methods = {}
    for model in args.models:
        hide_network, reveal_network = (inference.load_network(model, role, engine="auto") for role in ("hide", "reveal"))
        methods[str(model)] = (lambda secret, cover, network=hide_network: inference.hide(network, secret[None], cover[None])[0],
                               lambda container, network=reveal_network: inference.reveal(network, container[None])[0])
    methods["lsb4"] = (evaluation.lsb_hide, evaluation.lsb_reveal)
    results = {}
    with tqdm(total=len(pairs) * len(methods), unit="pair", desc="lossy channels", disable=None, dynamic_ncols=True) as progress:
        for name, (hide, reveal) in methods.items():
            progress.set_description(f"lossy channels: {name}")
            results[name] = measure(hide, reveal, pairs, args.channels, progress)
    flat = [metrics.psnr(secret, np.broadcast_to(secret.reshape(-1, 3).mean(axis=0).round().astype(np.uint8), secret.shape)) for secret, _ in pairs]
    columns = ["lossless", *args.channels]
    print(f"secret PSNR (dB) / SSIM after each channel, {len(pairs)} pairs from {args.images}")
    print(f"{'method':<10} {'cover dB':>8} " + " ".join(f"{column:>14}" for column in columns))
    for name, result in results.items():
        cells = [f"{result[column]['secret_psnr']:6.2f} / {result[column]['secret_ssim']:.3f}" for column in columns]
        print(f"{name:<10} {result['lossless']['cover_psnr']:8.2f} " + " ".join(f"{cell:>14}" for cell in cells))
    print(f"flat mean colour: {np.mean(flat):.2f} dB")
    data = {"pairs": len(pairs), "images": str(args.images), "flat_mean_colour_psnr": float(np.mean(flat)), "results": results}
    if args.json is not None:
        from deepsteg.files import write_text

        write_text(args.json, json.dumps(data, indent=1) + "\n", force=args.force)
    first = str(args.models[0])
    worst = min(args.channels, key=lambda column: results[first][column]["secret_psnr"]) if args.channels else "lossless"
    print(f"summary: {first} secret {results[first]['lossless']['secret_psnr']:.2f} dB lossless; after "
          + ", ".join(f"{column} {results[first][column]['secret_psnr']:.1f}" for column in args.channels)
          + f" dB (worst: {worst}); flat colour {np.mean(flat):.1f} dB; {len(pairs)} pairs")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
