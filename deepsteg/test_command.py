"""Evaluate a model on an array of secret/cover pairs (.npy), or make such an array from a folder.

Examples:
    python test.py testdata.npy --make-from ../shared/data/images/eval --size 224
    python test.py testdata.npy default
The array has shape (N, 2, H, W, 3), uint8 RGB: [:, 0] secrets, [:, 1] covers.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("testdata", type=pathlib.Path, help="array of pairs (N, 2, H, W, 3) uint8 (.npy)")
    parser.add_argument("checkpoint", type=pathlib.Path, nargs="?", default=None, help="joint model (.keras), a shipped model (default, fast), or the hide network with --reveal")
    parser.add_argument("--make-from", type=pathlib.Path, default=None, help="first build TESTDATA from the pairs of this image folder")
    parser.add_argument("--size", type=int, default=224, help="with --make-from: side the images are resized to")
    cli.add_evaluation_flags(parser)
    return parser.parse_args(argv)


def make_testdata(folder, size: int) -> np.ndarray:
    """Stacks the deterministic pairs of :func:`deepsteg.evaluation.pairs_from_folder`."""
    from deepsteg.evaluation import pairs_from_folder

    return np.stack([np.stack([secret, cover]) for secret, cover, _, _ in pairs_from_folder(folder, size)])


def load_testdata(path) -> np.ndarray:
    """Loads and checks a pairs array. Raises ``ValueError`` for anything else."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"test data not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as error:
        raise ValueError(f"cannot read {path} as a .npy array: {error}") from None
    if data.dtype != np.uint8 or data.ndim != 5 or data.shape[1] != 2 or data.shape[-1] != 3 or len(data) == 0:
        raise ValueError(f"{path}: expected uint8 pairs of shape (N, 2, H, W, 3), got {data.dtype} {data.shape}")
    from deepsteg.metrics import check_ssim_size

    check_ssim_size(data.shape[2], data.shape[3], f"the pairs of {path}")
    return data


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.positive("batch_size", args.batch_size)
    cli.positive("size", args.size)
    from deepsteg import evaluation, files

    if args.make_from is None:
        if args.checkpoint is None:
            raise cli.CliError("give a CHECKPOINT to evaluate, or --make-from FOLDER to build the test data")
        data = load_testdata(args.testdata)
        return evaluation.run_evaluation(args, _pairs(data), len(data))
    from deepsteg.imageio import atomic_save_npy
    from deepsteg.metrics import check_ssim_size

    cli.check_output(args.testdata, args.force)
    if args.checkpoint is not None:
        check_ssim_size(args.size, args.size, f"--size {args.size}")
        files.check_distinct(inputs=[args.make_from, args.checkpoint, args.reveal], outputs=[args.testdata])
    data = make_testdata(args.make_from, args.size)
    with files.transaction():  # the pairs array and the reports, or nothing
        atomic_save_npy(args.testdata, data, force=args.force)
        summary = evaluation.run_evaluation(args, _pairs(data), len(data)) if args.checkpoint is not None else 0
    print(f"wrote {len(data)} pairs of {args.size}x{args.size} to {args.testdata}")
    return summary


def _pairs(data):
    return ((pair[0], pair[1], f"secret{index}", f"cover{index}") for index, pair in enumerate(data))


if __name__ == "__main__":
    main(sys.argv[1:])
