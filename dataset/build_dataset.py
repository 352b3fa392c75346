"""Build the original project's dataset layout from any folders of photos.

Takes a random subset of the photos (seeded), resizes them (shorter side, or square crops) and
splits them into dataset/train_data/train, dataset/val_data/validation and dataset/eval_data.

Example:
    python dataset/build_dataset.py ../shared/data/images/train --count 2000 --size 224 --square
"""

from __future__ import annotations

import pathlib
import sys


import numpy as np

from deepsteg import cli

HERE = pathlib.Path(__file__).resolve().parent
SPLITS = {"train": pathlib.Path("train_data/train"), "val": pathlib.Path("val_data/validation"), "eval": pathlib.Path("eval_data")}


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=pathlib.Path, help="folders of photos (searched recursively)")
    parser.add_argument("--out", type=pathlib.Path, default=HERE, help="dataset root to fill")
    parser.add_argument("--count", type=int, default=None, help="random subset size (default: all photos)")
    parser.add_argument("--size", type=int, default=224, help="target side in pixels")
    parser.add_argument("--square", action="store_true", help="centre-crop to SIZE x SIZE (the original 224x224 layout); else shorter side = SIZE")
    parser.add_argument("--val-fraction", type=float, default=0.1, help="share of photos for validation")
    parser.add_argument("--eval-fraction", type=float, default=0.0, help="share of photos for evaluation")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the subset and split")
    parser.add_argument("--shrink-only", action="store_true", help="never enlarge photos smaller than SIZE (keeps 64x64 Tiny ImageNet photos as they are)")
    parser.add_argument("--jpeg-quality", type=int, default=None,
                        help="write JPEG at this quality instead of PNG: a compact copy, e.g. to carry to the GPU machine (default: PNG)")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def prepare(image, size: int, square: bool, shrink_only: bool = False):
    from deepsteg.data import center_crop
    from deepsteg.imageio import resize_to

    height, width = image.shape[:2]
    scale = size / min(height, width)
    if shrink_only and scale > 1:
        return image
    image = resize_to(image, max(1, round(height * scale)), max(1, round(width * scale)))
    return center_crop(image, size) if square else image


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("size", args.size)
    cli.positive("count", args.count)
    if args.jpeg_quality is not None and not 1 <= args.jpeg_quality <= 100:
        raise cli.CliError(f"--jpeg-quality must be in 1-100, got {args.jpeg_quality}")
    if not 0 <= args.val_fraction < 1 or not 0 <= args.eval_fraction < 1 or args.val_fraction + args.eval_fraction >= 1:
        raise cli.CliError("--val-fraction and --eval-fraction must be in [0, 1) and leave some photos for training")
    from tqdm import tqdm

    from deepsteg.imageio import list_images, read_image, write_image, write_jpeg

    files = list_images(args.sources)
    rng = np.random.default_rng(args.seed)
    files = [files[i] for i in rng.permutation(len(files))[: args.count]]
    val_count, eval_count = round(len(files) * args.val_fraction), round(len(files) * args.eval_fraction)
    assignment = ["val"] * val_count + ["eval"] * eval_count + ["train"] * (len(files) - val_count - eval_count)
    for split in set(assignment):
        (args.out / SPLITS[split]).mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(SPLITS, 0)
    for index, (path, split) in enumerate(tqdm(list(zip(files, assignment)), unit="photo", disable=None)):
        image = prepare(read_image(path), args.size, args.square, args.shrink_only)
        if args.jpeg_quality is None:
            write_image(args.out / SPLITS[split] / f"{index:06d}_{path.stem}.png", image, force=args.force)
        else:
            write_jpeg(args.out / SPLITS[split] / f"{index:06d}_{path.stem}.jpg", image, args.jpeg_quality, force=args.force)
        counts[split] += 1
    print(f"wrote {counts['train']} train, {counts['val']} validation, {counts['eval']} evaluation photos under {args.out}")
    return counts


if __name__ == "__main__":
    main(sys.argv[1:])
