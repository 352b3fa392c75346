"""Evaluate a trained model on a folder of real photos or videos, through 8-bit images, against LSB-4.

A folder of videos is evaluated on full-resolution frames, each clip hiding another clip's frames,
with per-clip means and minima.

Examples:
    python eval.py ../shared/data/images/eval default --json eval.json --out results/
    python eval.py ../shared/data/videos default --frames-per-clip 6 --json eval_videos.json
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("eval_dir", type=pathlib.Path, help="folder of evaluation images or videos (never used in training)")
    parser.add_argument("checkpoint", type=pathlib.Path, help="joint model (.keras), a shipped model (default, fast), or the hide network with --reveal")
    parser.add_argument("--size", type=int, default=None, help="resize every image to SIZE x SIZE (default: full resolution)")
    parser.add_argument("--frames-per-clip", type=int, default=6, help="videos: frames evaluated per clip")
    parser.add_argument("--frame-step", type=int, default=20, help="videos: evaluate every FRAME_STEP-th frame from the first")
    cli.add_evaluation_flags(parser)
    return parser.parse_args(argv)


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
        return evaluation.run_evaluation(args, pairs, total, by_clip=True)
    total = len(list_images(args.eval_dir))
    return evaluation.run_evaluation(args, evaluation.pairs_from_folder(args.eval_dir, args.size), total)


if __name__ == "__main__":
    main(sys.argv[1:])
