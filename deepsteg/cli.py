"""Shared command-line flags and error handling for the project's scripts (defined once here)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import pathlib
import signal
import sys

from deepsteg.cipher import DEFAULT_BLOCK_SIZE

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
CHECKPOINTS = REPOSITORY / "checkpoints"
DEFAULT_MODEL = "default"


class CliError(ValueError):
    """An error to report to the user as one line (a ``ValueError``)."""


class _DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless its help already says it in words (``(default: all)``)
    or the option is required."""

    def _get_help_string(self, action):
        if "(default:" in (action.help or "") or action.required:
            return action.help
        return super()._get_help_string(action)


class _OneLineErrorParser(argparse.ArgumentParser):
    """Reports a bad command line in one line (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def make_parser(description: str) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` whose help shows defaults and whose errors are one line."""
    return _OneLineErrorParser(description=description, formatter_class=_DefaultsHelpFormatter)


def add_force_flag(parser):
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def add_key_flags(parser, reveal: bool = False):
    """``--key`` and ``--block-size``; on the receiving side the block size defaults to the container's record."""
    parser.add_argument("--key", default=None, help="shared secret key for block-shuffle scrambling of the secret (scrambling, not encryption); no key: no scrambling")
    if reveal:
        parser.add_argument("--block-size", type=int, default=None,
                            help=f"side in pixels of the scrambled blocks (default: the container's record, else {DEFAULT_BLOCK_SIZE})")
    else:
        parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE, help="side in pixels of the scrambled blocks; must match on both ends")


def add_check_flag(parser):
    parser.add_argument("--skip-checks", "--skip-key-check", dest="skip_checks", action="store_true",
                        help="reveal even a container that fails the checks: lossy or edited since it was written, made with another "
                             "model, or still looking scrambled (wrong or missing key)")


def check_key(key) -> None:
    """Refuses an empty ``--key`` (it would silently hide without scrambling)."""
    if key is not None and not key.strip():
        raise CliError("--key must not be empty (leave it out to hide without a key)")


def add_batch_flag(parser, default=8):
    parser.add_argument("--batch-size", type=int, default=default, help="frames or images per network call")


def add_video_batch_flag(parser):
    parser.add_argument("--batch-size", type=int, default=None,
                        help="frames per network call (default: from the frame size, at most 8 and 921,600 pixels together: "
                             "4 at 640x360, 1 at 1280x720 and above; keeps memory bounded)")


def add_video_flags(parser):
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (default: all)")
    add_video_batch_flag(parser)


def add_video_output_flags(parser, measured: str):
    """``--codec``, ``--csv`` and ``--plot`` of the video scripts; ``measured`` names the metrics."""
    parser.add_argument("--codec", default=None, choices=["ffv1", "x264rgb", "huffyuv", "png"], help="lossless codec (default: from the extension)")
    parser.add_argument("--csv", type=pathlib.Path, default=None, help=f"write per-frame {measured} PSNR/SSIM here")
    parser.add_argument("--plot", type=pathlib.Path, default=None, help=f"plot per-frame {measured} PSNR/SSIM to this PNG")


def add_plot_flags(parser):
    """``-o/--output`` (the PNG a plotting script writes) and ``--force``."""
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="PNG to write")
    add_force_flag(parser)


def labelled(item: str, what: str) -> tuple[str, pathlib.Path]:
    """Splits a ``LABEL=PATH`` argument; ``what`` names the path in the error (``PATH``, ``FOLDER``)."""
    label, separator, path = item.partition("=")
    if not separator or not label or not path:
        raise CliError(f"expected LABEL={what}, got {item!r}")
    return label, pathlib.Path(path)


def add_evaluation_flags(parser):
    """Flags shared by eval.py and test.py: the reveal network, reports, key, batch, force."""
    parser.add_argument("--reveal", type=pathlib.Path, default=None, help="reveal network, when CHECKPOINT is a split hide network")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write the summary metrics here")
    parser.add_argument("--csv", type=pathlib.Path, default=None, help="write per-pair metrics here")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="write error histograms and a result grid (PNG) here")
    add_engine_flags(parser)
    add_key_flags(parser)
    add_batch_flag(parser)
    add_force_flag(parser)


def add_model_flag(parser, role: str):
    """``--model``: a shipped model by name (:mod:`deepsteg.zoo`) or a ``.keras`` file of the ``role`` network."""
    from deepsteg import zoo

    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"shipped model ({', '.join(zoo.names())}: see checkpoints/README.md) or a {role} network / joint model (.keras)")
    add_engine_flags(parser)


def add_engine_flags(parser):
    """``--engine`` and ``--precision`` (:mod:`deepsteg.engines`)."""
    parser.add_argument("--engine", default="auto", choices=["auto", "keras", "openvino"],
                        help="inference engine; auto: OpenVINO when installed (TensorFlow backend, CPU), else Keras")
    parser.add_argument("--precision", default="auto", choices=["auto", "f32", "bf16"],
                        help="OpenVINO precision; auto: bf16 where the CPU has bf16 units (AMX, AVX512-BF16), else f32")


def add_steganography_flags(parser, role: str, video: bool = False):
    """The flags every hide and reveal script shares, in one order: ``--model`` (with the engine
    flags), ``--key`` and ``--block-size``, ``--skip-checks`` when revealing, ``--max-frames`` and
    ``--batch-size`` for videos, and ``--force``.

    Args:
        role: ``"hide"`` or ``"reveal"``.
        video: add the video scripts' frame flags.
    """
    if role not in ("hide", "reveal"):
        raise ValueError(f"role must be 'hide' or 'reveal', got {role!r}")
    add_model_flag(parser, role)
    add_key_flags(parser, reveal=role == "reveal")
    if role == "reveal":
        add_check_flag(parser)
    if video:
        add_video_flags(parser)
    add_force_flag(parser)


def check_steganography_args(args) -> None:
    """The checks of those shared flags: a non-empty key and positive sizes and counts."""
    for name in ("block_size", "batch_size", "max_frames"):
        positive(name, getattr(args, name, None))
    check_key(args.key)


def check_image_output(args, inputs) -> None:
    """Before an image script does any work: ``--output`` is a lossless image format, may be
    written, and is none of ``inputs``."""
    from deepsteg import files, imageio

    imageio.check_lossless_image_path(check_output(args.output, args.force))
    files.check_distinct(inputs=inputs, outputs=[args.output])


def check_video_outputs(args, inputs) -> None:
    """Before a video script does any work: its codec fits ``--output``, every output (the video,
    ``--csv``, ``--plot``) may be written, and no output is one of ``inputs``."""
    from deepsteg import files, videoio

    videoio.codec_for_path(args.output, args.codec)
    outputs = [args.output, args.csv, args.plot]
    for path in outputs:
        if path is not None:
            check_output(path, args.force)
    files.check_distinct(inputs=inputs, outputs=outputs)


def given_options(parser: argparse.ArgumentParser, argv) -> set[str]:
    """The destinations of the options written in ``argv``, as opposed to those left at their defaults.

    Parses ``argv`` again into a namespace that already holds a sentinel for every destination:
    argparse fills in defaults only for attributes a namespace lacks, so whatever still holds the
    sentinel was not given, and an option given with its default value still counts as given.
    """
    not_given = object()
    destinations = vars(parser.parse_known_args(argv)[0])
    namespace = argparse.Namespace(**dict.fromkeys(destinations, not_given))
    parsed = vars(parser.parse_known_args(argv, namespace=namespace)[0])
    return {destination for destination, value in parsed.items() if value is not not_given}


def positive(name: str, value) -> None:
    """Raises ``ValueError`` unless ``value`` is a positive number (or None)."""
    if value is not None and value <= 0:
        raise CliError(f"--{name.replace('_', '-')} must be positive, got {value}")


def check_output(path, force: bool):
    """Raises ``ValueError`` unless ``path`` can be written (exists only with ``force``)."""
    from deepsteg.files import check_output_path

    return check_output_path(path, force)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM, so that it cleans up as on Ctrl-C."""


def _terminate(signal_number, frame):
    raise Terminated()


@contextlib.contextmanager
def _native_stderr_silenced():
    """Sends what native libraries write to file descriptor 2 (TensorFlow's start-up lines, libpng
    warnings) to /dev/null while Python's ``sys.stderr`` keeps the terminal, so that an error is
    one line. Nothing is silenced with ``DEEPSTEG_DEBUG=1``."""
    if os.environ.get("DEEPSTEG_DEBUG"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    python_stderr = sys.stderr
    try:
        uses_descriptor = python_stderr.fileno() == 2
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        uses_descriptor = False
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    if uses_descriptor:
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved), "wb", buffering=0), encoding=python_stderr.encoding,
                                      errors="backslashreplace", line_buffering=True, write_through=True)
    try:
        yield
    finally:
        if uses_descriptor:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)


def _program_name(module: str) -> str:
    """The script's name for messages: ``eval.py`` for ``deepsteg.eval_command``, the file run as ``__main__``."""
    if module == "__main__":
        return pathlib.Path(sys.argv[0]).name
    if module.startswith("deepsteg.") and module.endswith("_command"):
        return module[len("deepsteg."):-len("_command")] + ".py"
    return module


def run_main(function):
    """Decorates a script's ``main(argv)``: every error becomes one line on stderr and a non-zero exit.

    ``ValueError`` (bad input) and ``OSError`` (files) give exit code 1; any other exception is
    reported in one line as an internal error (exit code 2); ``KeyboardInterrupt`` and SIGTERM
    give 130 and 143 after the usual clean-up (temporary files removed). TensorFlow's start-up
    lines do not reach the terminal. Set ``DEEPSTEG_DEBUG=1`` to see tracebacks.
    """

    @functools.wraps(function)
    def wrapper(argv=None):
        program = _program_name(function.__module__)
        previous_handler = None
        try:
            previous_handler = signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread
            pass
        try:
            with _native_stderr_silenced():
                try:
                    return function(sys.argv[1:] if argv is None else list(argv))
                except SystemExit:
                    raise
                except Terminated:
                    print(f"{program}: terminated", file=sys.stderr)
                    raise SystemExit(143) from None
                except KeyboardInterrupt:
                    print(f"{program}: interrupted", file=sys.stderr)
                    raise SystemExit(130) from None
                except Exception as error:
                    if os.environ.get("DEEPSTEG_DEBUG"):
                        raise
                    text = " ".join(str(error).split()) if str(error).strip() else ""
                    if isinstance(error, (ValueError, OSError)):
                        print(f"{program}: error: {text or type(error).__name__}", file=sys.stderr)
                        raise SystemExit(1) from None
                    print(f"{program}: error: internal error ({type(error).__name__}{': ' + text[:300] if text else ''}); "
                          f"set DEEPSTEG_DEBUG=1 for details", file=sys.stderr)
                    raise SystemExit(2) from None
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGTERM, previous_handler)

    return wrapper
