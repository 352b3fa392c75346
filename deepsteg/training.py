"""Training of the joint steganography model: optimiser, schedule, callbacks, resuming."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import pathlib
import time

import keras
import numpy as np

from deepsteg import losses, metrics
from deepsteg.files import place, temporary_sibling, write_text
from deepsteg.imageio import write_image
from models import DetectorPenalty, build_detector, build_steg_model, split_steg_model

DETECTOR_WIDTH = 8
DETECTOR_LEARNING_RATE = 1e-3
CHECKPOINT_PATTERN = "steg_model-{epoch:02d}-{val_loss:.4f}.keras"
LAST_CHECKPOINT = "last.keras"


def learning_rate_schedule(kind: str, learning_rate: float, total_steps: int, warmup_steps: int = 0):
    """The learning rate or a serialisable ``LearningRateSchedule``.

    Args:
        kind: ``constant``, ``exponential`` (halves every ``total_steps / 4``) or ``cosine``
            (linear warm-up to ``learning_rate`` over ``warmup_steps``, cosine decay to 1% after
            ``total_steps``).
    """
    schedules = keras.optimizers.schedules
    if kind == "constant":
        return learning_rate
    if kind == "exponential":
        return schedules.ExponentialDecay(learning_rate, decay_steps=max(1, total_steps // 4), decay_rate=0.5)
    if kind == "cosine":
        if warmup_steps > 0:
            return schedules.CosineDecay(learning_rate * 0.01, max(1, total_steps - warmup_steps), alpha=0.01,
                                         warmup_target=learning_rate, warmup_steps=warmup_steps)
        return schedules.CosineDecay(learning_rate, total_steps, alpha=0.01)
    raise ValueError(f"unknown learning-rate schedule {kind!r}; choose constant, exponential or cosine")


def schedule_length(schedule) -> int | None:
    """The number of steps a schedule from :func:`learning_rate_schedule` was made for (None: constant)."""
    schedules = keras.optimizers.schedules
    if isinstance(schedule, schedules.CosineDecay):
        return int(schedule.decay_steps) + int(schedule.warmup_steps or 0)
    if isinstance(schedule, schedules.ExponentialDecay):
        return int(schedule.decay_steps) * 4
    return None


def fit_schedule(model: keras.Model, kind: str, learning_rate: float, total_steps: int, warmup_steps: int) -> int | None:
    """Makes a resumed model's learning-rate schedule run over ``total_steps``.

    A schedule is saved with the optimiser for the run's length at its start; Keras holds a
    cosine at its floor after that, so a run resumed with more epochs would train its extra
    epochs at 1% of the peak rate. When the lengths differ the schedule is made again, the same
    kind, peak and warm-up over the new length (the steps already taken keep their place on it).

    Returns:
        the old length when the schedule was made again, else None.
    """
    old = schedule_length(model.optimizer._learning_rate)
    if old is None or old == total_steps:
        return None
    model.optimizer.learning_rate = learning_rate_schedule(kind, learning_rate, total_steps, warmup_steps)
    return old


def psnr_metric():
    """Mean PSNR (dB) over batches, logged as ``*_psnr`` (float tensors: indicative only)."""
    return keras.metrics.MeanMetricWrapper(losses.psnr_tensor, name="psnr")


def ssim_metric():
    """Mean SSIM over batches, logged as ``*_ssim`` (float tensors: indicative only)."""
    return keras.metrics.MeanMetricWrapper(losses.ssim_tensor, name="ssim")


def default_jit_compile():
    """XLA is slower than TensorFlow's own kernels for these networks on CPU (measured: 2.77 s vs
    3.07 s per batch of 8 64x64 pairs); JAX always compiles."""
    return False if keras.backend.backend() == "tensorflow" else "auto"


def compile_model(model: keras.Model, beta: float, learning_rate, jit_compile=None, ssim_weight: float = 0.0,
                  clip_norm: float | None = None, edge_weight: float = 0.0) -> keras.Model:
    """Compiles with Adam and loss ``MSE(cover) + beta * MSE(secret)`` (Baluja 2017, eq. 1).

    Args:
        ssim_weight: when positive, each term becomes ``MSE + ssim_weight * (1 - SSIM)``
            (:class:`deepsteg.losses.MseSsimLoss`), the SSIM term of the original to-do list.
        edge_weight: extra weight of the secret's squared errors on its outer two rows and
            columns (:class:`deepsteg.losses.MseSsimLoss`), so that the revealed secret's edges
            are not worse than the rest.
        clip_norm: when given, gradients are scaled down to this global L2 norm before each Adam
            step (Pascanu et al. 2013), a guard against the rare huge gradients that can start a
            divergence; None (the default) does not clip.
    """
    if jit_compile is None:
        jit_compile = default_jit_compile()
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if clip_norm is not None and clip_norm <= 0:
        raise ValueError(f"clip_norm must be positive, got {clip_norm}")
    cover_loss = losses.MseSsimLoss(ssim_weight) if ssim_weight else "mse"
    secret_loss = losses.MseSsimLoss(ssim_weight, edge_weight) if ssim_weight or edge_weight else "mse"
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=clip_norm),
        loss={"container": cover_loss, "revealed": secret_loss},
        loss_weights={"container": 1.0, "revealed": beta},
        metrics={"container": [psnr_metric(), ssim_metric()], "revealed": [psnr_metric(), ssim_metric()]},
        jit_compile=jit_compile,
    )
    return model


DTYPE_POLICIES = ("float32", "mixed_bfloat16")


@contextlib.contextmanager
def global_dtype_policy(name: str):
    """Sets Keras's global dtype policy to ``name`` (e.g. ``mixed_bfloat16``) for the layers built
    inside the ``with`` block, then restores the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def new_model(preset, beta, noise_stddev, quantize, schedule, ssim_weight: float = 0.0, clip_norm: float | None = None,
              dtype_policy: str = "float32", edge_weight: float = 0.0, adversarial_weight: float = 0.0,
              detector_width: int = DETECTOR_WIDTH):
    """Builds and compiles a joint model; ``dtype_policy`` ``mixed_bfloat16`` computes in bf16 with
    float32 weights, outputs and loss (for accelerators with bf16 units; see :func:`float32_copy`).

    With ``adversarial_weight`` > 0 the model carries a steganalysis detector's loss
    (:class:`models.detector.DetectorPenalty`; train it with :class:`AdversaryTraining`).
    """
    if dtype_policy not in DTYPE_POLICIES:
        raise ValueError(f"dtype policy must be one of {', '.join(DTYPE_POLICIES)}, got {dtype_policy!r}")
    if adversarial_weight < 0:
        raise ValueError(f"adversarial_weight must be >= 0, got {adversarial_weight}")
    adversary = build_detector(detector_width) if adversarial_weight > 0 else None
    with global_dtype_policy(dtype_policy):
        model = build_steg_model(preset, noise_stddev=noise_stddev, quantize=quantize, adversary=adversary,
                                 adversarial_weight=adversarial_weight)
    return compile_model(model, beta, schedule, ssim_weight=ssim_weight, clip_norm=clip_norm, edge_weight=edge_weight)


def _float32_config(config):
    """``config`` (a serialised Keras object) with every reduced-precision compute dtype made float32."""
    if isinstance(config, list):
        return [_float32_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "DTypePolicy" and str(config.get("config", {}).get("name", "")).startswith("mixed_"):
        return {**config, "config": {**config["config"], "name": "float32"}}
    converted = {key: _float32_config(value) for key, value in config.items()}
    if converted.get("dtype") in ("bfloat16", "float16"):  # the recorded dtypes of symbolic tensors
        converted["dtype"] = "float32"
    return converted


def float32_copy(model: keras.Model) -> keras.Model:
    """``model`` itself if it computes in float32, else an uncompiled float32 rebuild with its weights.

    Models trained under ``mixed_bfloat16`` keep float32 weights but their saved configuration
    makes every layer compute in bf16 when loaded; inference (split networks, eval, the hide and
    reveal scripts) always runs in float32, which is exact and fast on CPUs without bf16 units.
    """
    config = keras.saving.serialize_keras_object(model)
    converted = _float32_config(config)
    if converted == config:
        return model
    rebuilt = keras.saving.deserialize_keras_object(converted)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def set_clip_norm(model: keras.Model, clip_norm: float) -> None:
    """Sets the global gradient-norm clipping of a compiled (e.g. resumed) model's optimiser.

    The optimiser reads it when the training step is built, so this takes effect at the next
    ``fit``; it is saved with the optimiser in later checkpoints.
    """
    if clip_norm <= 0:
        raise ValueError(f"clip_norm must be positive, got {clip_norm}")
    optimizer = model.optimizer
    optimizer.clipnorm = optimizer.clipvalue = None
    optimizer.global_clipnorm = float(clip_norm)


def load_model(path, compile: bool = True) -> keras.Model:
    """Loads a ``.keras`` steganography model (custom objects are registered on import).

    With ``compile=False`` (inference, splitting, initialising a fine-tune) a model trained under
    a mixed-precision policy comes back computing in float32 (:func:`float32_copy`); with
    ``compile=True`` (resuming) it keeps its policy.

    Raises:
        ValueError: if the file is missing or not a readable Keras model.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"model not found: {path}")
    try:
        model = keras.saving.load_model(path, compile=compile)
    except Exception as error:  # Keras raises many types for corrupt archives.
        raise ValueError(f"cannot load model {path}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from None
    return model if compile else float32_copy(model)


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Copies the weights of ``source`` into ``target`` (same preset), layer by layer name.

    Raises:
        ValueError: if a layer of ``target`` is missing from ``source`` or differs in shape.
    """
    for target_layer in target.layers:
        if not target_layer.weights or isinstance(target_layer, DetectorPenalty):  # the detector starts afresh
            continue
        try:
            source_weights = source.get_layer(target_layer.name).get_weights()
        except ValueError:
            source_weights = None
        if source_weights is None or [w.shape for w in source_weights] != [w.shape for w in target_layer.get_weights()]:
            raise ValueError(f"cannot initialise from a model with a different {target_layer.name} network (another --preset?)")
        target_layer.set_weights(source_weights)


def find_resume_checkpoint(directory) -> pathlib.Path | None:
    """The ``last.keras`` checkpoint in ``directory`` if any."""
    candidate = pathlib.Path(directory) / LAST_CHECKPOINT
    return candidate if candidate.is_file() else None


def result_grid(secret, cover, container, revealed, magnify: float = 10.0) -> np.ndarray:
    """Rows of (secret, cover, container, revealed, |container-cover|*m, |revealed-secret|*m), uint8.

    All inputs are uint8 arrays (N, H, W, 3) as written to disk.
    """
    def magnified(a, b):
        return np.clip(np.abs(a.astype(np.int16) - b.astype(np.int16)) * magnify, 0, 255).astype(np.uint8)

    rows = [np.concatenate([s, c, x, r, magnified(x, c), magnified(r, s)], axis=1)
            for s, c, x, r in zip(secret, cover, container, revealed)]
    return np.concatenate(rows, axis=0)


class ImageLogger(keras.callbacks.Callback):
    """Writes a result grid of fixed validation pairs after every epoch (PNG, and TensorBoard if
    TensorFlow is installed): secret, cover, container, revealed, magnified differences."""

    def __init__(self, log_dir, secrets, covers):
        super().__init__()
        self.log_dir = pathlib.Path(log_dir)
        self.secrets, self.covers = secrets, covers
        self.writer = None
        try:
            import tensorboard  # noqa: F401
            import tensorflow as tf  # only for TensorBoard; the rest is backend-agnostic

            self.tf = tf
        except ImportError:
            self.tf = None

    def on_epoch_end(self, epoch, logs=None):
        if diverged(logs):  # NaN images: nothing to show
            return
        container, revealed = self.model.predict([self.secrets, self.covers], verbose=0)
        grid = result_grid(metrics.to_uint8(self.secrets), metrics.to_uint8(self.covers),
                           metrics.to_uint8(container), metrics.to_uint8(revealed))
        (self.log_dir / "images").mkdir(parents=True, exist_ok=True)
        write_image(self.log_dir / "images" / f"epoch_{epoch + 1:03d}.png", grid, force=True)
        if self.tf is not None:
            if self.writer is None:
                self.writer = self.tf.summary.create_file_writer(str(self.log_dir / "images"))
            with self.writer.as_default():
                self.tf.summary.image("secret|cover|container|revealed|diffs x10", grid[None], step=epoch + 1)
            self.writer.flush()


def diverged(logs) -> bool:
    """Whether an epoch's logs hold a loss that is NaN or infinite (training blew up)."""
    return any(key.endswith("loss") and not np.isfinite(value) for key, value in (logs or {}).items())


class FiniteModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint`` that never writes a model whose epoch ended with a NaN or infinite loss."""

    def on_epoch_end(self, epoch, logs=None):
        if not diverged(logs):
            super().on_epoch_end(epoch, logs)


class SaveLast(keras.callbacks.Callback):
    """Saves the whole model (with optimiser state) to ``last.keras`` atomically after each epoch.

    An epoch that ended with a NaN or infinite loss (``TerminateOnNaN`` stops it) is not saved, so
    ``last.keras`` keeps the last finite epoch to resume or fine-tune from.
    """

    def __init__(self, path):
        super().__init__()
        self.path = pathlib.Path(path)

    def on_epoch_end(self, epoch, logs=None):
        if diverged(logs):
            return
        temporary = temporary_sibling(self.path)
        try:
            self.model.save(temporary)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        place(temporary, self.path, force=True)


class RestoreMallocThresholds(keras.callbacks.Callback):
    """Undoes TensorFlow's generator-dataset "memory patch" (``M_TRIM_THRESHOLD`` = 128 KiB).

    That setting turns off glibc's adaptive thresholds, so every large tensor buffer is
    ``mmap``-ed and returned to the system each step: on our 2-core CPU half the training time
    went to the kernel (page faults). Raising both thresholds again restores the normal speed.
    Only on Linux with glibc; a no-op elsewhere.
    """

    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3

    def __init__(self):
        super().__init__()
        self.done = False

    def restore(self):
        import ctypes
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt(self.M_MMAP_THRESHOLD, 256 * 2**20)
            libc.mallopt(self.M_TRIM_THRESHOLD, 1024 * 2**20)
        except (OSError, AttributeError):
            pass
        self.done = True

    def on_train_batch_end(self, batch, logs=None):
        if not self.done:
            self.restore()


class Throughput(keras.callbacks.Callback):
    """Records images per second, wall time and this process's CPU time of every epoch into the logs.

    ``epoch_cpu_seconds`` (user + system time of all the process's threads) measures the compute an
    epoch took even when several runs share the machine, so runs can be compared per CPU-hour.
    """

    def __init__(self, batch_size, steps):
        super().__init__()
        self.images = batch_size * steps

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        if logs is not None:
            logs["images_per_second"] = self.images / seconds
            logs["epoch_seconds"] = seconds
            logs["epoch_cpu_seconds"] = time.process_time() - self.cpu_start


def detector_penalty(model: keras.Model):
    """The model's :class:`models.detector.DetectorPenalty` layer, or None."""
    found = [layer for layer in model.layers if isinstance(layer, DetectorPenalty)]
    return found[0] if found else None


class AdversaryTraining(keras.callbacks.Callback):
    """The steganalysis side of adversarial training: after every step of the joint model, one
    step of a detector on fresh pairs (covers labelled 0, the current containers rounded to
    8-bit steps labelled 1), whose weights then go into the model's frozen
    :class:`models.detector.DetectorPenalty` for the next step (alternating GAN updates).

    The detector's own optimiser is not checkpointed: a resumed run starts it again from the
    penalty's weights. Logs ``detector_accuracy`` and ``detector_loss`` (means over the epoch's
    steps, measured before each update).

    Args:
        dataset: a :class:`deepsteg.data.PairDataset` to draw the detector's pairs from.
        learning_rate: the detector's Adam learning rate.
        seed: which batches it draws.
    """

    def __init__(self, dataset, learning_rate: float = DETECTOR_LEARNING_RATE, seed: int = 0):
        super().__init__()
        self.dataset, self.learning_rate = dataset, learning_rate
        self.rng = np.random.default_rng([seed, 7])

    def on_train_begin(self, logs=None):
        self.penalty = detector_penalty(self.model)
        if self.penalty is None:
            raise ValueError("the model has no detector penalty (train it with --adversarial-weight)")
        self.detector = build_detector(self.penalty.detector.get_layer("conv1").filters)
        self.detector.set_weights(self.penalty.detector.get_weights())
        self.detector.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy",
                              metrics=["binary_accuracy"])
        self.hide_network = split_steg_model(self.model)[0]
        self.sums = np.zeros(2)
        self.steps = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.sums[:] = 0
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        if hasattr(self.model, "jax_state_sync"):  # JAX keeps the weights in the step's state until synced
            self.model.jax_state_sync()
        (secrets, covers), _ = self.dataset[int(self.rng.integers(len(self.dataset)))]
        containers = np.asarray(self.hide_network.predict_on_batch([secrets, covers]), dtype=np.float32)
        containers = np.round(np.clip(containers, 0.0, 1.0) * 255) / 255
        images = np.concatenate([covers, containers])
        labels = np.r_[np.zeros(len(covers)), np.ones(len(containers))].astype(np.float32)[:, None]
        loss, accuracy = self.detector.train_on_batch(images, labels)[:2]
        self.sums += (loss, accuracy)
        self.steps += 1
        self.penalty.detector.set_weights(self.detector.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.steps:
            logs["detector_loss"], logs["detector_accuracy"] = (float(value) for value in self.sums / self.steps)


class TimeLimit(keras.callbacks.Callback):
    """Stops training after the epoch that would let the next one run past a wall-clock budget.

    For runs of fixed length (a rented GPU, a CI job): the epoch's checkpoints are written
    first, so ``--resume`` continues where the run stopped, on the same learning-rate schedule.
    The next epoch is expected to take as long as the last one.

    Args:
        seconds: the budget, counted from the start of training.
    """

    def __init__(self, seconds: float):
        super().__init__()
        if seconds <= 0:
            raise ValueError(f"the time limit must be positive, got {seconds} s")
        self.seconds = float(seconds)
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.start = self.epoch_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if now - self.start + (now - self.epoch_start) > self.seconds:
            self.model.stop_training = True
            self.stopped_epoch = epoch


def callbacks_for(checkpoint_dir, log_dir, validation, batch_size, steps_per_epoch, resuming):
    checkpoint_dir, log_dir = pathlib.Path(checkpoint_dir), pathlib.Path(log_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    (secrets, covers), _ = validation[0]
    callbacks = [
        RestoreMallocThresholds(),
        Throughput(batch_size, steps_per_epoch),
        # On --resume the best val_loss so far comes from the CSV log: only a better epoch is a new "best" file.
        FiniteModelCheckpoint(str(checkpoint_dir / CHECKPOINT_PATTERN), monitor="val_loss", save_best_only=True,
                              initial_value_threshold=best_logged(log_dir / "training.csv", "val_loss") if resuming else None),
        SaveLast(checkpoint_dir / LAST_CHECKPOINT),
        keras.callbacks.CSVLogger(str(log_dir / "training.csv"), append=resuming),
        ImageLogger(log_dir, secrets[:4], covers[:4]),
        keras.callbacks.TerminateOnNaN(),
    ]
    try:
        import tensorboard  # noqa: F401
        import tensorflow  # noqa: F401  (TensorBoard writes through tf.summary)

        callbacks.append(keras.callbacks.TensorBoard(str(log_dir / "tensorboard"), update_freq="epoch"))
    except ImportError:
        pass
    return callbacks


def best_logged(csv_path, column: str) -> float | None:
    """The lowest finite value of ``column`` in a Keras CSV log (None when there is none)."""
    path = pathlib.Path(csv_path)
    if not path.is_file():
        return None
    with open(path, newline="") as handle:
        values = []
        for row in csv.DictReader(handle):
            try:
                values.append(float(row.get(column) or "nan"))
            except ValueError:
                continue
    finite = [value for value in values if math.isfinite(value)]
    return min(finite) if finite else None


def read_run_configs(log_dir) -> list:
    """The entries of ``LOG_DIR/run_config.json``, one per start of the run (empty when there is none)."""
    path = pathlib.Path(log_dir) / "run_config.json"
    if not path.is_file():
        return []
    try:
        runs = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error})") from None
    return runs if isinstance(runs, list) else []


def previous_run_config(log_dir) -> dict | None:
    """The last entry of ``LOG_DIR/run_config.json`` (the settings of the run's latest start), if any."""
    runs = read_run_configs(log_dir)
    return runs[-1] if runs and isinstance(runs[-1], dict) else None


def write_run_config(log_dir, config: dict):
    pathlib.Path(log_dir).mkdir(parents=True, exist_ok=True)
    path = pathlib.Path(log_dir) / "run_config.json"
    runs = read_run_configs(log_dir)
    runs.append(config)
    write_text(path, json.dumps(runs, indent=2, default=str), force=True)
