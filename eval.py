"""Evaluate a trained model on a folder of real photos or videos, through 8-bit images, against LSB-4.

A folder of videos is evaluated on full-resolution frames, each clip hiding another clip's frames,
with per-clip means and minima.

Examples:
    python eval.py ../shared/data/images/eval checkpoints/steg_model.keras --json eval.json --out results/
    python eval.py ../shared/data/videos checkpoints/steg_model.keras --frames-per-clip 6 --json eval_videos.json
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("eval_dir", type=pathlib.Path, help="folder of evaluation images or videos (never used in training)")
    parser.add_argument("checkpoint", type=pathlib.Path, help="joint model (.keras), or the hide network with --reveal")
    parser.add_argument("--size", type=int, default=None, help="resize every image to SIZE x SIZE (default: full resolution)")
    parser.add_argument("--frames-per-clip", type=int, default=6, help="videos: frames evaluated per clip")
    parser.add_argument("--frame-step", type=int, default=20, help="videos: evaluate every FRAME_STEP-th frame from the first")
    cli.add_evaluation_flags(parser)
    return parser.parse_args(argv)


def evaluate_and_report(args, pairs, total, by_clip: bool = False):
    """Shared by eval.py and test.py: loads the networks, evaluates, prints the table, writes
    JSON/CSV/plots. With ``by_clip`` (pairs named ``clip@frame``) also prints and saves per-clip
    means and minima."""
    from tqdm import tqdm

    from deepsteg import evaluation, inference
    from deepsteg.cipher import BlockScrambler
    from deepsteg.reports import write_csv

    for path in (args.json, args.csv):
        if path is not None:
            cli.check_output(path, args.force)
    hide_network = inference.load_network(args.checkpoint, "hide")
    reveal_network = inference.load_network(args.reveal or args.checkpoint, "reveal")
    scrambler = BlockScrambler(args.key, args.block_size) if args.key else None
    with tqdm(total=total, unit="pair", desc="evaluating", disable=None) as progress:
        rows, baseline_rows, examples = evaluation.evaluate(hide_network, reveal_network, pairs, scrambler, args.batch_size, progress=progress)
    summary, baseline = evaluation.summarize(rows), evaluation.summarize(baseline_rows)
    clips = evaluation.per_clip(rows) if by_clip else None
    if clips:
        print(evaluation.format_clip_table(clips))
    print(evaluation.format_table(summary, baseline))
    if args.json:
        evaluation.report_json(summary, baseline, args.json, clips)
    if args.csv:
        write_csv(args.csv, rows, force=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        evaluation.save_plots(rows, baseline_rows, examples, args.out)
    print(f"summary: {summary['pairs']} pairs; cover PSNR {summary['cover_psnr']:.2f} dB SSIM {summary['cover_ssim']:.4f}; "
          f"secret PSNR {summary['secret_psnr']:.2f} dB SSIM {summary['secret_ssim']:.4f}; "
          f"residual/secret correlation {summary['residual_secret_correlation']:.3f}")
    return summary


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("batch_size", args.batch_size)
    cli.positive("size", args.size)
    cli.positive("frames_per_clip", args.frames_per_clip)
    cli.positive("frame_step", args.frame_step)
    from deepsteg import evaluation
    from deepsteg.imageio import IMAGE_EXTENSIONS, list_images
    from deepsteg.videoio import list_videos

    if not args.eval_dir.is_dir():
        raise cli.CliError(f"evaluation folder not found: {args.eval_dir}")
    if not any(path.suffix.lower() in IMAGE_EXTENSIONS for path in args.eval_dir.rglob("*")):
        total = len(list_videos(args.eval_dir)) * args.frames_per_clip
        pairs = evaluation.pairs_from_videos(args.eval_dir, args.frames_per_clip, args.frame_step)
        return evaluate_and_report(args, pairs, total, by_clip=True)
    total = len(list_images(args.eval_dir))
    return evaluate_and_report(args, evaluation.pairs_from_folder(args.eval_dir, args.size), total)


if __name__ == "__main__":
    main(sys.argv[1:])
