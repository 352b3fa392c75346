"""Benchmark: training pairs per second the input pipeline delivers, by worker threads and caching.

Times :class:`deepsteg.data.PairDataset` batches (half the secrets block-scrambled, as
``train.py`` does by default) fetched from ``--workers`` threads at once (what
``keras.utils.PyDataset`` does with ``workers=N``), without a network, to see what a GPU run
needs: the default model trains at thousands of 128x128 pairs per second on one H100, far more
than one thread decodes JPEGs. Each setting reads ``--batches`` batches (after as many to fill the
cache, when caching). Ends with a one-line summary.

Example:
    python benchmarks/input_pipeline.py --photos ../shared/data/images/train --image-size 128 --batch-size 32
"""

from __future__ import annotations

import pathlib
import sys
import time

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--photos", type=pathlib.Path, default=None, help="training photo folder (default: scikit-image's photos)")
    parser.add_argument("--image-size", type=int, default=128, help="side of the training crops")
    parser.add_argument("--batch-size", type=int, default=32, help="pairs per batch")
    parser.add_argument("--batches", type=int, default=40, help="batches timed per setting")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8], help="thread counts to measure")
    return parser.parse_args(argv)


def pairs_per_second(dataset, workers: int, batches: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        for _ in pool.map(dataset.__getitem__, range(batches)):
            pass
        return batches * dataset.batch_size / (time.perf_counter() - start)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    for name in ("image_size", "batch_size", "batches"):
        cli.positive(name, getattr(args, name))
    for workers in args.workers:
        cli.positive("workers", workers)
    folder = args.photos
    if folder is None:
        from deepsteg import samples

        folder = samples.skimage_photo_folder()
    from deepsteg.data import RandomScrambling, PairDataset

    results, files = {}, 0
    print(f"{'workers':>8}{'cache':>7}{'pairs/s':>10}")
    for cache in (False, True):
        for workers in args.workers:
            dataset = PairDataset(folder, args.image_size, args.batch_size, args.batches, seed=0, cache=cache,
                                  scrambler=RandomScrambling(0.5))
            if cache:
                pairs_per_second(dataset, workers, args.batches)  # fills the cache
                dataset.on_epoch_end()
            rate = pairs_per_second(dataset, workers, args.batches)
            results[(workers, cache)], files = rate, len(dataset.files)
            print(f"{workers:>8}{'yes' if cache else 'no':>7}{rate:>10.0f}", flush=True)
    (best_workers, best_cache), best = max(results.items(), key=lambda item: item[1])
    print(f"summary: {files} photos, {args.image_size}x{args.image_size} crops; best "
          f"{best:.0f} pairs/s with {best_workers} workers{' and caching' if best_cache else ''}; one worker without cache "
          f"{results[(args.workers[0], False)]:.0f} pairs/s")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
