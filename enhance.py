"""Enhance a revealed image or video: non-local-means denoising (temporal on videos), then optional unsharp masking.

The defaults are those that measured best on what the shipped models reveal
(docs/experiments.md): videos get a temporal denoising whose strength follows the frames' own
white-noise estimate (none for a clean reveal), still images nothing unless asked.

Examples:
    python enhance.py revealed.mkv -o enhanced.mkv --original secret.mp4
    python enhance.py revealed.png -o enhanced.png --denoise-strength 3 --sharpen-amount 0.3 --original secret.png
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli

def parse_args(argv):
    import argparse

    from deepsteg.enhance import STILL_IMAGE_SETTINGS, VIDEO_SETTINGS

    video, image = VIDEO_SETTINGS, STILL_IMAGE_SETTINGS

    def by_input(name):
        if getattr(video, name) == getattr(image, name):
            return f"default: {getattr(video, name):g}"
        return f"default: {getattr(video, name):g} for videos, {getattr(image, name):g} for still images"

    def strength(text):
        if text == "auto":
            return text
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None

    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("input", type=pathlib.Path, help="image or video to enhance")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="enhanced image (.png ...) or video (.mkv, .mp4, .avi, .mov; lossless)")
    parser.add_argument("--original", type=pathlib.Path, default=None, help="the original secret (image or video), to report PSNR/SSIM before and after")
    unset = argparse.SUPPRESS  # options not given take the defaults of the input's kind
    parser.add_argument("--denoise-strength", type=strength, default=unset,
                        help="NLM luminance strength h, 0: off; auto: from the frames' white-noise estimate "
                             "(default: auto for videos, 0 for still images)")
    parser.add_argument("--denoise-color-strength", type=float, default=unset, help="NLM colour strength hColor (default: --denoise-strength)")
    parser.add_argument("--template-window", type=int, default=unset, help=f"NLM template patch size, odd ({by_input('template_window')})")
    parser.add_argument("--search-window", type=int, default=unset, help=f"NLM search window size, odd ({by_input('search_window')})")
    parser.add_argument("--temporal-window", type=int, default=unset, help=f"videos: frames denoised together, odd; 1: each frame alone ({by_input('temporal_window')})")
    parser.add_argument("--sharpen-amount", type=float, default=unset, help=f"unsharp-mask gain, 0: off ({by_input('sharpen_amount')})")
    parser.add_argument("--sharpen-sigma", type=float, default=unset, help=f"unsharp-mask Gaussian sigma in pixels ({by_input('sharpen_sigma')})")
    parser.add_argument("--sharpen-threshold", type=float, default=unset, help=f"smallest detail (0-255) that is sharpened ({by_input('sharpen_threshold')})")
    parser.add_argument("--max-frames", type=int, default=None, help="videos: stop after this many frames (default: all)")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def settings_for(args, is_video: bool):
    """The input kind's default settings with the options given on the command line."""
    import dataclasses

    from deepsteg.enhance import STILL_IMAGE_SETTINGS, VIDEO_SETTINGS, EnhanceSettings

    given = {field.name: getattr(args, field.name) for field in dataclasses.fields(EnhanceSettings) if hasattr(args, field.name)}
    if given.get("denoise_strength") == "auto":
        del given["denoise_strength"]
        given["adaptive"] = True
    elif "denoise_strength" in given or "denoise_color_strength" in given:
        given["adaptive"] = False
    if "denoise_strength" in given and "denoise_color_strength" not in given:
        given["denoise_color_strength"] = given["denoise_strength"]
    return dataclasses.replace(VIDEO_SETTINGS if is_video else STILL_IMAGE_SETTINGS, **given)


def adapted_for(path, settings, is_video: bool):
    """``settings`` with the strength chosen from the input's first frames; says which."""
    from deepsteg import enhance, imageio, videoio

    frames = list(videoio.read_frames(path, enhance.NOISE_SAMPLE_FRAMES)) if is_video else [imageio.read_image(path)]
    if not frames:
        raise cli.CliError(f"no frames could be read from {path}")
    noise = enhance.white_noise_estimate(frames)
    settings = settings.for_noise(noise)
    print(f"note: white-noise estimate {noise:.2f} (0-255): denoising strength {settings.denoise_strength:.2f}"
          + (" (none: the frames are clean)" if not settings.denoises else ""))
    return settings


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("max_frames", args.max_frames)
    from deepsteg import videoio
    from deepsteg.enhance import enhance_image_file
    from deepsteg.metrics import summarize
    from deepsteg.videosteg import enhance_video

    is_video = args.input.suffix.lower() in videoio.VIDEO_EXTENSIONS
    settings = settings_for(args, is_video)
    if settings.changes_nothing:
        reason = ("still images are not denoised by default: it lowered the PSNR of every revealed photo measured; "
                  "give --denoise-strength" if not is_video else "denoising and sharpening are both off")
        print(f"note: nothing to do with these settings ({reason}); the input is copied")
    cli.check_output(args.output, args.force)
    from deepsteg import files

    files.check_distinct(inputs=[args.input, args.original], outputs=[args.output])
    if settings.adaptive:
        settings = adapted_for(args.input, settings, is_video)
    if is_video:
        videoio.codec_for_path(args.output)
        rows = enhance_video(args.input, args.output, settings, args.original, args.max_frames, args.force)
    else:
        rows = enhance_image_file(args.input, args.output, settings, args.original, args.force)
    message = f"wrote {args.output} ({len(rows)} frame{'s' if len(rows) != 1 else ''})"
    if "before_psnr" in rows[0]:
        before, after = summarize(rows, "before"), summarize(rows, "after")
        message += (f"; vs original: PSNR {before['before_psnr']:.2f} -> {after['after_psnr']:.2f} dB, "
                    f"SSIM {before['before_ssim']:.4f} -> {after['after_ssim']:.4f}")
    print(message)
    return {"rows": rows}


if __name__ == "__main__":
    main(sys.argv[1:])
