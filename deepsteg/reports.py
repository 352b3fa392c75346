"""CSV reports and per-frame plots (matplotlib), written atomically."""

from __future__ import annotations

import csv
import os
import pathlib

from deepsteg.imageio import check_output_path, temporary_sibling


def write_csv(path, rows: list[dict], force: bool = False) -> pathlib.Path:
    """Writes a list of dicts as CSV (columns from the first row), atomically."""
    path = check_output_path(path, force)
    if not rows:
        raise ValueError(f"nothing to write to {path}")
    temporary = temporary_sibling(path)
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({key: f"{value:.6g}" if isinstance(value, float) else value for key, value in row.items()})
    os.replace(temporary, path)
    return path


def plot_per_frame(path, rows: list[dict], title: str, force: bool = False) -> pathlib.Path:
    """Plots per-frame PSNR and SSIM (the video paper's per-frame charts) to a PNG file.

    Plots every ``*_psnr`` column on the left axis and every ``*_ssim`` column on the right.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = check_output_path(path, force)
    frames = [row["frame"] for row in rows]
    figure, (psnr_axis, ssim_axis) = plt.subplots(1, 2, figsize=(12, 4))
    for key in rows[0]:
        if key.endswith("_psnr"):
            psnr_axis.plot(frames, [row[key] for row in rows], label=key.replace("_", " "))
        elif key.endswith("_ssim"):
            ssim_axis.plot(frames, [row[key] for row in rows], label=key.replace("_", " "))
    psnr_axis.set_ylabel("PSNR (dB, 0-255)")
    ssim_axis.set_ylabel("SSIM")
    for axis in (psnr_axis, ssim_axis):
        axis.set_xlabel("frame")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    temporary = temporary_sibling(path)
    figure.savefig(temporary, dpi=100, format="png")
    plt.close(figure)
    os.replace(temporary, path)
    return path
