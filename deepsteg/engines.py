"""Inference engines: Keras itself, or OpenVINO on CPUs (bf16 where the CPU has bf16 units).

Keras on TensorFlow already runs the networks near a CPU's fp32 peak; what is left to gain is
precision: OpenVINO runs them in bf16 on CPUs with AMX or AVX512-BF16 (measured 2.7-3.4x faster,
the same quality within 0.1 dB; ``benchmarks/speed.py``). ``--engine auto`` picks OpenVINO when it
is installed, the backend is TensorFlow (the network is handed over as a SavedModel) and the
conversion works, Keras otherwise (always on JAX and GPUs); ``--precision auto`` picks bf16 only
where the CPU has bf16 units. Converted networks are cached (``$XDG_CACHE_HOME/deepsteg``), keyed
by the model's fingerprint, so the conversion (about 20 s) is paid once per model; the cache also
records, under a digest of the model file, what the scripts need to know about the network (its
fingerprint, the multiple its sides must be, its inputs), so that a cached network starts without
importing TensorFlow or Keras at all (:func:`load_cached`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pathlib
import shutil
import sys
import tempfile

import numpy as np

ENGINES = ("auto", "keras", "openvino")
PRECISIONS = ("auto", "f32", "bf16")


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 matrix units (AMX-BF16 or AVX512-BF16), from /proc/cpuinfo."""
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


def configured_backend() -> str:
    """The Keras backend in use, or the one importing Keras would choose (``KERAS_BACKEND``, else
    ``$KERAS_HOME/keras.json`` or ``~/.keras/keras.json``, else TensorFlow), without importing it."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras") / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def openvino_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None and configured_backend() == "tensorflow"


def resolve(engine: str = "auto", precision: str = "auto") -> tuple[str, str]:
    """The (engine, precision) that ``auto`` stands for here.

    Raises:
        ValueError: for unknown names, OpenVINO asked for where it cannot run, or bf16 with Keras.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if engine == "auto":
        engine = "openvino" if openvino_available() else "keras"
    if engine == "openvino" and not openvino_available():
        raise ValueError("--engine openvino needs the openvino package and the TensorFlow backend (pip install openvino)")
    if precision == "auto":
        precision = "bf16" if engine == "openvino" and cpu_has_bf16() else "f32"
    if engine == "keras" and precision == "bf16":
        raise ValueError("--precision bf16 runs on --engine openvino; Keras inference is float32")
    return engine, precision


def cache_folder() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "deepsteg" / "openvino"


def file_digest(path) -> str:
    """16 hexadecimal digits (BLAKE2b) of a file's bytes: which model file a cache entry is for."""
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _openvino_version() -> str:
    from importlib.metadata import version

    return version("openvino").split("-")[0]


def _entry_path(source, role: str, cache=None) -> pathlib.Path:
    return pathlib.Path(cache or cache_folder()) / f"{file_digest(source)}-{role}-{_openvino_version()}.json"


class OpenVinoNetwork:
    """A hide or reveal network compiled by OpenVINO, with what inference needs of a Keras model
    (``predict_on_batch``, ``name``, ``inputs``) and what the scripts need to know about it
    (``fingerprint``, ``size_multiple``).

    Made from the Keras network (TensorFlow backend), which is converted once and cached, or
    from the cache alone (:func:`load_cached`; ``network`` is then None).

    Args:
        network: the Keras network, or None with ``details``.
        precision: ``f32`` or ``bf16``.
        cache: folder of converted networks (default: :func:`cache_folder`).
        source: the model file ``network`` was loaded from, with ``role``: the cache then records
            the network's details under the file's digest, for :func:`load_cached`.
        details: the recorded details (``xml``, ``name``, ``fingerprint``, ``size_multiple``,
            ``input_names``), when there is no Keras network.
    """

    def __init__(self, network, precision: str, cache=None, source=None, role=None, details=None):
        import openvino

        self.network, self.precision = network, precision
        folder = pathlib.Path(cache or cache_folder())
        if details is None:
            from models import model_fingerprint, size_multiple, weights_fingerprint

            fingerprint = model_fingerprint(network)
            key = f"{fingerprint or weights_fingerprint(network.weights)}-{network.name}-{_openvino_version()}"
            details = {"xml": f"{key}.xml", "name": network.name, "fingerprint": fingerprint,
                       "size_multiple": size_multiple(network), "input_names": [str(tensor.name) for tensor in network.inputs]}
            if not (folder / details["xml"]).is_file():
                _convert(network, folder, key)
        self.name, self.fingerprint = details["name"], details["fingerprint"]
        self.size_multiple, self.input_names = int(details["size_multiple"]), list(details["input_names"])
        core = openvino.Core()
        self.compiled = core.compile_model(core.read_model(str(folder / details["xml"])), "CPU", {"INFERENCE_PRECISION_HINT": precision})
        # The SavedModel may order the inputs differently (cover before secret): match them by name.
        names = [port.get_any_name() for port in self.compiled.inputs]
        wanted = self.input_names
        self.order = [names.index(name) for name in wanted] if sorted(wanted) == sorted(names) else list(range(len(names)))
        if source is not None and network is not None:
            _write_entry(_entry_path(source, role, folder), details)

    @property
    def inputs(self):
        return self.input_names

    def predict_on_batch(self, inputs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        feed = {self.compiled.inputs[port]: np.ascontiguousarray(value, dtype=np.float32) for value, port in zip(inputs, self.order)}
        return self.compiled(feed)[self.compiled.outputs[0]]

    def __getattr__(self, name):  # layers, outputs, weights: the Keras network's, when there is one
        network = self.__dict__.get("network")
        if network is None:
            raise AttributeError(f"{name!r}: this OpenVINO network was loaded from the cache, without its Keras model")
        return getattr(network, name)


def _convert(network, folder: pathlib.Path, key: str) -> None:
    """Converts a Keras network to ``folder/key.xml`` (and ``.bin``) through a TensorFlow SavedModel."""
    import openvino

    folder.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=".convert.", dir=folder))
    try:
        network.export(str(work / "saved_model"), format="tf_saved_model", verbose=False)
        converted = openvino.convert_model(str(work / "saved_model"))
        openvino.save_model(converted, str(work / "model.xml"), compress_to_fp16=False)
        os.replace(work / "model.bin", folder / f"{key}.bin")
        os.replace(work / "model.xml", folder / f"{key}.xml")  # the .xml last: its presence means the pair is complete
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_entry(path: pathlib.Path, details: dict) -> None:
    from deepsteg.files import write_through_temporary

    try:
        write_through_temporary(path, lambda handle: handle.write(json.dumps(details, indent=1).encode()), force=True)
    except ValueError:  # a cache that cannot be written only costs the next start its speed
        pass


def load_cached(source, role: str, precision: str, cache=None) -> OpenVinoNetwork | None:
    """The OpenVINO network for ``role`` of the model file ``source`` from the cache, without
    TensorFlow or Keras; None if this file was never converted here (or the entry is damaged)."""
    folder = pathlib.Path(cache or cache_folder())
    try:
        details = json.loads(_entry_path(source, role, folder).read_text())
        if not (folder / details["xml"]).is_file() or not (folder / details["xml"]).with_suffix(".bin").is_file():
            return None
        return OpenVinoNetwork(None, precision, cache=folder, details=details)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None


def compile_network(network, engine: str = "auto", precision: str = "auto", source=None, role=None):
    """``network`` itself (Keras) or an :class:`OpenVinoNetwork` of it, as :func:`resolve` decides.

    With ``engine="auto"`` a network OpenVINO cannot convert falls back to Keras. ``source`` and
    ``role``: the model file and the role it was loaded for, recorded in the cache (:func:`load_cached`).
    """
    chosen, chosen_precision = resolve(engine, precision)
    if chosen == "keras":
        return network
    try:
        return OpenVinoNetwork(network, chosen_precision, source=source, role=role)
    except Exception as error:  # a conversion failure: auto falls back, an explicit request reports it
        if engine == "openvino":
            raise ValueError(f"OpenVINO could not convert the {network.name} network: {type(error).__name__}: {error}") from None
        return network


def describe(network) -> str:
    """``"openvino bf16"`` or ``"keras float32"``: which engine runs ``network``."""
    if isinstance(network, OpenVinoNetwork):
        return f"openvino {network.precision}"
    import keras

    return f"keras ({keras.backend.backend()}) float32"


def time_networks(hide_network, reveal_network, secrets, covers, repeats: int = 3) -> tuple[float, float]:
    """Model-only (hide, reveal) frames/s on one batch of uint8 frames, after a warm-up call of each.

    Includes what :func:`deepsteg.inference.hide` and :func:`~deepsteg.inference.reveal` do around
    the network (conversion to float, padding, rounding to uint8), nothing of decoding or encoding.
    """
    import time

    from deepsteg import inference

    containers = inference.hide(hide_network, secrets, covers)  # warm-up (and compilation)
    inference.reveal(reveal_network, containers)
    start = time.perf_counter()
    for _ in range(repeats):
        inference.hide(hide_network, secrets, covers)
    hide_rate = repeats * len(secrets) / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(repeats):
        inference.reveal(reveal_network, containers)
    return hide_rate, repeats * len(secrets) / (time.perf_counter() - start)


def matmul_peak(precision: str = "f32", size: int = 2048, repeats: int = 5) -> float:
    """This machine's measured matrix-multiply rate in GFLOP/s: the best of NumPy's BLAS and
    OpenVINO for ``f32``; OpenVINO for ``bf16`` (0 where OpenVINO is missing)."""
    import time

    rng = np.random.default_rng(0)
    left, right = rng.random((size, size), dtype=np.float32), rng.random((size, size), dtype=np.float32)
    work = 2 * size ** 3 * repeats / 1e9
    rates = []
    if precision == "f32":
        left @ right
        start = time.perf_counter()
        for _ in range(repeats):
            left @ right
        rates.append(work / (time.perf_counter() - start))
    try:
        import openvino
        import openvino.opset13 as operations
    except ImportError:
        return max(rates, default=0.0)
    parameter = operations.parameter([size, size], np.float32)
    model = openvino.Model([operations.matmul(parameter, operations.constant(right), False, False)], [parameter])
    compiled = openvino.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})
    compiled(left)
    start = time.perf_counter()
    for _ in range(repeats):
        compiled(left)
    rates.append(work / (time.perf_counter() - start))
    return max(rates)
