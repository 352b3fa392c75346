"""Train the joint prep/hide/reveal steganography model (Baluja, NIPS 2017).

Example:
    python train.py --train-dirs ../shared/data/images/train --val-dirs ../shared/data/images/val
    KERAS_BACKEND=jax python train.py ... --resume
"""

from __future__ import annotations

import pathlib
import sys
import time

from deepsteg import cli

DEFAULT_TRAIN = [pathlib.Path("dataset/train_data/train")]
DEFAULT_VAL = [pathlib.Path("dataset/val_data/validation")]


# On --resume, options not written on the command line are taken from the run's run_config.json:
# the data and schedule options (so that a resumed run trains on what it started on), and the
# options the checkpoint itself holds (network, loss, learning-rate schedule), which cannot change.
RESUMED_OPTIONS = ("train_dirs", "val_dirs", "image_size", "val_image_size", "batch_size", "epochs", "steps_per_epoch",
                   "val_steps", "scramble_fraction", "scramble_block_size", "seed", "clip_norm")
CHECKPOINT_OPTIONS = ("preset", "beta", "ssim_weight", "edge_weight", "noise", "no_quantize", "lr", "lr_schedule", "warmup_steps", "dtype_policy",
                      "adversarial_weight")


def build_parser():
    """The options; their defaults are the first stage of the default model's recipe (``deepsteg.zoo``)."""
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--train-dirs", nargs="+", type=pathlib.Path, default=DEFAULT_TRAIN, help="training image folders (recursive)")
    parser.add_argument("--val-dirs", nargs="+", type=pathlib.Path, default=DEFAULT_VAL, help="validation image folders (recursive)")
    parser.add_argument("--image-size", type=int, default=64, help="side of the square training crops")
    parser.add_argument("--val-image-size", type=int, default=None, help="side of the validation centre crops (default: --image-size)")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per training step")
    parser.add_argument("--epochs", type=int, default=24, help="epochs to train in total (a resumed run continues up to this)")
    parser.add_argument("--steps-per-epoch", type=int, default=500, help="training steps per epoch")
    parser.add_argument("--val-steps", type=int, default=25, help="validation batches per epoch (fixed pairs)")
    from models import PRESETS

    parser.add_argument("--preset", default="invertible",
                        help="network preset: invertible (HiNet-style, the shipped model's; train it at --lr 2e-4 or less), "
                             + ", ".join(name for name in PRESETS if name != "invertible" and not name.startswith("tiny"))
                             + "; for tests: " + ", ".join(name for name in PRESETS if name.startswith("tiny")))
    parser.add_argument("--beta", type=float, default=0.5, help="weight of the secret loss")
    parser.add_argument("--ssim-weight", type=float, default=0.015,
                        help="add this weight times (1 - SSIM) to the cover and secret MSE terms (0: the paper's MSE loss)")
    parser.add_argument("--edge-weight", type=float, default=0.0,
                        help="extra weight of the secret's errors on its outer two rows and columns (keeps the revealed edges as good as the rest)")
    parser.add_argument("--adversarial-weight", type=float, default=0.0,
                        help="weight of a steganalysis CNN's loss on the containers; the CNN is retrained against them between steps "
                             "(0: none; fine-tune a trained model with it through --init-from)")
    parser.add_argument("--noise", type=float, default=0.004, help="std-dev of Gaussian noise on the container in training ([0,1] scale)")
    parser.add_argument("--scramble-fraction", type=float, default=0.5, help="share of training secrets block-scrambled with random keys (keeps --key quality)")
    parser.add_argument("--scramble-block-size", type=int, default=cli.DEFAULT_BLOCK_SIZE, help="block size of that scrambling")
    parser.add_argument("--no-quantize", action="store_true", help="do not round the container to 8-bit steps in training")
    parser.add_argument("--lr", type=float, default=2e-4, help="peak learning rate (Adam)")
    parser.add_argument("--clip-norm", type=float, default=0.5,
                        help="clip gradients to this global L2 norm (may change on --resume to rescue a run)")
    parser.add_argument("--lr-schedule", default="cosine", choices=["constant", "exponential", "cosine"], help="learning-rate decay")
    parser.add_argument("--warmup-steps", type=int, default=300, help="linear warm-up steps (cosine only)")
    parser.add_argument("--checkpoint-dir", type=pathlib.Path, default=pathlib.Path("checkpoints/run"), help="where checkpoints go")
    parser.add_argument("--log-dir", type=pathlib.Path, default=None, help="CSV, TensorBoard and image logs (default: CHECKPOINT_DIR/logs)")
    parser.add_argument("--resume", nargs="?", const="last", default=None,
                        help="resume from a checkpoint file, or from CHECKPOINT_DIR/last.keras when given alone; options not given "
                             "are the run's own (LOG_DIR/run_config.json)")
    parser.add_argument("--stop-after", type=int, default=None, metavar="EPOCH",
                        help="stop after this epoch of the --epochs schedule (checkpoints written; continue with --resume)")
    parser.add_argument("--recipe", default=None, metavar="NAME",
                        help="run the training recipe of a shipped model (default, fast) or of fast-adversarial stage by stage into runs/NAME/ and split it; "
                             "finished stages are skipped, an interrupted one resumed")
    parser.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                        help="stop after the last epoch that fits in this many minutes (checkpoints written; continue with --resume)")
    parser.add_argument("--dtype-policy", default="float32", choices=["float32", "mixed_bfloat16"],
                        help="compute precision: mixed_bfloat16 computes in bf16 with float32 weights, outputs and loss (for GPUs "
                             "with bf16 units; slow on CPUs without them); checkpoints keep it, inference always runs in float32")
    parser.add_argument("--init-from", type=pathlib.Path, default=None, help="start from these weights with a fresh optimiser and schedule (fine-tuning; same preset)")
    parser.add_argument("--workers", type=int, default=1, help="threads preparing training batches (more on a GPU machine, e.g. 8)")
    parser.add_argument("--cache-images", action="store_true", help="keep the decoded photos in memory (for fast accelerators)")
    from deepsteg.distribute import MODES

    parser.add_argument("--distribute", default="none", choices=MODES,
                        help="data-parallel: every device (JAX: keras.distribution.DataParallel; TensorFlow: MirroredStrategy); "
                             "--batch-size is then the global batch, split over the devices")
    parser.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                        help="JAX across hosts: the address of process 0 (jax.distributed.initialize), with --num-processes and --process-id")
    parser.add_argument("--num-processes", type=int, default=None, help="JAX across hosts: how many processes take part")
    parser.add_argument("--process-id", type=int, default=None, help="JAX across hosts: this process's number, 0 to N-1")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    cli.add_force_flag(parser)
    parser.add_argument("--verbose", type=int, default=1 if sys.stdout.isatty() else 2, help="Keras verbosity: 1 progress bar, 2 one line per epoch")
    return parser


def parse_args(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume:
        inherit_run_options(args, cli.given_options(parser, argv))
    return args


def inherit_run_options(args, given):
    """Completes a resumed run's options from its run_config.json (see RESUMED_OPTIONS)."""
    from deepsteg import training

    log_dir = args.log_dir or args.checkpoint_dir / "logs"
    previous = training.previous_run_config(log_dir)
    if previous is None:
        print(f"note: no run_config.json in {log_dir}; options not given take their defaults")
        return
    for name in CHECKPOINT_OPTIONS:
        if name in given and name in previous and getattr(args, name) != previous[name]:
            raise cli.CliError(f"--{name.replace('_', '-')} cannot change on --resume (the checkpoint has "
                               f"{previous[name]}); fine-tune with --init-from instead")
    taken = []
    for name in RESUMED_OPTIONS + CHECKPOINT_OPTIONS:
        if name not in given and name in previous:
            value = previous[name]
            if name in ("train_dirs", "val_dirs"):
                value = [pathlib.Path(folder) for folder in value]
            if value != getattr(args, name):
                taken.append(f"--{name.replace('_', '-')} {' '.join(map(str, value)) if isinstance(value, list) else value}")
            setattr(args, name, value)
    if taken:
        print(f"resuming with the run's own {', '.join(taken)} ({log_dir / 'run_config.json'})")


def run_recipe(name: str, argv) -> int:
    """Runs a shipped model's recipe (:mod:`deepsteg.zoo`): each stage a ``train.py`` or
    ``split_model.py`` command, in a process of its own; a stage whose log already has all its
    epochs is skipped, one cut short is resumed."""
    import shlex
    import subprocess

    from deepsteg import zoo

    if [item for item in argv if item not in ("--recipe", name)]:
        raise cli.CliError("--recipe takes no other options (the recipe holds them all)")
    commands = zoo.recipe(name)
    for number, command in enumerate(commands, 1):
        script, *options = shlex.split(command)
        if script == "train.py":
            stage = parse_args(options)
            log = (stage.log_dir or stage.checkpoint_dir / "logs") / "training.csv"
            done = log.read_text().count("\n") - 1 if log.is_file() else 0
            wanted = min(stage.epochs, stage.stop_after or stage.epochs)
            if done >= wanted:
                print(f"stage {number}/{len(commands)} already done ({done} epochs in {log})")
                continue
            if done and not stage.resume:
                options = ["--checkpoint-dir", str(stage.checkpoint_dir), "--resume", "--epochs", str(stage.epochs)]
                if stage.stop_after:
                    options += ["--stop-after", str(stage.stop_after)]
        print(f"stage {number}/{len(commands)}: python {script} {shlex.join(options)}", flush=True)
        code = subprocess.call([sys.executable, str(cli.REPOSITORY / script), *options])
        if code:
            raise cli.CliError(f"stage {number} ({script}) failed with exit code {code}; run train.py --recipe {name} again to resume")
    print(f"summary: recipe {name!r} done, {len(commands)} stages")
    return 0


@cli.run_main
def main(argv):
    args = parse_args(argv)
    if args.recipe is not None:
        return run_recipe(args.recipe, argv)
    cli.positive("stop_after", args.stop_after)
    for name in ("image_size", "batch_size", "epochs", "steps_per_epoch", "val_steps", "lr", "workers", "time_limit", "clip_norm"):
        cli.positive(name, getattr(args, name))
    import keras

    from deepsteg import training
    from deepsteg.data import PairDataset, RandomScrambling
    from models import get_preset

    get_preset(args.preset)
    log_dir = args.log_dir or args.checkpoint_dir / "logs"
    if not args.resume and not args.force and ((args.checkpoint_dir / training.LAST_CHECKPOINT).exists()
                                               or (log_dir / "training.csv").exists()):
        raise cli.CliError(f"{args.checkpoint_dir} already holds a training run: continue it with --resume, or pass --force to "
                           f"start a new one there (its last.keras and logs are replaced)")
    from deepsteg import distribute

    parallel = distribute.setup(args.distribute, args.batch_size, args.coordinator, args.num_processes, args.process_id)
    if args.distribute != "none":
        print(parallel.describe(args.batch_size))
    keras.utils.set_random_seed(args.seed)
    cli.positive("scramble_block_size", args.scramble_block_size)
    for name in ("image_size", "val_image_size"):
        if (getattr(args, name) or args.image_size) < 16:
            raise cli.CliError(f"--{name.replace('_', '-')} must be at least 16 (the logged SSIM uses an 11x11 window)")
    for name in ("ssim_weight", "edge_weight", "adversarial_weight"):
        if getattr(args, name) < 0:
            raise cli.CliError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    if args.resume:
        resume_path = training.find_resume_checkpoint(args.checkpoint_dir) if args.resume == "last" else pathlib.Path(args.resume)
        if resume_path is None:
            raise cli.CliError(f"nothing to resume: no {training.LAST_CHECKPOINT} in {args.checkpoint_dir}")
    scrambler = RandomScrambling(args.scramble_fraction, args.scramble_block_size, seed=args.seed) if args.scramble_fraction else None
    if parallel.process_index > 0:  # process 0 writes the checkpoints and logs; the others keep theirs aside
        import tempfile

        args.checkpoint_dir = pathlib.Path(tempfile.mkdtemp(prefix=f"train-process-{parallel.process_index}-"))
        log_dir = args.checkpoint_dir / "logs"
    shard = (parallel.process_index, parallel.process_count)
    train_data = PairDataset(args.train_dirs, args.image_size, args.batch_size, args.steps_per_epoch, augment=True, seed=args.seed,
                             scrambler=scrambler, cache=args.cache_images, shard=shard, workers=args.workers)
    val_data = PairDataset(args.val_dirs, args.val_image_size or args.image_size, args.batch_size, args.val_steps, augment=False, seed=12345,
                           cache=args.cache_images, shard=shard)
    with parallel.scope():
        return _train(args, train_data, val_data, log_dir, resume_path if args.resume else None, parallel)


def _train(args, train_data, val_data, log_dir, resume_path, parallel):
    """Builds or loads the model and fits it (inside the data-parallel scope, if any)."""
    import keras

    from deepsteg import training

    total_steps = args.epochs * args.steps_per_epoch
    initial_epoch = 0
    if args.resume:
        model = training.load_model(resume_path, compile=True)
        if args.clip_norm is not None:
            training.set_clip_norm(model, args.clip_norm)
        old_length = training.fit_schedule(model, args.lr_schedule, args.lr, total_steps, args.warmup_steps)
        if old_length is not None:
            print(f"the learning-rate schedule now runs over {total_steps} steps ({args.epochs} epochs; it was made for {old_length})")
        initial_epoch = int(keras.ops.convert_to_numpy(model.optimizer.iterations)) // args.steps_per_epoch
        print(f"resuming from {resume_path} at epoch {initial_epoch} (step {initial_epoch * args.steps_per_epoch})")
        train_data.start_at_epoch(initial_epoch)  # new crops and pairs, not a replay of the first epochs
        if initial_epoch >= args.epochs:
            raise cli.CliError(f"{resume_path} already trained {initial_epoch} epochs; raise --epochs above that")
    else:
        schedule = training.learning_rate_schedule(args.lr_schedule, args.lr, total_steps, args.warmup_steps)
        model = training.new_model(args.preset, args.beta, args.noise, not args.no_quantize, schedule, args.ssim_weight,
                                   args.clip_norm, args.dtype_policy, args.edge_weight, args.adversarial_weight)
        if args.init_from is not None:
            training.copy_weights(training.load_model(args.init_from, compile=False), model)
            print(f"initialised from {args.init_from}")
    training.write_run_config(log_dir, {**vars(args), "backend": keras.backend.backend(), "devices": parallel.devices,
                                        "processes": parallel.process_count, "train_images": len(train_data.files),
                                        "val_images": len(val_data.files), "started": time.strftime("%Y-%m-%d %H:%M:%S")})
    print(f"training on {len(train_data.files)} images, validating on {len(val_data.files)}; backend {keras.backend.backend()}, "
          f"preset {args.preset}, {model.count_params():,} parameters, {args.dtype_policy}")
    callbacks = training.callbacks_for(args.checkpoint_dir, log_dir, val_data, args.batch_size, args.steps_per_epoch, bool(args.resume))
    if training.detector_penalty(model) is not None:  # first, so that its logs reach the CSV
        callbacks.insert(0, training.AdversaryTraining(train_data, seed=args.seed))
    time_limit = None
    if args.time_limit is not None:
        time_limit = training.TimeLimit(args.time_limit * 60)
        callbacks.append(time_limit)
    start = time.perf_counter()
    last_epoch = min(args.epochs, args.stop_after) if args.stop_after else args.epochs
    if initial_epoch >= last_epoch:
        raise cli.CliError(f"the run is already at epoch {initial_epoch}, not before --stop-after {args.stop_after}")
    history = model.fit(train_data, validation_data=val_data, epochs=last_epoch, initial_epoch=initial_epoch,
                        callbacks=callbacks, verbose=args.verbose)
    from deepsteg.reports import plot_training_curves

    plot_training_curves(log_dir / "training.csv", log_dir / "training_curves.png")
    logs = {key: values[-1] for key, values in history.history.items()}
    hours = (time.perf_counter() - start) / 3600
    if training.diverged(logs):
        last = args.checkpoint_dir / training.LAST_CHECKPOINT
        advice = (f"{last} keeps the last finite epoch: fine-tune from it with --init-from and a lower --lr" if last.is_file()
                  else "no checkpoint was written: start again with a lower --lr")
        raise cli.CliError(f"training diverged (NaN or infinite loss) in epoch {history.epoch[-1] + 1}; {advice}")
    if last_epoch < args.epochs:
        print(f"stopped after epoch {last_epoch} of {args.epochs} (--stop-after); continue with --resume")
    elif time_limit is not None and time_limit.stopped_epoch is not None and time_limit.stopped_epoch + 1 < args.epochs:
        print(f"stopped at the time limit after epoch {time_limit.stopped_epoch + 1} of {args.epochs}; "
              f"continue with --resume")
    print(f"done: {len(history.epoch)} epochs in {hours:.2f} h; val_loss {logs.get('val_loss', float('nan')):.5f}, "
          f"val cover PSNR {logs.get('val_container_psnr', float('nan')):.2f} dB, val secret PSNR {logs.get('val_revealed_psnr', float('nan')):.2f} dB "
          f"(float tensors; run eval.py for uint8 numbers)")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
