"""Compare training runs at equal wall-clock time: validation PSNR curves from train.py's CSV logs.

Example:
    python benchmarks/compare_runs.py residual=runs/residual/logs/training.csv \
        unshuffled=runs/unshuffled/logs/training.csv -o checkpoints/logs/ablation_curves.png
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from deepsteg import cli  # noqa: E402


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=PATH of a train.py logs/training.csv")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="PNG to write")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    runs = {}
    for item in args.runs:
        label, separator, path = item.partition("=")
        if not separator or not label or not path:
            raise cli.CliError(f"expected LABEL=PATH, got {item!r}")
        if not pathlib.Path(path).is_file():
            raise cli.CliError(f"training log not found: {path}")
        runs[label] = pathlib.Path(path)
    from deepsteg.reports import plot_run_comparison

    plot_run_comparison(runs, args.output, force=args.force)
    print(f"wrote {args.output} ({len(runs)} runs)")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
