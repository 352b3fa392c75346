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
    from deepsteg import imagesteg, inference

    cli.check_image_output(args, inputs=[args.container, args.model, args.original])
    reveal_network = inference.load_network(args.model, "reveal", args.engine, args.precision)
    result = imagesteg.reveal_image(reveal_network, args.container, args.output, key=args.key, block_size=args.block_size,
                                    original=args.original, checks=not args.skip_checks, force=args.force)
    for note in result["notes"]:
        print(f"note: {note}")
    revealed = result["revealed"]
    message = f"wrote {args.output} ({revealed.shape[1]}x{revealed.shape[0]})"
    if "secret_psnr" in result:
        message += f"; secret PSNR {result['secret_psnr']:.2f} dB, SSIM {result['secret_ssim']:.4f}"
    print(message)
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
