"""Shared command-line flags and error handling for the project's scripts (defined once here)."""

from __future__ import annotations

import argparse
import functools
import os
import pathlib
import sys

from deepsteg.cipher import DEFAULT_BLOCK_SIZE

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
CHECKPOINTS = REPOSITORY / "checkpoints"
DEFAULT_HIDE_MODEL = CHECKPOINTS / "hide.keras"
DEFAULT_REVEAL_MODEL = CHECKPOINTS / "reveal.keras"


class CliError(ValueError):
    """An error to report to the user as one line (a ``ValueError``)."""


class _DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless its help already says it in words (``(default: all)``)
    or the option is required."""

    def _get_help_string(self, action):
        if "(default:" in (action.help or "") or action.required:
            return action.help
        return super()._get_help_string(action)


def make_parser(description: str) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` whose help shows defaults."""
    return argparse.ArgumentParser(description=description, formatter_class=_DefaultsHelpFormatter)


def add_force_flag(parser):
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def add_key_flags(parser):
    parser.add_argument("--key", default=None, help="shared secret key for block-shuffle scrambling of the secret (scrambling, not encryption); no key: no scrambling")
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE, help="side in pixels of the scrambled blocks; must match on both ends")


def add_key_check_flag(parser):
    parser.add_argument("--skip-key-check", action="store_true", help="write the revealed secret even if it still looks scrambled (wrong or missing key)")


def add_batch_flag(parser, default=8):
    parser.add_argument("--batch-size", type=int, default=default, help="frames or images per network call")


def add_video_flags(parser):
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (default: all)")
    add_batch_flag(parser)


def add_video_output_flags(parser, measured: str):
    """``--codec``, ``--csv`` and ``--plot`` of the video scripts; ``measured`` names the metrics."""
    parser.add_argument("--codec", default=None, choices=["ffv1", "x264rgb", "huffyuv", "png"], help="lossless codec (default: from the extension)")
    parser.add_argument("--csv", type=pathlib.Path, default=None, help=f"write per-frame {measured} PSNR/SSIM here")
    parser.add_argument("--plot", type=pathlib.Path, default=None, help=f"plot per-frame {measured} PSNR/SSIM to this PNG")


def add_evaluation_flags(parser):
    """Flags shared by eval.py and test.py: the reveal network, reports, key, batch, force."""
    parser.add_argument("--reveal", type=pathlib.Path, default=None, help="reveal network, when CHECKPOINT is a split hide network")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write the summary metrics here")
    parser.add_argument("--csv", type=pathlib.Path, default=None, help="write per-pair metrics here")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="write error histograms and a result grid (PNG) here")
    add_key_flags(parser)
    add_batch_flag(parser)
    add_force_flag(parser)


def add_model_flag(parser, default, help_text):
    parser.add_argument("--model", type=pathlib.Path, default=default, help=help_text)


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
    from deepsteg.imageio import check_output_path

    return check_output_path(path, force)


def run_main(function):
    """Decorates a script's ``main(argv)``: user errors become one line on stderr and exit code 1.

    ``ValueError`` (bad input), ``OSError`` (files) and ``KeyboardInterrupt`` never show a
    traceback. Set ``DEEPSTEG_DEBUG=1`` to see tracebacks.
    """

    @functools.wraps(function)
    def wrapper(argv=None):
        program = pathlib.Path(sys.argv[0]).name if function.__module__ == "__main__" else function.__module__
        try:
            return function(sys.argv[1:] if argv is None else list(argv))
        except (ValueError, OSError) as error:
            if os.environ.get("DEEPSTEG_DEBUG"):
                raise
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            print(f"{program}: error: {message}", file=sys.stderr)
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            print(f"{program}: interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return wrapper
