"""Benchmark: training throughput (through the real PyDataset pipeline) and inference speed.

Prints images/second for training and frames/second for hide + reveal at a video resolution.

Example:
    python benchmarks/speed.py --preset unshuffled --batch-size 8 --image-size 64 --steps 20
    python benchmarks/speed.py --no-malloc-fix        # shows the cost of TensorFlow's malloc patch
    python benchmarks/speed.py --dtype-policy mixed_bfloat16   # fast only where the hardware has bf16 units
"""

from __future__ import annotations

import pathlib
import sys
import time


from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--photos", type=pathlib.Path, default=None, help="training photo folder (default: scikit-image's photos)")
    parser.add_argument("--preset", default="unshuffled", help="network preset")
    parser.add_argument("--batch-size", type=int, default=4, help="training batch size")
    parser.add_argument("--image-size", type=int, default=64, help="training crop size")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps (after 3 warm-up steps)")
    parser.add_argument("--frame-size", default="176x144", help="WIDTHxHEIGHT of the inference benchmark")
    parser.add_argument("--frames", type=int, default=16, help="frames in the inference benchmark")
    parser.add_argument("--dtype-policy", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"],
                        help="Keras dtype policy of the networks (the two outputs stay float32)")
    parser.add_argument("--no-malloc-fix", action="store_true", help="leave TensorFlow's malloc patch in place")
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    folder = args.photos
    if folder is None:
        from deepsteg import samples

        folder = samples.skimage_photo_folder()
    from deepsteg.training import global_dtype_policy

    with global_dtype_policy(args.dtype_policy):
        return measure(args, folder)


def measure(args, folder):
    """Times training steps and hide + reveal under the dtype policy already set."""
    import keras
    import numpy as np

    from deepsteg import inference, training
    from deepsteg.data import PairDataset
    from models import split_steg_model

    model = training.new_model(args.preset, 0.75, 0.01, True, 1e-3)
    data = PairDataset(folder, args.image_size, args.batch_size, args.steps + 3, seed=0)

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.start = time.perf_counter()

    timer = Timer()
    callbacks = [timer] if args.no_malloc_fix else [training.RestoreMallocThresholds(), timer]
    model.fit(data, epochs=1, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - timer.start
    train_rate = args.steps * args.batch_size / seconds
    width, height = (int(v) for v in args.frame_size.split("x"))
    hide_network, reveal_network = split_steg_model(model)
    frames = np.random.default_rng(0).integers(0, 256, (args.batch_size, height, width, 3), dtype=np.uint8)
    inference.reveal(reveal_network, inference.hide(hide_network, frames, frames))
    start = time.perf_counter()
    for _ in range(max(1, args.frames // args.batch_size)):
        inference.reveal(reveal_network, inference.hide(hide_network, frames, frames))
    frame_rate = max(1, args.frames // args.batch_size) * args.batch_size / (time.perf_counter() - start)
    print(f"backend {keras.backend.backend()}, preset {args.preset}, {args.dtype_policy}: training {train_rate:.2f} images/s "
          f"({args.image_size}x{args.image_size}, batch {args.batch_size}, malloc fix {'off' if args.no_malloc_fix else 'on'}); "
          f"hide+reveal {frame_rate:.2f} frames/s at {width}x{height}")
    return {"train_images_per_second": train_rate, "frames_per_second": frame_rate}


if __name__ == "__main__":
    main(sys.argv[1:])
