"""Inference engines: Keras itself, or OpenVINO on CPUs (bf16 where the CPU has bf16 units).

Keras on TensorFlow already runs the networks near a CPU's fp32 peak; what is left to gain is
precision: OpenVINO runs them in bf16 on CPUs with AMX or AVX512-BF16 (measured 2.7-3.4x faster,
the same quality within 0.1 dB; ``benchmarks/speed.py``). ``--engine auto`` picks OpenVINO when it
is installed, the backend is TensorFlow (the network is handed over as a SavedModel) and the
conversion works, Keras otherwise (always on JAX and GPUs); ``--precision auto`` picks bf16 only
where the CPU has bf16 units. Converted networks are cached (``$XDG_CACHE_HOME/deepsteg``), keyed
by the model's fingerprint, so the conversion (about 20 s) is paid once per model.
"""

from __future__ import annotations

import functools
import os
import pathlib
import shutil
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


def openvino_available() -> bool:
    import importlib.util

    import keras

    return importlib.util.find_spec("openvino") is not None and keras.backend.backend() == "tensorflow"


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


class OpenVinoNetwork:
    """A Keras hide or reveal network compiled by OpenVINO, with the Keras model's interface for
    what inference needs (``predict_on_batch``; layers, inputs and name for the metadata).

    Args:
        network: the Keras network (TensorFlow backend).
        precision: ``f32`` or ``bf16``.
        cache: folder of converted networks (default: :func:`cache_folder`).
    """

    def __init__(self, network, precision: str, cache=None):
        import openvino

        from models import model_fingerprint, weights_fingerprint

        self.network, self.precision = network, precision
        version = openvino.__version__.split("-")[0]
        key = f"{model_fingerprint(network) or weights_fingerprint(network.weights)}-{network.name}-{version}"
        folder = pathlib.Path(cache or cache_folder())
        path = folder / f"{key}.xml"
        core = openvino.Core()
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            work = pathlib.Path(tempfile.mkdtemp(prefix=".convert.", dir=folder))
            try:
                network.export(str(work / "saved_model"), format="tf_saved_model", verbose=False)
                converted = openvino.convert_model(str(work / "saved_model"))
                openvino.save_model(converted, str(work / "model.xml"), compress_to_fp16=False)
                os.replace(work / "model.bin", folder / f"{key}.bin")
                os.replace(work / "model.xml", path)  # the .xml last: its presence means the pair is complete
            finally:
                shutil.rmtree(work, ignore_errors=True)
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU", {"INFERENCE_PRECISION_HINT": precision})
        # The SavedModel may order the inputs differently (cover before secret): match them by name.
        names = [port.get_any_name() for port in self.compiled.inputs]
        wanted = [str(tensor.name) for tensor in network.inputs]
        self.order = [names.index(name) for name in wanted] if sorted(wanted) == sorted(names) else list(range(len(names)))

    def predict_on_batch(self, inputs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        feed = {self.compiled.inputs[port]: np.ascontiguousarray(value, dtype=np.float32) for value, port in zip(inputs, self.order)}
        return self.compiled(feed)[self.compiled.outputs[0]]

    def __getattr__(self, name):  # layers, inputs, outputs, name, weights: the Keras network's
        return getattr(self.network, name)


def compile_network(network, engine: str = "auto", precision: str = "auto"):
    """``network`` itself (Keras) or an :class:`OpenVinoNetwork` of it, as :func:`resolve` decides.

    With ``engine="auto"`` a network OpenVINO cannot convert falls back to Keras.
    """
    chosen, chosen_precision = resolve(engine, precision)
    if chosen == "keras":
        return network
    try:
        return OpenVinoNetwork(network, chosen_precision)
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
