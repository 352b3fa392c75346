"""Compare training runs at equal wall-clock time: validation PSNR curves from train.py's CSV logs.

Fine-tunes (``train.py --init-from``) named with ``--after CHILD=PARENT`` start where their parent
ended, so a chain of training stages reads as one timeline.

Example:
    python benchmarks/compare_runs.py residual=runs/residual/logs/training.csv \
        unshuffled=runs/unshuffled/logs/training.csv scrambled=runs/scrambled/logs/training.csv \
        --after scrambled=unshuffled -o checkpoints/ablation/ablation_curves.png
"""

from __future__ import annotations

import sys


from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=PATH of a train.py logs/training.csv")
    parser.add_argument("--after", action="append", default=[], metavar="CHILD=PARENT",
                        help="CHILD was fine-tuned from PARENT's last checkpoint: its curve starts where PARENT's "
                             "ends (repeatable; default: every run starts at 0)")
    parser.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                        help="x axis: wall-clock hours, or CPU-hours of each run's own process (fair when runs shared a machine)")
    cli.add_plot_flags(parser)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    runs = {}
    for item in args.runs:
        label, path = cli.labelled(item, "PATH")
        if not path.is_file():
            raise cli.CliError(f"training log not found: {path}")
        runs[label] = path
    parents = {}
    for item in args.after:
        child, separator, parent = item.partition("=")
        if not separator or child not in runs or parent not in runs:
            raise cli.CliError(f"--after expects CHILD=PARENT with two labels among {sorted(runs)}, got {item!r}")
        parents[child] = parent
    from deepsteg.reports import plot_run_comparison

    plot_run_comparison(runs, args.output, force=args.force, parents=parents, clock=args.clock)
    print(f"wrote {args.output} ({len(runs)} runs)")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
