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
    cli.add_model_flag(parser, cli.DEFAULT_REVEAL_MODEL, "reveal network (.keras), or a joint model")
    cli.add_key_flags(parser)
    cli.add_key_check_flag(parser)
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    from deepsteg import cipher, imageio, inference, metrics

    imageio.check_lossless_image_path(imageio.check_output_path(args.output, args.force))
    cli.positive("block_size", args.block_size)
    if args.container.suffix.lower() in imageio.LOSSY_IMAGE_EXTENSIONS:
        raise cli.CliError(f"{args.container.name} is a lossy {args.container.suffix} file: lossy compression destroys the hidden "
                           "secret; the container must stay in the PNG written by image_hide.py")
    container = imageio.read_image(args.container)
    revealed = inference.reveal(inference.load_network(args.model, "reveal"), container[None])[0]
    scrambler = cipher.BlockScrambler(args.key, args.block_size) if args.key else None
    if not args.skip_key_check:
        cipher.check_unscrambled(revealed, scrambler, args.block_size)
    if scrambler is not None:
        revealed = scrambler.unscramble(revealed)
    imageio.write_image(args.output, revealed, force=args.force)
    message = f"wrote {args.output} ({revealed.shape[1]}x{revealed.shape[0]})"
    if args.original is not None:
        original = imageio.resize_to(imageio.read_image(args.original), *revealed.shape[:2])
        message += f"; secret PSNR {metrics.psnr(original, revealed):.2f} dB, SSIM {metrics.ssim(original, revealed):.4f}"
    print(message)
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
