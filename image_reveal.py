"""Reveal the secret image hidden in a container image.

Example:
    python image_reveal.py container.png -o secret.png --key "shared phrase"
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("container", type=pathlib.Path, help="container image written by image_hide.py (lossless)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="revealed secret (.png, .bmp, .tif, .ppm)")
    parser.add_argument("--original", type=pathlib.Path, default=None, help="the original secret, to report PSNR/SSIM of the revealed one")
    cli.add_steganography_flags(parser, "reveal")
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.check_steganography_args(args)
    from deepsteg import cipher, imageio, inference, metrics
    from deepsteg.record import Record, SKIP_HINT, check_reveal_settings, frame_digest
    from models import model_fingerprint

    cli.check_image_output(args, inputs=[args.container, args.model, args.original])
    if args.container.suffix.lower() in imageio.LOSSY_IMAGE_EXTENSIONS:
        raise cli.CliError(f"{args.container.name} is a lossy {args.container.suffix} file: lossy compression destroys the hidden "
                           "secret; the container must stay in the PNG written by image_hide.py")
    container = imageio.read_image(args.container)
    try:
        record = Record.from_json(imageio.read_png_text(args.container))
    except ValueError:
        if not args.skip_checks:
            raise
        record = None
    size = (record.height, record.width) if record is not None and record.height <= container.shape[0] and record.width <= container.shape[1] else None
    original = None
    if args.original is not None:
        original = imageio.read_image(args.original)
        metrics.check_ssim_size(*(size or container.shape[:2]), "the revealed secret")
    reveal_network = inference.load_network(args.model, "reveal", args.engine, args.precision)
    if args.skip_checks:
        block_size = args.block_size or (record.block_size if record is not None else cipher.DEFAULT_BLOCK_SIZE)
    else:
        block_size = check_reveal_settings(record, model_fingerprint(reveal_network), args.key, args.block_size, cipher.DEFAULT_BLOCK_SIZE)
        if record is not None and (record.frames != 1 or frame_digest(container) != record.digests[0]):
            raise cli.CliError(f"{args.container} was changed after image_hide.py wrote it (re-saved, edited or compressed): its "
                               f"pixels are not the ones it recorded, and the secret does not survive that; use the PNG "
                               f"image_hide.py wrote ({SKIP_HINT})")
        if record is None:
            print(f"note: {args.container.name} has no container record (not a PNG written by image_hide.py, or made by an "
                  f"older version): its pixels and model cannot be checked")
    revealed = inference.reveal(reveal_network, container[None], size=size)[0]
    scrambler = cipher.BlockScrambler(args.key, block_size) if args.key else None
    if not args.skip_checks:
        cipher.check_unscrambled(revealed, scrambler, block_size)
    if scrambler is not None:
        revealed = scrambler.unscramble(revealed)
    message = f"wrote {args.output} ({revealed.shape[1]}x{revealed.shape[0]})"
    if original is not None:
        original = imageio.resize_to(original, *revealed.shape[:2])
        message += f"; secret PSNR {metrics.psnr(original, revealed):.2f} dB, SSIM {metrics.ssim(original, revealed):.4f}"
    imageio.write_image(args.output, revealed, force=args.force)
    print(message)
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
