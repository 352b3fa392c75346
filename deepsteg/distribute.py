"""Data-parallel training on the backend's own engine (``train.py --distribute data-parallel``).

- JAX: ``keras.distribution.DataParallel`` over every device. Across hosts, each process first
  joins the others with ``jax.distributed.initialize`` (from ``--coordinator HOST:PORT
  --num-processes N --process-id I``, or from the environment variables JAX reads on managed
  clusters), and the devices of all processes form one mesh.
- TensorFlow: ``tf.distribute.MirroredStrategy`` over this machine's GPUs (or, without GPUs, its
  logical CPU devices: one unless a program configured more).

``--batch-size`` is the global batch: each step takes that many pairs in all, split evenly over
the devices, so a run gives the same steps on one device or eight (up to the order of floating-
point sums); with several processes each loads its own ``batch / processes`` pairs
(:class:`deepsteg.data.PairDataset`'s ``shard``). Checkpoints are ordinary ``.keras`` files, so
a run written on several devices resumes on one and the other way round.
"""

from __future__ import annotations

import contextlib
import dataclasses

MODES = ("none", "data-parallel")


@dataclasses.dataclass
class Parallelism:
    """How a run is spread: the devices, this process's place among the processes, and the scope
    the model must be built, loaded and trained in (TensorFlow's strategy scope; nothing on JAX)."""

    backend: str
    devices: int
    process_index: int = 0
    process_count: int = 1
    strategy: object = None

    def scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def describe(self, batch_size: int) -> str:
        where = f"{self.devices} device{'s' if self.devices != 1 else ''}"
        if self.process_count > 1:
            where += f" in {self.process_count} processes (this is process {self.process_index})"
        return (f"engine {self.backend}, data-parallel over {where}; global batch {batch_size}, "
                f"{batch_size // self.devices} per device")


def setup(mode: str, batch_size: int, coordinator: str | None = None, num_processes: int | None = None,
          process_id: int | None = None) -> Parallelism:
    """Sets up ``mode`` on the current Keras backend (call before any model is built).

    Raises:
        ValueError: for an unknown mode, multi-process options without data parallelism or on
            TensorFlow, a backend without a data-parallel engine here, or a batch that does not
            split evenly over the devices and processes.
    """
    import keras

    backend = keras.backend.backend()
    if mode not in MODES:
        raise ValueError(f"unknown --distribute {mode!r}; choose one of {', '.join(MODES)}")
    multi_process = coordinator is not None or num_processes is not None or process_id is not None
    if mode == "none":
        if multi_process:
            raise ValueError("--coordinator, --num-processes and --process-id need --distribute data-parallel")
        return Parallelism(backend, 1)
    if backend == "jax":
        return _jax(batch_size, coordinator, num_processes, process_id, multi_process)
    if backend == "tensorflow":
        if multi_process:
            raise ValueError("training across several processes runs on JAX (KERAS_BACKEND=jax); TensorFlow's data "
                             "parallelism here is one machine's devices")
        import tensorflow as tensorflow

        devices = [device.name for device in tensorflow.config.list_logical_devices("GPU")] or \
            [device.name for device in tensorflow.config.list_logical_devices("CPU")]
        strategy = tensorflow.distribute.MirroredStrategy(devices)
        parallelism = Parallelism(backend, strategy.num_replicas_in_sync, strategy=strategy)
        _check_batch(batch_size, parallelism)
        return parallelism
    raise ValueError(f"--distribute data-parallel runs on the JAX or TensorFlow backend, not {backend}")


def _jax(batch_size, coordinator, num_processes, process_id, multi_process) -> Parallelism:
    import jax
    import keras

    if multi_process:
        if coordinator is None or num_processes is None or process_id is None:
            raise ValueError("several processes need all of --coordinator HOST:PORT, --num-processes N and --process-id I")
        if not 0 <= process_id < num_processes:
            raise ValueError(f"--process-id must be in 0..{num_processes - 1}, got {process_id}")
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    devices = keras.distribution.list_devices()
    parallelism = Parallelism("jax", len(devices), jax.process_index(), jax.process_count())
    _check_batch(batch_size, parallelism)
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return parallelism


def _check_batch(batch_size: int, parallelism: Parallelism) -> None:
    if batch_size % parallelism.devices or batch_size % parallelism.process_count:
        raise ValueError(f"--batch-size {batch_size} does not split evenly over {parallelism.devices} devices"
                         + (f" and {parallelism.process_count} processes" if parallelism.process_count > 1 else "")
                         + f": give a multiple of {parallelism.devices}")
