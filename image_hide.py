"""Hide a secret image inside a cover image; the container is written losslessly (PNG).

Example:
    python image_hide.py secret.jpg cover.jpg -o container.png --key "shared phrase"
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("secret", type=pathlib.Path, help="image to hide")
    parser.add_argument("cover", type=pathlib.Path, help="image to hide it in (sets the container's size)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="container image (lossless: .png, .bmp, .tif, .ppm)")
    cli.add_steganography_flags(parser, "hide")
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.check_steganography_args(args)
    from deepsteg import imagesteg, inference

    cli.check_image_output(args, inputs=[args.secret, args.cover, args.model])
    hide_network = inference.load_network(args.model, "hide", args.engine, args.precision)
    result = imagesteg.hide_image(hide_network, args.secret, args.cover, args.output, key=args.key, block_size=args.block_size,
                                  force=args.force)
    for note in result["notes"]:
        print(f"note: {note}")
    container = result["container"]
    print(f"wrote {args.output} ({container.shape[1]}x{container.shape[0]}); cover PSNR {result['cover_psnr']:.2f} dB, "
          f"SSIM {result['cover_ssim']:.4f}")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
