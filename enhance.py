"""Enhance a revealed image or video: non-local-means denoising, then unsharp masking.

Examples:
    python enhance.py revealed.mkv -o enhanced.mkv
    python enhance.py revealed.png -o enhanced.png --sharpen-amount 1.0 --original secret.png
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli

VIDEO_EXTENSIONS = (".mkv", ".mp4", ".avi", ".mov", ".webm", ".m4v")


def parse_args(argv):
    from deepsteg.enhance import EnhanceSettings

    defaults = EnhanceSettings()
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("input", type=pathlib.Path, help="image or video to enhance")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="enhanced image (.png ...) or video (.mkv, .mp4, .avi, .mov; lossless)")
    parser.add_argument("--original", type=pathlib.Path, default=None, help="the original secret (image or video), to report PSNR/SSIM before and after")
    parser.add_argument("--denoise-strength", type=float, default=defaults.denoise_strength, help="NLM luminance strength h (0: off)")
    parser.add_argument("--denoise-color-strength", type=float, default=defaults.denoise_color_strength, help="NLM colour strength hColor")
    parser.add_argument("--template-window", type=int, default=defaults.template_window, help="NLM template patch size (odd)")
    parser.add_argument("--search-window", type=int, default=defaults.search_window, help="NLM search window size (odd)")
    parser.add_argument("--sharpen-amount", type=float, default=defaults.sharpen_amount, help="unsharp-mask gain (0: off)")
    parser.add_argument("--sharpen-sigma", type=float, default=defaults.sharpen_sigma, help="unsharp-mask Gaussian sigma (pixels)")
    parser.add_argument("--sharpen-threshold", type=float, default=defaults.sharpen_threshold, help="smallest detail (0-255) that is sharpened")
    parser.add_argument("--max-frames", type=int, default=None, help="videos: stop after this many frames (default: all)")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def _quality(reference, image, rows, index, prefix):
    from deepsteg import metrics
    from deepsteg.imageio import resize_to

    reference = resize_to(reference, *image.shape[:2])
    rows[index][f"{prefix}_psnr"] = metrics.psnr(reference, image)
    rows[index][f"{prefix}_ssim"] = metrics.ssim(reference, image)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("max_frames", args.max_frames)
    from deepsteg import imageio, videoio
    from deepsteg.enhance import EnhanceSettings, enhance
    from deepsteg.videosteg import enhance_video, summary_of

    settings = EnhanceSettings(args.denoise_strength, args.denoise_color_strength, args.template_window, args.search_window,
                               args.sharpen_amount, args.sharpen_sigma, args.sharpen_threshold)
    is_video = args.input.suffix.lower() in VIDEO_EXTENSIONS
    cli.check_output(args.output, args.force)
    if is_video:
        videoio.codec_for_path(args.output)
        rows = enhance_video(args.input, args.output, settings, args.original, args.max_frames, args.force)
    else:
        imageio.check_lossless_image_path(args.output)
        image = imageio.read_image(args.input)
        enhanced = enhance(image, settings)
        imageio.write_image(args.output, enhanced, force=args.force)
        rows = [{"frame": 0}]
        if args.original:
            reference = imageio.read_image(args.original)
            _quality(reference, image, rows, 0, "before")
            _quality(reference, enhanced, rows, 0, "after")
    message = f"wrote {args.output} ({len(rows)} frame{'s' if len(rows) != 1 else ''})"
    if "before_psnr" in rows[0]:
        before, after = summary_of(rows, "before"), summary_of(rows, "after")
        message += (f"; vs original: PSNR {before['before_psnr_mean']:.2f} -> {after['after_psnr_mean']:.2f} dB, "
                    f"SSIM {before['before_ssim_mean']:.4f} -> {after['after_ssim_mean']:.4f}")
    print(message)
    return {"rows": rows}


if __name__ == "__main__":
    main(sys.argv[1:])
