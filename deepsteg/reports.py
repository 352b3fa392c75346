"""CSV reports and per-frame plots (matplotlib), written atomically."""

from __future__ import annotations

import csv
import io
import pathlib

from deepsteg.files import check_output_path, write_text, write_through_temporary


def write_csv(path, rows: list[dict], force: bool = False) -> pathlib.Path:
    """Writes a list of dicts as CSV (columns from the first rows that have them), atomically."""
    path = check_output_path(path, force)
    if not rows:
        raise ValueError(f"nothing to write to {path}")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: f"{value:.6g}" if isinstance(value, float) else value for key, value in row.items()})
    return write_text(path, text.getvalue(), force)


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
    figure.suptitle(title)
    return _save_figure(figure, (psnr_axis, ssim_axis), "frame", path, force)


def plot_error_histogram(path, reference, test, title: str, force: bool = False) -> pathlib.Path:
    """Plots the histogram of pixel errors ``test - reference`` (0-255, log counts) to a PNG:
    the video paper's graph of the noise between originals and outputs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = check_output_path(path, force)
    errors = np.asarray(test, dtype=np.int16) - np.asarray(reference, dtype=np.int16)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.hist(errors.ravel(), bins=np.arange(-20.5, 21.5), log=True, color="tab:blue")
    axis.set_xlabel("pixel error (0-255)")
    axis.set_ylabel("pixels")
    axis.set_title(f"{title}: mean |error| {np.abs(errors).mean():.2f}, max {np.abs(errors).max()}")
    return save_figure(figure, path, force)


def save_figure(figure, path, force: bool = False) -> pathlib.Path:
    """Saves a matplotlib figure as PNG through a checked temporary file, and closes it."""
    import matplotlib.pyplot as plt

    try:
        figure.tight_layout()
        return write_through_temporary(path, lambda handle: figure.savefig(handle, dpi=100, format="png"), force)
    finally:
        plt.close(figure)


def _save_figure(figure, axes, x_label, path, force: bool = False) -> pathlib.Path:
    """Labels and grids the axes, then saves the figure (:func:`save_figure`)."""
    for axis in axes:
        axis.set_xlabel(x_label)
        axis.grid(alpha=0.3)
        axis.legend()
    return save_figure(figure, path, force)


def plot_training_curves(csv_path, path) -> pathlib.Path | None:
    """Plots losses and PSNRs per epoch from a Keras CSV log (train and validation); None if empty."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return None
    epochs = [int(row["epoch"]) + 1 for row in rows]
    has_ssim = "val_container_ssim" in rows[0]
    figure, axes = plt.subplots(1, 3 if has_ssim else 2, figsize=(18 if has_ssim else 12, 4))
    loss_axis, psnr_axis = axes[0], axes[1]
    curves = [("loss", loss_axis), ("val_loss", loss_axis)]
    for output in ("container", "revealed"):
        curves += [(f"{output}_psnr", psnr_axis), (f"val_{output}_psnr", psnr_axis)]
        if has_ssim:
            curves += [(f"{output}_ssim", axes[2]), (f"val_{output}_ssim", axes[2])]
    for key, axis in curves:
        if key in rows[0]:
            axis.plot(epochs, [float(row[key]) for row in rows], label=key.replace("container", "cover").replace("revealed", "secret"))
    loss_axis.set_yscale("log")
    loss_axis.set_ylabel("loss")
    psnr_axis.set_ylabel("PSNR (dB, float tensors)")
    if has_ssim:
        axes[2].set_ylabel("SSIM (float tensors)")
    return _save_figure(figure, tuple(axes), "epoch", path, force=True)  # the run's own plot, redrawn every time


def plot_run_comparison(runs: dict, path, force: bool = False, parents: dict | None = None, clock: str = "wall") -> pathlib.Path:
    """Validation cover and secret PSNR (and SSIM, where logged) of training runs against time.

    Args:
        runs: ``{label: training.csv path}`` of Keras CSV logs written by ``train.py`` (they carry
            ``epoch_seconds``, so runs of different speeds are compared at equal wall-clock time).
        path: the PNG to write.
        force: overwrite ``path`` if it exists.
        parents: ``{label: parent label}`` for fine-tunes (``train.py --init-from``): such a run's
            curve starts where its parent's ended, so a chain of stages reads as one timeline.
        clock: ``wall`` (``epoch_seconds``) or ``cpu`` (``epoch_cpu_seconds``: the CPU time of the
            run's own process, which compares runs that shared a machine fairly).

    Raises:
        ValueError: a log without ``epoch_seconds``, or a parent that is not among ``runs`` or
            that forms a cycle.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parents = dict(parents or {})
    for child, parent in parents.items():
        if child not in runs or parent not in runs:
            raise ValueError(f"fine-tune {child!r} of {parent!r}: both must be among the runs {sorted(runs)}")
    check_output_path(path, force)
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be wall or cpu, got {clock!r}")
    column = "epoch_seconds" if clock == "wall" else "epoch_cpu_seconds"
    logs = {}
    for label, csv_path in runs.items():
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or column not in rows[0]:
            raise ValueError(f"{csv_path}: not a train.py log with {column} (older logs have no CPU time)")
        logs[label] = rows

    def start_hours(label, seen=()):
        if label not in parents:
            return 0.0
        if label in seen:
            raise ValueError(f"fine-tune chain of {label!r} forms a cycle")
        parent = parents[label]
        return start_hours(parent, seen + (label,)) + sum(float(row[column]) for row in logs[parent]) / 3600

    with_ssim = any(rows[0].get("val_container_ssim") for rows in logs.values())
    figure, axes = plt.subplots(2 if with_ssim else 1, 2, figsize=(12, 8 if with_ssim else 4), squeeze=False)
    panels = [("val_container_psnr", "validation cover PSNR (dB)"), ("val_revealed_psnr", "validation secret PSNR (dB)")]
    if with_ssim:
        panels += [("val_container_ssim", "validation cover SSIM"), ("val_revealed_ssim", "validation secret SSIM")]
    for label, rows in logs.items():
        hours, elapsed = [], start_hours(label)
        for row in rows:
            elapsed += float(row[column]) / 3600
            hours.append(elapsed)
        for axis, (metric, _) in zip(axes.flat, panels):
            if rows[0].get(metric):
                axis.plot(hours, [float(row[metric]) for row in rows], marker=".", label=label)
    for axis, (_, title) in zip(axes.flat, panels):
        axis.set_ylabel(title)
    return _save_figure(figure, tuple(axes.flat), "training time (hours)" if clock == "wall" else "training CPU time (CPU-hours)",
                        path, force)
