"""Plot eval/ quality against the cost of the network: cover and secret PSNR over FLOPs per pixel.

Each run is LABEL=FOLDER, a folder holding the split ``hide.keras`` and the ``eval.json`` that
``eval.py --json`` wrote for it; the FLOPs are counted from the network (``models.flops_per_pixel``).

Example:
    python benchmarks/quality_vs_flops.py 8x32=runs/a 4x16=runs/b -o docs/compute_sweep_flops.png
"""

from __future__ import annotations

import json
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=FOLDER with hide.keras and eval.json")
    cli.add_plot_flags(parser)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.check_output(args.output, args.force)
    points = []
    for item in args.runs:
        label, folder = cli.labelled(item, "FOLDER")
        for name in ("hide.keras", "eval.json"):
            if not (folder / name).is_file():
                raise cli.CliError(f"{folder / name} not found")
        try:
            summary = json.loads((folder / "eval.json").read_text())
        except json.JSONDecodeError as error:
            raise cli.CliError(f"{folder / 'eval.json'} is not valid JSON ({error})") from None
        from deepsteg import inference
        from models import flops_per_pixel

        flops = flops_per_pixel(inference.load_network(folder / "hide.keras", "hide"))
        points.append((label, flops, summary["cover_psnr"], summary["secret_psnr"], summary["cover_ssim"], summary["secret_ssim"]))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepsteg.reports import save_figure

    figure, axes = plt.subplots(1, 2, figsize=(12, 4))
    for axis, column, title in ((axes[0], 2, "eval/ cover PSNR (dB)"), (axes[1], 3, "eval/ secret PSNR (dB)")):
        for point in points:
            axis.scatter(point[1] / 1e6, point[column])
            axis.annotate(point[0], (point[1] / 1e6, point[column]), textcoords="offset points", xytext=(5, 5))
        axis.set_xlabel("MFLOP per pixel (one hide)")
        axis.set_ylabel(title)
        axis.grid(alpha=0.3)
    save_figure(figure, args.output, args.force)
    print("label, MFLOP/px, cover PSNR, secret PSNR, cover SSIM, secret SSIM")
    for label, flops, *values in points:
        print(f"{label}, {flops / 1e6:.3f}, " + ", ".join(f"{value:.4g}" for value in values))
    print(f"wrote {args.output} ({len(points)} runs)")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
