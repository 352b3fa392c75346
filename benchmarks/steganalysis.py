"""Benchmark: how well freshly trained steganalysis detectors tell containers from photos.

Covers are tiles of training photos; each hides another photo of the set, half of them with a
key (a different one each). For every model (and for 4-bit LSB substitution, the sanity check:
a detector that does not find LSB-4 measures nothing) it trains the detectors of
:mod:`deepsteg.steganalysis` (SRM co-occurrences + logistic regression, an XuNet-style CNN with
SRM filters, the chi-square attack) on cover/container pairs, then tests them on pairs they
never saw: held-out photos of the same kind and each test set (``eval/``, the scikit-image
photos), whose union is "another kind". Containers are the uint8 images the hide network
writes. Prints a table and a one-line summary; ``--json`` keeps every number (``detector_accuracy``
and ``detector_auc``: the best detector on photos of another kind against the first model),
``--roc`` draws the ROC curves.

Examples:
    python benchmarks/steganalysis.py --json docs/steganalysis.json --roc docs/images/steganalysis_roc.png
    python benchmarks/steganalysis.py --models fast --train-pairs 60 --heldout-pairs 20 --cnn-minutes 1
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

from deepsteg import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED_IMAGES = ROOT.parent / "shared" / "data" / "images"
OTHER_KIND = "other_kind"


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "fast"], help="shipped model names or model paths (the first gives detector_accuracy)")
    parser.add_argument("--train-dir", type=pathlib.Path, default=SHARED_IMAGES / "train" / "imagenet",
                        help="photos for the training pairs and the held-out pairs of the same kind")
    parser.add_argument("--test-sets", nargs="+", default=[f"eval={SHARED_IMAGES / 'eval'}", "skimage"],
                        help="LABEL=FOLDER photo sets of another kind; 'skimage' is scikit-image's photos")
    parser.add_argument("--train-pairs", type=int, default=350, help="cover/container pairs to train each detector on")
    parser.add_argument("--heldout-pairs", type=int, default=100, help="pairs from unseen photos of the training kind")
    parser.add_argument("--size", type=int, default=224, help="side of the square tiles")
    parser.add_argument("--tiles-per-photo", type=int, default=4, help="most tiles taken from one photo")
    parser.add_argument("--detectors", nargs="+", default=["srm", "cnn", "chi2"], help="which detectors (srm, cnn, chi2)")
    parser.add_argument("--cnn-minutes", type=float, default=6.0, help="training time of each CNN detector (whole epochs, at least one)")
    parser.add_argument("--no-lsb", action="store_true", help="skip the LSB-4 sanity check")
    parser.add_argument("--keyed-share", type=float, default=0.5, help="share of the pairs hidden with a key")
    parser.add_argument("--seed", type=int, default=1, help="random seed (photo order, pairing, keys, detector training)")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write every number here")
    parser.add_argument("--roc", type=pathlib.Path, default=None, help="draw the ROC curves (photos of another kind) to this PNG")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def test_folders(entries) -> dict[str, list[pathlib.Path]]:
    """Photo paths of each ``--test-sets`` entry, by label."""
    from deepsteg import samples
    from deepsteg.imageio import list_images

    sets = {}
    for entry in entries:
        if entry == "skimage":
            sets["skimage"] = samples.skimage_photos()
            continue
        label, folder = cli.labelled(entry, "test set")
        if not folder.is_dir():
            raise cli.CliError(f"test set {label}: no folder {folder}")
        sets[label] = list_images([folder])
    return sets


def paired(covers, rng):
    """Secrets for the covers: each cover hides another tile of the same set."""
    import numpy as np

    order = rng.permutation(len(covers))
    secrets = covers.copy()
    secrets[order] = covers[np.roll(order, -1)]
    return secrets


def build_sets(args, rng):
    """Cover tiles: 'train', 'heldout' (same kind) and each test set."""
    from deepsteg.imageio import list_images
    from deepsteg.steganalysis import photo_tiles

    if not args.train_dir.is_dir():
        raise cli.CliError(f"no training photos: {args.train_dir} is not a folder (pass --train-dir)")
    paths = list_images([args.train_dir])
    paths = [paths[index] for index in rng.permutation(len(paths))]
    wanted = args.train_pairs + args.heldout_pairs
    covers = photo_tiles(paths, args.size, args.tiles_per_photo, wanted)
    if len(covers) < wanted:
        raise cli.CliError(f"{args.train_dir} gives {len(covers)} tiles of {args.size}x{args.size}, fewer than "
                           f"--train-pairs + --heldout-pairs = {wanted}")
    sets = {"train": covers[:args.train_pairs], "heldout": covers[args.train_pairs:]}
    for label, photos in test_folders(args.test_sets).items():
        sets[label] = photo_tiles(photos, args.size, args.tiles_per_photo)
    return {label: (tiles, paired(tiles, rng)) for label, tiles in sets.items()}


def containers_for(method, covers, secrets, keys, progress):
    from deepsteg import cipher, evaluation, steganalysis

    if method == "lsb4":
        progress.update(len(covers))
        return evaluation.lsb_hide(secrets, covers)
    return steganalysis.hide_all(method, secrets, covers, keys, cipher.DEFAULT_BLOCK_SIZE, progress=progress)


def evaluate_method(label, method, sets, keys, args, progress):
    """Containers of every set for one model (or LSB-4), then every detector trained and tested."""
    import numpy as np

    from deepsteg import metrics, steganalysis

    containers = {}
    for name, (covers, secrets) in sets.items():
        progress.set_description(f"{label}: hiding {name}")
        containers[name] = containers_for(method, covers, secrets, keys[name], progress)
    train_covers = sets["train"][0]
    quality = {name: float(np.mean([metrics.psnr(c, s) for c, s in zip(sets[name][0], containers[name])])) for name in sets}
    result = {"cover_psnr": quality, "detectors": {}}
    other = [name for name in sets if name not in ("train", "heldout")]
    for detector_name in args.detectors:
        progress.set_description(f"{label}: training {detector_name}")
        start = time.perf_counter()
        detector = steganalysis.make_detector(detector_name, args.cnn_minutes).fit(train_covers, containers["train"], args.seed)
        seconds = time.perf_counter() - start
        tests = {}
        scored = {}
        for name in [n for n in sets if n != "train"]:
            cover_scores, container_scores = detector.scores(sets[name][0]), detector.scores(containers[name])
            scored[name] = (cover_scores, container_scores)
            keyed = np.array([key is not None for key in keys[name]])
            summary = steganalysis.scores_summary(cover_scores, container_scores)
            summary["keyed_detected"] = float((container_scores[keyed] >= 0.5).mean()) if keyed.any() else None
            summary["unkeyed_detected"] = float((container_scores[~keyed] >= 0.5).mean()) if (~keyed).any() else None
            summary["false_alarms"] = float((cover_scores >= 0.5).mean())
            tests[name] = summary
        if other:
            tests[OTHER_KIND] = steganalysis.scores_summary(np.concatenate([scored[name][0] for name in other]),
                                                            np.concatenate([scored[name][1] for name in other]))
        result["detectors"][detector_name] = {"train_seconds": round(seconds, 1), "tests": tests,
                                              **({"epochs": detector.epochs} if hasattr(detector, "epochs") else {})}
    return result


def best(result, test=OTHER_KIND):
    """(detector name, accuracy, auc) of the most accurate detector on ``test``."""
    rows = [(name, values["tests"][test]["accuracy"], values["tests"][test]["auc"]) for name, values in result["detectors"].items()
            if test in values["tests"]]
    return max(rows, key=lambda row: (row[1], row[2])) if rows else (None, float("nan"), float("nan"))


def plot_roc(path, results, force):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepsteg.reports import save_figure

    figure, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 4.2), squeeze=False)
    for axis, (label, result) in zip(axes[0], results.items()):
        for name, values in result["detectors"].items():
            test = values["tests"].get(OTHER_KIND) or values["tests"]["heldout"]
            points = list(zip(*test["roc"]))
            axis.plot(points[0], points[1], label=f"{name} (acc {test['accuracy']:.2f}, AUC {test['auc']:.3f})")
        axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        axis.set(title=f"{label}: cover {result['cover_psnr'].get('heldout', float('nan')):.1f} dB", xlabel="false positive rate",
                 ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
        axis.legend(loc="lower right", fontsize=8)
    figure.suptitle("Freshly trained detectors on photos of another kind")
    figure.tight_layout()
    return save_figure(figure, path, force)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    for name in ("train_pairs", "heldout_pairs", "size", "tiles_per_photo", "cnn_minutes"):
        cli.positive(name, getattr(args, name))
    if args.size < 32:
        raise cli.CliError("--size must be at least 32")
    if not 0 <= args.keyed_share <= 1:
        raise cli.CliError(f"--keyed-share must be in [0, 1], got {args.keyed_share}")
    unknown = set(args.detectors) - {"srm", "cnn", "chi2"}
    if unknown:
        raise cli.CliError(f"unknown detector {sorted(unknown)[0]!r}; choose from srm, cnn, chi2")
    for path in (args.json, args.roc):
        if path is not None:
            cli.check_output(path, args.force)
    import numpy as np
    from tqdm import tqdm

    from deepsteg import inference, steganalysis

    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    networks = {model: inference.load_network(model, "hide", engine="auto") for model in args.models}
    sets = build_sets(args, rng)
    keys = {name: steganalysis.keys_for(len(covers), args.keyed_share, args.seed + index) for index, (name, (covers, _)) in enumerate(sets.items())}
    methods = {str(model): network for model, network in networks.items()}
    if not args.no_lsb:
        methods["lsb4"] = "lsb4"
    results = {}
    total = sum(len(covers) for covers, _ in sets.values()) * len(methods)
    with tqdm(total=total, unit="pair", desc="steganalysis", disable=None, dynamic_ncols=True) as progress:
        for label, method in methods.items():
            results[label] = evaluate_method(label, method, sets, keys, args, progress)
    print(f"{'containers':<12} {'detector':<8} {'cover dB':>8} " + " ".join(f"{name:>17}" for name in [n for n in sets if n != "train"] + [OTHER_KIND]))
    for label, result in results.items():
        for name, values in result["detectors"].items():
            cells = [f"{values['tests'][test]['accuracy'] * 100:7.1f}% / {values['tests'][test]['auc']:.3f}" if test in values["tests"] else f"{'-':>17}"
                     for test in [n for n in sets if n != "train"] + [OTHER_KIND]]
            print(f"{label:<12} {name:<8} {result['cover_psnr']['heldout']:8.2f} " + " ".join(f"{cell:>17}" for cell in cells))
    first = str(args.models[0])
    test = OTHER_KIND if any(OTHER_KIND in values["tests"] for values in results[first]["detectors"].values()) else "heldout"
    name, accuracy, auc = best(results[first], test)
    data = {"detector_accuracy": accuracy, "detector_auc": auc, "best_detector": name, "measured_on": test,
            "lsb4_detector_accuracy": best(results["lsb4"], test)[1] if "lsb4" in results else None,
            "pairs": {label: len(covers) for label, (covers, _) in sets.items()},
            "results": results, "settings": {key: str(value) if isinstance(value, pathlib.Path) else value for key, value in vars(args).items()
                                             if key not in ("json", "roc", "force")},
            "seconds": round(time.perf_counter() - start, 1)}
    if args.json is not None:
        from deepsteg.files import write_text

        write_text(args.json, json.dumps(data, indent=1) + "\n", force=args.force)
    if args.roc is not None:
        plot_roc(args.roc, results, args.force)
    others = ", ".join(f"{label} {best(result, test)[1] * 100:.1f}%" for label, result in results.items() if label != first)
    print(f"summary: {first} containers detected at {accuracy * 100:.1f}% (AUC {auc:.3f}, {name}) on {test.replace('_', ' ')}"
          f"{'; ' + others if others else ''}; {data['pairs']['train']} training pairs; {data['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
